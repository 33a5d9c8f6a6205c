"""Chapter 4 explorer: an optimizer, a learning rate and a schedule on a 2-D loss surface.

``learning_rate_explorer(optimizer, lr, schedule, surface)`` runs the chosen
optimizer from the surface's start point and draws three panels: the path on
the contours, the loss after each step, and the learning rate the schedule
gave each step. A run that blows up is stopped and marked as diverged.

``make_optimizer`` and ``make_scheduler`` build the optimizers and schedules
the explorer offers, so the lesson and the tests use the same definitions.
"""

import functools

import numpy as np

from .. import plots
from ..core import Parameter
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..schedulers import CosineAnnealingLR, MultiStepLR
from ..surfaces import QuadraticValley, Rosenbrock, descend
from ..widgets import Choice, Slider, explorer, frame_dpi

__all__ = ["OPTIMIZERS", "SCHEDULES", "SURFACES", "STEPS", "make_optimizer", "make_scheduler",
           "run_on_surface", "learning_rate_explorer"]

#: The optimizers offered, by the name the explorer shows: (class, extra arguments).
OPTIMIZERS = {
    "SGD": (SGD, {}),
    "SGD + momentum 0.9": (SGD, {"momentum": 0.9}),
    "Adagrad": (Adagrad, {}),
    "RMSprop": (RMSprop, {}),
    "Adam": (Adam, {}),
}

#: The schedules offered. "step" multiplies the rate by 0.1 at half and at three quarters of the run.
SCHEDULES = ("constant", "step", "cosine")

#: The surfaces offered, each with the valley's defaults (a=1, b=20, so 2/L = 0.1).
SURFACES = {"valley": QuadraticValley(), "Rosenbrock": Rosenbrock()}

#: Steps per run on each surface (Rosenbrock's curved valley needs more).
STEPS = {"valley": 100, "Rosenbrock": 500}

_DISPLAY_FLOOR = 1e-16  # losses below this are drawn at this value on the log axis


def make_optimizer(name, params, lr):
    """A fresh optimizer called ``name`` (a key of ``OPTIMIZERS``) on ``params`` with rate ``lr``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"make_optimizer: name must be one of {list(OPTIMIZERS)}, got {name!r}")
    cls, kwargs = OPTIMIZERS[name]
    return cls(params, lr=lr, **kwargs)


def make_scheduler(schedule, optimizer, steps):
    """The scheduler for ``schedule`` (one of ``SCHEDULES``) over a run of ``steps`` steps, or None.

    * "constant": None (the rate stays at its starting value);
    * "step": ``MultiStepLR`` with milestones at steps/2 and 3·steps/4, gamma 0.1;
    * "cosine": ``CosineAnnealingLR`` with T_max = steps (the rate reaches 0 at the end).
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"make_scheduler: schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return None
    if schedule == "step":
        return MultiStepLR(optimizer, milestones=[steps // 2, (3 * steps) // 4], gamma=0.1)
    return CosineAnnealingLR(optimizer, T_max=steps)


@functools.lru_cache(maxsize=256)
def run_on_surface(optimizer, lr, schedule="constant", surface="valley"):
    """Run one explorer setting; return ``(path, lrs)``.

    ``path`` is the ``nnlib.surfaces.Path`` from the surface's start point over
    ``STEPS[surface]`` steps; ``lrs[k]`` is the rate used for step k+1.
    Results are cached (the arguments are all hashable), so redrawing a
    setting already seen costs only the plotting.
    """
    if surface not in SURFACES:
        raise ValueError(f"run_on_surface: surface must be one of {list(SURFACES)}, got {surface!r}")
    surf, steps = SURFACES[surface], STEPS[surface]
    p = Parameter(np.array(surf.start, dtype=np.float64))
    opt = make_optimizer(optimizer, [p], lr)
    sched = make_scheduler(schedule, opt, steps)
    lrs = np.array([lr if sched is None else sched.lr_at(k) for k in range(steps)])
    path = descend(surf, opt, steps, scheduler=sched)
    return path, lrs


@explorer(
    "ch4.learning_rate",
    alt="Path of an optimizer on a loss surface, its loss per step and its learning rate per step",
    optimizer=Choice(list(OPTIMIZERS), default="SGD", label="optimizer"),
    # every optimizer x rate x surface (70 frames), each schedule with all of them on the valley (70 more);
    # on Rosenbrock the schedules are shown disabled, with a note. 0.002 is where SGD works on Rosenbrock.
    static=[{"schedule": ["constant"]}, {"surface": ["valley"]}],
    lr=Slider([0.001, 0.002, 0.01, 0.09, 0.11, 0.3, 1.0], default=0.11, label="learning rate"),
    schedule=Choice(list(SCHEDULES), default="constant", label="schedule"),
    surface=Choice(list(SURFACES), default="valley", label="surface"),
)
def learning_rate_explorer(optimizer="SGD", lr=0.11, schedule="constant", surface="valley"):
    """Path, loss curve and learning rate of one optimizer run on a 2-D surface (a figure).

    The default is plain SGD at lr = 0.11, just above the valley's limit 2/L = 0.1, where
    plain gradient descent diverges and the other optimizers and the schedules do not.
    """
    path, lrs = run_on_surface(optimizer, lr, schedule, surface)
    surf = SURFACES[surface]
    steps = len(lrs)
    label = f"{optimizer}, lr={lr:g}"
    # 6.72 inches: 672 CSS px in the book (100 px per inch), where 8 pt text is 11 CSS px.
    # The path on the left, over both rows; the loss and the learning rate on the right.
    fig, ax_path = plots.figure(width=6.72, height=4.4, dpi=frame_dpi(6.72, 100))
    ax_path.set_position([0.08, 0.1, 0.37, 0.87])
    ax_loss = fig.add_axes([0.6, 0.62, 0.37, 0.35])
    ax_lr = fig.add_axes([0.6, 0.1, 0.37, 0.35])

    plots.paths_on_surface(ax_path, surf, {label: path}, n=100)
    ax_path.get_legend().remove()  # the loss panel's legend names the run
    (x0, x1), (y0, y1) = surf.bounds
    _ticks(ax_path, "x", [x0, (x0 + x1) / 2, x1])
    _ticks(ax_path, "y", [y0, (y0 + y1) / 2, y1])
    ax_path.set_xlabel("x")
    ax_path.set_ylabel("y")
    if path.diverged:
        plots.mark_diverged(ax_path, f"diverged at step {path.diverged_at}")

    # log10 of the loss on a linear axis: the same picture as a log axis, drawn much faster
    log_loss = np.log10(np.maximum(path.losses, _DISPLAY_FLOOR))
    diverged = {label: path.diverged_at} if path.diverged else None
    plots.loss_curves(ax_loss, {label: log_loss}, xlabel="step", ylabel="loss f(x, y)", log=False,
                      diverged=diverged)
    ax_loss.set_xlim(0, steps)
    ax_loss.set_ylim(-17, max(3.0, float(log_loss.max()) + 1))
    _ticks(ax_loss, "x", [0, steps // 2, steps])
    _decades(ax_loss, [-16, -8, 0, 8])
    ax_loss.legend(loc="lower left")

    ax_lr.plot(np.arange(1, steps + 1), np.log10(lrs), color=plots.COLORS[0], lw=1.6)
    if surface == "valley":  # plain gradient descent diverges above 2/L
        limit = np.log10(2 / surf.max_curvature)
        ax_lr.axhline(limit, color=plots.COLORS[3], ls="--", lw=1)
        ax_lr.text(steps, limit + 0.15, "2/L: limit of plain GD", ha="right", va="bottom", color=plots.COLORS[3])
    ax_lr.set_xlim(0, steps)
    ax_lr.set_ylim(-5.2, 1)
    _ticks(ax_lr, "x", [0, steps // 2, steps])
    _decades(ax_lr, [-4, -2, 0])
    ax_lr.set_xlabel("step")
    ax_lr.set_ylabel(f"learning rate ({schedule})")
    return fig


def _ticks(ax, axis, values):
    """Fixed ticks (much cheaper to draw than the automatic ones)."""
    labels = [f"{v:g}" for v in values]
    if axis == "x":
        ax.set_xticks(values, labels)
    else:
        ax.set_yticks(values, labels)


def _decades(ax, exponents):
    """Label a y axis that holds log10 values with 1e-4, 1, 1e4, ..."""
    ax.set_yticks(exponents, ["1" if e == 0 else f"1e{e}" for e in exponents])
