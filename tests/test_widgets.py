"""The explorer helper, in both of its worlds: live ipywidgets and the static book version."""

import json
import re

import numpy as np
import pytest

from nnlib import plots, widgets
from nnlib.widgets import Choice, Slider, Toggle, explorer, show, static_grid

CALLS = []


@explorer("test.toy", alt="A toy line", a=Slider([1, 2, 3], default=2, label="slope"),
          shape=Choice(["line", "dots"]), flip=Toggle(default=False, label="flip"))
def toy(a=2, shape="line", flip=False):
    CALLS.append((a, shape, flip))
    fig, ax = plots.figure(width=2, height=1.5, dpi=40)
    x = np.linspace(0, 1, 5)
    ax.plot(x, (-1 if flip else 1) * a * x, "-" if shape == "line" else "o")
    return fig


def _frames(html):
    payload = re.search(r'<script type="application/json" class="nnlib-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(payload)


def test_registry_holds_declared_explorers():
    assert widgets.REGISTRY["test.toy"] is toy
    assert list(toy.controls) == ["a", "shape", "flip"]


def test_each_grid_varies_one_control_at_a_time_around_the_defaults():
    grid = static_grid(toy)
    assert grid[0] == (1, 0, 0)
    assert len(grid) == 1 + 2 + 1 + 1  # defaults, two other slopes, the other shape, flipped
    assert all(sum(i != d for i, d in zip(point, (1, 0, 0))) <= 1 for point in grid)


def test_pair_grid_is_the_product_of_the_pair():
    fn = explorer("test.pair", alt="pair", static=("a", "flip"), a=Slider([1, 2, 3]), shape=Choice(["x", "y"]),
                  flip=Toggle())(lambda a=2, shape="x", flip=False: None)
    grid = set(static_grid(fn))
    assert {(a, 0, f) for a in range(3) for f in range(2)} <= grid
    assert (1, 1, 0) in grid and (1, 1, 1) not in grid
    del widgets.REGISTRY["test.pair"]


def test_too_many_frames_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"at most 64 frames.*got 100"):
        explorer("test.big", alt="big", static="product", a=Slider(range(10)), b=Slider(range(10)))(lambda a, b: None)


def test_bad_controls_are_refused():
    with pytest.raises(ValueError, match=r"default must be one of \[1, 2\], got 5"):
        Slider([1, 2], default=5)
    with pytest.raises(TypeError, match="control 'a' must be a Slider, Choice or Toggle, got int"):
        explorer("test.bad", alt="bad", a=3)
    with pytest.raises(TypeError, match="must be declared with @explorer"):
        show(lambda: None)


def test_static_explorer_html_is_self_contained_and_labelled(monkeypatch):
    monkeypatch.setenv("NNLIB_BUILD", "1")
    page = show(toy)
    html = page._repr_html_()
    assert 'class="nnlib-explorer"' in html and 'data-explorer="test.toy"' in html
    # every control has a label tied to it, and the slider shows its value
    for cid in re.findall(r'data-control="[^"]+"', html):
        assert cid
    ids = re.findall(r'<(?:input|select) [^>]*id="([^"]+)"', html)
    assert len(ids) == 3
    for cid in ids:
        assert f'<label for="{cid}">' in html
    assert '<output for="' in html
    assert "http://" not in html and "https://" not in html
    data = _frames(html)
    assert set(data["frames"]) == {",".join(map(str, p)) for p in static_grid(toy)}
    first_alt = re.search(r'<img class="nnlib-frame" src="data:image/webp;base64,[^"]+" alt="([^"]+)"', html).group(1)
    assert first_alt == "A toy line; slope = 2, shape = line, flip = off"
    # different arguments give different images
    assert len(set(i for i, _ in data["frames"].values())) == len(data["frames"])


def test_static_alt_text_names_the_values(monkeypatch):
    monkeypatch.setenv("NNLIB_BUILD", "1")
    data = _frames(show(toy)._repr_html_())
    assert data["frames"]["2,0,0"][1] == "A toy line; slope = 3, shape = line, flip = off"
    assert data["frames"]["1,0,1"][1].endswith("flip = on")


def test_live_explorer_redraws_when_a_control_moves(monkeypatch):
    monkeypatch.delenv("NNLIB_BUILD", raising=False)
    CALLS.clear()
    box = show(toy)
    controls, image = box.children
    slider, dropdown, toggle = controls.children
    first = image.value
    assert CALLS == [(2, "line", False)]
    slider.value = 3  # no event loop runs in this test, so the redraw is immediate
    assert CALLS[-1] == (3, "line", False)
    assert image.value != first
    toggle.value = True
    assert CALLS[-1] == (3, "line", True)
    assert slider.description == "slope"


def test_live_explorer_is_deterministic(monkeypatch):
    monkeypatch.delenv("NNLIB_BUILD", raising=False)
    a = show(toy).children[1].value
    b = show(toy).children[1].value
    assert a == b


def test_render_pauses_the_garbage_collector_and_restores_it():
    import gc

    seen = []

    @explorer("test.gc", alt="gc", a=Slider([1, 2]))
    def probe(a=1):
        seen.append(gc.isenabled())
        return toy()

    try:
        assert gc.isenabled()
        widgets.render(probe, {"a": 1})
        assert seen == [False] and gc.isenabled()
        gc.disable()
        widgets.render(probe, {"a": 2})
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
        del widgets.REGISTRY["test.gc"]
