"""Chapter 5 explorer: momentum and Nesterov momentum on an ill-conditioned valley.

``momentum`` (registered as ``"ch5.momentum"``) draws, for a learning rate
``lr``, a momentum ``beta`` and Nesterov on/off:

* plain gradient descent on the valley at ``lr`` and at the "matched" larger
  rate ``lr / (1 - beta)``;
* momentum (or Nesterov momentum) at ``(lr, beta)`` on the same valley;
* the three loss curves;
* a precomputed map over (lr, beta) of how many steps the method needs to cut
  the loss a millionfold, with the current setting marked and the regions
  where it diverges shaded as such.

``steps_to_tolerance`` is the vectorised simulation behind the map; it runs
PyTorch's momentum rule (the one ``nnlib.optim.SGD`` implements) on a
quadratic for a whole grid of settings at once. ``valley_paths`` records the
explorer's three paths the same way, in one run.

A live redraw has about 100 ms. Everything that does not depend on (lr, β)
(the axes, ticks and labels, the valley's level sets, both speed maps) is
drawn once, on the first call, and cached as pixels; a redraw pastes them and
draws only the paths, the curves, the legends and the marker (see ``Sheet``,
which chapter 6's explorers use too).
"""

import functools

import numpy as np

from .. import plots
from ..plots import Sheet
from ..surfaces import Path, QuadraticValley
from ..widgets import Slider, Toggle, explorer, frame_dpi

__all__ = ["VALLEY", "STEPS", "LR_VALUES", "BETA_VALUES", "steps_to_tolerance", "convergence_map", "valley_paths",
           "draw_valley", "momentum"]

#: The valley of this chapter: f(x, y) = (0.2 x² + 20 y²) / 2, condition number 100.
VALLEY = QuadraticValley(a=0.2, b=20.0)

#: Steps each path in the explorer runs.
STEPS = 150

#: The explorer's learning rates and momenta.
LR_VALUES = [0.005, 0.01, 0.02, 0.06, 0.08, 0.15]
BETA_VALUES = [0.0, 0.5, 0.8, 0.9, 0.99]

_DIVERGENCE_NORM = 1e6  # as in nnlib.surfaces.descend
_MAP_MAX_STEPS = 1500
_MAP_LRS = np.linspace(0.001, 0.2, 80)
_MAP_BETAS = np.linspace(0.0, 0.99, 67)


def steps_to_tolerance(lr, beta, *, nesterov=False, curvatures=(VALLEY.a, VALLEY.b), start=tuple(VALLEY.start),
                       reduction=1e-6, max_steps=_MAP_MAX_STEPS):
    """Steps momentum needs to bring the loss of a quadratic to ``reduction`` times its start value.

    ``lr`` and ``beta`` are numbers or arrays that broadcast together; every
    pair is one run of PyTorch's rule (``nnlib.optim.SGD``) on
    f(x) = Σ_i curvatures[i]·x_i² / 2 from ``start``::

        b ← beta·b + g,   p ← p − lr·(g + beta·b if nesterov else b)

    (``beta = 0`` is plain gradient descent). Returns ``(steps, diverged)``,
    arrays of the broadcast shape: ``steps`` is the first step whose loss is
    ≤ reduction·f(start), ``inf`` if that never happened within
    ``max_steps``; ``diverged`` is True where the point left the ball of
    radius 1e6 (as ``nnlib.surfaces.descend`` counts divergence). Runs are
    dropped as soon as they finish, so nothing overflows.
    """
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64))
    shape = lr.shape
    lam = np.asarray(curvatures, dtype=np.float64)
    x0 = np.asarray(start, dtype=np.float64)
    if lam.ndim != 1 or lam.shape != x0.shape:
        raise ValueError(f"steps_to_tolerance: curvatures and start must be 1-D of the same length, "
                         f"got shapes {lam.shape} and {x0.shape}")
    n = lr.size
    steps = np.full(n, np.inf)
    diverged = np.zeros(n, dtype=bool)
    target = reduction * 0.5 * float(np.sum(lam * x0 * x0))
    idx = np.arange(n)
    lr_a, beta_a = lr.reshape(n, 1).copy(), beta.reshape(n, 1).copy()
    x = np.tile(x0, (n, 1))
    b = np.zeros_like(x)
    for t in range(1, max_steps + 1):
        g = lam * x
        b = beta_a * b + g
        x = x - lr_a * (g + beta_a * b if nesterov else b)
        f = 0.5 * np.sum(lam * x * x, axis=1)
        done = f <= target
        blown = np.sqrt(np.sum(x * x, axis=1)) > _DIVERGENCE_NORM
        finished = done | blown
        if finished.any():
            steps[idx[done]] = t
            diverged[idx[blown & ~done]] = True
            keep = ~finished
            idx, x, b, lr_a, beta_a = idx[keep], x[keep], b[keep], lr_a[keep], beta_a[keep]
            if idx.size == 0:
                break
    return steps.reshape(shape), diverged.reshape(shape)


@functools.lru_cache(maxsize=2)
def convergence_map(nesterov=False):
    """``(lrs, betas, steps, diverged)`` on the explorer's (lr, beta) grid for the chapter's valley (cached)."""
    L, B = np.meshgrid(_MAP_LRS, _MAP_BETAS)
    steps, diverged = steps_to_tolerance(L, B, nesterov=nesterov)
    return _MAP_LRS, _MAP_BETAS, steps, diverged


def valley_paths(lr, beta, nesterov=False, steps=STEPS):
    """Momentum paths on ``VALLEY`` for several settings at once: a list of ``nnlib.surfaces.Path``.

    ``lr`` and ``beta`` are sequences of the same length (``beta = 0`` is plain
    gradient descent). Each path is exactly what ``make_path(VALLEY, SGD,
    steps, lr=lr, momentum=beta, nesterov=nesterov)`` records (PyTorch's
    rule, the same floating-point operations), but all settings run together
    as one numpy array, so three paths cost about as much as one. A run is cut
    where ``descend`` would cut it (a non-finite point or one farther than 1e6
    from the origin) and marked diverged there.
    """
    lr = np.asarray(lr, dtype=np.float64).reshape(-1, 1)
    beta = np.asarray(beta, dtype=np.float64).reshape(-1, 1)
    if lr.shape != beta.shape:
        raise ValueError(f"valley_paths: lr and beta must have the same length, got {lr.size} and {beta.size}")
    lam = np.array([VALLEY.a, VALLEY.b])
    nest = np.asarray(nesterov, dtype=bool).reshape(-1, 1) & (beta > 0)
    points = np.empty((lr.size, steps + 1, 2))
    points[:, 0] = VALLEY.start
    x = points[:, 0].copy()
    b = np.zeros_like(x)
    with np.errstate(all="ignore"):  # runs that blow up are cut below, as descend cuts them
        for t in range(1, steps + 1):
            g = lam * x
            b = beta * b + g  # b ← g on the first step, β·b + g after; β = 0 leaves b = g: plain GD
            x = x - lr * np.where(nest, g + beta * b, b)
            points[:, t] = x
        losses = 0.5 * np.sum(lam * points * points, axis=2)
        bad = ~(np.isfinite(losses) & np.isfinite(points).all(axis=2)
                & (np.hypot(points[..., 0], points[..., 1]) <= _DIVERGENCE_NORM))
    paths = []
    for k in range(lr.size):
        if bad[k].any():
            stop = int(np.argmax(bad[k]))
            paths.append(Path(points[k, :stop].copy(), losses[k, :stop].copy(), True, stop))
        else:
            paths.append(Path(points[k], losses[k]))
    return paths


@functools.lru_cache(maxsize=256)
def _runs(lr, beta, nesterov):
    """The explorer's three paths: GD at lr, GD at lr/(1−β), and momentum (or Nesterov) at (lr, β)."""
    return valley_paths([lr, lr / (1 - beta), lr], [0.0, 0.0, beta], [False, False, nesterov])


def draw_valley(ax, *, labels=True):
    """The valley's level sets, which are ellipses (drawn directly: no contour computation, so it is fast).

    ``labels=False`` leaves out the y label and the y tick labels (for a panel beside one that has them).
    """
    (x0, x1), (y0, y1) = VALLEY.bounds
    ax.set_facecolor("#f2f2f2")
    t = np.linspace(0, 2 * np.pi, 90)
    levels = np.array([0.05, 0.3, 1, 3, 10, 30, 80, 160])[:, None]
    # all eight ellipses as one line, separated by NaN breaks: one artist instead of eight
    ex = np.hstack([np.sqrt(2 * levels / VALLEY.a) * np.cos(t), np.full_like(levels, np.nan)]).ravel()
    ey = np.hstack([np.sqrt(2 * levels / VALLEY.b) * np.sin(t), np.full_like(levels, np.nan)]).ravel()
    ax.plot(ex, ey, color="0.45", lw=0.5)
    ax.plot(*VALLEY.minimum, marker="*", color="k", ms=9, ls="none")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([-8, -4, 0, 4, 8])
    ax.set_yticks([-3, 0, 3], None if labels else [])
    ax.grid(False)
    ax.set_xlabel("x (flat direction, curvature 0.2)")
    if labels:
        ax.set_ylabel("y (curved, 20)")


_MAP_EXTENT = (_MAP_LRS[0] - (_MAP_LRS[1] - _MAP_LRS[0]) / 2, _MAP_LRS[-1] + (_MAP_LRS[1] - _MAP_LRS[0]) / 2,
               _MAP_BETAS[0] - (_MAP_BETAS[1] - _MAP_BETAS[0]) / 2,
               _MAP_BETAS[-1] + (_MAP_BETAS[1] - _MAP_BETAS[0]) / 2)


def _draw_map(ax, nesterov):
    """The speed map for momentum or Nesterov, with its stability limits and colour key (no current setting)."""
    _, _, steps, diverged = convergence_map(bool(nesterov))
    finite = np.isfinite(steps)
    shown = np.where(finite, np.log10(np.where(finite, steps, 1.0)), np.nan)
    ax.imshow(np.ma.masked_invalid(shown), extent=_MAP_EXTENT, origin="lower", aspect="auto",
              cmap="viridis_r", vmin=np.log10(20), vmax=np.log10(_MAP_MAX_STEPS), interpolation="nearest")
    overlay = np.zeros(steps.shape + (4,))
    overlay[~finite & ~diverged] = (0.85, 0.85, 0.85, 1.0)  # not within the budget: light grey
    overlay[diverged] = (0.835, 0.369, 0.0, 1.0)  # diverged: vermillion
    ax.imshow(overlay, extent=_MAP_EXTENT, origin="lower", aspect="auto", interpolation="nearest")
    # colour key drawn inside the diverged corner (a colorbar axes would cost a third of the redraw time)
    key = np.linspace(np.log10(20), np.log10(_MAP_MAX_STEPS), 64)[None, :]
    ax.imshow(key, extent=(0.145, 0.193, 0.03, 0.08), aspect="auto", cmap="viridis_r", interpolation="nearest",
              vmin=key.min(), vmax=key.max())
    ax.text(0.169, 0.09, f"steps\n20 … {_MAP_MAX_STEPS}+", ha="center", va="bottom", fontsize=8, color="white",
            linespacing=1.0)
    L = VALLEY.max_curvature
    bb = np.linspace(0, 0.99, 50)
    ax.plot(2 * (1 - bb) / L, bb, ":", color="k", lw=1.2, label="GD at lr/(1−β) unstable →")
    if nesterov:
        ax.plot(2 * (1 + bb) / ((1 + 2 * bb) * L), bb, "--", color="white", lw=1.2, label="Nesterov limit")
    else:
        ax.plot(2 * (1 + bb) / L, bb, "--", color="white", lw=1.2, label="momentum limit")
    ax.text(0.168, 0.3, "diverges", ha="center", va="bottom", fontsize=8, color="white",
            bbox={"boxstyle": "round", "fc": "#D55E00", "ec": "none"})
    ax.set_xticks([0, 0.05, 0.1, 0.15, 0.2])
    ax.set_yticks([0, 0.5, 0.9])
    ax.grid(False)
    ax.set_xlabel("learning rate lr")
    ax.set_ylabel("momentum β")
    ax.legend(loc="lower left", fontsize=8, frameon=True, framealpha=0.85)
    ax.set_title(f"{'Nesterov' if nesterov else 'momentum'}: steps to cut the loss 10⁶×", fontsize=9)


#: The loss panel's range: steps, and the loss (on a log axis).
_LOSS_LIMITS = ((-4, STEPS + 4), (1e-12, 1e7))


_FIG_WIDTH = 6.72  # inches: 672 CSS px in the book (100 px per inch), so 8 pt text is 11 CSS px


def _layout(dpi):
    """The explorer's empty 2 × 2 figure, with every panel's axis limits set."""
    fig, axes = plots.figure(ncols=2, nrows=2, width=_FIG_WIDTH, height=2.9, dpi=dpi)
    fig.subplots_adjust(left=0.105, right=0.975, bottom=0.08, top=0.95, wspace=0.2, hspace=0.4)
    for ax, (xlim, ylim) in zip(axes.flat, [VALLEY.bounds, VALLEY.bounds, _LOSS_LIMITS,
                                            (_MAP_EXTENT[:2], _MAP_EXTENT[2:])]):
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    return fig, axes


@functools.lru_cache(maxsize=4)
def _backdrop(nesterov, dpi):
    """The explorer's fixed parts for momentum or for Nesterov, as a ``Sheet.backdrop`` (cached).

    That is the four panels' axes, ticks, labels and fixed titles, the
    valley's level sets, and the speed map.
    """
    fig, axes = _layout(dpi)
    draw_valley(axes[0, 0])
    axes[0, 0].set_title("plain gradient descent", fontsize=9)
    draw_valley(axes[0, 1], labels=False)
    ax = axes[1, 0]
    ax.set_yscale("log")
    ax.set_ylim(*_LOSS_LIMITS[1])
    ax.set_yticks([1e-12, 1e-8, 1e-4, 1, 1e4], ["1e-12", "1e-8", "1e-4", "1", "1e4"])  # no mathtext: faster
    ax.minorticks_off()
    ax.set_xticks([0, 50, 100, 150])
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"loss over {STEPS} steps (colours as above)", fontsize=9)
    _draw_map(axes[1, 1], nesterov)
    return Sheet.backdrop(fig, axes)


def _draw_path(sheet, panel, path, label, color):
    """A path up to its last point inside the valley plot; a diverged one ends in a cross and says so."""
    (x0, x1), (y0, y1) = VALLEY.bounds
    points = path.points
    inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    stop = len(points) if inside.all() else max(int(np.argmin(inside)), 1)
    shown = points[:stop]
    if path.diverged:
        label = f"{label}: diverged at step {path.diverged_at}"
    line = sheet.plot(panel, shown[:, 0], shown[:, 1], "-o", color=color, ms=1.8, lw=1.0, label=label)
    if path.diverged or stop < len(points):
        sheet.plot(panel, shown[-1, 0], shown[-1, 1], "x", color=color, ms=9, mew=2.5)
    return line


@explorer("ch5.momentum",
          alt="Gradient descent and momentum on a narrow valley, their loss curves, and a map of convergence speed",
          lr=Slider(LR_VALUES, default=0.01, label="learning rate"),
          beta=Slider(BETA_VALUES, default=0.9, label="momentum β"),
          nesterov=Toggle(default=False, label="Nesterov"))
def momentum(lr=0.01, beta=0.9, nesterov=False):
    """Momentum vs plain gradient descent (at lr and at lr/(1−β)) on the valley, loss curves and a speed map.

    The figure is a ``Sheet``'s: render it at its own dpi (``plots.to_image`` does).
    """
    dpi = frame_dpi(_FIG_WIDTH, 80)
    backdrops = _backdrop(False, dpi), _backdrop(True, dpi)  # both on the first call, so the toggle never waits
    nesterov = bool(nesterov) and beta > 0
    sheet = Sheet(backdrops[nesterov])
    big = lr / (1 - beta)
    name = "Nesterov" if nesterov else "momentum"
    labels = [f"GD, lr = {lr:g}", f"GD, lr/(1−β) = {big:.3g}", f"{name}, lr = {lr:g}, β = {beta:g}"]
    runs = _runs(float(lr), float(beta), nesterov)
    legend = {"fontsize": 8, "frameon": True, "framealpha": 0.85}

    handles = _draw_path(sheet, 0, runs[0], labels[0], plots.COLORS[0])  # panel 0: plain gradient descent
    if beta > 0:
        handles += _draw_path(sheet, 0, runs[1], labels[1], plots.COLORS[1])
    sheet.legend(0, handles, **legend)
    sheet.legend(1, _draw_path(sheet, 1, runs[2], labels[2], plots.COLORS[2]), **legend)  # panel 1: momentum
    sheet.title(1, "β = 0: this is plain gradient descent" if beta == 0 else name)

    low, high = _LOSS_LIMITS[1]  # panel 2: loss curves
    for i, path in enumerate(runs):
        shown = np.maximum(path.losses, low)
        sheet.plot(2, np.arange(len(shown)), shown, color=plots.COLORS[i], lw=1.6, clip=True)
        if path.diverged:  # the curve leaves the plot: a cross on the top edge, where it stopped
            sheet.plot(2, len(shown) - 1, min(shown[-1], high / 3), "x", color=plots.COLORS[i], ms=8, mew=2)

    sheet.plot(3, lr, beta, marker="*", ms=14, color="white", mec="k", mew=1.0, ls="none")  # panel 3: the map
    return sheet.fig
