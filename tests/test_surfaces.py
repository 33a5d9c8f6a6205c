"""Tests for nnlib.surfaces: values, gradients, the 2/L threshold, and descend's divergence handling."""

import math

import numpy as np
import pytest

from nnlib.core import Parameter
from nnlib.optim import SGD, Adagrad, Adam, RMSprop
from nnlib.schedulers import ExponentialLR, StepLR
from nnlib.surfaces import Path, QuadraticValley, Rosenbrock, Saddle, Surface, descend, make_path

SURFACES = [QuadraticValley(), QuadraticValley(a=3.0, b=0.5), Rosenbrock(), Rosenbrock(a=-0.5, b=10.0),
            Saddle(), Saddle(quartic=1.0)]
ids = [repr(s) for s in SURFACES]


def test_values_by_hand():
    assert QuadraticValley()(np.array([2.0, 1.0])) == (1 * 4 + 20 * 1) / 2
    assert Rosenbrock()(np.array([0.0, 0.0])) == 1.0
    assert Rosenbrock()(np.array([-1.5, 2.0])) == 2.5 ** 2 + 100 * 0.25 ** 2
    assert Saddle()(np.array([1.0, 2.0])) == 1 - 4 + 16 / 4
    np.testing.assert_allclose(Saddle().grad(np.array([1.0, 2.0])), [2.0, -4 + 8])


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_minimum_is_a_stationary_point_and_lowest_on_the_grid(surface):
    np.testing.assert_allclose(surface.grad(surface.minimum), [0, 0], atol=1e-12)
    X, Y, Z = surface.grid(81)
    assert Z.shape == X.shape == Y.shape == (81, 81)
    assert surface(surface.minimum) <= Z.min() + 1e-12
    (xmin, xmax), (ymin, ymax) = surface.bounds
    assert xmin < surface.minimum[0] < xmax and ymin < surface.minimum[1] < ymax
    assert xmin < surface.start[0] < xmax and ymin < surface.start[1] < ymax
    assert isinstance(surface.name, str) and surface.name


def test_saddle_minima_and_saddle_point():
    s = Saddle()
    np.testing.assert_allclose(s.minima[0], [0, math.sqrt(2)])
    np.testing.assert_allclose(s.minima[1], [0, -math.sqrt(2)])
    assert s(s.minima[0]) == pytest.approx(-1) and s(s.minima[1]) == pytest.approx(-1)
    assert s(np.array([0.0, 0.0])) == 0
    np.testing.assert_array_equal(s.grad(np.array([0.0, 0.0])), [0, 0])
    assert Saddle(quartic=1.0)(Saddle(quartic=1.0).minimum) == pytest.approx(-1 / 4)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_gradient_matches_finite_differences(surface):
    rng = np.random.default_rng(0)
    (xmin, xmax), (ymin, ymax) = surface.bounds
    pts = np.column_stack([rng.uniform(xmin, xmax, 50), rng.uniform(ymin, ymax, 50)])
    h = 1e-6
    numeric = np.stack([(surface(pts + h * e) - surface(pts - h * e)) / (2 * h) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(surface.grad(pts), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_shapes_are_vectorised_and_dtypes_kept(surface):
    assert isinstance(surface(np.array([0.5, -0.5])), float)
    assert surface.grad(np.array([0.5, -0.5])).shape == (2,)
    assert isinstance(surface([1, 2]), float)  # lists and ints are accepted
    grid = np.zeros((4, 5, 2))
    assert surface(grid).shape == (4, 5)
    assert surface.grad(grid).shape == (4, 5, 2)
    pts32 = np.ones((3, 2), dtype=np.float32)
    assert surface(pts32).dtype == np.float32
    assert surface.grad(pts32).dtype == np.float32
    # one point and a batch agree
    pts = np.array([[0.3, -1.2], [1.1, 0.7]])
    np.testing.assert_allclose(surface(pts), [surface(pts[0]), surface(pts[1])])


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((4, 3)), np.float64(1.0)])
def test_bad_point_shape_raises(bad):
    with pytest.raises(ValueError, match=r"QuadraticValley.__call__: xy must have shape \(2,\) or \(..., 2\)"):
        QuadraticValley()(bad)
    with pytest.raises(ValueError, match=r"QuadraticValley.grad: xy must have shape"):
        QuadraticValley().grad(bad)


def test_invalid_surface_arguments_raise():
    with pytest.raises(ValueError, match=r"QuadraticValley: b must be in \(0, inf\], got 0"):
        QuadraticValley(b=0)
    with pytest.raises(ValueError, match=r"Rosenbrock: b must be in \(0, inf\], got -1"):
        Rosenbrock(b=-1)
    with pytest.raises(ValueError, match=r"Saddle: quartic must be in \(0, inf\], got 0"):
        Saddle(quartic=0)
    with pytest.raises(ValueError, match=r"QuadraticValley.grid: n must be in \[2, inf\], got 1"):
        QuadraticValley().grid(1)


# --------------------------------------------------------------------------
# The 2/L threshold and divergence
# --------------------------------------------------------------------------
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("a, b", [(1.0, 20.0), (4.0, 1.0), (2.0, 2.0)])
@pytest.mark.parametrize("factor", [0.5, 0.95])
def test_gradient_descent_converges_below_2_over_L(a, b, factor):
    surface = QuadraticValley(a, b)
    assert surface.max_curvature == max(a, b)
    path = make_path(surface, SGD, 400, lr=factor * 2 / surface.max_curvature)
    assert not path.diverged and path.diverged_at is None
    assert len(path) == 401
    assert np.linalg.norm(path.points[-1]) < 1e-6 * np.linalg.norm(path.points[0])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("a, b", [(1.0, 20.0), (4.0, 1.0), (2.0, 2.0)])
@pytest.mark.parametrize("factor", [1.05, 1.5, 10.0, 1e300])
def test_gradient_descent_diverges_above_2_over_L(a, b, factor):
    surface = QuadraticValley(a, b)
    path = make_path(surface, SGD, 1000, lr=factor * 2 / surface.max_curvature)
    assert path.diverged
    assert path.points.shape == (path.diverged_at, 2) and path.losses.shape == (path.diverged_at,)
    assert np.isfinite(path.points).all() and np.isfinite(path.losses).all()
    assert np.linalg.norm(path.points[-1]) <= 1e6
    # the loss grows along the way: |1 − lr·L| > 1 in the steep direction
    assert path.losses[-1] > path.losses[0] or path.diverged_at == 1


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("surface", [Rosenbrock(), Saddle(), QuadraticValley()], ids=repr)
@pytest.mark.parametrize("opt_cls, lr", [(SGD, 1e30), (SGD, 0.5), (Adam, 1e30), (RMSprop, 1e20), (Adagrad, 1e30)])
def test_descend_marks_divergence_without_warnings(dtype, surface, opt_cls, lr):
    path = make_path(surface, opt_cls, 200, start=np.array(surface.start, dtype=dtype), lr=lr)
    if lr > 1e6:
        assert path.diverged and path.diverged_at == 1 and len(path) == 1
    assert np.isfinite(path.points).all() and np.isfinite(path.losses).all()
    assert path.points.dtype == dtype


@pytest.mark.filterwarnings("error")
def test_descend_stops_on_non_finite_points():
    class Cliff(QuadraticValley):
        """A surface whose value overflows to inf before the point is far away."""

        def _value(self, x, y):
            return np.exp(1000 * x)

        def _grad(self, x, y):
            return -np.ones_like(x), np.zeros_like(y)

    path = make_path(Cliff(), SGD, 10, start=[0.0, 0.0], lr=0.5)
    assert path.diverged and path.diverged_at == 2  # f(0.5) is finite, f(1.0) = e^1000 is not
    np.testing.assert_allclose(path.points, [[0, 0], [0.5, 0]])


def test_descend_records_start_and_every_step():
    surface = QuadraticValley()
    p = Parameter(np.array([1.0, 1.0]))
    path = descend(surface, SGD([p], lr=0.01), 3)
    expected = [[1, 1]]
    for _ in range(3):
        x, y = expected[-1]
        expected.append([x * (1 - 0.01 * 1), y * (1 - 0.01 * 20)])
    np.testing.assert_allclose(path.points, expected, rtol=1e-15)
    np.testing.assert_allclose(path.losses, surface(np.array(expected)), rtol=1e-15)
    np.testing.assert_array_equal(p.data, path.points[-1])  # the parameter ends at the last point
    assert repr(path).startswith("Path(4 points, final loss")
    assert isinstance(path, Path)
    assert len(descend(surface, SGD([p], lr=0.01), 0)) == 1


def test_descend_with_scheduler_steps_it_every_step():
    p = Parameter(np.array([1.0, 1.0]))
    opt = SGD([p], lr=0.01)
    sched = ExponentialLR(opt, gamma=0.5)
    descend(QuadraticValley(), opt, 4, scheduler=sched)
    assert sched.last_epoch == 4 and opt.lr == 0.01 * 0.5 ** 4
    # x after 4 steps: Π (1 − lr_t) with lr_t = 0.01·0.5^t, t = 0..3
    assert p.data[0] == pytest.approx(np.prod([1 - 0.01 * 0.5 ** t for t in range(4)]), rel=1e-14)


def test_descend_validates_its_arguments():
    p = Parameter(np.zeros(2))
    opt = SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="descend: surface must be a Surface, got function"):
        descend(lambda xy: 0.0, opt, 10)
    with pytest.raises(TypeError, match="descend: optimizer must be an nnlib Optimizer, got str"):
        descend(Saddle(), "SGD", 10)
    with pytest.raises(ValueError, match=r"descend: optimizer must hold exactly one Parameter of shape \(2,\), "
                                         r"got shapes \[\(2,\), \(2,\)\]"):
        descend(Saddle(), SGD([p, Parameter(np.zeros(2))]), 10)
    with pytest.raises(ValueError, match=r"got shapes \[\(3,\)\]"):
        descend(Saddle(), SGD([Parameter(np.zeros(3))]), 10)
    with pytest.raises(ValueError, match=r"descend: steps must be in \[0, inf\], got -1"):
        descend(Saddle(), opt, -1)
    with pytest.raises(ValueError, match="descend: scheduler must wrap the same optimizer"):
        descend(Saddle(), opt, 10, scheduler=StepLR(SGD([Parameter(np.zeros(2))]), 1))
    with pytest.raises(TypeError, match="descend: scheduler must be an LRScheduler or None, got int"):
        descend(Saddle(), opt, 10, scheduler=3)
    with pytest.raises(ValueError, match=r"make_path: start must have shape \(2,\), got \(3,\)"):
        make_path(Saddle(), SGD, 10, start=[0, 0, 0])


def test_make_path_does_not_touch_the_surface_start():
    surface = Rosenbrock()
    before = surface.start.copy()
    path = make_path(surface, Adam, 50, lr=0.05)
    np.testing.assert_array_equal(surface.start, before)
    np.testing.assert_array_equal(path.points[0], before)
    assert path.losses[-1] < path.losses[0]


def test_saddle_gradient_descent_lingers_then_escapes():
    s = Saddle()
    path = make_path(s, SGD, 100, lr=0.1)
    np.testing.assert_allclose(path.points[-1], s.minimum, atol=1e-6)
    near_saddle = np.linalg.norm(path.points, axis=1) < 0.05
    assert near_saddle.sum() >= 5  # it spends several steps near (0, 0) ...
    assert path.losses[-1] == pytest.approx(-1)  # ... and leaves to the minimum
    # Started exactly on the ridge y = 0, gradient descent stalls at the saddle.
    stuck = make_path(s, SGD, 100, start=[-1.5, 0.0], lr=0.1)
    np.testing.assert_allclose(stuck.points[-1], [0, 0], atol=1e-6)


def test_rosenbrock_adam_gets_close():
    path = make_path(Rosenbrock(), Adam, 2000, lr=0.02)
    assert path.losses[-1] < 1e-3
    assert isinstance(Rosenbrock(), Surface)
