"""Figures for the lessons and the explorers: the only nnlib module that imports matplotlib.

Figures are built with a fixed layout (no constrained or tight layout engine)
because a layout engine costs 40–60 ms per draw, more than half of a live
explorer's 100 ms budget. Each helper draws on an ``Axes`` it is given, so
a lesson can combine them freely.
"""

import functools
import io

import matplotlib

matplotlib.rcParams.update({
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "image.cmap": "viridis",
    # Hinting snaps glyphs to the pixel grid; skipping it draws text about 20% faster,
    # which matters for a live explorer's 100 ms budget, and looks the same at this size.
    "text.hinting": "no_hinting",
})

import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = [
    "figure", "to_image", "Sheet", "loss_curves", "mark_diverged",
    "surface_contour", "paths_on_surface", "decision_boundary", "COLORS",
]

#: A colour-blind-safe palette (Okabe & Ito), used for classes and for runs.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]



def _show_figures_inline():
    """In a Jupyter kernel, display a ``Figure`` that ends a cell as a PNG image.

    Figures here are made without pyplot (so they never show twice), which
    means IPython's matplotlib integration does not know them; this teaches
    IPython to render them. Outside IPython it does nothing.
    """
    import sys

    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, to_image)


def figure(ncols=1, nrows=1, *, width=None, height=3.0, dpi=100, sharex=False, sharey=False):
    """A new figure with a grid of axes and a fixed, fast layout.

    Returns ``(fig, axes)``; ``axes`` is a single Axes when there is one, else
    an array. The figure is not registered with pyplot, so it never shows twice.
    """
    width = 3.4 * ncols + 0.4 if width is None else width
    fig = Figure(figsize=(width, height * nrows), dpi=dpi)
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=True)
    left = min(0.6 / width, 0.2)
    fig.subplots_adjust(left=left, right=0.98, bottom=0.16 / nrows ** 0.5, top=0.9,
                        wspace=0.32, hspace=0.45)
    return fig, axes


def to_image(fig, fmt="png", dpi=None, *, fast=False):
    """Render ``fig`` to image bytes (``fmt`` is "png" or "webp").

    ``fast`` trades file size for speed (light PNG compression): right for a
    live explorer, whose image never leaves the machine.
    """
    buffer = io.BytesIO()
    if fmt == "webp":
        kwargs = {"pil_kwargs": {"quality": 82, "method": 4}}
    else:
        kwargs = {"pil_kwargs": {"compress_level": 1}} if fast else {}
    fig.savefig(buffer, format=fmt, dpi=dpi or fig.dpi, **kwargs)
    return buffer.getvalue()


def loss_curves(ax, curves, *, xlabel="epoch", ylabel="loss", log=True, diverged=None):
    """Plot ``{label: values}`` as lines; mark runs listed in ``diverged``.

    ``diverged`` maps a label to the step where that run was stopped; the
    curve then ends there with a cross and the legend says so, so a diverged
    run is never drawn as a wall of garbage.
    """
    diverged = diverged or {}
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        color = COLORS[i % len(COLORS)]
        stopped = label in diverged
        shown = f"{label} (diverged at {diverged[label]})" if stopped else label
        ax.plot(np.arange(len(values)), values, color=color, label=shown, lw=1.6)
        if stopped and len(values):
            ax.plot(len(values) - 1, values[-1], "x", color=color, ms=8, mew=2)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if curves:
        ax.legend()
    return ax


def mark_diverged(ax, message="diverged"):
    """Write a clear notice across an axes instead of drawing non-finite values."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=11, color=COLORS[3], bbox={"boxstyle": "round", "fc": "white", "ec": COLORS[3]})
    return ax


@functools.lru_cache(maxsize=32)
def _surface_grid(surface, n):
    (x0, x1), (y0, y1) = surface.bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    return xs, ys, surface(grid)


def surface_contour(ax, surface, *, n=120, levels=25, log=True):
    """Filled contours of a 2-D ``nnlib.surfaces`` surface over its bounds (grid cached)."""
    xs, ys, z = _surface_grid(surface, n)
    if log:
        z = np.log10(z - z.min() + 1e-3)
    ax.contourf(xs, ys, z, levels=levels, cmap="Greys", alpha=0.55)
    ax.contour(xs, ys, z, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
    ax.plot(*surface.minimum, marker="*", color="k", ms=10, ls="none")
    (x0, x1), (y0, y1) = surface.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.grid(False)
    return ax


def paths_on_surface(ax, surface, paths, *, n=120):
    """Contours of ``surface`` with each optimizer path of ``{label: Path}`` on top.

    A path that diverged is drawn up to the last point inside the plot and
    labelled as diverged.
    """
    surface_contour(ax, surface, n=n)
    (x0, x1), (y0, y1) = surface.bounds
    for i, (label, path) in enumerate(paths.items()):
        points = np.asarray(path.points)
        inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
        stop = len(points) if inside.all() else int(np.argmin(inside)) + 1
        shown = points[:stop]
        if getattr(path, "diverged", False):
            label = f"{label} (diverged)"
        ax.plot(shown[:, 0], shown[:, 1], "-o", color=COLORS[i % len(COLORS)], ms=2, lw=1.2, label=label)
    if paths:
        ax.legend(loc="upper right")
    return ax


def decision_boundary(ax, predict_proba, X, y, *, n=80, pad=0.5):
    """Shade the class a model predicts over the plane, with the data on top.

    ``predict_proba(points)`` maps an (m, 2) array to class probabilities
    (m, C) or to the positive-class probability (m,).
    """
    x0, x1 = X[:, 0].min() - pad, X[:, 0].max() + pad
    y0, y1 = X[:, 1].min() - pad, X[:, 1].max() + pad
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    probs = np.asarray(predict_proba(grid))
    n_classes = max(int(y.max()) + 1, 2)
    cmap = ListedColormap(COLORS[:n_classes])
    if probs.ndim == 1:
        ax.contourf(xs, ys, probs.reshape(n, n), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    else:
        ax.contourf(xs, ys, probs.argmax(1).reshape(n, n), levels=np.arange(n_classes + 1) - 0.5,
                    cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, s=10, edgecolors="white",
               linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.grid(False)
    return ax


class Sheet:
    """The figure of one live redraw: the fixed parts pasted as cached pixels, what changed drawn on top.

    Text is most of the cost of drawing a figure (every tick label, axis
    label and title is laid out glyph by glyph) and building a matplotlib
    Axes is much of the rest, yet most of an explorer's figure does not change
    when a control moves. So an explorer draws those fixed parts once, as an
    ordinary figure, and keeps ``Sheet.backdrop(fig, axes)``: its pixels, and
    where each panel is. Each redraw makes a ``Sheet`` from that, which pastes
    the pixels and lays one transparent axes over the whole figure; ``xy``,
    ``plot``, ``axvline``, ``text``, ``title`` and ``legend`` draw on it in a
    panel's own coordinates (linear or log axes). The picture is the same as
    drawing everything, 3-5 times faster, with a third of the garbage for
    Python's cycle collector. Render it at its own dpi, as ``plots.to_image``
    does: the pasted pixels do not scale.
    """

    @staticmethod
    def backdrop(fig, axes):
        """``(pixels, boxes, dpi)`` of a figure of fixed parts: its RGBA pixels, each panel's box and limits.

        Each box is ``(left, bottom, width, height)`` in figure coordinates,
        ``(x0, x1, y0, y1)`` (log10 of them on a log axis) and whether x and y are log.
        """
        width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
        pixels = np.frombuffer(to_image(fig, fmt="rgba"), dtype=np.uint8).reshape(height, width, 4)
        boxes = []
        for ax in np.ravel(axes):
            logs = ax.get_xscale() == "log", ax.get_yscale() == "log"
            limits = [np.log10(v) if log else v for lim, log in zip((ax.get_xlim(), ax.get_ylim()), logs) for v in lim]
            boxes.append((ax.get_position().bounds, tuple(limits), logs))
        return pixels, tuple(boxes), fig.dpi

    def __init__(self, backdrop):
        pixels, self.boxes, dpi = backdrop
        height, width = pixels.shape[:2]
        self.fig, self.ax = figure(width=width / dpi, height=height / dpi, dpi=dpi)
        self.fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
        self.fig.figimage(pixels, zorder=-1)  # below the axes, which have no background of their own
        self.ax.set_axis_off()
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)
        self._clips = {}

    def xy(self, panel, x, y):
        """Panel ``panel``'s data coordinates (x, y) as figure coordinates (the sheet's own)."""
        (left, bottom, width, height), (x0, x1, y0, y1), (xlog, ylog) = self.boxes[panel]
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        x, y = np.log10(x) if xlog else x, np.log10(y) if ylog else y
        return left + (x - x0) / (x1 - x0) * width, bottom + (y - y0) / (y1 - y0) * height

    def clip(self, panel):
        """An invisible rectangle over the panel, for ``artist.set_clip_path``: what leaves the panel is cut off."""
        if panel not in self._clips:
            (left, bottom, width, height) = self.boxes[panel][0]
            self._clips[panel] = self.ax.fill([left, left + width, left + width, left],
                                              [bottom, bottom, bottom + height, bottom + height], visible=False)[0]
        return self._clips[panel]

    def plot(self, panel, x, y, *args, clip=False, **kwargs):
        """``ax.plot`` in the panel's data coordinates; ``clip`` cuts the lines off at the panel's edges."""
        lines = self.ax.plot(*self.xy(panel, x, y), *args, **kwargs)
        if clip:
            for line in lines:
                line.set_clip_path(self.clip(panel))
        return lines

    def axvline(self, panel, x, **kwargs):
        """A vertical line at ``x`` across the panel."""
        (_, bottom, _, height) = self.boxes[panel][0]
        return self.ax.plot(np.full(2, self.xy(panel, x, 1.0)[0]), [bottom, bottom + height], **kwargs)

    def text(self, panel, x, y, s, **kwargs):
        """``ax.text`` at (x, y) in the panel's axes fraction: (0, 0) its lower left corner, (1, 1) its upper right."""
        (left, bottom, width, height) = self.boxes[panel][0]
        return self.ax.text(left + x * width, bottom + y * height, s, **kwargs)

    def title(self, panel, s):
        """A title over the panel, where ``ax.set_title`` puts one."""
        pad = 6 / 72 / self.fig.get_size_inches()[1] / self.boxes[panel][0][3]  # matplotlib's title pad, 6 points
        return self.text(panel, 0.5, 1 + pad, s, ha="center", va="baseline", fontsize=10)

    def legend(self, panel, handles, loc="upper right", **kwargs):
        """A legend inside the panel, placed as ``ax.legend(loc=...)`` places one; a sheet holds several."""
        previous = self.ax.get_legend()
        if previous is not None:  # ax.legend replaces the axes' legend: keep the earlier one as a plain artist
            self.ax.add_artist(previous)
        return self.ax.legend(handles=handles, loc=loc, bbox_to_anchor=self.boxes[panel][0], **kwargs)


_show_figures_inline()
