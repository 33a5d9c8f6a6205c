"""nnlib.plots: the fast fixed layout, sizes that fit the page, inline display (SVG or 2x PNG), the Sheet."""

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from nnlib import plots


def test_figure_uses_no_layout_engine_and_renders():
    fig, axes = plots.figure(ncols=3)
    assert fig.get_layout_engine() is None  # a layout engine costs 40-60 ms per draw
    assert len(axes) == 3
    assert plots.to_image(fig)[:4] == b"\x89PNG"
    assert plots.to_image(fig, fmt="webp")[8:12] == b"WEBP"
    assert len(plots.to_image(fig, fast=True)) > 0


def _inline(kind):
    """Display a figure in a real IPython shell as a kernel would; return ({mime: data}, {mime: metadata})."""
    draw = {"lines": "ax.plot([0, 1], [0, 1], label='a'); ax.legend()",
            "contours": "import numpy as np; ax.contourf(np.arange(100.).reshape(10, 10))"}[kind]
    code = ("import json, base64; from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); "
            "f = ip.display_formatter.formatters; f['image/png'].enabled = f['image/svg+xml'].enabled = True; "
            f"from nnlib import plots; fig, ax = plots.figure(); {draw}; "
            "data, md = ip.display_formatter.format(fig); "
            "data = {k: (v if isinstance(v, str) else base64.b64encode(v).decode()) for k, v in data.items()}; "
            "print(json.dumps([data, md]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_a_line_figure_displays_as_svg_with_its_css_width():
    data, metadata = _inline("lines")
    assert "image/svg+xml" in data and "image/png" not in data
    fig, _ = plots.figure()
    assert metadata["image/svg+xml"]["width"] == round(fig.get_size_inches()[0] * plots.CSS_DPI)
    info = plots.image_text_info(data["image/svg+xml"].encode())
    assert info["text_pt"] == 9.0 and info["width_in"] == pytest.approx(fig.get_size_inches()[0])


def test_a_filled_figure_displays_as_a_2x_png_shown_at_its_css_width():
    data, metadata = _inline("contours")
    assert "image/png" in data and "image/svg+xml" not in data
    png = base64.b64decode(data["image/png"])
    width = Image.open(io.BytesIO(png)).size[0]
    css = metadata["image/png"]["width"]
    assert css <= plots.COLUMN_PX
    assert width == pytest.approx(plots.SCALE * css, abs=2)  # rendered at 2x, shown at 1x
    assert plots.image_text_info(png)["dpi"] == plots.SCALE * plots.CSS_DPI


def test_an_opaque_png_is_a_palette_image_that_looks_the_same():
    fig, ax = plots.figure()
    x, y = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-2, 2, 200))
    ax.contourf(x, y, x**2 + 3 * y**2, levels=30)
    ax.plot([-2, 2], [-2, 2], label="a line")
    ax.legend()
    png = plots.to_image(fig, dpi=plots.SCALE * plots.CSS_DPI)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and len(image.getcolors()) <= plots.PNG_COLORS
    raw = plots.to_image(fig, fmt="rgba", dpi=plots.SCALE * plots.CSS_DPI)
    full = np.frombuffer(raw, np.uint8).reshape(image.size[1], image.size[0], 4)[..., :3].astype(int)
    error = np.abs(np.asarray(image.convert("RGB"), int) - full)
    assert error.mean() < 1.0 and np.percentile(error, 99.9) <= 24   # the eye sees no difference
    assert plots.image_text_info(png)["dpi"] == plots.SCALE * plots.CSS_DPI


def test_images_record_their_smallest_text_and_width():
    fig, ax = plots.figure(width=5.0)
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title")
    ax.text(0.5, 0.5, "small note", fontsize=7.5)
    for fmt in ("png", "svg"):
        info = plots.image_text_info(plots.to_image(fig, fmt=fmt))
        assert info["text_pt"] == 7.5 and info["width_in"] == 5.0, (fmt, info)
    assert plots.image_text_info(b"GIF89a") is None


def test_default_sizes_keep_text_legible_in_the_column():
    # the defaults: a figure of any number of columns fits the page's column, and its smallest text
    # (9 pt) is at least 11 CSS px there
    for ncols in (1, 2, 3, 4):
        fig, axes = plots.figure(ncols=ncols)
        for ax in np.ravel(axes):
            ax.plot([1, 2], [3, 4], label="x")
            ax.legend()
        info = plots.image_text_info(plots.to_image(fig))
        shown = min(info["width_in"] * plots.CSS_DPI, plots.COLUMN_PX)
        assert info["width_in"] <= plots.COLUMN_IN
        assert info["text_pt"] / 72 * shown / info["width_in"] >= 11


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="fmt must be"):
        plots.to_image(plots.figure()[0], fmt="gif")
    with pytest.raises(ValueError, match="ncols must be a positive int, got 0"):
        plots.figure(ncols=0)


def test_sheet_keeps_the_text_size_of_its_backdrop():
    fig, ax = plots.figure(width=4.0, height=3.0, dpi=50)
    ax.set_title("backdrop", fontsize=8)
    sheet = plots.Sheet(plots.Sheet.backdrop(fig, [ax]))
    sheet.plot(0, [0, 1], [0, 1])
    assert plots.image_text_info(plots.to_image(sheet.fig))["text_pt"] == 8


@pytest.mark.parametrize("yscale", ["linear", "log"])
def test_sheet_draws_like_the_axes_it_replaces(yscale):
    # lines drawn through the sheet land on the same pixels as in the original axes
    fig, ax = plots.figure(width=4.0, height=3.0, dpi=50)
    ax.set_yscale(yscale)
    ax.set_xlim(-2, 6)
    ax.set_ylim(10, 30)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.minorticks_off()
    backdrop = plots.Sheet.backdrop(fig, [ax])
    ax.plot([0, 4, 5], [12, 25, 11], color="k", lw=2)
    ax.axvline(3, color="r")
    want = np.frombuffer(plots.to_image(fig, fmt="rgba"), dtype=np.uint8)
    sheet = plots.Sheet(backdrop)
    sheet.plot(0, [0, 4, 5], [12, 25, 11], color="k", lw=2)
    sheet.axvline(0, 3, color="r")
    got = np.frombuffer(plots.to_image(sheet.fig, fmt="rgba"), dtype=np.uint8)
    assert np.mean(got != want) < 0.002
    x, y = sheet.xy(0, [-2, 6], [10, 30])
    (left, bottom, width, height), _, logs = backdrop[1][0]
    assert logs == (False, yscale == "log")
    np.testing.assert_allclose([x, y], [[left, left + width], [bottom, bottom + height]])
