"""Chapter 3's explorer module: softmax bars, the two-task network, its training runs and the α explorer."""

import warnings

import numpy as np
import pytest

from nnlib import plots, widgets
from nnlib.explorers import ch3_losses as ch3
from nnlib.gradcheck import numerical_grad
from nnlib.losses import CombinedLoss, CrossEntropyLoss, MSELoss, softmax


def _render(fn, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return plots.to_image(fn(**kwargs))


# --- sharpness ------------------------------------------------------------------------------


def test_sharpness_of_known_distributions():
    margin, ratio, entropy = ch3.sharpness(np.array([0.5, 0.25, 0.25]))
    assert margin == pytest.approx(0.25)
    assert ratio == pytest.approx(2.0)
    expected = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)) / np.log(3)
    assert entropy == pytest.approx(expected)
    m, r, h = ch3.sharpness(np.full(4, 0.25))
    assert m == 0 and r == 1 and h == pytest.approx(1.0)


def test_sharpness_handles_zeros_and_rows_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        margin, ratio, entropy = ch3.sharpness(np.array([[1.0, 0.0, 0.0], [0.6, 0.4, 0.0]]))
    np.testing.assert_allclose(margin, [1.0, 0.2])
    assert np.isinf(ratio[0]) and ratio[1] == pytest.approx(1.5)
    assert entropy[0] == 0.0 and 0 < entropy[1] < 1


# --- the softmax explorer ---------------------------------------------------------------------


def test_softmax_bars_is_registered_with_a_small_static_grid():
    fn = widgets.REGISTRY["ch3.softmax_bars"]
    assert fn is ch3.softmax_bars
    assert list(fn.controls) == ["scores", "temperature"]
    grid = widgets.static_grid(fn)
    assert len(grid) == len(ch3.SCORE_PRESETS) * len(ch3.TEMPERATURES) <= widgets.MAX_FRAMES


@pytest.mark.parametrize("scores", list(ch3.SCORE_PRESETS))
@pytest.mark.parametrize("temperature", [min(ch3.TEMPERATURES), max(ch3.TEMPERATURES)])
def test_softmax_bars_renders_every_preset_at_extreme_temperatures(scores, temperature):
    assert _render(ch3.softmax_bars, scores=scores, temperature=temperature)[:8] == b"\x89PNG\r\n\x1a\n"


def test_presets_include_the_notes_example_and_the_wikipedia_vector():
    six = softmax(np.array(ch3.SCORE_PRESETS["notes: [1, 2, 3, 4, 1, 2]"]))
    seven = softmax(np.array(ch3.SCORE_PRESETS["Wikipedia: [1, 2, 3, 4, 1, 2, 3]"]))
    np.testing.assert_allclose(np.round(six, 3), [0.029, 0.078, 0.212, 0.575, 0.029, 0.078])
    np.testing.assert_allclose(np.round(seven[:6], 3), [0.024, 0.064, 0.175, 0.475, 0.024, 0.064])


# --- the two-task network ---------------------------------------------------------------------


def test_task_data_shapes_and_standardised_ink():
    d = ch3.load_task_data()
    assert d.X_train.shape == (1257, 64) and d.X_val.shape == (540, 64)
    assert d.ink_train.shape == (1257, 1) and d.ink_val.shape == (540, 1)
    assert 0 <= d.X_train.min() and d.X_train.max() <= 1
    assert d.ink_train.mean() == pytest.approx(0, abs=1e-12)
    assert d.ink_train.std() == pytest.approx(1)
    assert not d.X_train.flags.writeable
    assert ch3.load_task_data() is d


def test_two_head_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    net = ch3.TwoHeadNet(in_features=5, width=3, n_classes=4, rng=rng)
    X = rng.normal(size=(6, 5))
    y = rng.integers(0, 4, size=6)
    t = rng.normal(size=(6, 1))
    loss_fn = CombinedLoss([CrossEntropyLoss(), MSELoss()], weights=[0.7, 0.3])

    def f(_):
        return loss_fn(net(X), [y, t])

    net.zero_grad()
    f(None)
    dX = net.backward(loss_fn.backward())
    np.testing.assert_allclose(dX, numerical_grad(f, X), rtol=1e-6, atol=1e-9)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, numerical_grad(f, p.data), rtol=1e-6, atol=1e-9, err_msg=name)


def test_two_head_gradients_add_at_the_trunk():
    rng = np.random.default_rng(1)
    net = ch3.TwoHeadNet(in_features=4, width=3, n_classes=2, rng=rng)
    X = rng.normal(size=(5, 4))
    out = net(X)
    g_a, g_b = rng.normal(size=out[0].shape), rng.normal(size=out[1].shape)
    net.zero_grad()
    net.backward([g_a, np.zeros_like(g_b)])
    only_a = net.trunk[0].weight.grad.copy()
    net.zero_grad()
    net.backward([np.zeros_like(g_a), g_b])
    only_b = net.trunk[0].weight.grad.copy()
    net.zero_grad()
    net.backward([g_a, g_b])
    np.testing.assert_allclose(net.trunk[0].weight.grad, only_a + only_b)


def test_train_two_task_is_cached_deterministic_and_records_every_epoch():
    run = ch3.train_two_task(0.5, seed=0, epochs=3)
    assert ch3.train_two_task(0.5, seed=0, epochs=3) is run
    ch3._train.cache_clear()
    again = ch3.train_two_task(0.5, seed=0, epochs=3)
    for name in ("val_acc", "val_ce", "val_mse"):
        assert getattr(run, name).shape == (3,)
        np.testing.assert_array_equal(getattr(run, name), getattr(again, name))
    with pytest.raises(ValueError):
        ch3.train_two_task(1.5)


def test_alpha_endpoints_train_only_one_task():
    sweep = ch3.alpha_sweep()
    assert set(sweep) == {(a, s) for a in ch3.ALPHAS for s in ch3.SEEDS}
    for s in ch3.SEEDS:
        class_only, ink_only = sweep[0.0, s], sweep[1.0, s]
        assert class_only.val_acc[-1] > 0.8 and ink_only.val_acc[-1] < 0.2  # untrained class head: chance
        assert ink_only.val_mse[-1] < 0.1 < class_only.val_mse[-1]
        assert np.isfinite(class_only.val_ce).all()


# --- the α explorer ---------------------------------------------------------------------------


def test_tradeoff_is_registered_and_renders_every_alpha_without_warnings():
    fn = widgets.REGISTRY["ch3.tradeoff"]
    assert fn is ch3.tradeoff
    assert list(fn.controls) == ["alpha"]
    assert len(widgets.static_grid(fn)) == len(ch3.ALPHAS)
    for alpha in ch3.ALPHAS:
        assert _render(ch3.tradeoff, alpha=alpha)[:8] == b"\x89PNG\r\n\x1a\n"


def test_explorers_draw_the_same_picture_for_the_same_arguments():
    assert _render(ch3.tradeoff, alpha=0.3) == _render(ch3.tradeoff, alpha=0.3)
    assert _render(ch3.softmax_bars, temperature=0.5) == _render(ch3.softmax_bars, temperature=0.5)
