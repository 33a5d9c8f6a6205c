"""Chapter 4's explorer: optimizer, learning rate and schedule on a 2-D surface."""

import warnings

import numpy as np
import pytest

from nnlib import plots, widgets
from nnlib.core import Parameter
from nnlib.explorers import ch4_learning_rate as ch4
from nnlib.optim import SGD, Adagrad, Adam, RMSprop
from nnlib.schedulers import CosineAnnealingLR, MultiStepLR
from nnlib.surfaces import make_path

explore = ch4.learning_rate_explorer


def _render(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, log of 0, …) fails the test
        fig = explore(**kwargs)
        data = plots.to_image(fig)
    return data


def test_registered_with_the_three_required_controls():
    assert widgets.REGISTRY["ch4.learning_rate"] is explore
    assert {"optimizer", "lr", "schedule"} <= set(explore.controls)
    assert set(explore.controls["optimizer"].values) == set(ch4.OPTIMIZERS)
    assert set(explore.controls["schedule"].values) == set(ch4.SCHEDULES)


def test_static_grid_is_the_full_product_of_optimizer_rate_and_surface():
    grid = set(widgets.static_grid(explore))
    c = explore.controls
    constant = c["schedule"].values.index("constant")
    full = {(o, r, constant, s) for o in range(len(ch4.OPTIMIZERS)) for r in range(len(c["lr"].values))
            for s in range(len(ch4.SURFACES))}
    assert full <= grid
    valley = c["surface"].values.index("valley")  # and every schedule with every optimizer and rate on the valley
    assert {(o, r, k, valley) for o in range(len(ch4.OPTIMIZERS)) for r in range(len(c["lr"].values))
            for k in range(len(ch4.SCHEDULES))} <= grid
    # the default is SGD just above 2/L = 0.1 on the valley
    assert c["optimizer"].default == "SGD" and c["lr"].default > 0.1


def test_every_optimizer_has_a_rate_that_converges_on_each_surface():
    """No surface forces a useless rate: SGD, momentum and Adam converge at some offered rate on both surfaces."""
    for surface in ch4.SURFACES:
        for optimizer in ("SGD", "SGD + momentum 0.9", "Adam"):
            finals = [ch4.run_on_surface(optimizer, lr, "constant", surface)[0].losses[-1]
                      for lr in explore.controls["lr"].values]
            assert min(finals) < 1e-2, (surface, optimizer, finals)


def test_default_returns_a_figure_with_three_panels():
    fig = explore()
    assert len(fig.axes) == 3
    assert _render()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", list(ch4.OPTIMIZERS))
@pytest.mark.parametrize("surface", list(ch4.SURFACES))
def test_every_optimizer_renders_at_the_extreme_rates_without_warnings(name, surface):
    smallest, largest = explore.controls["lr"].values[0], explore.controls["lr"].values[-1]
    for lr, schedule in ((smallest, "constant"), (largest, "constant"), (largest, "cosine")):
        assert len(_render(optimizer=name, lr=lr, schedule=schedule, surface=surface)) > 1000


def test_same_arguments_same_picture():
    ch4.run_on_surface.cache_clear()
    first = _render(optimizer="Adam", lr=0.3, schedule="cosine")
    ch4.run_on_surface.cache_clear()
    assert _render(optimizer="Adam", lr=0.3, schedule="cosine") == first


def test_divergence_is_detected_and_marked():
    path, _ = ch4.run_on_surface("SGD", 0.11, "constant", "valley")  # 2/L = 0.1 on the valley
    assert path.diverged and path.diverged_at is not None
    assert np.isfinite(path.losses).all() and np.isfinite(path.points).all()
    fig = explore(optimizer="SGD", lr=0.11)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("diverged" in t for t in texts)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any("diverged" in t for t in legend)


def test_below_the_threshold_sgd_converges_on_the_valley():
    path, _ = ch4.run_on_surface("SGD", 0.09, "constant", "valley")
    assert not path.diverged
    assert path.losses[-1] < 1e-3 * path.losses[0]


def test_adaptive_methods_do_not_diverge_far_above_two_over_L():
    for name in ("Adagrad", "RMSprop", "Adam"):
        path, _ = ch4.run_on_surface(name, 1.0, "constant", "valley")
        assert not path.diverged, name


def test_run_matches_a_direct_nnlib_run():
    # the explorer's run is exactly make_path with the named optimizer
    for name, (cls, kwargs) in ch4.OPTIMIZERS.items():
        path, lrs = ch4.run_on_surface(name, 0.01, "constant", "Rosenbrock")
        direct = make_path(ch4.SURFACES["Rosenbrock"], cls, ch4.STEPS["Rosenbrock"], lr=0.01, **kwargs)
        np.testing.assert_array_equal(path.points, direct.points)
        assert np.all(lrs == 0.01)


def test_optimizer_table_builds_the_right_classes():
    p = [Parameter(np.zeros(2))]
    assert type(ch4.make_optimizer("SGD", p, 0.1)) is SGD
    momentum = ch4.make_optimizer("SGD + momentum 0.9", p, 0.1)
    assert type(momentum) is SGD and momentum.momentum == 0.9
    assert type(ch4.make_optimizer("Adagrad", p, 0.1)) is Adagrad
    assert type(ch4.make_optimizer("RMSprop", p, 0.1)) is RMSprop
    assert type(ch4.make_optimizer("Adam", p, 0.1)) is Adam
    with pytest.raises(ValueError, match="name must be one of"):
        ch4.make_optimizer("Nadam", p, 0.1)


def test_schedules_give_the_documented_rates():
    steps = 100
    opt = SGD([Parameter(np.zeros(2))], lr=0.5)
    assert ch4.make_scheduler("constant", opt, steps) is None
    step = ch4.make_scheduler("step", SGD([Parameter(np.zeros(2))], lr=0.5), steps)
    assert isinstance(step, MultiStepLR)
    np.testing.assert_allclose([step.lr_at(k) for k in (0, 49, 50, 74, 75, 99)],
                               [0.5, 0.5, 0.05, 0.05, 0.005, 0.005])
    cosine = ch4.make_scheduler("cosine", SGD([Parameter(np.zeros(2))], lr=0.5), steps)
    assert isinstance(cosine, CosineAnnealingLR)
    assert cosine.lr_at(0) == pytest.approx(0.5) and cosine.lr_at(steps) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="schedule must be one of"):
        ch4.make_scheduler("warmup", opt, steps)


def test_recorded_rates_are_the_rates_used():
    # lrs[k] is the rate of step k+1: rerun by hand with those rates and compare the path
    path, lrs = ch4.run_on_surface("SGD", 0.09, "step", "valley")
    surface = ch4.SURFACES["valley"]
    p = np.array(surface.start, dtype=float)
    for k, lr in enumerate(lrs):
        p = p - lr * surface.grad(p)
        np.testing.assert_allclose(p, path.points[k + 1], rtol=1e-12, atol=1e-300)


def test_bad_surface_name_is_rejected():
    with pytest.raises(ValueError, match="surface must be one of"):
        ch4.run_on_surface("SGD", 0.1, "constant", "sphere")
