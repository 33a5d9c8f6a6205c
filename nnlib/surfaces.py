"""Two-dimensional loss surfaces, so an optimizer's path can be drawn.

A surface is a function f(x, y) with a known gradient. ``descend`` runs an
nnlib optimizer on it from a start point and records the path::

    surface = QuadraticValley()
    path = make_path(surface, SGD, steps=50, lr=0.09, momentum=0.5)
    path.points    # (k, 2): the start, then the point after each step
    path.losses    # (k,):   f at each point

Surfaces take points of shape (2,) or (..., 2), so a whole contour grid is
evaluated in one call (see ``Surface.grid``).
"""

from dataclasses import dataclass

import numpy as np

from ._checks import check_number
from .core import Parameter
from .optim import Optimizer
from .schedulers import LRScheduler

__all__ = ["Surface", "QuadraticValley", "Rosenbrock", "Saddle", "Path", "descend", "make_path"]

DIVERGENCE_NORM = 1e6  # a point farther than this from the origin counts as diverged


class Surface:
    """Base class: ``f(xy)`` and ``grad(xy)`` for points of shape (2,) or (..., 2).

    Attributes for plotting and starting: ``name``, ``minimum`` (2,),
    ``start`` (2,) a start point that shows the surface's character, and
    ``bounds`` ((xmin, xmax), (ymin, ymax)). Subclasses implement
    ``_value(x, y)`` and ``_grad(x, y) -> (df/dx, df/dy)``.
    """

    name = "surface"

    def _split(self, where, xy):
        xy = np.asarray(xy)
        if not np.issubdtype(xy.dtype, np.floating):
            xy = xy.astype(np.float64)
        if xy.ndim == 0 or xy.shape[-1] != 2:
            raise ValueError(f"{type(self).__name__}.{where}: xy must have shape (2,) or (..., 2), got {xy.shape}")
        return xy[..., 0], xy[..., 1]

    def __call__(self, xy):
        """f at ``xy``: a float for one point (2,), an array (...) for points (..., 2)."""
        value = self._value(*self._split("__call__", xy))
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, xy):
        """The gradient (df/dx, df/dy), with the same shape as ``xy``."""
        x, y = self._split("grad", xy)
        dx, dy = self._grad(x, y)
        return np.stack([dx, dy], axis=-1)

    def grid(self, n=101):
        """``(X, Y, Z)`` on an n × n grid over ``bounds``, ready for ``plt.contour(X, Y, Z)``."""
        n = check_number(f"{type(self).__name__}.grid", "n", n, low=2, integer=True)
        (xmin, xmax), (ymin, ymax) = self.bounds
        X, Y = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
        return X, Y, self._value(X, Y)

    def __repr__(self):
        return f"{type(self).__name__}()"


class QuadraticValley(Surface):
    """A long narrow valley: f(x, y) = (a·x² + b·y²) / 2, minimum at (0, 0).

    The gradient is (a·x, b·y) and the curvatures are a and b. With b ≫ a the
    valley is ill-conditioned: plain gradient descent zig-zags across it
    (the steep y direction) while crawling along it (the flat x direction).

    For gradient descent p ← p − lr·∇f each coordinate is multiplied by
    (1 − lr·a) or (1 − lr·b) per step, so it converges exactly when
    lr < 2 / L, where L = max(a, b) (``max_curvature``), and diverges for
    lr > 2 / L.
    """

    name = "quadratic valley"

    def __init__(self, a=1.0, b=20.0):
        self.a = check_number("QuadraticValley", "a", a, low=0, low_open=True)
        self.b = check_number("QuadraticValley", "b", b, low=0, low_open=True)
        self.minimum = np.array([0.0, 0.0])
        self.start = np.array([-8.0, 2.0])
        self.bounds = ((-10.0, 10.0), (-4.0, 4.0))

    @property
    def max_curvature(self):
        """L = max(a, b), the largest Hessian eigenvalue; gradient descent needs lr < 2/L."""
        return max(self.a, self.b)

    @property
    def condition_number(self):
        """max(a, b) / min(a, b): how stretched the valley is."""
        return max(self.a, self.b) / min(self.a, self.b)

    def _value(self, x, y):
        return (self.a * x * x + self.b * y * y) / 2

    def _grad(self, x, y):
        return self.a * x, self.b * y

    def __repr__(self):
        return f"QuadraticValley(a={self.a!r}, b={self.b!r})"


class Rosenbrock(Surface):
    """Rosenbrock's banana: f(x, y) = (a − x)² + b·(y − x²)², minimum at (a, a²).

    The gradient is::

        df/dx = −2·(a − x) − 4·b·x·(y − x²)
        df/dy = 2·b·(y − x²)

    The minimum lies at the bottom of a curved, flat-floored valley: easy to
    reach, slow to follow. The classic start is (−1.5, 2) here, on the far
    side of the banana.
    """

    name = "Rosenbrock"

    def __init__(self, a=1.0, b=100.0):
        self.a = check_number("Rosenbrock", "a", a, low=-1e150, high=1e150)  # a² must fit in a float
        self.b = check_number("Rosenbrock", "b", b, low=0, low_open=True)
        self.minimum = np.array([self.a, self.a ** 2])
        self.start = np.array([-1.5, 2.0])
        self.bounds = ((min(-2.0, self.a - 1), max(2.0, self.a + 1)), (-1.0, max(3.0, self.a ** 2 + 1)))

    def _value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _grad(self, x, y):
        r = y - x * x
        return -2 * (self.a - x) - 4 * self.b * x * r, 2 * self.b * r

    def __repr__(self):
        return f"Rosenbrock(a={self.a!r}, b={self.b!r})"


class Saddle(Surface):
    """A saddle point at the origin: f(x, y) = x² − y² + quartic·y⁴.

    Near (0, 0) this is the classic saddle x² − y²: downhill along x towards
    the origin, and the origin is a maximum along y. The quartic term bends
    the surface back up for large |y|, so f is bounded below, with two minima
    at (0, ±1/√(2·quartic)) where f = −1/(4·quartic). With the default
    quartic = 1/4 they are (0, ±√2), f = −1. ``minimum`` is the upper one.

    The default start (−1.5, 0.001) lies just off the ridge line y = 0:
    gradient descent first runs towards the saddle (x shrinks), lingers there
    while y is tiny (the loss curve goes flat), then y grows by a factor
    (1 + 2·lr) per step and the path escapes to the minimum. Started exactly
    on y = 0, gradient descent stalls at the saddle.
    """

    name = "saddle"

    def __init__(self, quartic=0.25):
        self.quartic = check_number("Saddle", "quartic", quartic, low=0, low_open=True)
        y_min = 1 / np.sqrt(2 * self.quartic)
        self.minima = (np.array([0.0, y_min]), np.array([0.0, -y_min]))
        self.minimum = self.minima[0]
        self.start = np.array([-1.5, 1e-3])
        extent = max(2.0, 1.5 * y_min)
        self.bounds = ((-2.0, 2.0), (-extent, extent))

    def _value(self, x, y):
        y2 = y * y
        return x * x - y2 + self.quartic * y2 * y2

    def _grad(self, x, y):
        return 2 * x, -2 * y + 4 * self.quartic * y * y * y

    def __repr__(self):
        return f"Saddle(quartic={self.quartic!r})"


@dataclass(repr=False)
class Path:
    """What ``descend`` recorded.

    ``points`` (k, 2): the start point, then the point after each step.
    ``losses`` (k,): f at each of those points.
    ``diverged``: whether the run was stopped because it blew up.
    ``diverged_at``: the step (1, 2, …) whose point was non-finite or farther
    than 1e6 from the origin, or None. That point is not recorded, so the
    arrays stay finite and plot cleanly; k = diverged_at then.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool = False
    diverged_at: int | None = None

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        end = f"diverged at step {self.diverged_at}" if self.diverged else f"final loss {self.losses[-1]:.4g}"
        return f"Path({len(self.points)} points, {end})"


def descend(surface, optimizer, steps, *, scheduler=None):
    """Run ``optimizer`` for ``steps`` steps on ``surface``; return the ``Path``.

    ``optimizer`` must have been built on one Parameter of shape (2,) that
    holds the start point. Each step sets p.grad = ∇f(p), calls
    ``optimizer.step()`` (then ``scheduler.step()``, if given) and records
    the new point and its loss. A run whose point becomes non-finite or
    leaves the ball of radius 1e6 stops there and is marked diverged; no
    overflow warning escapes.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"descend: surface must be a Surface, got {type(surface).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"descend: optimizer must be an nnlib Optimizer, got {type(optimizer).__name__}")
    if len(optimizer.params) != 1 or optimizer.params[0].shape != (2,):
        shapes = [p.shape for p in optimizer.params]
        raise ValueError(f"descend: optimizer must hold exactly one Parameter of shape (2,), got shapes {shapes}")
    steps = check_number("descend", "steps", steps, low=0, integer=True)
    if scheduler is not None:
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"descend: scheduler must be an LRScheduler or None, got {type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise ValueError("descend: scheduler must wrap the same optimizer that descend is given")

    p = optimizer.params[0]
    points = np.empty((steps + 1, 2), dtype=p.data.dtype)
    losses = np.empty(steps + 1, dtype=p.data.dtype)
    points[0] = p.data
    losses[0] = surface(p.data)
    with np.errstate(all="ignore"):  # overflow is detected below and reported as divergence
        for k in range(1, steps + 1):
            p.grad[...] = surface.grad(p.data)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss = surface(p.data)
            if not (np.isfinite(loss) and np.isfinite(p.data).all() and np.hypot(*p.data) <= DIVERGENCE_NORM):
                return Path(points[:k].copy(), losses[:k].copy(), True, k)
            points[k] = p.data
            losses[k] = loss
    return Path(points, losses)


def make_path(surface, optimizer_cls, steps, start=None, **opt_kwargs):
    """Build a fresh Parameter at ``start`` (default ``surface.start``) and an optimizer on it; run ``descend``.

    ``make_path(Rosenbrock(), Adam, 500, lr=0.05)`` is short for::

        p = Parameter(np.array(surface.start))
        descend(surface, Adam([p], lr=0.05), 500)
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"make_path: surface must be a Surface such as Rosenbrock(), got {type(surface).__name__}")
    if not (isinstance(optimizer_cls, type) and issubclass(optimizer_cls, Optimizer)):
        got = optimizer_cls.__name__ if isinstance(optimizer_cls, type) else f"a {type(optimizer_cls).__name__} object"
        raise TypeError(f"make_path: optimizer_cls must be an Optimizer class such as Adam (make_path builds it), "
                        f"got {got}; to pass a built optimizer, use descend(surface, optimizer, steps)")
    if start is None:
        start = surface.start
    p = Parameter(np.array(start))  # a copy; float32 stays float32, ints become float64
    if p.shape != (2,):
        raise ValueError(f"make_path: start must have shape (2,), got {p.shape}")
    return descend(surface, optimizer_cls([p], **opt_kwargs), steps)
