"""Tests for nnlib.train: fit, History, evaluate, predict, accuracy."""

import copy
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nnlib.activations import ReLU, Tanh
from nnlib.core import Module, Sequential
from nnlib.data import StandardScaler, make_linear, make_moons, make_xor
from nnlib.layers import Dropout, Linear
from nnlib.losses import BCEWithLogitsLoss, CombinedLoss, CrossEntropyLoss, L2Penalty, MSELoss
from nnlib.optim import SGD, Adam
from nnlib.schedulers import ExponentialLR, StepLR
from nnlib import train
from nnlib.train import History, accuracy, evaluate, fit, predict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _moons_classifier(seed=0, dropout=False):
    rng = np.random.default_rng(seed)
    layers = [Linear(2, 16, rng=rng), Tanh()]
    if dropout:
        layers.append(Dropout(0.2, rng=rng))
    layers += [Linear(16, 2, rng=rng)]
    return Sequential(*layers)


def _weights(model):
    return [p.data.copy() for p in model.parameters()]


# --- learning ------------------------------------------------------------------------
@pytest.mark.parametrize("standardize", [True, False])
def test_linear_regression_reaches_least_squares(standardize):
    X, y = make_linear(200, noise=0.1, rng=0)
    if standardize:
        X = StandardScaler().fit_transform(X)
    else:
        X = X * [1.0, 2.0, 0.5] + 1.0  # unscaled, shifted features: slower, still convex
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    model = Linear(3, 1, rng=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    history = fit(model, MSELoss(), optimizer, X, y[:, None], epochs=3000, batch_size=len(X), rng=0)
    found = np.concatenate([model.weight.data.ravel(), model.bias.data])
    np.testing.assert_allclose(found, solution, atol=1e-6)
    assert history.epochs == 3000 and not history.diverged
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.train_acc == [] and history.val_loss == []


def test_multiclass_moons_high_accuracy():
    X, y = make_moons(300, noise=0.1, rng=1)
    X_val, y_val = make_moons(200, noise=0.1, rng=2)
    model = _moons_classifier()
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, CrossEntropyLoss(), optimizer, X, y, 150, 32, val=(X_val, y_val), rng=0)
    assert history.train_acc[-1] > 0.97 and history.val_acc[-1] > 0.97
    assert len(history.val_loss) == len(history.val_acc) == len(history.train_acc) == 150
    loss, acc = evaluate(model, CrossEntropyLoss(), X_val, y_val)
    assert loss == pytest.approx(history.val_loss[-1]) and acc == history.val_acc[-1]
    assert accuracy(predict(model, X_val), y_val) == acc


def test_binary_xor_with_bce():
    X, y = make_xor(200, noise=0.2, rng=0)
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, rng=rng), Tanh(), Linear(8, 1, rng=rng))
    optimizer = Adam(model.parameters(), lr=0.05)
    target = y[:, None].astype(np.float64)
    history = fit(model, BCEWithLogitsLoss(), optimizer, X, target, 100, 20, val=(X, target), rng=0)
    assert history.train_acc[-1] > 0.95 and history.val_acc[-1] > 0.95


def test_float32_end_to_end():
    X, y = make_moons(100, rng=0)
    X = X.astype(np.float32)
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, rng=rng, dtype=np.float32), ReLU(), Linear(8, 2, rng=rng, dtype=np.float32))
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 3, 16, rng=0)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert np.isfinite(history.train_loss).all()


class _TwoHeads(Module):
    """A shared hidden layer with a regression head and a classification head."""

    def __init__(self, rng):
        self.body = Linear(3, 8, rng=rng)
        self.act = Tanh()
        self.value = Linear(8, 1, rng=rng)
        self.label = Linear(8, 2, rng=rng)

    def forward(self, x):
        h = self.act(self.body(x))
        return [self.value(h), self.label(h)]

    def backward(self, grads):
        g_h = self.value.backward(grads[0]) + self.label.backward(grads[1])
        return self.body.backward(self.act.backward(g_h))


def test_multi_head_with_combined_loss():
    X, y = make_linear(200, rng=0)
    labels = (y > 0).astype(np.int64)
    model = _TwoHeads(np.random.default_rng(0))
    loss_fn = CombinedLoss([MSELoss(), CrossEntropyLoss()], weights=[0.1, 1.0])
    history = fit(model, loss_fn, Adam(model.parameters(), lr=0.01), X, [y[:, None], labels], 30, 32,
                  val=(X, [y[:, None], labels]), rng=0)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.train_acc == [] and len(history.val_loss) == 30
    with pytest.raises(ValueError, match=r"fit: y must hold one target array per loss \(2\), got 1"):
        fit(model, loss_fn, Adam(model.parameters()), X, [labels], 1, 32, rng=0)


# --- bookkeeping -------------------------------------------------------------------------
def test_same_seeds_same_bits():
    X, y = make_moons(120, noise=0.2, rng=0)
    results = []
    for _ in range(2):
        model = _moons_classifier(seed=3, dropout=True)
        optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
        history = fit(model, CrossEntropyLoss(), optimizer, X, y, 5, 16, val=(X, y), rng=4, record_grad_norms=True)
        results.append((_weights(model), history))
    (w1, h1), (w2, h2) = results
    assert all(a.tobytes() == b.tobytes() for a, b in zip(w1, w2))
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    assert all(a.tobytes() == b.tobytes() for a, b in zip(h1.grad_norms, h2.grad_norms))


def test_train_loss_is_sample_weighted_mean():
    """With lr = 0 nothing moves, so the epoch's mean of batch losses is the full-data loss."""
    X, y = make_moons(101, noise=0.3, rng=0)
    model = _moons_classifier()
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), X, y, 2, 10, rng=0)
    loss, acc = evaluate(model, CrossEntropyLoss(), X, y)
    assert history.train_loss[0] == pytest.approx(loss, rel=1e-12)
    assert history.train_acc[0] == acc


def test_penalty_recorded_separately():
    X, y = make_moons(64, rng=0)
    model = _moons_classifier()
    penalty = L2Penalty(model.parameters(), 0.1)
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), X, y, 2, 64, penalty=penalty,
                  val=(X, y), rng=0)
    assert history.train_penalty[0] == pytest.approx(penalty())
    assert history.train_loss[0] - history.train_penalty[0] == pytest.approx(history.val_loss[0])


def test_scheduler_lr_recorded_per_epoch():
    X, y = make_moons(64, rng=0)
    model = _moons_classifier()
    optimizer = SGD(model.parameters(), lr=0.2)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(model, CrossEntropyLoss(), optimizer, X, y, 5, 16, scheduler=scheduler, rng=0)
    np.testing.assert_allclose(history.lr, [0.2, 0.2, 0.1, 0.1, 0.05])
    assert scheduler.last_epoch == 5 and optimizer.lr == pytest.approx(0.05)


def test_record_grad_norms():
    X, y = make_moons(50, rng=0)
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 8, rng=rng), ReLU(), Linear(8, 2, rng=rng))
    # The expected norms of one full-batch epoch, computed by hand on a copy.
    twin = copy.deepcopy(model)
    loss_fn = CrossEntropyLoss()
    loss_fn(twin(X), y)
    twin.backward(loss_fn.backward())
    expected = [np.sqrt(sum((p.grad**2).sum() for p in layer.parameters())) for layer in twin.layers[::2]]

    history = fit(model, loss_fn, SGD(model.parameters(), lr=0.1), X, y, 3, 50, rng=0, record_grad_norms=True)
    assert len(history.grad_norms) == 3
    assert all(isinstance(g, np.ndarray) and g.shape == (3,) for g in history.grad_norms)
    assert history.grad_norm_names == ["0: Linear", "2: Linear", "4: Linear"]
    np.testing.assert_allclose(history.grad_norms[0], expected, rtol=1e-12)
    assert fit(model, loss_fn, SGD(model.parameters(), lr=0.1), X, y, 1, 50, rng=0).grad_norms == []


def test_history_helpers():
    history = History(train_loss=[3.0, 2.0, 1.0], val_loss=[2.0, 1.5, 1.7], val_acc=[0.5, 0.9, 0.8])
    assert history.epochs == 3
    assert history.best_epoch() == 1 and history.best_epoch("val_acc") == 1
    assert "epochs=3" in repr(history) and "val_loss=1.7" in repr(history)
    with pytest.raises(ValueError, match="no train_acc"):
        history.best_epoch("train_acc")


# --- divergence ----------------------------------------------------------------------------
def test_divergence_detected_without_warnings():
    X, y = make_linear(64, rng=0)
    model = Linear(3, 1, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, MSELoss(), SGD(model.parameters(), lr=1e3), X, y[:, None], 20, 8, rng=0)
    assert history.diverged and history.diverged_at == 0 and history.diverged_step is not None
    assert history.epochs == 0 and history.train_loss == [] and history.lr == []
    assert "diverged_at=0" in repr(history)
    assert "more than 1e+06 times the first batch loss" in history.diverged_reason
    assert "learning rate is too high" in history.diverged_reason


def test_nan_made_by_the_optimizer_is_not_blamed_on_the_learning_rate():
    """0/0 inside Adam (eps = 0, forced past the check) at dead ReLU units: a numerical failure, not a high lr."""
    X, y = make_moons(64, rng=0)
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 2, rng=rng))
    model.layers[0].bias.data[:4] = -100.0  # four dead units: their weights get gradients of exactly 0
    optimizer = Adam(model.parameters(), lr=0.01)
    optimizer.eps = 0.0  # Adam refuses eps = 0 (ValueError); set afterwards to show why
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, CrossEntropyLoss(), optimizer, X, y, 3, 16, rng=0)
    assert history.diverged and history.diverged_step == 1  # the first step made NaN, the second batch saw it
    assert "numerical failure inside the update (such as 0/0)" in history.diverged_reason
    assert "not a learning rate that is too high" in history.diverged_reason


def test_divergence_reason_when_the_outputs_overflow():
    X, y = make_moons(64, rng=0)
    model = Linear(2, 2, rng=0)
    model.weight.data[:] = 1e308  # finite weights; x @ W.T overflows for inputs of size 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X + 10, y, 1, 8, rng=0)
    assert history.diverged_step == 0
    assert history.diverged_reason.startswith("the model's outputs overflowed to NaN or inf")


def test_every_sample_is_used_once_per_epoch_including_the_last_partial_batch():
    class Spy(Module):
        """Records the rows of every batch it sees, then acts as a Linear layer."""

        def __init__(self):
            self.linear, self.seen = Linear(1, 2, rng=0), []

        def forward(self, x):
            self.seen.append(x[:, 0].copy())
            return self.linear(x)

        def backward(self, grad_out):
            return self.linear.backward(grad_out)

    X = np.arange(10.0)[:, None]
    y = np.arange(10) % 2
    model = Spy()
    optimizer = SGD(model.parameters(), lr=0.1)
    history = fit(model, CrossEntropyLoss(), optimizer, X, y, epochs=2, batch_size=4, rng=0)
    assert [len(b) for b in model.seen] == [4, 4, 2, 4, 4, 2]  # the last batch of each epoch is the partial one
    for epoch in (0, 1):
        rows = np.concatenate(model.seen[3 * epoch : 3 * epoch + 3])
        np.testing.assert_array_equal(np.sort(rows), np.arange(10.0))  # every sample, once
    assert history.epochs == 2


def test_the_train_loss_counts_the_last_partial_batch():
    # 10 samples in batches of 4: with lr = 0 the epoch's loss is the full-data loss only if the last 2 count.
    X, y = make_moons(10, noise=0.3, rng=1)
    model = _moons_classifier()
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), X, y, 1, 4, rng=0, shuffle=False)
    full, _ = evaluate(model, CrossEntropyLoss(), X, y)
    first8, _ = evaluate(model, CrossEntropyLoss(), X[:8], y[:8])
    assert history.train_loss[0] == pytest.approx(full, rel=1e-12)
    assert abs(full - first8) > 1e-3  # so a fit that skipped them would fail the line above


def test_overflow_to_inf_is_caught_without_warnings(monkeypatch):
    """With the 1e6 rule switched off, training runs until the numbers overflow."""
    monkeypatch.setattr(train, "DIVERGENCE_FACTOR", np.inf)
    X, y = make_moons(64, rng=0)
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 16, rng=rng), ReLU(), Linear(16, 1, rng=rng))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, MSELoss(), SGD(model.parameters(), lr=1e3, momentum=0.9), X, y[:, None] * 1.0, 200, 8,
                      val=(X, y[:, None] * 1.0), rng=0)
    assert history.diverged and history.epochs == history.diverged_at


def test_non_finite_first_batch_is_divergence():
    """Outputs that overflow at once: nnlib's loss refuses them, fit reports divergence at step 0."""
    X, y = make_moons(32, rng=0)
    model = _moons_classifier()
    model.layers[2].weight.data[0] = np.inf  # the first logit becomes inf (or NaN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 3, 8, rng=0)
    assert history.diverged and history.diverged_at == 0 and history.diverged_step == 0
    assert history.diverged_reason == "the parameters were NaN or inf before the first step"


def test_divergence_in_a_later_epoch():
    """A learning rate growing tenfold each epoch: the epochs before the blow-up are kept."""
    X, y = make_moons(64, rng=0)
    model = _moons_classifier()
    optimizer = SGD(model.parameters(), lr=1e-3)
    scheduler = ExponentialLR(optimizer, gamma=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, CrossEntropyLoss(), optimizer, X, y, 30, 16, scheduler=scheduler, val=(X, y), rng=0)
    assert history.diverged and history.diverged_at > 0
    assert history.epochs == history.diverged_at == len(history.lr) == len(history.val_loss)
    assert history.diverged_step >= 4 * history.diverged_at


# --- modes ---------------------------------------------------------------------------------------
def test_evaluate_and_predict_restore_modes():
    X, y = make_moons(40, rng=0)
    model = _moons_classifier(dropout=True)
    dropout = model.layers[2]
    assert model.training
    out1 = predict(model, X)
    loss1, _ = evaluate(model, CrossEntropyLoss(), X, y)
    assert model.training and dropout.training
    np.testing.assert_array_equal(out1, predict(model, X))  # eval mode: dropout is the identity
    assert loss1 == evaluate(model, CrossEntropyLoss(), X, y)[0]
    model.eval()
    evaluate(model, CrossEntropyLoss(), X, y)
    assert not model.training and not dropout.training
    # fit trains in train mode, then puts back whatever modes it found
    model.train()
    dropout.eval()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 1, 8, val=(X, y), rng=0)
    assert model.training and model.layers[0].training and not dropout.training


class _RecordingLinear(Linear):
    """A Linear that notes its input_grad at every backward pass."""

    def backward(self, grad_out):
        self.seen.append(self.input_grad)
        return super().backward(grad_out)


def test_fit_computes_no_gradient_for_the_data_and_restores_input_grad():
    X, y = make_moons(64, rng=0)
    for before in (True, False):
        first = _RecordingLinear(2, 8, rng=0)
        first.seen, first.input_grad = [], before
        model = Sequential(first, Tanh(), Linear(8, 2, rng=0))
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 2, 16, rng=0)
        assert first.seen == [False] * 8  # 2 epochs of 4 batches, dL/dX never computed
        assert first.input_grad is before and model.layers[2].input_grad is True
    # a model that is a single Linear; a nested Sequential; restored after an error, too
    alone = _RecordingLinear(2, 2, rng=0)
    alone.seen = []
    fit(alone, CrossEntropyLoss(), SGD(alone.parameters(), lr=0.1), X, y, 1, 64, rng=0)
    assert alone.seen == [False] and alone.input_grad is True
    nested = Sequential(Sequential(alone, Tanh()), Linear(2, 2, rng=0))
    with pytest.raises(ValueError, match=r"y must be in \[0, 1\] for 2 classes, got label 5"):
        fit(nested, CrossEntropyLoss(), SGD(nested.parameters(), lr=0.1), X, np.full(64, 5), 1, 64, rng=0)
    assert alone.input_grad is True
    # when the data goes through another layer first, every Linear computes dL/dx as usual
    dropout_first = Sequential(Dropout(0.1, rng=0), alone)
    alone.seen = []
    fit(dropout_first, CrossEntropyLoss(), SGD(dropout_first.parameters(), lr=0.1), X, y, 1, 64, rng=0)
    assert alone.seen == [True]


# --- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, error, words",
    [
        (dict(epochs=0), ValueError, ["fit", "epochs", "0"]),
        (dict(batch_size=0), ValueError, ["fit", "batch_size", "0"]),
        (dict(batch_size=2.0), TypeError, ["fit", "batch_size", "integer"]),
        (dict(X=np.full((10, 2), np.nan)), ValueError, ["fit", "X", "finite", "NaN"]),
        (dict(y=np.zeros(9, dtype=np.int64)), ValueError, ["fit", "y", "10", "9"]),
        (dict(y=np.zeros(10)), TypeError, ["fit", "y", "integer", "float64"]),
        (dict(y=-np.ones(10, dtype=np.int64)), ValueError, ["fit", "y", "-1"]),
        (dict(val=np.ones((3, 2))), TypeError, ["fit", "val", "tuple"]),
        (dict(val=(np.ones((3, 2)), np.zeros(2, dtype=np.int64))), ValueError, ["fit", "y_val", "3"]),
        (dict(rng="seed"), TypeError, ["fit", "rng"]),
        (dict(model=[Linear(2, 2, rng=0)]), TypeError, ["fit", "model", "list"]),
    ],
)
def test_fit_bad_inputs(change, error, words):
    args = dict(model=_moons_classifier(), X=np.ones((10, 2)), y=np.zeros(10, dtype=np.int64), epochs=1,
                batch_size=4, val=None, rng=0)
    args.update(change)
    optimizer = SGD(_moons_classifier().parameters(), lr=0.1)
    with pytest.raises(error) as info:
        fit(args["model"], CrossEntropyLoss(), optimizer, args["X"], args["y"], args["epochs"], args["batch_size"],
            val=args["val"], rng=args["rng"])
    for word in words:
        assert word in str(info.value)


def test_mse_targets_must_be_float():
    with pytest.raises(TypeError, match="fit: y must have a floating dtype"):
        model = Linear(2, 1, rng=0)
        fit(model, MSELoss(), SGD(model.parameters()), np.ones((4, 2)), np.ones((4, 1), dtype=np.int64), 1, 2, rng=0)


def test_accuracy_helper():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 5.0, 0.0], [0.0, 1.0, 0.5]])
    assert accuracy(logits, np.array([0, 2, 1, 2])) == 0.75
    assert accuracy(logits, np.eye(3)[[0, 2, 1, 1]]) == 1.0
    assert accuracy(np.array([[-1.0], [2.0], [0.5]]), np.array([0, 1, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([-1.0, 2.0]), np.array([0.0, 1.0])) == 1.0
    with pytest.raises(ValueError, match="accuracy: y must have one entry per row"):
        accuracy(logits, np.array([0, 1]))


# --- progress and imports ------------------------------------------------------------------------
def test_progress_silent_outside_notebooks_and_forced_on(capsys):
    X, y = make_moons(40, rng=0)
    model = _moons_classifier()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 2, 8, rng=0)
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 2, 8, rng=0, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, 2, 8, rng=0, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "done: 2 epochs" in captured.err


def test_importing_does_not_load_plotting_or_notebook_modules():
    code = (
        "import sys, nnlib.train, nnlib.data\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
