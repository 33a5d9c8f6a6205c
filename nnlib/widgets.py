"""Explorers: one pure plotting function, two ways to show it.

An explorer is a function of a few keyword arguments that returns a
matplotlib figure. It seeds its own random numbers, so the same arguments
always give the same picture. Declare its controls once with ``@explorer``::

    @explorer("ch1.learning_rate", alt="Loss curve of gradient descent",
              lr=Slider([0.01, 0.1, 0.5], default=0.1, label="learning rate"),
              scaled=Toggle(default=True, label="feature scaling"))
    def learning_rate(lr=0.1, scaled=True):
        ...
        return fig

and show it in a lesson with ``show(learning_rate)``:

* live in Jupyter (JupyterLab, Notebook 7, VS Code) the controls are
  ipywidgets; moving one re-runs the function and swaps the rendered image,
  debounced so that a fast drag redraws once it settles;
* in the book build (``NNLIB_BUILD=1``, set by ``make book``) the function is
  run ahead of time over every combination of control values the explorer
  declares (``static``; the full product by default), each frame rendered
  once, in parallel, into a cache of image files keyed by what produced it.
  The result is a small HTML explorer: labelled native inputs whose few
  lines of inline script fetch the frame a reader asks for, so the page
  stays interactive with no kernel. Options that were not precomputed are
  disabled, visibly, with a note; no control ever moves another.

``REGISTRY`` holds every explorer declared with ``@explorer``;
``import nnlib.explorers`` fills it with the book's explorers, so tests and
benchmarks can drive them all.
"""

import asyncio
import contextlib
import functools
import gc
import hashlib
import html
import inspect
import itertools
import json
import multiprocessing
import os
import time
import uuid

import ipywidgets

from . import plots

__all__ = ["Slider", "Choice", "Toggle", "explorer", "show", "REGISTRY", "build_mode",
           "static_grid", "render", "render_frame", "settle_memory", "StaticExplorer", "MAX_FRAMES",
           "frame_dpi", "frames_dir", "frame_key", "FRAME_WIDTH", "FRAME_SCALE", "MIN_TEXT_PX",
           "FRAMES_TOKEN", "BUNDLE_TOKEN", "MAX_FRAME_BYTES", "precompute"]

#: Every explorer declared with ``@explorer``, by name.
REGISTRY = {}

#: An explorer's static version may hold at most this many frames (each one a file fetched on demand).
MAX_FRAMES = 400

_DEBOUNCE_SECONDS = 0.04


def build_mode():
    """True while ``make book`` builds the site (the environment sets ``NNLIB_BUILD=1``)."""
    return os.environ.get("NNLIB_BUILD", "") == "1"


def _format(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class _Control:
    """A control's possible ``values``, its ``default`` and the ``label`` shown beside it."""

    kind = "select"

    def __init__(self, values, default=None, label=None, labels=None):
        values = list(values)
        if not values:
            raise ValueError(f"{type(self).__name__}: values must not be empty, got {values!r}")
        if default is None:
            default = values[len(values) // 2] if self.kind == "range" else values[0]
        if default not in values:
            raise ValueError(f"{type(self).__name__}: default must be one of {values!r}, got {default!r}")
        if labels is not None and len(labels) != len(values):
            raise ValueError(f"{type(self).__name__}: labels must have {len(values)} entries, got {len(labels)}")
        self.values = values
        self.default = default
        self.label = label
        self.labels = [_format(v) for v in values] if labels is None else list(labels)

    @property
    def default_index(self):
        return self.values.index(self.default)

    def __repr__(self):
        return f"{type(self).__name__}({self.values!r}, default={self.default!r}, label={self.label!r})"


class Slider(_Control):
    """A value chosen from an ordered list: a range input in the book, a slider live."""

    kind = "range"


class Choice(_Control):
    """One of a few named options: a select in the book, a dropdown live."""

    kind = "select"


class Toggle(_Control):
    """On or off."""

    kind = "select"

    def __init__(self, default=False, label=None):
        super().__init__([False, True], default=bool(default), label=label, labels=["off", "on"])


def explorer(name, *, alt, static="product", **controls):
    """Declare a function as an explorer with these controls, and register it.

    ``alt`` describes the figure; each image's alt text adds the values shown.
    ``static`` picks which combinations of control values the book precomputes:

    * ``"product"`` (the default): every combination, so any state a reader
      can set on the page is real;
    * a list of blocks, each a dict ``{control: [values]}``: the union of the
      products of the blocks, a control missing from a block taking all of
      its values. ``[{"lr": [0.3]}, {"width": [8], "depth": [2]}]`` is every
      combination at lr 0.3, plus every rate at width 8 and depth 2.

    On the page, an option whose frame was not precomputed (given the other
    controls' values) is shown disabled, with a note saying why; no control
    ever moves another.
    """
    for key, control in controls.items():
        if not isinstance(control, _Control):
            raise TypeError(f"explorer {name!r}: control {key!r} must be a Slider, Choice or Toggle, "
                            f"got {type(control).__name__}")

    def register(fn):
        fn.explorer_name = name
        fn.controls = controls
        fn.alt = alt
        fn.static = static
        static_grid(fn)  # validate the grid now, not at build time
        REGISTRY[name] = fn
        return fn

    return register


def static_grid(fn):
    """The sorted list of index tuples (one index per control) the static explorer precomputes."""
    controls = list(fn.controls.values())
    keys = list(fn.controls)
    if fn.static == "product":
        blocks = [{}]
    elif isinstance(fn.static, (list, tuple)) and fn.static and all(isinstance(b, dict) for b in fn.static):
        blocks = fn.static
    else:
        raise ValueError(f"explorer {fn.explorer_name!r}: static must be 'product' or a non-empty list of "
                         f"{{control: [values]}} blocks, got {fn.static!r}")
    grid = set()
    for block in blocks:
        axes = []
        for key, control in zip(keys, controls):
            values = block.get(key, control.values)
            missing = [v for v in values if v not in control.values]
            if missing or not values:
                raise ValueError(f"explorer {fn.explorer_name!r}: static block {block!r} gives control {key!r} "
                                 f"values {missing or values!r}, expected a non-empty subset of {control.values!r}")
            axes.append([control.values.index(v) for v in values])
        unknown = set(block) - set(keys)
        if unknown:
            raise ValueError(f"explorer {fn.explorer_name!r}: static block names unknown control(s) "
                             f"{sorted(unknown)}; controls are {keys}")
        grid.update(itertools.product(*axes))
    defaults = tuple(c.default_index for c in controls)
    if defaults not in grid:
        raise ValueError(f"explorer {fn.explorer_name!r}: the static grid must hold the defaults {defaults}")
    if len(grid) > MAX_FRAMES:
        raise ValueError(f"explorer {fn.explorer_name!r}: the static grid must have at most {MAX_FRAMES} frames "
                         f"to keep the build short, got {len(grid)}; use fewer, better values")
    return sorted(grid)


def _arguments(fn, indices):
    return {key: control.values[i] for (key, control), i in zip(fn.controls.items(), indices)}


def _alt_text(fn, indices):
    parts = [f"{control.label or key} = {control.labels[i]}"
             for (key, control), i in zip(fn.controls.items(), indices)]
    return f"{fn.alt}; " + ", ".join(parts)


def show(fn):
    """Show an explorer: live ipywidgets in Jupyter, a static HTML explorer in the book build."""
    if not hasattr(fn, "controls"):
        raise TypeError(f"show: fn must be declared with @explorer, got {getattr(fn, '__name__', fn)!r}")
    return StaticExplorer(fn) if build_mode() else _live(fn)


def render(fn, values, fmt="png"):
    """What a live explorer does when a control moves: call ``fn(**values)`` and render the figure.

    Returns the image bytes; a live PNG is compressed lightly, for speed.
    Python's cyclic garbage collector is paused meanwhile, so that none of its
    passes lands in the middle of a redraw; the figure's garbage is collected
    after. ``bench/widgets.py`` times exactly this.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        # Figures from plots.figure() are not tracked by pyplot: once rendered, they are garbage.
        return plots.to_image(fn(**values), fmt=fmt, fast=fmt == "png")
    finally:
        if collecting:
            gc.enable()


def settle_memory():
    """Collect garbage once and freeze what survives (``gc.freeze``).

    A live explorer does this when it is shown. By then the lesson has loaded
    its libraries and filled its caches: a few hundred thousand objects that a
    full collection pass would scan again and again, for 100 ms or more each
    time. Frozen, they are skipped, so the passes that clean up after each
    redraw stay short.
    """
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------
# Live: ipywidgets
# --------------------------------------------------------------------------
def _live(fn):
    settle_memory()
    style = {"description_width": "initial"}
    widgets = {}
    for key, control in fn.controls.items():
        options = list(zip(control.labels, control.values))
        description = control.label or key
        if control.kind == "range":
            widgets[key] = ipywidgets.SelectionSlider(options=options, value=control.default,
                                                      description=description, style=style,
                                                      continuous_update=True)
        else:
            widgets[key] = ipywidgets.Dropdown(options=options, value=control.default,
                                               description=description, style=style)
    image = ipywidgets.Image(format="png", value=render(fn, _current(widgets)))
    image.layout.max_width = "100%"
    pending = {}

    def redraw():
        pending.pop("handle", None)
        image.value = render(fn, _current(widgets))

    def on_change(_change):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a plain script or a test): draw now
            redraw()
            return
        if "handle" in pending:
            pending["handle"].cancel()
        pending["handle"] = loop.call_later(_DEBOUNCE_SECONDS, redraw)

    for widget in widgets.values():
        widget.observe(on_change, names="value")
    box = ipywidgets.VBox([ipywidgets.HBox(list(widgets.values()),
                                           layout=ipywidgets.Layout(flex_flow="row wrap")), image])
    box.add_class("nnlib-live-explorer")
    return box


def _current(widgets):
    return {key: widget.value for key, widget in widgets.items()}


# --------------------------------------------------------------------------
# Static: precomputed frames, as files, behind native HTML controls
# --------------------------------------------------------------------------
#: The CSS width (px) a static frame is shown at: the book's text column in a 1280 px wide window.
FRAME_WIDTH = 672
#: Frames are rendered at this multiple of their CSS width, so they stay sharp on 2x (high-density) screens.
FRAME_SCALE = 2
#: The smallest text a frame may show, in CSS px at FRAME_WIDTH (tests/test_widgets.py checks every explorer).
MIN_TEXT_PX = 11
#: In the HTML a static explorer emits, this stands for the URL of the frames folder; the book build
#: (book/_ext/nnbook.py) replaces it with the folder's path relative to each page.
FRAMES_TOKEN = "@@NNLIB_FRAMES@@"
#: ... and this for the page's download bundle (the notebook, nnlib's wheel, requirements, README).
BUNDLE_TOKEN = "@@NNLIB_BUNDLE@@"

_rendering_frames = False


def frame_dpi(width, live_dpi=100):
    """The dpi an explorer's figure ``width`` inches wide is made at.

    Live (and in lessons), ``live_dpi``. While the book renders static frames,
    the dpi that makes the figure ``FRAME_SCALE`` × ``FRAME_WIDTH`` pixels wide,
    so each frame is sharp at twice its CSS size. Explorers pass their figure's
    dpi through this (``plots.figure(..., dpi=frame_dpi(7.2, 80))``), and
    ``render`` renders at the figure's own dpi, so figures built from cached
    pixels (``plots.Sheet``) come out right too. The dpi is rounded to a whole
    number: with a width of 6.72 inches it is 200, and any height in tenths
    of an inch is then a whole number of pixels (which ``plots.Sheet`` needs).
    """
    return round(FRAME_SCALE * FRAME_WIDTH / width) if _rendering_frames else live_dpi


def frames_dir():
    """The frame cache: ``$NNLIB_FRAMES_DIR``, or ``_build/.explorer-frames`` next to the nnlib package."""
    from pathlib import Path

    env = os.environ.get("NNLIB_FRAMES_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "_build" / ".explorer-frames"


@functools.lru_cache(maxsize=1)
def _nnlib_digest():
    """A hash of every source file of nnlib (the explorers included): a frame depends on all of them."""
    from pathlib import Path

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _source_digest(fn):
    """nnlib's digest, plus the function's own source when it lives outside nnlib (a test, a notebook)."""
    h = hashlib.sha256(_nnlib_digest().encode())
    h.update(f"{fn.__module__}.{fn.__qualname__}".encode())
    if not fn.__module__.startswith("nnlib."):
        try:
            h.update(inspect.getsource(fn).encode())
        except (OSError, TypeError):  # no source to read: the name alone keys it (and the cache may be stale)
            pass
    return h.hexdigest()


def frame_key(fn, indices, source=None):
    """The cache key of one frame: what produces it (sources, explorer, control values, size, format)."""
    arguments = _arguments(fn, indices)
    h = hashlib.sha256((source or _source_digest(fn)).encode())
    h.update(json.dumps([fn.explorer_name, sorted((k, repr(v)) for k, v in arguments.items()),
                         FRAME_WIDTH, FRAME_SCALE, StaticExplorer.fmt]).encode())
    return h.hexdigest()[:24]


@contextlib.contextmanager
def _text_sizes(sizes):
    """Record the font size (points) of every visible, non-empty text drawn meanwhile into ``sizes``."""
    from matplotlib.text import Text

    original = Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            sizes.append(self.get_fontsize())
        return original(self, renderer)

    Text.draw = draw
    try:
        yield sizes
    finally:
        Text.draw = original


def render_frame(fn, indices):
    """Render one static frame: ``(image bytes, meta)``; meta has its pixel size and smallest text.

    ``text_px`` is the smallest text drawn while rendering, in CSS px at the
    frame's display width, counting the text in a ``plots.Sheet``'s pasted
    pixels (which ``plots.Sheet`` measured when it drew them).
    """
    global _rendering_frames
    previous, _rendering_frames = _rendering_frames, True
    sizes = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _text_sizes(sizes):
            fig = fn(**_arguments(fn, indices))
            width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
            pixels = plots.to_image(fig, fmt="rgba")
        dpi = float(fig.dpi)
        data = _encode(pixels, int(width), int(height))
    finally:
        _rendering_frames = previous
        if collecting:
            gc.enable()
    backdrop = getattr(fig, "_nnlib_text_pt", None)  # a plots.Sheet: the smallest text in its pasted pixels
    if backdrop is not None:
        sizes.append(backdrop)
    text_px = min(sizes) / 72 * dpi / FRAME_SCALE if sizes else None
    return data, {"width": int(width), "height": int(height), "bytes": len(data), "text_px": text_px}


#: A frame is fetched when a control moves: keep each one under this many bytes.
MAX_FRAME_BYTES = 96_000


def _encode(rgba, width, height):
    """WebP bytes of raw RGBA pixels: quality 82 (as plots.to_image), lower only if the frame would be too heavy.

    A frame above ``MAX_FRAME_BYTES`` (a busy picture: many path points, a
    dense scatter) is encoded again at quality 72, then 62. Method 2 encodes
    about twice as fast as the default 4 for files about 4% larger, and a
    book build encodes several hundred frames.
    """
    import io

    from PIL import Image

    image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    for quality in (82, 72, 62):
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=quality, method=2)
        if buffer.tell() <= MAX_FRAME_BYTES:
            break
    return buffer.getvalue()


_pool_job = {}


def _compute(task):
    """A worker's task: render a chunk of one explorer's frames into the cache (each file written atomically)."""
    name, jobs = task
    fn, directory = _pool_job["fns"][name], _pool_job["dir"]
    for indices, key in jobs:
        data, meta = render_frame(fn, indices)
        for file, content in ((f"{key}.json", json.dumps(meta).encode()), (f"{key}.{StaticExplorer.fmt}", data)):
            tmp = directory / f".{file}.{os.getpid()}.tmp"
            tmp.write_bytes(content)
            os.replace(tmp, directory / file)
    return name, len(jobs)


def _missing(fn, directory):
    """``(keys, missing)``: every grid point's cache key, and the ``(indices, key)`` not yet in ``directory``."""
    source = _source_digest(fn)
    keys = {indices: frame_key(fn, indices, source) for indices in static_grid(fn)}
    missing = [(indices, k) for indices, k in keys.items()
               if not (directory / f"{k}.{StaticExplorer.fmt}").is_file() or not (directory / f"{k}.json").is_file()]
    return keys, missing


def _render_missing(fns, directory, workers):
    """Render the missing frames of explorers ``fns`` (name → function) into ``directory``, in ``workers`` processes.

    Work goes out in chunks of one explorer's frames, so that each worker
    pays an explorer's first-call cost (training runs, cached data) once per
    chunk at most; big explorers are split so both cores stay busy. Workers
    are forked: they start at once and share what the parent has cached.
    Returns ``{name: (computed, frames)}``.
    """
    counts, tasks = {}, []
    for name, fn in fns.items():
        keys, missing = _missing(fn, directory)
        counts[name] = (len(missing), len(keys))
        size = max(8, -(-len(missing) // (3 * workers)))
        tasks += [(name, missing[i:i + size]) for i in range(0, len(missing), size)]
    tasks.sort(key=lambda t: -len(t[1]))
    if not tasks:
        return counts
    _pool_job.update(fns=fns, dir=directory)
    try:
        if workers > 1 and (len(tasks) > 1 or len(tasks[0][1]) > 1) and \
                "fork" in multiprocessing.get_all_start_methods():
            if len(tasks) < workers:  # a single small explorer: one frame per task
                tasks = [(name, [job]) for name, jobs in tasks for job in jobs]
            with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
                for _ in pool.imap_unordered(_compute, tasks, chunksize=1):
                    pass
        else:
            for task in tasks:
                _compute(task)
    finally:
        _pool_job.clear()
    return counts


def _log(directory, entry):
    with open(directory / "log.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"time": time.time(), **entry}) + "\n")


def precompute(names=None, directory=None, workers=None):
    """Render every missing frame of the book's explorers (``nnlib.explorers``, or just ``names``) into the cache.

    ``make book`` runs this once before the lessons execute (book/_ext/nnbook.py),
    so the frames of all explorers are rendered together, in parallel across
    the cores, and a lesson's explorer cell then only reads the cache.
    Returns ``{name: (computed, frames)}`` and logs each explorer's counts.
    """
    from . import explorers  # noqa: F401  (registers the book's explorers)

    directory = frames_dir() if directory is None else directory
    directory.mkdir(parents=True, exist_ok=True)
    names = sorted(REGISTRY) if names is None else list(names)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"precompute: names must be registered explorers {sorted(REGISTRY)}, got {unknown}")
    counts = _render_missing({n: REGISTRY[n] for n in names}, directory, _workers() if workers is None else workers)
    for name, (computed, frames) in counts.items():
        _log(directory, {"stage": "precompute", "explorer": name, "frames": frames, "computed": computed,
                         "reused": frames - computed})
    return counts


def _workers():
    """How many processes compute frames: ``$NNLIB_FRAME_WORKERS``, else one per core."""
    env = os.environ.get("NNLIB_FRAME_WORKERS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"NNLIB_FRAME_WORKERS must be a positive integer, got {env!r}")
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_SCRIPT = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.nnlib-data").textContent);
  var base = root.getAttribute("data-frames");
  var controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var img = root.querySelector("img.nnlib-frame");
  var note = root.querySelector(".nnlib-note");
  var fetched = {};
  function key(idx) { return idx.join(","); }
  function state() { return controls.map(function (c) { return parseInt(c.value, 10); }); }
  function url(idx) { return base + "/" + data.frames[key(idx)]; }
  function describe(idx, skip) {
    var parts = [];
    idx.forEach(function (v, i) { if (i !== skip) { parts.push(data.names[i] + " = " + data.labels[i][v]); } });
    return parts.join(", ");
  }
  function alt(idx) { return data.alt + "; " + describe(idx, -1); }
  function nearest(idx, i, v) {
    var best = null, bestScore = Infinity;
    Object.keys(data.frames).forEach(function (k) {
      var q = k.split(",").map(Number), score = 0;
      if (q[i] !== v) { return; }
      q.forEach(function (w, j) { if (w !== idx[j]) { score += 1; } });
      if (score < bestScore) { bestScore = score; best = q; }
    });
    return best;
  }
  function availability(idx) {
    var notes = [];
    controls.forEach(function (c, i) {
      if (c.tagName !== "SELECT") { return; }
      var off = [], now = {}, need = {};
      Array.prototype.forEach.call(c.options, function (o, v) {
        var probe = idx.slice();
        probe[i] = v;
        o.disabled = !(key(probe) in data.frames);
        if (!o.disabled) { return; }
        off.push(data.labels[i][v]);
        (nearest(idx, i, v) || []).forEach(function (w, j) {
          if (j !== i && w !== idx[j]) {
            now[data.names[j] + " = " + data.labels[j][idx[j]]] = 1;
            need[data.names[j] + " = " + data.labels[j][w]] = 1;
          }
        });
      });
      if (off.length) {
        notes.push(data.names[i] + " " + off.join(", ") + ": not precomputed with " +
                   Object.keys(now).join(", ") + " (only with " + Object.keys(need).join(", ") + ").");
      }
    });
    note.textContent = notes.length ? "Greyed out: " + notes.join(" ") +
      " The live notebook (download below) computes every combination." : "";
    note.hidden = !notes.length;
  }
  function preload(idx) {
    controls.forEach(function (c, i) {
      [-1, 1].forEach(function (d) {
        var probe = idx.slice();
        probe[i] += d;
        var k = key(probe);
        if (k in data.frames && !fetched[k]) { fetched[k] = true; new Image().src = url(probe); }
      });
    });
  }
  function update() {
    var idx = state();
    if (!(key(idx) in data.frames)) { return; }  // unreachable: such options are disabled
    fetched[key(idx)] = true;
    img.src = url(idx);
    img.alt = alt(idx);
    controls.forEach(function (c, i) {
      var out = root.querySelector("output[for='" + c.id + "']");
      if (out) { out.textContent = data.labels[i][idx[i]]; }
      if (c.type === "range") { c.setAttribute("aria-valuetext", data.labels[i][idx[i]]); }
    });
    availability(idx);
    preload(idx);
  }
  controls.forEach(function (c) {
    c.addEventListener("input", update);
    c.addEventListener("change", update);
  });
  // A browser may restore the controls' last values (back, reload): then show their frame, not the default.
  var now = state(), src = img.getAttribute("src") || "";
  if (key(now) in data.frames && src.slice(-data.frames[key(now)].length) !== data.frames[key(now)]) {
    update();
  } else {
    availability(now);
  }
})();"""


class StaticExplorer:
    """The book's version of an explorer: frames precomputed as files, behind native HTML controls.

    Building one renders every frame of ``static_grid(fn)`` that the cache
    (``frames_dir()``) lacks, in parallel (one forked process per core),
    and keys each frame by what produces it (``frame_key``), so a rebuild
    with nnlib unchanged renders none. (In ``make book``, ``precompute``
    has rendered the book's explorers before any lesson runs.) Each build's counts are appended to
    ``log.jsonl`` in the cache, for ``make book``'s summary. The HTML refers
    to frames as ``FRAMES_TOKEN/<key>.webp``; the book build rewrites the
    token and copies the frames each page uses into the site.

    A control whose options are all precomputed whatever the others say is a
    range input (Slider) or a select; one with options that are precomputed
    only with some values of the others is always a select, whose
    unavailable options are disabled, with an aria-live note saying why.
    """

    fmt = "webp"

    def __init__(self, fn, directory=None, workers=None):
        self.fn = fn
        self.grid = static_grid(fn)
        self.directory = frames_dir() if directory is None else directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keys, missing = _missing(fn, self.directory)
        self.computed, self.reused = len(missing), len(self.grid) - len(missing)
        if missing:
            _render_missing({fn.explorer_name: fn}, self.directory, _workers() if workers is None else workers)
        self.meta = {indices: json.loads((self.directory / f"{k}.json").read_text())
                     for indices, k in self.keys.items()}
        self.bytes = sum(m["bytes"] for m in self.meta.values())
        _log(self.directory, {"stage": "page", "explorer": fn.explorer_name, "frames": len(self.grid),
                              "computed": self.computed, "reused": self.reused, "bytes": self.bytes})

    def files(self):
        """The cached frame files this explorer's page refers to."""
        return [self.directory / f"{k}.{self.fmt}" for k in self.keys.values()]

    def partial(self):
        """For each control: True if some option of it is precomputed only with some values of the others."""
        grid = set(self.grid)
        flags = []
        for i, control in enumerate(self.fn.controls.values()):
            flags.append(any(tuple(v if j == i else w for j, w in enumerate(point)) not in grid
                             for point in grid for v in range(len(control.values))))
        return flags

    def data(self):
        """What the page's script reads: frame files by state, and the names and labels for alt texts."""
        fn = self.fn
        return {"alt": fn.alt,
                "names": [c.label or k for k, c in fn.controls.items()],
                "labels": [c.labels for c in fn.controls.values()],
                "frames": {",".join(map(str, i)): f"{k}.{self.fmt}" for i, k in self.keys.items()}}

    def _repr_html_(self):
        fn = self.fn
        uid = "nnx-" + uuid.uuid5(uuid.NAMESPACE_URL, fn.explorer_name).hex[:10]
        defaults = tuple(c.default_index for c in fn.controls.values())
        parts = [f'<div class="nnlib-explorer" id="{uid}" data-explorer="{html.escape(fn.explorer_name)}" '
                 f'data-frames="{FRAMES_TOKEN}">',
                 '<form class="nnlib-controls" autocomplete="off" onsubmit="return false;">']
        for n, ((key, control), partial) in enumerate(zip(fn.controls.items(), self.partial())):
            cid = f"{uid}-{n}"
            label = html.escape(control.label or key)
            parts.append(f'<span class="nnlib-control"><label for="{cid}">{label}</label>')
            if control.kind == "range" and not partial:
                text = html.escape(control.labels[control.default_index])
                parts.append(f'<input type="range" id="{cid}" data-control="{html.escape(key)}" min="0" '
                             f'max="{len(control.values) - 1}" step="1" value="{control.default_index}" '
                             f'aria-valuetext="{text}"><output for="{cid}">{text}</output>')
            else:
                options = "".join(
                    f'<option value="{i}"{" selected" if i == control.default_index else ""}>'
                    f'{html.escape(text)}</option>' for i, text in enumerate(control.labels))
                parts.append(f'<select id="{cid}" data-control="{html.escape(key)}">{options}</select>')
            parts.append("</span>")
        parts.append("</form>")
        meta = self.meta[defaults]
        text_px = min((m["text_px"] for m in self.meta.values() if m["text_px"]), default=0)
        parts.append(f'<img class="nnlib-frame" src="{FRAMES_TOKEN}/{self.keys[defaults]}.{self.fmt}" '
                     f'alt="{html.escape(_alt_text(fn, defaults))}" width="{round(meta["width"] / FRAME_SCALE)}" '
                     f'height="{round(meta["height"] / FRAME_SCALE)}" data-scale="{FRAME_SCALE}" '
                     f'data-text-px="{text_px:.1f}" decoding="async">')
        parts.append('<p class="nnlib-note" role="status" aria-live="polite" hidden></p>')
        parts.append(f'<p class="nnlib-about">All {len(self.grid)} states are precomputed images. '
                     f'<a href="{BUNDLE_TOKEN}" download>Download this chapter</a> (its notebook and nnlib) '
                     f'to run it live in Jupyter.</p>')
        payload = json.dumps(self.data(), separators=(",", ":")).replace("</", "<\\/")
        parts.append(f'<script type="application/json" class="nnlib-data">{payload}</script>')
        parts.append(f"<script>{_SCRIPT}</script></div>")
        return "".join(parts)


def _main(argv=None):
    """``python -c "import nnlib.widgets as w; w._main()" precompute [NAME ...]``: what ``make book`` runs first."""
    import argparse

    parser = argparse.ArgumentParser(description="Render the book's explorer frames into the cache.")
    parser.add_argument("command", choices=["precompute"])
    parser.add_argument("names", nargs="*", help="explorers to render (default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = precompute(args.names or None)
    computed = sum(c for c, _ in counts.values())
    frames = sum(f for _, f in counts.values())
    print(f"explorer frames: {computed} rendered, {frames - computed} reused from the cache "
          f"({len(counts)} explorers, {time.perf_counter() - started:.1f} s, {_workers()} processes)")
    return 0
