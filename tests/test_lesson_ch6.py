"""Chapter 6's experiment helpers: the stacked trainer ``train_mlps`` against ``make_mlp`` + ``fit``, and the
polynomial data that cover their interval."""

import numpy as np
import pytest

from nnlib.explorers import ch6_overfitting as ch6
from nnlib.losses import CrossEntropyLoss, L2Penalty
from nnlib.optim import SGD, Adam, AdamW
from nnlib.train import evaluate, fit


class _Both:
    """Two optimizers stepped together (AdamW on the weights, no decay on the biases)."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers
        self.lr = optimizers[0].lr

    def step(self):
        for o in self.optimizers:
            o.step()

    def zero_grad(self):
        for o in self.optimizers:
            o.zero_grad()


def _reference(seed, *, p=0.0, lam=0.0, optimizer="sgd", lr=0.05, epochs=3, X=None, y=None, hidden=ch6.HIDDEN):
    X_tr, y_tr, X_va, y_va = ch6.digits_task()
    X = X_tr if X is None else X
    y = y_tr if y is None else y
    rng = np.random.default_rng(seed)
    model = ch6.make_mlp(hidden, p, rng=rng)
    params = model.parameters()
    weights = [q for q in params if q.data.ndim == 2]
    biases = [q for q in params if q.data.ndim == 1]
    penalty = L2Penalty(params, lam) if lam and optimizer != "adamw" else None
    opt = {"sgd": lambda: SGD(params, lr=lr, momentum=ch6.MOMENTUM),
           "adam": lambda: Adam(params, lr=lr),
           "adamw": lambda: _Both(AdamW(weights, lr=lr, weight_decay=lam), AdamW(biases, lr=lr, weight_decay=0))
           }[optimizer]()
    history = fit(model, CrossEntropyLoss(), opt, X, y, epochs, ch6.BATCH_SIZE, val=(X_va, y_va), rng=rng,
                  penalty=penalty, progress=False)
    return model, history


@pytest.mark.parametrize("kwargs", [dict(), dict(p=0.5, lam=0.01), dict(optimizer="adam", lr=0.003, lam=0.01, p=0.3),
                                    dict(optimizer="adamw", lr=0.003, lam=0.3)])
def test_train_mlps_reproduces_make_mlp_and_fit(kwargs):
    X, y, X_va, y_va = ch6.digits_task()
    runs = ch6.train_mlps(X, y, [4, 7], epochs=3, val=(X_va, y_va), **kwargs)
    for r, seed in enumerate((4, 7)):
        model, history = _reference(seed, **kwargs)
        for got, want in zip(runs.params, model.parameters()):
            np.testing.assert_allclose(got[r], want.data, rtol=0, atol=1e-12)
        np.testing.assert_allclose(runs.val_loss[r], history.val_loss, rtol=1e-12)
        np.testing.assert_array_equal(runs.val_acc[r], history.val_acc)
        if not kwargs.get("lam"):  # History's training loss includes the penalty; Runs' does not
            np.testing.assert_allclose(runs.train_loss[r], history.train_loss, rtol=1e-12)
        loss, acc = ch6.evaluate_mlps([a[r:r + 1] for a in runs.params], X_va, y_va)
        want_loss, want_acc = evaluate(model, CrossEntropyLoss(), X_va, y_va)
        assert loss[0] == pytest.approx(want_loss, rel=1e-12) and acc[0] == want_acc


def test_train_mlps_per_network_data_rates_and_best_epoch():
    X, y, X_va, y_va = ch6.digits_task()
    rng = np.random.default_rng(0)
    picks = np.stack([rng.choice(len(X), 60, replace=False) for _ in range(2)])
    runs = ch6.train_mlps(X[picks], y[picks], [1, 2], p=[0.0, 0.2], lr=[0.05, 0.1], epochs=4, val=(X_va, y_va),
                          eval_every=2)
    np.testing.assert_array_equal(runs.eval_epochs, [2, 4])
    for r, (seed, p, lr) in enumerate([(1, 0.0, 0.05), (2, 0.2, 0.1)]):
        model, history = _reference(seed, p=p, lr=lr, epochs=4, X=X[picks[r]], y=y[picks[r]])
        np.testing.assert_allclose(runs.params[0][r], model.parameters()[0].data, atol=1e-12)
        np.testing.assert_allclose(runs.val_loss[r], np.array(history.val_loss)[[1, 3]], rtol=1e-12)
        best = runs.eval_epochs[np.argmin(runs.val_loss[r])]
        assert runs.best_epoch[r] == best
    # the kept weights are those of the best evaluated epoch
    again = ch6.train_mlps(X[picks], y[picks], [1, 2], p=[0.0, 0.2], lr=[0.05, 0.1], epochs=2)
    for r in range(2):
        if runs.best_epoch[r] == 2:
            np.testing.assert_array_equal(runs.best[0][r], again.params[0][r])


def test_train_mlps_init_and_frozen_parameters():
    X, y, _, _ = ch6.digits_task()
    start = ch6.train_mlps(X, y, [3], epochs=1)
    W1, b1 = start.params[0].copy(), start.params[1].copy()
    runs = ch6.train_mlps(X, y, [5, 6], epochs=2, init=[W1, b1, None, None], trainable=("W2", "b2"))
    for r in range(2):
        np.testing.assert_array_equal(runs.params[0][r], W1[0])  # frozen and shared
        np.testing.assert_array_equal(runs.params[1][r], b1[0])
    assert not np.array_equal(runs.params[2][0], runs.params[2][1])  # fresh heads per seed, trained
    # frozen body + trainable head: the same as fit with the hidden layer frozen
    rng = np.random.default_rng(5)
    model = ch6.make_mlp(rng=rng)
    model.layers[0].weight.data[...] = W1[0]
    model.layers[0].bias.data[...] = b1[0]
    model.layers[0].freeze()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=ch6.LR, momentum=ch6.MOMENTUM), X, y, 2,
        ch6.BATCH_SIZE, rng=rng, progress=False)
    np.testing.assert_allclose(runs.params[2][0], model.layers[-1].weight.data, atol=1e-12)


def test_train_mlps_refuses_bad_input():
    X, y, _, _ = ch6.digits_task()
    with pytest.raises(ValueError, match="optimizer"):
        ch6.train_mlps(X, y, [0], optimizer="rmsprop")
    with pytest.raises(ValueError, match="seeds"):
        ch6.train_mlps(X, y, [])
    with pytest.raises(ValueError, match="trainable"):
        ch6.train_mlps(X, y, [0], trainable=("W3",))
    with pytest.raises(ValueError, match="p must be"):
        ch6.train_mlps(X, y, [0, 1], p=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="X must be"):
        ch6.train_mlps(X, y[:-1], [0])


def test_dropout_sweep_is_train_mlp():
    acc = ch6.dropout_sweep((0.0, 0.5), (0, 1))
    want = [[ch6.train_mlp(p=p, seed=s).history.val_acc[-1] for s in (0, 1)] for p in (0.0, 0.5)]
    np.testing.assert_array_equal(acc, want)


@pytest.mark.parametrize("n", ch6.POLY_POINTS)
def test_poly_training_points_cover_the_interval(n):
    x = np.sort(ch6.poly_data(n)[0])
    assert x.min() >= -1 and x.max() <= 1
    gaps = np.diff(np.concatenate([[-1.0], x, [1.0]]))
    assert gaps.max() <= 4.0 / n  # one point in each of n equal bins: no gap longer than two bins
    bins = np.floor((x + 1) / 2 * n).astype(int)
    np.testing.assert_array_equal(bins, np.arange(n))


def test_train_mlps_patience_stops_each_network_where_a_plain_run_of_that_length_ends():
    X, y, X_va, y_va = ch6.digits_task()
    runs = ch6.train_mlps(X, y, [0, 1, 2], p=[0.0, 0.3, 0.6], epochs=80, val=(X_va, y_va), eval_every=5,
                          patience=15)
    assert np.all(runs.stopped_epoch - runs.best_epoch >= 15) or np.any(runs.stopped_epoch == 80)
    for r, (seed, p) in enumerate([(0, 0.0), (1, 0.3), (2, 0.6)]):
        stop = runs.stopped_epoch[r]
        plain = ch6.train_mlps(X, y, [seed], p=p, epochs=int(stop))
        np.testing.assert_allclose(runs.params[0][r], plain.params[0][0], atol=1e-12)
        assert np.all(np.isnan(runs.train_loss[r, stop:])) and not np.any(np.isnan(runs.train_loss[r, :stop]))
    with pytest.raises(ValueError, match="patience"):
        ch6.train_mlps(X, y, [0], patience=5)
