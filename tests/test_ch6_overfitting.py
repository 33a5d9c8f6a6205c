"""Chapter 6's explorer module: polynomial fits, the cached digits runs, weight statistics and the three explorers."""

import warnings

import numpy as np
import pytest
from matplotlib.legend import Legend

from nnlib import plots, widgets
from nnlib.data import load_digits
from nnlib.explorers import ch6_overfitting as ch6
from nnlib.layers import Linear
from nnlib.losses import MSELoss
from nnlib.optim import SGD


def _render(fn, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = fn(**kwargs)
        data = plots.to_image(fig)
    return data


# --- polynomials --------------------------------------------------------------------------------
def test_poly_data_is_deterministic_and_shaped():
    a, b = ch6.poly_data(12, 3), ch6.poly_data(12, 3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    x, y, x_val, y_val = a
    assert x.shape == y.shape == (12,) and x_val.shape == y_val.shape == (200,)
    assert np.all(np.abs(x) <= 1)


def test_poly_features_are_powers():
    x = np.array([-0.5, 0.0, 2.0])
    F = ch6.poly_features(x, 3)
    np.testing.assert_allclose(F, np.stack([x ** k for k in range(4)], axis=1))


def test_poly_fit_matches_a_linear_layer_trained_by_gradient_descent():
    x, y, _, _ = ch6.poly_data(12)
    coef = ch6.poly_fit(x, y, 2)
    layer = Linear(2, 1, rng=0)
    opt, loss_fn = SGD(layer.parameters(), lr=0.5, momentum=0.9), MSELoss()
    F = ch6.poly_features(x, 2)[:, 1:]
    for _ in range(2000):
        opt.zero_grad()
        loss_fn(layer(F), y[:, None])
        layer.backward(loss_fn.backward())
        opt.step()
    np.testing.assert_allclose(np.concatenate([layer.bias.data, layer.weight.data[0]]), coef, atol=1e-6)


def test_poly_errors_training_error_never_rises_and_interpolates():
    train, val = ch6.poly_errors(12)
    assert train.shape == val.shape == (len(ch6.POLY_DEGREES),)
    assert np.all(np.diff(train) <= 1e-9)
    assert train[11] < 1e-8  # 12 coefficients through 12 points
    assert np.argmin(val) < 8


# --- digits runs ------------------------------------------------------------------------------
def test_digits_task_is_fixed_and_scaled():
    X, y, X_val, y_val = ch6.digits_task()
    assert X.shape == (ch6.N_TRAIN, 64) and X_val.shape == (ch6.N_VAL, 64)
    assert X.max() <= 1.0 and X.min() >= 0.0
    X_raw = ch6.digits_task(raw=True)[0]
    np.testing.assert_allclose(X_raw / 16.0, X)
    # with every remaining image as training data, the two parts are exactly the data set, split without overlap
    X_all, _, X_val_all, _ = ch6.digits_task(1797 - ch6.N_VAL)
    both = np.concatenate([X_all, X_val_all])
    want = load_digits()[0] / 16.0
    np.testing.assert_array_equal(both[np.lexsort(both.T)], want[np.lexsort(want.T)])
    np.testing.assert_array_equal(X, X_all[:ch6.N_TRAIN])


def test_make_mlp_has_dropout_only_when_asked():
    assert len(ch6.make_mlp(rng=0).layers) == 3
    assert len(ch6.make_mlp(p=0.3, rng=0).layers) == 4
    assert ch6.make_mlp(hidden=8, rng=0).num_parameters() == 64 * 8 + 8 + 8 * 10 + 10


def test_train_mlp_is_cached_and_normalises_its_arguments():
    a = ch6.train_mlp(hidden=8, epochs=3)
    assert ch6.train_mlp(8, 0.0, "l1", 0, 0, ch6.N_TRAIN, 3) is a  # lam = 0: the penalty name is irrelevant
    assert a.history.epochs == 3 and len(a.history.val_acc) == 3
    assert a.weight.shape == (8, 64)
    assert 0 <= a.val_error <= 1
    with pytest.raises(ValueError, match="penalty"):
        ch6.train_mlp(penalty="l3")


def test_penalties_shrink_and_sparsify_the_weights():
    base = ch6.train_mlp(hidden=16, epochs=15)
    l2 = ch6.train_mlp(hidden=16, epochs=15, lam=0.03)
    l1 = ch6.train_mlp(hidden=16, epochs=15, lam=0.003, penalty="l1")
    assert ch6.weight_stats(l2.weight)["norm"] < ch6.weight_stats(base.weight)["norm"]
    assert ch6.weight_stats(l1.weight)["near_zero"] > 5 * ch6.weight_stats(base.weight)["near_zero"] + 0.05


def test_weight_stats_on_known_arrays():
    s = ch6.weight_stats(np.array([1.0, -1.0, 1.0, -1.0]))
    assert s["norm"] == pytest.approx(2.0) and s["max_abs"] == 1.0
    assert s["participation"] == pytest.approx(1.0) and s["peak_to_rms"] == pytest.approx(1.0)
    s = ch6.weight_stats(np.array([0.0, 0.0, 0.0, 2.0]))
    assert s["participation"] == pytest.approx(0.25) and s["near_zero"] == pytest.approx(0.75)
    s = ch6.weight_stats(np.zeros(3))
    assert np.isnan(s["participation"]) and s["norm"] == 0.0


# --- explorers --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn", [("ch6.polynomial", ch6.polynomial), ("ch6.weight_penalty", ch6.weight_penalty),
                                      ("ch6.dropout_rate", ch6.dropout_rate)])
def test_explorers_are_registered_with_full_product_static_grids(name, fn):
    assert widgets.REGISTRY[name] is fn
    assert len(widgets.static_grid(fn)) == int(np.prod([len(c.values) for c in fn.controls.values()]))


@pytest.mark.parametrize("kwargs", [{}, {"degree": 0, "n_points": 8}, {"degree": 11, "n_points": 8},
                                    {"degree": 11, "n_points": 12}, {"degree": 11, "n_points": 50}])
def test_polynomial_renders_without_warnings(kwargs):
    assert _render(ch6.polynomial, **kwargs)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lam", [ch6.LAMBDAS[0], 0.01, ch6.LAMBDAS[-1]])
def test_weight_penalty_renders_without_warnings(lam):
    assert _render(ch6.weight_penalty, lam=lam)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("p", [ch6.DROPOUT_RATES[0], 0.5, ch6.DROPOUT_RATES[-1]])
def test_dropout_rate_renders_without_warnings(p):
    assert _render(ch6.dropout_rate, p=p)[:8] == b"\x89PNG\r\n\x1a\n"


def test_explorers_are_deterministic():
    assert _render(ch6.polynomial, degree=5) == _render(ch6.polynomial, degree=5)
    acc = ch6.dropout_sweep()
    assert acc.shape == (len(ch6.DROPOUT_RATES), len(ch6.SEEDS))
    assert np.all((acc > 0.5) & (acc <= 1))


@pytest.mark.parametrize("fn, kwargs, shown", [
    (ch6.polynomial, {"degree": 11, "n_points": 8}, ["degree 11 fit", "8 training points"]),
    (ch6.polynomial, {"degree": 0, "n_points": 50}, ["degree 0 fit", "50 training points"]),
    (ch6.weight_penalty, {"lam": 0.1}, ["λ = 0", "λ = 0.1"]),
    (ch6.weight_penalty, {"lam": 0.0}, ["λ = 0"]),
    (ch6.dropout_rate, {"p": 0.7}, ["p = 0.7: training (train mode)", "p = 0.7: validation"]),
    (ch6.dropout_rate, {"p": 0.0}, ["p = 0: training"]),
])
def test_explorers_draw_the_chosen_values_inside_the_figure(fn, kwargs, shown):
    fig = fn(**kwargs)
    (sheet,) = fig.axes  # one axes over the pasted fixed parts, in figure coordinates
    texts = [t.get_text() for legend in fig.findobj(Legend) for t in legend.get_texts()]
    assert sorted(set(texts)) == sorted(texts) and all(s in texts for s in shown), texts
    for line in sheet.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
        if line.get_clip_path() is None:  # an unclipped line stays inside the figure
            assert x.size == 0 or (x.min() >= 0 and x.max() <= 1 and y.min() >= 0 and y.max() <= 1)


def test_polynomial_fit_is_cut_off_at_the_panel_edge():
    fig = ch6.polynomial(degree=11, n_points=12)  # swings far beyond y = ±3
    clipped = [line for line in fig.axes[0].get_lines() if line.get_clip_path() is not None]
    assert len(clipped) == 1
    assert np.ptp(clipped[0].get_ydata()) > 1  # it does leave the panel (in figure coordinates)


def test_fixed_parts_are_drawn_once():
    assert ch6._poly_backdrop(12, 80) is ch6._poly_backdrop(12, 80)
    assert ch6._penalty_backdrop(80) is ch6._penalty_backdrop(80)
    ch6._poly_backdrop.cache_clear()
    ch6.polynomial()
    assert ch6._poly_backdrop.cache_info().currsize == len(ch6.POLY_POINTS)  # every size on the first call
