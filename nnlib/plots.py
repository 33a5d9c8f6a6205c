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
    "figure", "to_image", "loss_curves", "mark_diverged",
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


_show_figures_inline()
