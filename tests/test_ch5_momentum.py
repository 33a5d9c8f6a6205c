"""Chapter 5's explorer and the vectorised momentum simulation behind its speed map."""

import warnings

import numpy as np
import pytest
from matplotlib.legend import Legend

from nnlib import plots, widgets
from nnlib.core import Parameter
from nnlib.explorers import ch5_momentum as ch5
from nnlib.optim import SGD
from nnlib.surfaces import QuadraticValley, descend, make_path


def _steps_by_descend(lr, beta, nesterov, surface, max_steps):
    """The same count, the slow way: nnlib's SGD through surfaces.descend."""
    p = Parameter(np.array(surface.start))
    kwargs = {"momentum": beta, "nesterov": nesterov} if beta > 0 else {}
    path = descend(surface, SGD([p], lr=lr, **kwargs), max_steps)
    below = np.nonzero(path.losses <= 1e-6 * path.losses[0])[0]
    return (int(below[0]) if below.size else np.inf), path.diverged


@pytest.mark.parametrize("lr, beta, nesterov", [
    (0.01, 0.9, False), (0.13, 0.67, False), (0.05, 0.0, False), (0.06, 0.9, True),
    (0.12, 0.0, False), (0.15, 0.9, True), (0.19, 0.9, False), (0.001, 0.5, False),
])
def test_steps_to_tolerance_matches_nnlib_sgd_on_the_valley(lr, beta, nesterov):
    steps, diverged = ch5.steps_to_tolerance(lr, beta, nesterov=nesterov, max_steps=1500)
    want_steps, want_diverged = _steps_by_descend(lr, beta, nesterov, ch5.VALLEY, 1500)
    assert steps == want_steps
    assert bool(diverged) == want_diverged


def test_steps_to_tolerance_broadcasts_and_takes_other_quadratics():
    steps, diverged = ch5.steps_to_tolerance(np.array([[0.1], [0.5]]), np.array([0.0, 0.5]),
                                             curvatures=(1.0, 2.0), start=(1.0, 1.0), max_steps=200)
    assert steps.shape == diverged.shape == (2, 2)
    valley = QuadraticValley(a=1.0, b=2.0)
    valley.start = np.array([1.0, 1.0])
    for i, lr in enumerate([0.1, 0.5]):
        for j, beta in enumerate([0.0, 0.5]):
            assert steps[i, j] == _steps_by_descend(lr, beta, False, valley, 200)[0]
    with pytest.raises(ValueError, match="curvatures and start"):
        ch5.steps_to_tolerance(0.1, 0.5, curvatures=(1.0, 2.0), start=(1.0,))


def test_gradient_descent_at_lr_over_one_minus_beta_diverges_where_the_theory_says():
    # GD is stable for lr < 2/L = 0.1 on the valley; momentum for lr < 2(1+beta)/L
    _, div = ch5.steps_to_tolerance([0.09, 0.11], 0.0, max_steps=1500)
    assert list(div) == [False, True]
    _, div = ch5.steps_to_tolerance([0.18, 0.2], 0.9, max_steps=1500)
    assert list(div) == [False, True]
    # Nesterov: lr < 2(1+beta)/((1+2beta) L) = 0.0679 for beta = 0.9
    _, div = ch5.steps_to_tolerance([0.065, 0.07], 0.9, nesterov=True, max_steps=1500)
    assert list(div) == [False, True]


def test_convergence_map_marks_divergence_and_is_cached():
    lrs, betas, steps, diverged = ch5.convergence_map(False)
    assert steps.shape == diverged.shape == (betas.size, lrs.size)
    assert diverged[0, -1] and not diverged[-1, 0]
    assert not np.isfinite(steps[diverged]).any()
    assert ch5.convergence_map(False)[2] is steps


def test_explorer_is_registered_with_its_controls():
    fn = widgets.REGISTRY["ch5.momentum"]
    assert fn is ch5.momentum
    assert list(fn.controls) == ["lr", "beta", "nesterov"]
    assert len(widgets.static_grid(fn)) == len(ch5.LR_VALUES) * len(ch5.BETA_VALUES) * 2  # the full product


@pytest.mark.parametrize("lr", [ch5.LR_VALUES[0], 0.01, ch5.LR_VALUES[-1]])
@pytest.mark.parametrize("beta", [ch5.BETA_VALUES[0], 0.9, ch5.BETA_VALUES[-1]])
@pytest.mark.parametrize("nesterov", [False, True])
def test_explorer_draws_defaults_and_extremes_without_warnings(lr, beta, nesterov):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = ch5.momentum(lr=lr, beta=beta, nesterov=nesterov)
        data = plots.to_image(fig)
    assert data[:4] == b"\x89PNG"


def test_explorer_marks_a_diverged_run_in_its_legend():
    fig = ch5.momentum(lr=0.02, beta=0.95, nesterov=False)  # GD at lr/(1-beta) = 0.4 > 2/L
    texts = [t.get_text() for legend in fig.findobj(Legend) for t in legend.get_texts()]
    assert any("GD, lr/(1−β) = 0.4: diverged at step" in t for t in texts)
    assert not any("β = 0.95: diverged" in t for t in texts)  # momentum at lr = 0.02 converges


def test_explorer_is_deterministic():
    a = plots.to_image(ch5.momentum(lr=0.04, beta=0.8, nesterov=True))
    b = plots.to_image(ch5.momentum(lr=0.04, beta=0.8, nesterov=True))
    assert a == b


@pytest.mark.parametrize("lr, beta, nesterov", [
    (0.01, 0.9, False), (0.01, 0.9, True), (0.1, 0.0, False), (0.15, 0.0, False), (0.02, 0.99, False),
    (0.3, 0.0, False), (0.15, 0.5, True), (0.2, 0.9, False), (0.005, 0.5, True),
])
def test_valley_paths_are_exactly_make_path(lr, beta, nesterov):
    kwargs = {"momentum": beta, "nesterov": nesterov} if beta > 0 else {}
    want = make_path(ch5.VALLEY, SGD, ch5.STEPS, lr=lr, **kwargs)
    # the setting alongside others, as the explorer runs it
    got = ch5.valley_paths([0.05, lr, 0.01], [0.5, beta, 0.0], [True, nesterov, False])[1]
    np.testing.assert_array_equal(got.points, want.points)
    np.testing.assert_array_equal(got.losses, want.losses)
    assert (got.diverged, got.diverged_at) == (want.diverged, want.diverged_at)


def test_valley_paths_checks_its_arguments():
    with pytest.raises(ValueError, match="same length"):
        ch5.valley_paths([0.1, 0.2], [0.5])


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.15, "beta": 0.5}, {"lr": 0.02, "beta": 0.99},
                                    {"lr": 0.15, "beta": 0.99, "nesterov": True}])
def test_explorer_draws_only_finite_points_inside_the_figure(kwargs):
    # diverged runs are marked and cut off at their panel's edge, never drawn as non-finite or stray values
    fig = ch5.momentum(**kwargs)
    (sheet,) = fig.axes  # one axes over the pasted backdrop, in figure coordinates
    for line in sheet.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
        if line.get_clip_path() is None:  # lines not cut off at their panel's edges stay inside the figure
            assert x.min() >= 0 and x.max() <= 1 and y.min() >= 0 and y.max() <= 1


def test_explorer_pastes_a_cached_backdrop_of_the_figure_size():
    fig = ch5.momentum()
    pixels, boxes, dpi = ch5._backdrop(False, fig.dpi)
    assert ch5._backdrop(False, fig.dpi)[0] is pixels
    assert dpi == fig.dpi
    width, height = fig.get_size_inches() * fig.dpi
    assert pixels.shape == (round(height), round(width), 4)
    assert len(boxes) == 4
    assert plots.to_image(fig)[:4] == b"\x89PNG"
