"""The explorer helper, in both of its worlds: live ipywidgets and the static book version."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnlib import plots, widgets
from nnlib.widgets import Choice, Slider, Toggle, explorer, show, static_grid

CALLS = []
ROOT = Path(__file__).resolve().parents[1]


@explorer("test.toy", alt="A toy line", a=Slider([1, 2, 3], default=2, label="slope"),
          shape=Choice(["line", "dots"]), flip=Toggle(default=False, label="flip"))
def toy(a=2, shape="line", flip=False):
    CALLS.append((a, shape, flip))
    fig, ax = plots.figure(width=2, height=1.5, dpi=widgets.frame_dpi(2, 40))
    x = np.linspace(0, 1, 5)
    ax.plot(x, (-1 if flip else 1) * a * x, "-" if shape == "line" else "o")
    return fig


# Every combination when not flipped; flipped only at slope 2 with a line: a partial grid.
@explorer("test.partial", alt="A partial toy", static=[{"flip": [False]}, {"a": [2], "shape": ["line"]}],
          a=Slider([1, 2, 3], default=2, label="slope"), shape=Choice(["line", "dots"]),
          flip=Toggle(default=False, label="flip"))
def partial(a=2, shape="line", flip=False):
    return toy(a, shape, flip)


def _data(html):
    payload = re.search(r'<script type="application/json" class="nnlib-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(payload)


@pytest.fixture
def static(tmp_path, monkeypatch):
    """Build-mode static explorers whose frames go to a temporary cache (serial: no process pool in tests)."""
    monkeypatch.setenv("NNLIB_BUILD", "1")
    monkeypatch.setenv("NNLIB_FRAMES_DIR", str(tmp_path / "frames"))
    monkeypatch.setenv("NNLIB_FRAME_WORKERS", "1")
    return tmp_path / "frames"


def test_registry_holds_declared_explorers():
    assert widgets.REGISTRY["test.toy"] is toy
    assert list(toy.controls) == ["a", "shape", "flip"]


def test_default_grid_is_the_full_product():
    grid = static_grid(toy)
    assert len(grid) == 3 * 2 * 2 and len(set(grid)) == len(grid)
    assert (1, 0, 0) in grid and (2, 1, 1) in grid


def test_block_grid_is_the_union_of_the_blocks():
    grid = set(static_grid(partial))
    assert {(a, s, 0) for a in range(3) for s in range(2)} <= grid  # every combination unflipped
    assert (1, 0, 1) in grid  # flipped at slope 2, line
    assert (0, 0, 1) not in grid and (1, 1, 1) not in grid
    assert len(grid) == 7


def test_bad_static_specs_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"at most 400 frames.*got 441"):
        explorer("test.big", alt="big", a=Slider(range(21)), b=Slider(range(21)))(lambda a, b: None)
    with pytest.raises(ValueError, match=r"static block .* gives control 'a' values \[7\]"):
        explorer("test.badblock", alt="x", static=[{"a": [7]}], a=Slider([1, 2]))(lambda a=1: None)
    with pytest.raises(ValueError, match=r"unknown control\(s\) \['b'\]"):
        explorer("test.badname", alt="x", static=[{"b": [1]}], a=Slider([1, 2]))(lambda a=1: None)
    with pytest.raises(ValueError, match="must hold the defaults"):
        explorer("test.nodefault", alt="x", static=[{"a": [2]}], a=Slider([1, 2], default=1))(lambda a=1: None)
    with pytest.raises(ValueError, match="static must be 'product' or a non-empty list"):
        explorer("test.each", alt="x", static="each", a=Slider([1, 2]))(lambda a=1: None)
    for name in ("test.big", "test.badblock", "test.badname", "test.nodefault", "test.each"):
        assert name not in widgets.REGISTRY


def test_bad_controls_are_refused():
    with pytest.raises(ValueError, match=r"default must be one of \[1, 2\], got 5"):
        Slider([1, 2], default=5)
    with pytest.raises(TypeError, match="control 'a' must be a Slider, Choice or Toggle, got int"):
        explorer("test.bad", alt="bad", a=3)
    with pytest.raises(TypeError, match="must be declared with @explorer"):
        show(lambda: None)


def test_static_explorer_writes_frames_as_files_and_labels_every_control(static):
    html = show(toy)._repr_html_()
    assert 'class="nnlib-explorer"' in html and 'data-explorer="test.toy"' in html
    assert "base64" not in html and "http://" not in html and "https://" not in html
    # every control is an input or select with an id, and exactly one <label for=that id>
    controls = re.findall(r'<(input|select) [^>]*id="([^"]+)"[^>]*data-control="([^"]+)"', html)
    assert [key for _, _, key in controls] == ["a", "shape", "flip"]
    for _, cid, _ in controls:
        assert html.count(f'<label for="{cid}">') == 1
    # the full product: the slider stays a range input, with its value shown in an <output>
    assert controls[0][0] == "input" and re.search(r'<output for="[^"]+">2</output>', html)
    data = _data(html)
    assert set(data["frames"]) == {",".join(map(str, p)) for p in static_grid(toy)}
    for name in data["frames"].values():
        assert (static / name).is_file() and (static / name).read_bytes()[8:12] == b"WEBP"
    first = re.search(r'<img class="nnlib-frame" src="([^"]+)" alt="([^"]+)" width="(\d+)"', html)
    assert first.group(1) == f"{widgets.FRAMES_TOKEN}/{data['frames']['1,0,0']}"
    assert first.group(2) == "A toy line; slope = 2, shape = line, flip = off"
    assert int(first.group(3)) == widgets.FRAME_WIDTH  # shown at the column's width, rendered at twice that
    # different arguments give different images
    contents = {(static / name).read_bytes() for name in data["frames"].values()}
    assert len(contents) == len(data["frames"])
    assert widgets.BUNDLE_TOKEN in html and "precomputed" in html
    assert re.search(r'<p class="nnlib-note" role="status" aria-live="polite"', html)


def test_frames_are_rendered_sharp_at_twice_their_css_width(static):
    page = show(toy)
    for meta in page.meta.values():
        assert meta["width"] == widgets.FRAME_SCALE * widgets.FRAME_WIDTH  # 2 in at the frame dpi: 1344 px


def test_a_rebuild_with_nothing_changed_renders_no_frame(static):
    first = show(toy)
    assert (first.computed, first.reused) == (12, 0)
    CALLS.clear()
    again = show(toy)
    assert (again.computed, again.reused) == (0, 12) and CALLS == []
    log = [json.loads(line) for line in (static / "log.jsonl").read_text().splitlines()]
    assert [(e["computed"], e["reused"]) for e in log] == [(12, 0), (0, 12)]


def test_frame_key_depends_on_the_values_and_the_source():
    keys = {widgets.frame_key(toy, p) for p in static_grid(toy)}
    assert len(keys) == 12
    assert widgets.frame_key(toy, (0, 0, 0), "other source") != widgets.frame_key(toy, (0, 0, 0))


def test_frames_are_computed_in_parallel_processes(static, monkeypatch):
    monkeypatch.setenv("NNLIB_FRAME_WORKERS", "2")
    page = show(toy)
    assert page.computed == 12
    assert all((static / n).is_file() for n in page.data()["frames"].values())


def test_a_partial_grid_makes_the_dependent_controls_selects(static):
    page = show(partial)
    html = page._repr_html_()
    assert page.partial() == [True, True, True]
    assert '<input type="range"' not in html  # a range input cannot disable some of its values
    assert html.count("<select") == 3


def test_static_alt_text_names_the_values():
    assert widgets._alt_text(toy, (2, 0, 0)) == "A toy line; slope = 3, shape = line, flip = off"
    assert widgets._alt_text(toy, (1, 0, 1)).endswith("flip = on")


# --------------------------------------------------------------------------
# The page's script, run in node against a minimal DOM (no browser needed)
# --------------------------------------------------------------------------
DOM_STUB = r"""
const spec = JSON.parse(process.argv[process.argv.length - 1]);
function element(tag, attrs) {
  const e = {tagName: tag.toUpperCase(), attrs: attrs || {}, handlers: {}, textContent: "", hidden: false,
             getAttribute(n) { return n in this.attrs ? this.attrs[n] : null; },
             setAttribute(n, v) { this.attrs[n] = String(v); },
             addEventListener(t, f) { (this.handlers[t] = this.handlers[t] || []).push(f); }};
  return e;
}
const controls = spec.controls.map(c => {
  const e = element(c.tag, {});
  e.id = c.id; e.value = String(c.value); e.type = c.type;
  if (c.tag === "select") { e.options = c.options.map(() => ({disabled: false})); }
  return e;
});
const outputs = {};
spec.controls.forEach(c => { if (c.output) { outputs[c.id] = element("output"); } });
(spec.start || []).forEach((v, i) => { controls[i].value = String(v); });  // values a browser restored
const img = element("img", {src: spec.src}), note = element("p");
const data = element("script"); data.textContent = spec.data;
const root = element("div", {"data-frames": "FRAMES"});
root.querySelector = sel => {
  if (sel === "script.nnlib-data") return data;
  if (sel === "img.nnlib-frame") return img;
  if (sel === ".nnlib-note") return note;
  const m = sel.match(/^output\[for='(.*)'\]$/);
  return m ? (outputs[m[1]] || null) : null;
};
root.querySelectorAll = sel => sel === "[data-control]" ? controls : [];
const loaded = [];
global.Image = function () { return {set src(v) { loaded.push(v); }}; };
global.document = {currentScript: {parentElement: root}};
eval(spec.script);
const states = [];
function snapshot() {
  states.push({src: img.src || img.getAttribute("src"), alt: img.alt, note: note.textContent, noteHidden: note.hidden,
               values: controls.map(c => c.value),
               outputs: Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.textContent])),
               disabled: controls.map(c => c.options ? c.options.map(o => o.disabled) : null)});
}
snapshot();
for (const [i, v] of spec.moves) {
  controls[i].value = String(v);
  controls[i].handlers.input.forEach(f => f());
  snapshot();
}
console.log(JSON.stringify({states, loaded}));
"""


def run_script(html, moves, start=None):
    """Run a static explorer's inline script in node on a stub DOM; move controls; return what it showed."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed: the script's logic is checked in the browser tests instead")
    script = re.search(r"<script>(.*)</script></div>$", html, re.S).group(1)
    controls = []
    for tag, attrs in re.findall(r"<(input|select) ([^>]*)>", html):
        cid = re.search(r'id="([^"]+)"', attrs).group(1)
        value = int(re.search(r'value="(\d+)"', attrs).group(1)) if tag == "input" else None
        options = []
        if tag == "select":
            body = html.split(f'id="{cid}"', 1)[1].split("</select>", 1)[0]
            options = re.findall(r'<option value="(\d+)"( selected)?>', body)
            value = next(int(v) for v, sel in options if sel)
        controls.append({"tag": tag, "id": cid, "value": value, "type": "range" if tag == "input" else "select-one",
                         "options": [v for v, _ in options], "output": f'<output for="{cid}">' in html})
    payload = re.search(r'<script type="application/json" class="nnlib-data">(.*?)</script>', html, re.S).group(1)
    src = re.search(r'<img class="nnlib-frame" src="([^"]+)"', html).group(1).replace(widgets.FRAMES_TOKEN, "FRAMES")
    spec = {"controls": controls, "data": payload, "script": script, "moves": moves, "start": start, "src": src}
    out = subprocess.run([node, "-e", DOM_STUB, json.dumps(spec)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_script_swaps_the_image_and_alt_and_updates_the_value_label(static):
    html = show(toy)._repr_html_()
    data = _data(html)
    result = run_script(html, [(0, 0), (1, 1), (2, 1), (0, 2)])
    states = result["states"]
    assert [s["values"] for s in states[1:]] == [["0", "0", "0"], ["0", "1", "0"], ["0", "1", "1"], ["2", "1", "1"]]
    for state in states[1:]:
        idx = ",".join(state["values"])
        assert state["src"] == "FRAMES/" + data["frames"][idx]
        assert state["alt"] == widgets._alt_text(toy, tuple(map(int, state["values"])))
    slope_output = [s["outputs"] for s in states[1:]]
    assert [list(o.values())[0] for o in slope_output] == ["1", "1", "1", "3"]  # the slider's value label follows
    assert all(s["noteHidden"] for s in states)  # a full product never disables anything
    assert result["loaded"], "neighbouring frames are preloaded after a move"
    assert all(url.startswith("FRAMES/") for url in result["loaded"])


def test_script_disables_unreachable_options_with_a_note_and_never_moves_a_control(static):
    html = show(partial)._repr_html_()
    data = _data(html)
    # flip on (reachable at the defaults), then the other slopes and shapes are disabled with a note
    result = run_script(html, [(2, 1), (2, 0), (0, 0), (1, 1)])
    states = result["states"]
    assert states[0]["noteHidden"] and states[0]["disabled"][2] == [False, False]
    flipped = states[1]
    assert flipped["values"] == ["1", "0", "1"] and flipped["src"] == "FRAMES/" + data["frames"]["1,0,1"]
    assert flipped["disabled"][0] == [True, False, True] and flipped["disabled"][1] == [False, True]
    assert not flipped["noteHidden"]
    assert "slope 1, 3: not precomputed with flip = on" in flipped["note"]
    assert "live notebook" in flipped["note"]
    # unflipped at slope 1, dots: flip is disabled there; nothing moved any other control
    last = states[-1]
    assert last["values"] == ["0", "1", "0"] and last["disabled"][2] == [False, True]
    assert "flip on: not precomputed with" in last["note"]
    for state in states[1:]:  # before any move, the script leaves the page's own first image alone
        assert state["src"] == "FRAMES/" + data["frames"][",".join(state["values"])]


def test_script_shows_the_frame_of_values_a_browser_restored(static):
    html = show(toy)._repr_html_()
    data = _data(html)
    untouched = run_script(html, [])["states"][0]
    assert untouched["src"] == "FRAMES/" + data["frames"]["1,0,0"]  # the page's own first frame, left alone
    restored = run_script(html, [], start=[0, 1, 1])["states"][0]
    assert restored["values"] == ["0", "1", "1"] and restored["src"] == "FRAMES/" + data["frames"]["0,1,1"]
    assert restored["alt"] == widgets._alt_text(toy, (0, 1, 1))


# --------------------------------------------------------------------------
# Every book explorer: sharp, legible, light frames
# --------------------------------------------------------------------------
MEASURE = textwrap.dedent("""
    import json, sys
    import nnlib.explorers
    from nnlib import widgets
    out = {}
    for name, fn in sorted(widgets.REGISTRY.items()):
        defaults = tuple(c.default_index for c in fn.controls.values())
        data, meta = widgets.render_frame(fn, defaults)
        out[name] = meta
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def book_frames():
    """Each book explorer's default frame, rendered as the build does, in a fresh process (no cached pixels)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("NNLIB_BUILD", None)
    out = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=900)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_book_explorer_has_text_of_at_least_11_css_px(book_frames):
    assert len(book_frames) >= 10
    small = {name: round(meta["text_px"], 1) for name, meta in book_frames.items()
             if meta["text_px"] < widgets.MIN_TEXT_PX}
    assert not small, f"text smaller than {widgets.MIN_TEXT_PX} CSS px: {small}"


def test_every_book_explorer_frame_is_sharp_and_light(book_frames):
    for name, meta in book_frames.items():
        assert meta["width"] == widgets.FRAME_SCALE * widgets.FRAME_WIDTH, name
        assert meta["bytes"] <= 100_000, f"{name}: {meta['bytes']} bytes"


# --------------------------------------------------------------------------
# Live
# --------------------------------------------------------------------------
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


def test_the_book_build_uses_the_same_tokens():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import nnbook
    finally:
        sys.path.pop(0)
    assert nnbook.FRAMES_TOKEN == widgets.FRAMES_TOKEN and nnbook.BUNDLE_TOKEN == widgets.BUNDLE_TOKEN
