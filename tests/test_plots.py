"""nnlib.plots: the fast fixed layout, inline display in a kernel, and the Sheet used by live explorers."""

import subprocess
import sys

import numpy as np
import pytest

from nnlib import plots


def test_figure_uses_no_layout_engine_and_renders():
    fig, axes = plots.figure(ncols=3)
    assert fig.get_layout_engine() is None  # a layout engine costs 40-60 ms per draw
    assert len(axes) == 3
    assert plots.to_image(fig)[:4] == b"\x89PNG"
    assert plots.to_image(fig, fmt="webp")[8:12] == b"WEBP"
    assert len(plots.to_image(fig, fast=True)) > 0


def test_figures_display_as_png_in_an_ipython_shell():
    code = ("from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); "
            "png = ip.display_formatter.formatters['image/png']; png.enabled = True; "  # a kernel enables it
            "from nnlib import plots; fig, ax = plots.figure(); ax.plot([0, 1]); "
            "data, _ = ip.display_formatter.format(fig); print(sorted(data))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'image/png'" in out.splitlines()[-1]


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
