"""A learner's mistakes against nnlib's public API: each gets a clear error at once.

Every row of ``BAD`` is one wrong call. The test asserts the error's type and
that its message names the function (where the bad value went in), the
argument, and what was received ("got ...").
"""

import numpy as np
import pytest

import nnlib
from nnlib import (AdamW, Adagrad, Adam, AvgPool2d, BCEWithLogitsLoss, CombinedLoss, CosineAnnealingLR,
                   CrossEntropyLoss, Dropout, ExponentialLR, Flatten, L2Penalty, LeakyReLU, Linear, MaxPool2d,
                   MSELoss, MultiStepLR, Parameter, ReLU, RMSprop, SGD, Sequential, StepLR, Tanh, accuracy, data,
                   evaluate, fit, gradcheck, leaky_relu, log_softmax, numerical_grad, predict, relu, sigmoid,
                   sigmoid_grad, softmax, surfaces, tanh)
from nnlib.train import History


def _model():
    return Sequential(Linear(2, 4, rng=0), ReLU(), Linear(4, 3, rng=0))


def _opt():
    return SGD(_model().parameters(), lr=0.1)


X = np.random.default_rng(0).standard_normal((10, 2))
Y = np.arange(10) % 3
Z = np.random.default_rng(1).standard_normal((4, 3))


def _fit(**changes):
    model = _model()
    args = dict(model=model, loss_fn=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1), X=X, y=Y,
                epochs=1, batch_size=4, rng=0)
    args.update(changes)
    return fit(**args)


def _step_with_grad(grad):
    p = Parameter(np.ones(3))
    p.grad = grad
    SGD([p], lr=0.1).step()


def _backward(layer, x, grad_out):
    layer(x)
    layer.backward(grad_out)


def _reused_relu():
    act = ReLU()
    return Sequential(Linear(2, 8, rng=0), act, Linear(8, 8, rng=0), act, Linear(8, 2, rng=0))


def _exponential_lr_overflow():
    scheduler = ExponentialLR(_opt(), gamma=10)
    for _ in range(400):
        scheduler.step()


def _scaler_unfitted():
    data.StandardScaler().transform(X)


# (id, call, error type, function named, argument named)
BAD = [
    # --- core ---
    ("Parameter-complex", lambda: Parameter(np.array([1 + 2j])), TypeError, "Parameter", "data"),
    ("Parameter-None", lambda: Parameter(None), TypeError, "Parameter", "data"),
    ("Parameter-str", lambda: Parameter("abc"), TypeError, "Parameter", "data"),
    ("Parameter-object", lambda: Parameter([1, None]), TypeError, "Parameter", "data"),
    ("Sequential-class", lambda: Sequential(Linear, ReLU()), TypeError, "Sequential", "layer 0"),
    ("Sequential-array", lambda: Sequential(np.ones(3)), TypeError, "Sequential", "layer 0"),
    ("Sequential-reuse", _reused_relu, ValueError, "Sequential", "layers 1 and 3"),
    ("Module-train-mode", lambda: _model().train("eval"), TypeError, "Sequential.train", "mode"),
    # --- layers ---
    ("Linear-in0", lambda: Linear(0, 3, rng=0), ValueError, "Linear", "in_features"),
    ("Linear-in-float", lambda: Linear(2.5, 3, rng=0), TypeError, "Linear", "in_features"),
    ("Linear-rng-None", lambda: Linear(2, 3, rng=None), TypeError, "Linear", "rng"),
    ("Linear-dtype-int", lambda: Linear(2, 3, rng=0, dtype=np.int32), TypeError, "Linear", "dtype"),
    ("Linear-x-float32", lambda: Linear(2, 3, rng=0)(X.astype(np.float32)), TypeError, "Linear.forward", "x"),
    ("Linear-x-shape", lambda: Linear(3, 3, rng=0)(X), ValueError, "Linear.forward", "x"),
    ("Linear-x-list", lambda: Linear(2, 3, rng=0)(X.tolist()), TypeError, "Linear.forward", "x"),
    ("Linear-grad_out-shape", lambda: _backward(Linear(2, 3, rng=0), X, np.ones((10, 2))), ValueError,
     "Linear.backward", "grad_out"),
    ("Dropout-p1", lambda: Dropout(1.0, rng=0), ValueError, "Dropout", "p"),
    ("Dropout-rng", lambda: Dropout(0.5, rng="a"), TypeError, "Dropout", "rng"),
    ("Dropout-x-int", lambda: Dropout(0.5, rng=0)(np.ones((2, 2), dtype=int)), TypeError, "Dropout.forward", "x"),
    ("MaxPool2d-k0", lambda: MaxPool2d(0), ValueError, "MaxPool2d", "kernel_size"),
    ("MaxPool2d-k3d", lambda: MaxPool2d((2, 2, 2)), ValueError, "MaxPool2d", "kernel_size"),
    ("MaxPool2d-stride0", lambda: MaxPool2d(2, stride=0), ValueError, "MaxPool2d", "stride"),
    ("MaxPool2d-x3d", lambda: MaxPool2d(2)(np.ones((2, 3, 4))), ValueError, "MaxPool2d.forward", "x"),
    ("MaxPool2d-x-small", lambda: MaxPool2d(3)(np.ones((1, 1, 2, 2))), ValueError, "MaxPool2d.forward", "x"),
    ("AvgPool2d-x-int", lambda: AvgPool2d(2)(np.ones((1, 1, 2, 2), dtype=int)), TypeError, "AvgPool2d.forward",
     "x"),
    ("Flatten-x1d", lambda: Flatten()(np.ones(3)), ValueError, "Flatten.forward", "x"),
    # --- activations ---
    ("sigmoid-None", lambda: sigmoid(None), TypeError, "sigmoid", "x"),
    ("sigmoid-str", lambda: sigmoid("1"), TypeError, "sigmoid", "x"),
    ("sigmoid_grad-str", lambda: sigmoid_grad(np.array(["a"])), TypeError, "sigmoid_grad", "x"),
    ("tanh-None", lambda: tanh(None), TypeError, "tanh", "x"),
    ("relu-object", lambda: relu([1.0, None]), TypeError, "relu", "x"),
    ("relu-complex", lambda: relu(np.array([1j])), TypeError, "relu", "x"),
    ("leaky_relu-slope", lambda: leaky_relu(X, negative_slope="a"), TypeError, "leaky_relu", "negative_slope"),
    ("LeakyReLU-slope", lambda: LeakyReLU(negative_slope=None), TypeError, "LeakyReLU", "negative_slope"),
    ("ReLU-x-list", lambda: ReLU()([1.0, 2.0]), TypeError, "ReLU.forward", "x"),
    ("Tanh-grad_out-shape", lambda: _backward(Tanh(), X, np.ones((3, 2))), ValueError, "Tanh.backward",
     "grad_out"),
    # --- softmax and losses ---
    ("softmax-empty", lambda: softmax(np.array([])), ValueError, "softmax", "z"),
    ("softmax-axis-missing", lambda: softmax(Z, axis=2), ValueError, "softmax", "axis"),
    ("softmax-axis-float", lambda: softmax(Z, axis=1.5), TypeError, "softmax", "axis"),
    ("softmax-None", lambda: softmax(None), TypeError, "softmax", "z"),
    ("softmax-nan", lambda: softmax(np.array([1.0, np.nan])), ValueError, "softmax", "z"),
    ("log_softmax-0d", lambda: log_softmax(3.0), ValueError, "log_softmax", "z"),
    ("log_softmax-empty-axis0", lambda: log_softmax(np.zeros((0, 3)), axis=0), ValueError, "log_softmax", "z"),
    ("MSELoss-y-shape", lambda: MSELoss()(Z, np.ones(4)), ValueError, "MSELoss", "y"),
    ("MSELoss-y_hat-list", lambda: MSELoss()(Z.tolist(), Z), TypeError, "MSELoss", "y_hat"),
    ("MSELoss-weight-neg", lambda: MSELoss(weight=[-1.0]), ValueError, "MSELoss", "weight"),
    ("CE-y-float", lambda: CrossEntropyLoss()(Z, np.zeros(4)), TypeError, "CrossEntropyLoss", "y"),
    ("CE-y-range", lambda: CrossEntropyLoss()(Z, np.array([0, 1, 2, 3])), ValueError, "CrossEntropyLoss", "y"),
    ("CE-weight-2d", lambda: CrossEntropyLoss(weight=[[1.0]]), ValueError, "CrossEntropyLoss", "weight"),
    ("CE-sample_weight-neg", lambda: CrossEntropyLoss()(Z, Y[:4], sample_weight=-np.ones(4)), ValueError,
     "CrossEntropyLoss", "sample_weight"),
    ("BCE-y-range", lambda: BCEWithLogitsLoss()(Z, np.full((4, 3), 2.0)), ValueError, "BCEWithLogitsLoss", "y"),
    ("CombinedLoss-class", lambda: CombinedLoss([CrossEntropyLoss, MSELoss()]), TypeError, "CombinedLoss",
     "losses[0]"),
    ("CombinedLoss-empty", lambda: CombinedLoss([]), ValueError, "CombinedLoss", "losses"),
    ("CombinedLoss-single-loss", lambda: CombinedLoss(MSELoss()), TypeError, "CombinedLoss", "losses"),
    ("CombinedLoss-weights-number", lambda: CombinedLoss([MSELoss(), MSELoss()], weights=0.5), TypeError,
     "CombinedLoss", "weights"),
    ("L2Penalty-lam-neg", lambda: L2Penalty(_model().parameters(), lam=-1), ValueError, "L2Penalty", "lam"),
    ("L2Penalty-lam-str", lambda: L2Penalty(_model().parameters(), lam="x"), TypeError, "L2Penalty", "lam"),
    ("L2Penalty-params-array", lambda: L2Penalty([np.ones((2, 2))], lam=0.1), TypeError, "L2Penalty",
     "params[0]"),
    ("L2Penalty-params-method", lambda: L2Penalty(_model().parameters, lam=0.1), TypeError, "L2Penalty",
     "params"),
    # --- optimizers ---
    ("SGD-module", lambda: SGD(_model(), lr=0.1), TypeError, "SGD", "params"),
    ("SGD-params-method", lambda: SGD(_model().parameters, lr=0.1), TypeError, "SGD", "params"),
    ("SGD-lr-neg", lambda: SGD(_model().parameters(), lr=-1), ValueError, "SGD", "lr"),
    ("SGD-momentum-1", lambda: SGD(_model().parameters(), lr=0.1, momentum=1), ValueError, "SGD", "momentum"),
    ("Adam-eps-0", lambda: Adam(_model().parameters(), eps=0), ValueError, "Adam", "eps"),
    ("AdamW-eps-0", lambda: AdamW(_model().parameters(), eps=0.0), ValueError, "AdamW", "eps"),
    ("Adagrad-eps-0", lambda: Adagrad(_model().parameters(), eps=0), ValueError, "Adagrad", "eps"),
    ("RMSprop-eps-0", lambda: RMSprop(_model().parameters(), eps=0), ValueError, "RMSprop", "eps"),
    ("Adam-betas-1", lambda: Adam(_model().parameters(), betas=(0.9,)), TypeError, "Adam", "betas"),
    ("RMSprop-alpha-2", lambda: RMSprop(_model().parameters(), alpha=2), ValueError, "RMSprop", "alpha"),
    ("Adagrad-lr_decay", lambda: Adagrad(_model().parameters(), lr_decay=-1), ValueError, "Adagrad", "lr_decay"),
    ("SGD-step-grad-str", lambda: _step_with_grad("abc"), TypeError, "SGD.step", "p.grad"),
    ("SGD-step-grad-shape", lambda: _step_with_grad(np.ones(2)), ValueError, "SGD.step", "p.grad"),
    # --- schedulers ---
    ("StepLR-class-optimizer", lambda: StepLR(SGD, step_size=2), TypeError, "StepLR", "optimizer"),
    ("StepLR-step_size-0", lambda: StepLR(_opt(), step_size=0), ValueError, "StepLR", "step_size"),
    ("StepLR-gamma-0", lambda: StepLR(_opt(), 2, gamma=0), ValueError, "StepLR", "gamma"),
    ("MultiStepLR-milestones-int", lambda: MultiStepLR(_opt(), milestones=5), TypeError, "MultiStepLR",
     "milestones"),
    ("MultiStepLR-milestone-0", lambda: MultiStepLR(_opt(), [0]), ValueError, "MultiStepLR", "milestones[0]"),
    ("ExponentialLR-gamma-neg", lambda: ExponentialLR(_opt(), gamma=-1), ValueError, "ExponentialLR", "gamma"),
    ("ExponentialLR-overflow", _exponential_lr_overflow, ValueError, "ExponentialLR", "gamma"),
    ("ExponentialLR-lr_at-str", lambda: ExponentialLR(_opt(), gamma=0.9).lr_at("3"), TypeError,
     "ExponentialLR.lr_at", "epoch"),
    ("CosineAnnealingLR-T_max-0", lambda: CosineAnnealingLR(_opt(), T_max=0), ValueError, "CosineAnnealingLR",
     "T_max"),
    ("CosineAnnealingLR-eta_min", lambda: CosineAnnealingLR(_opt(), 5, eta_min=-1), ValueError,
     "CosineAnnealingLR", "eta_min"),
    # --- training ---
    ("fit-loss-class", lambda: _fit(loss_fn=CrossEntropyLoss), TypeError, "fit", "loss_fn"),
    ("fit-optimizer-class", lambda: _fit(optimizer=SGD), TypeError, "fit", "optimizer"),
    ("fit-scheduler-class", lambda: _fit(scheduler=StepLR), TypeError, "fit", "scheduler"),
    ("fit-penalty-class", lambda: _fit(penalty=L2Penalty), TypeError, "fit", "penalty"),
    ("fit-model-class", lambda: _fit(model=Sequential), TypeError, "fit", "model"),
    ("fit-y-list", lambda: _fit(y=Y.tolist()), TypeError, "fit", "y"),
    ("fit-epochs-0", lambda: _fit(epochs=0), ValueError, "fit", "epochs"),
    ("fit-batch_size-float", lambda: _fit(batch_size=1.5), TypeError, "fit", "batch_size"),
    ("fit-val-list", lambda: _fit(val=[X, Y]), TypeError, "fit", "val"),
    ("fit-rng-None", lambda: _fit(rng=None), TypeError, "fit", "rng"),
    ("fit-X-empty", lambda: _fit(X=X[:0], y=Y[:0]), ValueError, "fit", "X"),
    ("fit-y-float-labels", lambda: _fit(y=Y.astype(float)), TypeError, "fit", "y"),
    ("fit-shuffle-str", lambda: _fit(shuffle="no"), TypeError, "fit", "shuffle"),
    ("fit-progress-str", lambda: _fit(progress="yes"), TypeError, "fit", "progress"),
    ("evaluate-loss-class", lambda: evaluate(_model(), CrossEntropyLoss, X, Y), TypeError, "evaluate", "loss_fn"),
    ("predict-X-list", lambda: predict(_model(), X.tolist()), TypeError, "predict", "X"),
    ("accuracy-empty", lambda: accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int)), ValueError, "accuracy",
     "logits"),
    ("accuracy-y-list", lambda: accuracy(Z, [0, 1, 2, 0]), TypeError, "accuracy", "y"),
    ("best_epoch-metric", lambda: History().best_epoch("foo"), ValueError, "History.best_epoch", "metric"),
    # --- gradient checks ---
    ("numerical_grad-f-array", lambda: numerical_grad(lambda x: 2 * x, np.ones(3)), TypeError, "numerical_grad",
     "f"),
    ("numerical_grad-f-str", lambda: numerical_grad("f", np.ones(3)), TypeError, "numerical_grad", "f"),
    ("numerical_grad-eps-0", lambda: numerical_grad(np.sum, np.ones(3), eps=0), ValueError, "numerical_grad",
     "eps"),
    ("numerical_grad-f-class", lambda: numerical_grad(Linear, np.ones(3)), TypeError, "numerical_grad", "f"),
    ("gradcheck-class", lambda: gradcheck(Linear, X), TypeError, "gradcheck", "fn"),
    ("gradcheck-float32", lambda: gradcheck(Linear(2, 2, rng=0), X.astype(np.float32)), TypeError, "gradcheck",
     "x"),
    ("gradcheck-rtol-0", lambda: gradcheck(Linear(2, 2, rng=0), X, rtol=0), ValueError, "gradcheck", "rtol"),
    # --- data ---
    ("make_linear-coef-str", lambda: data.make_linear(coef=("a", 1.0), rng=0), TypeError, "make_linear", "coef"),
    ("make_moons-n1", lambda: data.make_moons(1, rng=0), ValueError, "make_moons", "n_samples"),
    ("make_moons-noise", lambda: data.make_moons(noise=-1, rng=0), ValueError, "make_moons", "noise"),
    ("make_circles-factor", lambda: data.make_circles(factor=1, rng=0), ValueError, "make_circles", "factor"),
    ("make_spirals-classes", lambda: data.make_spirals(n_classes=1, rng=0), ValueError, "make_spirals",
     "n_classes"),
    ("train_val_split-fraction", lambda: data.train_val_split(X, Y, 1.0, rng=0), ValueError, "train_val_split",
     "val_fraction"),
    ("one_hot-classes", lambda: data.one_hot(Y, 0), ValueError, "one_hot", "num_classes"),
    ("one_hot-y-float", lambda: data.one_hot(Y.astype(float), 3), TypeError, "one_hot", "y"),
    ("minibatches-size", lambda: list(data.minibatches(X, Y, 0)), ValueError, "minibatches", "batch_size"),
    ("shift_images-max_shift", lambda: data.shift_images(np.ones((2, 8, 8)), -1, rng=0), ValueError,
     "shift_images", "max_shift"),
    ("augment_digits-copies", lambda: data.augment_digits(np.ones((2, 64)), Y[:2], -1, rng=0), ValueError,
     "augment_digits", "copies"),
    ("add_noise-std", lambda: data.add_noise(X, -1, rng=0), ValueError, "add_noise", "std"),
    ("load_diabetes-features", lambda: data.load_diabetes(("foo",)), ValueError, "load_diabetes", "features"),
    ("StandardScaler-unfitted", _scaler_unfitted, RuntimeError, "StandardScaler.transform", "fit"),
    # --- surfaces ---
    ("make_path-surface", lambda: surfaces.make_path("valley", SGD, 5, lr=0.1), TypeError, "make_path",
     "surface"),
    ("Rosenbrock-a-huge", lambda: surfaces.Rosenbrock(a=1e200), ValueError, "Rosenbrock", "a"),
    ("surface-grid-n", lambda: surfaces.QuadraticValley().grid(1), ValueError, "QuadraticValley.grid", "n"),
    ("surface-xy-shape", lambda: surfaces.Rosenbrock()(np.ones(3)), ValueError, "Rosenbrock", "xy"),
    ("descend-steps", lambda: surfaces.make_path(surfaces.Saddle(), SGD, -1, lr=0.1), ValueError, "", "steps"),
    ("make_path-class-instance", lambda: surfaces.make_path(surfaces.Saddle(), _opt(), 5), TypeError, "make_path",
     "optimizer_cls"),
]


@pytest.mark.parametrize("call, error, where, argument", [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_input_gets_a_clear_error(call, error, where, argument):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert message.startswith(where), f"the message does not start with the function {where!r}: {message}"
    assert argument in message, f"the message does not name the argument {argument!r}: {message}"
    assert "got" in message or "before" in message, f"the message does not say what was received: {message}"


def test_the_table_is_large_and_covers_every_module():
    assert len(BAD) >= 60
    assert len({row[0] for row in BAD}) == len(BAD)  # unique ids


def test_every_public_class_and_function_is_exercised_somewhere_in_the_table():
    # The names of the public callables a learner meets first; each is the `where` of some row.
    wheres = " ".join(row[3] for row in BAD)
    for name in ["Parameter", "Sequential", "Linear", "Dropout", "MaxPool2d", "Flatten", "sigmoid", "softmax",
                 "log_softmax", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "CombinedLoss", "L2Penalty",
                 "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "StepLR", "MultiStepLR", "ExponentialLR",
                 "CosineAnnealingLR", "fit", "evaluate", "predict", "accuracy", "numerical_grad", "gradcheck"]:
        assert name in wheres, name
        assert hasattr(nnlib, name)
