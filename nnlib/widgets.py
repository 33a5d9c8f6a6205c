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
  run ahead of time over a grid of control values and the result is a small
  self-contained HTML explorer: labelled native inputs whose few lines of
  inline script swap the precomputed images, so the page stays interactive
  with no kernel.

``REGISTRY`` holds every explorer declared with ``@explorer``;
``import nnlib.explorers`` fills it with the book's explorers, so tests and
benchmarks can drive them all.
"""

import asyncio
import base64
import gc
import hashlib
import html
import itertools
import json
import os
import uuid

import ipywidgets

from . import plots

__all__ = ["Slider", "Choice", "Toggle", "explorer", "show", "REGISTRY", "build_mode",
           "static_grid", "render", "settle_memory", "StaticExplorer", "MAX_FRAMES"]

#: Every explorer declared with ``@explorer``, by name.
REGISTRY = {}

#: An explorer's static version may hold at most this many distinct frames.
MAX_FRAMES = 64

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


def explorer(name, *, alt, static="each", **controls):
    """Declare a function as an explorer with these controls, and register it.

    ``alt`` describes the figure; each image's alt text adds the values shown.
    ``static`` picks which combinations the book precomputes:

    * ``"each"``: the defaults, and each control varied on its own;
    * ``"product"``: every combination;
    * a pair of control names: every combination of those two, the others
      varied on their own around the defaults.
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
        static_grid(fn)  # validate the grid size now, not at build time
        REGISTRY[name] = fn
        return fn

    return register


def static_grid(fn):
    """The list of index tuples (one index per control) the static explorer precomputes."""
    controls = list(fn.controls.values())
    keys = list(fn.controls)
    defaults = tuple(c.default_index for c in controls)
    if fn.static == "product":
        grid = list(itertools.product(*(range(len(c.values)) for c in controls)))
    else:
        paired = () if fn.static == "each" else tuple(fn.static)
        for key in paired:
            if key not in fn.controls:
                raise ValueError(f"explorer {fn.explorer_name!r}: static pair names unknown control {key!r}; "
                                 f"controls are {keys}")
        grid = [defaults]
        if paired:
            i, j = keys.index(paired[0]), keys.index(paired[1])
            for a, b in itertools.product(range(len(controls[i].values)), range(len(controls[j].values))):
                point = list(defaults)
                point[i], point[j] = a, b
                grid.append(tuple(point))
        for k, control in enumerate(controls):
            for v in range(len(control.values)):
                point = list(defaults)
                point[k] = v
                grid.append(tuple(point))
        grid = list(dict.fromkeys(grid))
    if len(grid) > MAX_FRAMES:
        raise ValueError(f"explorer {fn.explorer_name!r}: the static grid must have at most {MAX_FRAMES} frames "
                         f"to keep the page small, got {len(grid)}; use static='each' or fewer values")
    return grid


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
# Static: precomputed frames and a few lines of inline script
# --------------------------------------------------------------------------
_SCRIPT = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.nnlib-data").textContent);
  var controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var img = root.querySelector("img.nnlib-frame");
  function state() { return controls.map(function (c) { return parseInt(c.value, 10); }); }
  function nearest(want, moved) {
    var best = null, bestScore = -1;
    Object.keys(data.frames).forEach(function (key) {
      var idx = key.split(",").map(Number), score = 0;
      if (idx[moved] !== want[moved]) { return; }
      idx.forEach(function (v, i) { score += v === want[i] ? 2 : (v === data.defaults[i] ? 1 : 0); });
      if (score > bestScore) { bestScore = score; best = idx; }
    });
    return best;
  }
  function update(moved) {
    var idx = state();
    if (!(idx.join(",") in data.frames)) {
      idx = nearest(idx, moved);
      controls.forEach(function (c, i) { c.value = idx[i]; });
    }
    var frame = data.frames[idx.join(",")];
    img.src = data.images[frame[0]];
    img.alt = frame[1];
    controls.forEach(function (c, i) {
      var out = root.querySelector("output[for='" + c.id + "']");
      if (out) { out.textContent = data.labels[i][idx[i]]; }
    });
  }
  controls.forEach(function (c, i) {
    c.addEventListener("input", function () { update(i); });
    c.addEventListener("change", function () { update(i); });
  });
})();"""


class StaticExplorer:
    """The book's version of an explorer: precomputed frames behind native HTML controls."""

    fmt = "webp"

    def __init__(self, fn):
        self.fn = fn
        self.grid = static_grid(fn)
        self.images = []
        self.frames = {}
        seen = {}
        for indices in self.grid:
            data = render(fn, _arguments(fn, indices), fmt=self.fmt)
            digest = hashlib.sha1(data).hexdigest()
            if digest not in seen:
                seen[digest] = len(self.images)
                self.images.append(f"data:image/{self.fmt};base64," + base64.b64encode(data).decode("ascii"))
            self.frames[",".join(map(str, indices))] = [seen[digest], _alt_text(fn, indices)]

    def _repr_html_(self):
        fn = self.fn
        uid = "nnx-" + uuid.uuid5(uuid.NAMESPACE_URL, fn.explorer_name).hex[:10]
        defaults = [c.default_index for c in fn.controls.values()]
        parts = [f'<div class="nnlib-explorer" id="{uid}" data-explorer="{html.escape(fn.explorer_name)}">',
                 '<form class="nnlib-controls" onsubmit="return false;">']
        for n, (key, control) in enumerate(fn.controls.items()):
            cid = f"{uid}-{n}"
            label = html.escape(control.label or key)
            parts.append(f'<span class="nnlib-control"><label for="{cid}">{label}</label>')
            if control.kind == "range":
                parts.append(f'<input type="range" id="{cid}" data-control="{html.escape(key)}" min="0" '
                             f'max="{len(control.values) - 1}" step="1" value="{control.default_index}">'
                             f'<output for="{cid}">{html.escape(control.labels[control.default_index])}</output>')
            else:
                options = "".join(
                    f'<option value="{i}"{" selected" if i == control.default_index else ""}>'
                    f'{html.escape(text)}</option>' for i, text in enumerate(control.labels))
                parts.append(f'<select id="{cid}" data-control="{html.escape(key)}">{options}</select>')
            parts.append("</span>")
        parts.append("</form>")
        first = self.frames[",".join(map(str, defaults))]
        parts.append(f'<img class="nnlib-frame" src="{self.images[first[0]]}" alt="{html.escape(first[1])}">')
        data = {"defaults": defaults, "images": self.images, "frames": self.frames,
                "labels": [c.labels for c in fn.controls.values()]}
        payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        parts.append(f'<script type="application/json" class="nnlib-data">{payload}</script>')
        parts.append(f"<script>{_SCRIPT}</script></div>")
        return "".join(parts)
