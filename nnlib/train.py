"""The training loop: ``fit`` a model with minibatch gradient descent and keep a ``History``.

One step of training, for each minibatch ``(X_batch, y_batch)``::

    optimizer.zero_grad()                 # forget the last step's gradients
    y_hat = model(X_batch)                # forward pass
    loss = loss_fn(y_hat, y_batch)        # (+ penalty() for L1/L2 regularization)
    model.backward(loss_fn.backward())    # backward pass: fills every p.grad
    optimizer.step()                      # move the parameters

and after each epoch (one pass over the data) the scheduler, if any, changes
the learning rate. ``evaluate``, ``predict`` and ``accuracy`` measure a model
without training it.

numpy only. Progress is shown only in a live notebook, and only for runs
that take longer than about a second (see ``fit``).
"""

import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from nnlib._checks import check_array, check_flag, check_not_class, check_number, check_rng
from nnlib.core import Module, Sequential
from nnlib.layers import Linear
from nnlib.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss

__all__ = ["History", "fit", "evaluate", "predict", "accuracy"]

# A batch loss larger than this many times the first (non-zero) one counts as divergence.
DIVERGENCE_FACTOR = 1e6


@dataclass(repr=False)
class History:
    """What happened during ``fit``: one entry per completed epoch in each list.

    ``train_loss`` is the mean of the minibatch losses over the epoch, each
    weighted by its number of samples; with a ``penalty`` it includes the
    penalty (it is the objective being minimized), and ``train_penalty`` holds
    the penalty part, so ``train_loss[i] - train_penalty[i]`` compares with
    ``val_loss[i]`` (which never includes the penalty).
    ``train_acc`` is measured on the same minibatches, before each step.
    ``val_loss``/``val_acc`` are measured after the epoch in eval mode.
    ``lr`` is the learning rate used during the epoch (read before the
    scheduler steps). Lists that do not apply stay empty.

    ``grad_norms`` (with ``record_grad_norms=True``) holds one array per
    epoch, one entry per layer named in ``grad_norm_names``.

    If training blew up, ``diverged`` is True, ``diverged_at`` is the epoch
    (counting from 0) in which it happened and ``diverged_step`` the minibatch
    step (counting from 0 over the whole run) whose loss was bad (or, when only
    the validation loss was, the epoch's last step); that unfinished epoch is
    not recorded, so ``epochs == diverged_at``. ``diverged_reason`` is a
    sentence naming the likeliest cause (see ``fit``).
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    grad_norm_names: list = field(default_factory=list)
    train_penalty: list = field(default_factory=list)
    diverged: bool = False
    diverged_at: int | None = None
    diverged_step: int | None = None
    diverged_reason: str | None = None

    @property
    def epochs(self):
        """The number of completed epochs."""
        return len(self.train_loss)

    def best_epoch(self, metric="val_loss"):
        """The epoch (from 0) with the lowest loss, or highest accuracy, for ``metric``.

        Use it for early stopping: train long, then keep the epoch where the
        validation loss was lowest.
        """
        if metric not in ("train_loss", "val_loss", "train_acc", "val_acc"):
            raise ValueError(
                f"History.best_epoch: metric must be one of train_loss, val_loss, train_acc, val_acc; got {metric!r}"
            )
        values = getattr(self, metric)
        if not values:
            raise ValueError(f"History.best_epoch: no {metric} was recorded (was val= given to fit?)")
        values = np.asarray(values, dtype=np.float64)
        return int(np.nanargmax(values) if metric.endswith("acc") else np.nanargmin(values))

    def __repr__(self):
        parts = [f"epochs={self.epochs}"]
        for name in ("train_loss", "val_loss", "train_acc", "val_acc"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name}={values[-1]:.4g}")
        if self.diverged:
            parts.append(f"diverged_at={self.diverged_at}")
        return "History(" + ", ".join(parts) + ")"


# --- modes -----------------------------------------------------------------------
def _modules(model):
    """The model and every sub-module, depth first."""
    found, stack = [], [model]
    while stack:
        module = stack.pop()
        found.append(module)
        stack.extend(module.children())
    return found


def _save_modes(model):
    return [(m, m.training) for m in _modules(model)]


def _restore_modes(saved):
    for module, training in saved:
        module.training = training


# --- no gradient for the data ----------------------------------------------------
def _first_linear(model):
    """The Linear layer that reads the data: ``model`` itself, or the first layer of a Sequential, else None."""
    first = model
    while isinstance(first, Sequential) and len(first) > 0:
        first = first[0]
    return first if isinstance(first, Linear) else None


# --- checks ------------------------------------------------------------------------
def _all_finite(y_hat):
    """Whether a model output (an array, or a list of arrays for a multi-head model) is finite."""
    if isinstance(y_hat, (list, tuple)):
        return all(_all_finite(part) for part in y_hat)
    return bool(np.isfinite(y_hat).all())


def _accuracy_kind(loss_fn):
    if isinstance(loss_fn, CrossEntropyLoss):
        return "multiclass"
    if isinstance(loss_fn, BCEWithLogitsLoss):
        return "binary"
    return None


def _check_model(where, model):
    check_not_class(where, "model", model, "Sequential(...)")
    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be an nnlib Module (e.g. a Sequential), got {type(model).__name__}")


def _check_loss_fn(where, loss_fn):
    check_not_class(where, "loss_fn", loss_fn, "CrossEntropyLoss()")
    if not (callable(loss_fn) and callable(getattr(loss_fn, "backward", None))):
        raise TypeError(
            f"{where}: loss_fn must be a loss such as MSELoss() or CrossEntropyLoss() "
            f"(callable, with backward()), got {type(loss_fn).__name__}"
        )


def _check_data(where, X, y, loss_fn, x_name="X", y_name="y"):
    """Check X and y once, before training, against what the loss expects.

    ``y`` may be a list of arrays (one per output of a multi-head model, for
    ``CombinedLoss``); each then needs one row per row of X.
    """
    check_array(where, x_name, X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{where}: {x_name} must have at least one row, got shape {X.shape}")
    if isinstance(y, list) and getattr(loss_fn, "losses", None) is None:  # e.g. y.tolist() by mistake
        raise TypeError(f"{where}: {y_name} must be a numpy array, got a list (a list of target arrays is only "
                        f"for a CombinedLoss, one per head); convert it with np.asarray({y_name})")
    if isinstance(y, list):
        if not y:
            raise ValueError(f"{where}: {y_name} must not be an empty list")
        parts = getattr(loss_fn, "losses", None)
        if parts is not None and len(parts) != len(y):
            raise ValueError(f"{where}: {y_name} must hold one target array per loss ({len(parts)}), got {len(y)}")
        for k, part in enumerate(y):
            _check_data(where, X, part, None if parts is None else parts[k], x_name, f"{y_name}[{k}]")
        return
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: {y_name} must be a numpy array, got {type(y).__name__}")
    if y.ndim < 1 or y.shape[0] != X.shape[0]:
        got = "a 0-d array" if y.ndim < 1 else f"{y.shape[0]}"
        raise ValueError(f"{where}: {y_name} must have one entry per row of {x_name} ({X.shape[0]}), got {got}")
    if isinstance(loss_fn, CrossEntropyLoss):
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(
                f"{where}: {y_name} must hold integer class labels for CrossEntropyLoss, got dtype {y.dtype}"
            )
        if y.ndim != 1:
            raise ValueError(f"{where}: {y_name} must have shape (N,) for CrossEntropyLoss, got {y.shape}")
        if y.min() < 0:
            raise ValueError(f"{where}: {y_name} must hold class labels >= 0, got label {y.min()}")
    elif isinstance(loss_fn, BCEWithLogitsLoss):
        if y.dtype.kind not in "biuf":
            raise TypeError(
                f"{where}: {y_name} must hold 0/1 labels or probabilities for BCEWithLogitsLoss, got dtype {y.dtype}"
            )
        check_array(where, y_name, y, floating=False)
        if y.min() < 0 or y.max() > 1:
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"{where}: {y_name} must hold targets in [0, 1] for BCEWithLogitsLoss, got {bad}")
    elif isinstance(loss_fn, MSELoss):
        check_array(where, y_name, y)
    elif np.issubdtype(y.dtype, np.inexact) and not np.isfinite(y).all():
        raise ValueError(f"{where}: {y_name} must be finite, got an array containing NaN or inf")


# --- accuracy ------------------------------------------------------------------------
def _count_correct(kind, y_hat, y):
    """(number correct, number counted) for one batch; no checks (fit's inner loop)."""
    if kind == "multiclass":
        return int(np.count_nonzero(y_hat.argmax(axis=1) == y)), y.shape[0]
    if y_hat.shape != y.shape:
        y_hat = y_hat.reshape(y.shape)
    return int(np.count_nonzero((y_hat > 0) == (y > 0.5))), y.size


def accuracy(logits, y):
    """The fraction of correct predictions.

    * logits of shape (N, C), C ≥ 2: the prediction is the class with the
      largest logit (argmax); ``y`` holds integer labels (N,) (or one-hot rows).
    * logits of shape (N,) or (N, 1): binary; the prediction is 1 where the
      logit is > 0 (probability > 0.5); ``y`` holds 0/1 (or probabilities,
      read as 1 where > 0.5).
    """
    where = "accuracy"
    check_array(where, "logits", logits, finite=False)
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y must be a numpy array, got {type(y).__name__}")
    if logits.ndim == 0 or y.ndim == 0 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"{where}: y must have one entry per row of logits {logits.shape}, got shape {y.shape}")
    if logits.shape[0] == 0:  # as scikit-learn: the fraction correct of no predictions is undefined
        raise ValueError(f"{where}: logits must hold at least one prediction, got shape {logits.shape}")
    if logits.ndim == 2 and logits.shape[1] > 1:
        if y.ndim == 2 and y.shape == logits.shape:
            y = y.argmax(axis=1)
        if y.ndim != 1:
            raise ValueError(
                f"{where}: y must have shape (N,) of labels for logits of shape {logits.shape}, got {y.shape}"
            )
        return float(np.mean(logits.argmax(axis=1) == y))
    if logits.size != y.size:
        raise ValueError(
            f"{where}: y must have {logits.size} entries to match binary logits {logits.shape}, got {y.shape}"
        )
    return float(np.mean((logits.reshape(-1) > 0) == (y.reshape(-1) > 0.5)))


# --- evaluation ------------------------------------------------------------------------
def _evaluate(model, loss_fn, X, y, kind, diverging_ok=False):
    saved = _save_modes(model)
    model.eval()
    try:
        y_hat = model(X)
        try:
            loss = float(loss_fn(y_hat, y))
        except ValueError:  # nnlib's losses refuse non-finite outputs
            if not diverging_ok or _all_finite(y_hat):
                raise
            return math.nan, None
    finally:
        _restore_modes(saved)
    if kind is None:
        return loss, None
    correct, total = _count_correct(kind, y_hat, y)
    return loss, correct / total


def evaluate(model, loss_fn, X, y):
    """Return ``(loss, accuracy)`` of ``model`` on ``(X, y)``, computed in eval mode.

    Accuracy is given for ``CrossEntropyLoss`` (argmax) and ``BCEWithLogitsLoss``
    (logit > 0), and is ``None`` for other losses. The model's previous
    train/eval mode is restored afterwards, and no parameter or gradient changes.
    """
    where = "evaluate"
    _check_model(where, model)
    _check_loss_fn(where, loss_fn)
    _check_data(where, X, y, loss_fn)
    return _evaluate(model, loss_fn, X, y, _accuracy_kind(loss_fn))


def predict(model, X):
    """Return ``model(X)`` computed in eval mode (dropout off), restoring the mode afterwards.

    For a classifier these are logits: ``predict(model, X).argmax(axis=1)``
    gives the predicted classes.
    """
    where = "predict"
    _check_model(where, model)
    check_array(where, "X", X)
    saved = _save_modes(model)
    model.eval()
    try:
        return model(X)
    finally:
        _restore_modes(saved)


# --- gradient norms ------------------------------------------------------------------------
def _grad_norm_groups(model):
    """Parameters grouped by layer: each module in ``model.layers`` that has any."""
    layers = getattr(model, "layers", None)
    modules = list(layers) if isinstance(layers, (list, tuple)) else [model]
    groups, names = [], []
    for i, module in enumerate(modules):
        params = module.parameters() if isinstance(module, Module) else []
        if params:
            groups.append(params)
            names.append(f"{i}: {type(module).__name__}")
    return groups, names


# --- progress ------------------------------------------------------------------------------
def _kernel_running():
    """True when an IPython kernel runs this code (never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # a half-imported or unusual IPython
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _live_notebook():
    if os.environ.get("NNLIB_BUILD"):
        return False
    if os.environ.get("NNLIB_PROGRESS") == "0":
        return False
    if not _kernel_running():
        return False
    return type(sys.stdout).__module__.startswith("ipykernel")


class _Progress:
    """One line of text, updated in place: a display in a notebook, a '\\r' line elsewhere."""

    def __init__(self, epochs, delay, notebook):
        self.epochs = epochs
        self.delay = delay
        self.notebook = notebook
        self.start = time.perf_counter()
        self.last = -math.inf
        self.handle = None
        self.shown = False

    def _show(self, text, final=False):
        if self.notebook:
            from IPython.display import Pretty, display

            if self.handle is None:
                self.handle = display(Pretty(text), display_id=True)
            else:
                self.handle.update(Pretty(text))
        else:
            sys.stderr.write("\r" + text + ("\n" if final else ""))
            sys.stderr.flush()
        self.shown = True

    def tick(self, epoch, batch, n_batches, history):
        now = time.perf_counter()
        if now - self.start < self.delay or now - self.last < 0.25:
            return
        self.last = now
        text = f"epoch {epoch + 1}/{self.epochs}  batch {batch}/{n_batches}{_latest(history, '  ')}"
        self._show(text + f"  ({now - self.start:.1f} s)")

    def finish(self, history):
        elapsed = time.perf_counter() - self.start
        if elapsed < self.delay and not self.shown:
            return
        if history.diverged:
            text = (f"diverged in epoch {history.diverged_at} (step {history.diverged_step}) after {elapsed:.1f} s: "
                    f"{history.diverged_reason}")
        else:
            text = f"done: {history.epochs} epochs in {elapsed:.1f} s{_latest(history, ', ')}"
        self._show(text, final=True)


def _latest(history, sep):
    """The latest recorded losses and accuracy, e.g. ``"  train_loss 0.1  val_loss 0.2"``."""
    parts = [f"{name} {values[-1]:{fmt}}" for name, values, fmt in
             (("train_loss", history.train_loss, ".4g"), ("val_loss", history.val_loss, ".4g"),
              ("val_acc", history.val_acc, ".3f")) if values]
    return "".join(sep + part for part in parts)


def _make_progress(progress, epochs):
    if progress is None:
        return _Progress(epochs, delay=1.0, notebook=True) if _live_notebook() else None
    if progress:
        return _Progress(epochs, delay=0.0, notebook=_kernel_running())
    return None


# --- fit: argument checks -------------------------------------------------------------------
def _check_fit_args(model, loss_fn, optimizer, X, y, epochs, batch_size, scheduler, val, rng, penalty, shuffle,
                    progress):
    """Check every argument of ``fit`` before any work; return ``(epochs, batch_size, rng)``, normalised."""
    where = "fit"
    _check_model(where, model)
    _check_loss_fn(where, loss_fn)
    check_not_class(where, "optimizer", optimizer, "SGD(model.parameters(), lr=0.1)")
    for name in ("step", "zero_grad"):
        if not callable(getattr(optimizer, name, None)):
            raise TypeError(
                f"{where}: optimizer must be an optimizer such as SGD(...) (with {name}()), "
                f"got {type(optimizer).__name__}"
            )
    if scheduler is not None:
        check_not_class(where, "scheduler", scheduler, "StepLR(optimizer, step_size=10)")
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(
                f"{where}: scheduler must be a scheduler such as StepLR(...) or None, got {type(scheduler).__name__}"
            )
    if penalty is not None:
        check_not_class(where, "penalty", penalty, "L2Penalty(model.parameters(), lam=1e-3)")
        if not (callable(penalty) and callable(getattr(penalty, "backward", None))):
            raise TypeError(
                f"{where}: penalty must be a penalty such as L2Penalty(...) or None, got {type(penalty).__name__}"
            )
    _check_data(where, X, y, loss_fn)
    epochs = check_number(where, "epochs", epochs, low=1, integer=True)
    batch_size = check_number(where, "batch_size", batch_size, low=1, integer=True)
    if val is not None:
        if not (isinstance(val, tuple) and len(val) == 2):
            raise TypeError(f"{where}: val must be a tuple (X_val, y_val) or None, got {type(val).__name__}")
        _check_data(where, val[0], val[1], loss_fn, "X_val", "y_val")
    shuffle = check_flag(where, "shuffle", shuffle)
    if progress is not None:
        check_flag(where, "progress", progress)
    if shuffle or rng is not None:
        rng = check_rng(where, rng)
    return epochs, batch_size, rng


# --- fit: divergence ----------------------------------------------------------------------
class _DivergenceWatch:
    """Decides whether a batch loss means training has blown up, and why.

    The loss may not be NaN or inf, and not more than ``DIVERGENCE_FACTOR``
    times the first non-zero batch loss (the reference).
    """

    def __init__(self):
        self.reference = 0.0  # first non-zero batch loss; the size test starts once it is known
        self.limit = math.inf

    def blew_up(self, loss):
        """True if ``loss`` means divergence; otherwise it may become the reference."""
        if not math.isfinite(loss) or abs(loss) > self.limit:
            return True
        if self.reference == 0.0 and loss != 0.0:
            self.reference = abs(loss)
            self.limit = DIVERGENCE_FACTOR * self.reference
        return False

    def cause(self, model, optimizer, loss, y_hat, last_loss):
        """A sentence naming the likeliest cause of a bad ``loss``.

        ``y_hat``: the batch's outputs (None for the validation loss); ``last_loss``: the last
        accepted batch loss (None before the first step).
        """
        if math.isfinite(loss):
            return (f"the loss grew to {loss:.3g}, more than {DIVERGENCE_FACTOR:.0e} times the first batch loss "
                    f"({self.reference:.3g}): the steps overshoot, usually because the learning rate is too high")
        if not all(np.isfinite(p.data).all() for p in model.parameters()):
            if last_loss is None:
                return "the parameters were NaN or inf before the first step"
            # Gradients flow into the optimizer's state (moments, sums, momentum): if that is finite, the
            # gradients were, and the NaN came from the update's own arithmetic.
            state = [v for st in getattr(optimizer, "state", {}).values() for v in st.values()
                     if isinstance(v, np.ndarray)]
            if state and all(np.isfinite(v).all() for v in state):
                return (f"the optimizer's last step turned finite gradients and a finite loss ({last_loss:.3g}) "
                        "into NaN or inf parameters: a numerical failure inside the update (such as 0/0), "
                        "not a learning rate that is too high")
            return (f"a parameter became NaN or inf in the last step although its loss was finite ({last_loss:.3g}): "
                    "the gradient or the update overflowed")
        if y_hat is None or not _all_finite(y_hat):
            return ("the model's outputs overflowed to NaN or inf: the weights grew too large, usually because "
                    "the learning rate is too high")
        return "the loss is NaN or inf although the model's outputs are finite: check the targets and the loss"


def _stop(history, epoch, step, reason):
    history.diverged = True
    history.diverged_at = epoch
    history.diverged_step = step
    history.diverged_reason = reason


# --- fit: one epoch -----------------------------------------------------------------------------
@dataclass
class _Run:
    """What carries over from epoch to epoch: steps taken, the last finite batch loss, the progress display."""

    reporter: object = None
    step: int = 0
    last_loss: float | None = None


@dataclass
class _EpochSums:
    """What one epoch adds up: sample-weighted losses and penalties, correct predictions, gradient norms."""

    loss: float = 0.0
    penalty: float = 0.0
    correct: int = 0
    counted: int = 0
    norms: np.ndarray | None = None


def _one_epoch(model, loss_fn, optimizer, X, y, batch_size, penalty, kind, groups, watch, run, epoch, history):
    """Train on every batch of ``(X, y)`` in order; return the ``_EpochSums``, or None if training blew up.

    ``run`` (a ``_Run``) counts the steps of the whole run and keeps the last finite batch loss.
    """
    multi = isinstance(y, list)
    n = X.shape[0]
    sums = _EpochSums(norms=np.zeros(len(groups)) if groups is not None else None)
    for batch, start in enumerate(range(0, n, batch_size)):
        X_batch = X[start : start + batch_size]
        y_batch = [t[start : start + batch_size] for t in y] if multi else y[start : start + batch_size]
        size = X_batch.shape[0]

        optimizer.zero_grad()
        y_hat = model(X_batch)
        try:
            loss = float(loss_fn(y_hat, y_batch))
        except ValueError:  # nnlib's losses refuse non-finite outputs: that is divergence
            if _all_finite(y_hat):
                raise
            loss = math.nan
        if penalty is not None:
            penalty_value = float(penalty())
            loss += penalty_value
            sums.penalty += penalty_value * size
        if watch.blew_up(loss):
            _stop(history, epoch, run.step, watch.cause(model, optimizer, loss, y_hat, run.last_loss))
            return None
        if kind is not None:
            c, t = _count_correct(kind, y_hat, y_batch)
            sums.correct += c
            sums.counted += t
        model.backward(loss_fn.backward())
        if penalty is not None:
            penalty.backward()
        if groups is not None:
            for i, params in enumerate(groups):
                sums.norms[i] += math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params))
        optimizer.step()
        sums.loss += loss * size
        run.step += 1
        run.last_loss = loss
        if run.reporter is not None:
            run.reporter.tick(epoch, batch + 1, -(-n // batch_size), history)
    return sums


# --- fit: bookkeeping ------------------------------------------------------------------------
def _record_epoch(history, sums, lr, n, n_batches, penalty, kind):
    """Append one finished epoch's numbers to ``history`` (validation numbers are appended by ``fit``)."""
    history.lr.append(lr)
    history.train_loss.append(sums.loss / n)
    if penalty is not None:
        history.train_penalty.append(sums.penalty / n)
    if kind is not None:
        history.train_acc.append(sums.correct / sums.counted)
    if sums.norms is not None:
        history.grad_norms.append(sums.norms / n_batches)


class _TrainingMode:
    """``with _TrainingMode(model):`` train mode and no data gradient inside; the old modes restored after."""

    def __init__(self, model):
        self.model = model
        self.first = _first_linear(model)

    def __enter__(self):
        self.saved = _save_modes(self.model)
        self.saved_input_grad = self.first.input_grad if self.first is not None else None
        self.model.train()
        if self.first is not None:
            self.first.input_grad = False  # no gradient for the data (see fit's docstring)

    def __exit__(self, *exc):
        _restore_modes(self.saved)
        if self.first is not None:
            self.first.input_grad = self.saved_input_grad
        return False


def _shuffled(X, y, rng):
    """``(X, y)`` with their rows in one new random order (each target array of a list alike)."""
    order = rng.permutation(X.shape[0])
    y_epoch = [t.take(order, axis=0) for t in y] if isinstance(y, list) else y.take(order, axis=0)
    return X.take(order, axis=0), y_epoch


# --- fit ------------------------------------------------------------------------------------
def fit(
    model,
    loss_fn,
    optimizer,
    X,
    y,
    epochs,
    batch_size,
    *,
    scheduler=None,
    val=None,
    rng,
    penalty=None,
    record_grad_norms=False,
    shuffle=True,
    progress=None,
):
    """Train ``model`` on ``(X, y)`` with minibatches; return a ``History``.

    Each epoch visits every sample once, in a fresh random order drawn from
    ``rng`` (unless ``shuffle=False``), in batches of ``batch_size`` (the last
    one may be smaller). For each batch::

        optimizer.zero_grad()
        y_hat = model(X_batch)
        loss = loss_fn(y_hat, y_batch) + penalty()     # penalty only if given
        model.backward(loss_fn.backward())
        penalty.backward()                             # only if given
        optimizer.step()

    After each epoch: record the learning rate used (``optimizer.lr``), then
    ``scheduler.step()``; if ``val=(X_val, y_val)`` is given, measure the
    validation loss (and accuracy) with ``evaluate`` in eval mode.

    ``record_grad_norms=True`` records, for each layer of ``model.layers`` that
    has parameters, the norm of the gradient of all its parameters together
    (weight and bias: sqrt(Σ grad²)), as the optimizer sees it (penalty
    included), averaged over the epoch's batches.

    Divergence: if a batch loss is NaN or inf (or the model's outputs are), or
    more than 1e6 times the first non-zero batch loss, training stops before
    that batch's step and ``history.diverged`` is set; the same happens if the
    validation loss after an epoch is not finite. The unfinished epoch is not
    recorded, and no numpy warning is emitted. ``history.diverged_reason``
    says what was seen: a loss that grew (steps too large), outputs that
    overflowed, or parameters turned NaN by the optimizer's update from a
    finite loss (a numerical failure such as 0/0, not a learning rate that
    is too high).

    ``progress``: ``None`` (default) shows a one-line progress display only in a
    live notebook (not during a book build, i.e. when the environment variable
    ``NNLIB_BUILD`` is set, nor when ``NNLIB_PROGRESS=0``), and only once the run
    has taken more than a second. ``True`` always shows it, ``False`` never.

    Like PyTorch, ``fit`` computes no gradient for the input data: nothing
    uses dL/dX, so while it trains, the Linear layer that reads X (the model
    itself, or the first layer of a Sequential) has ``input_grad = False``,
    which skips the product G @ W in its backward pass.

    The model's train/eval modes, and that layer's ``input_grad``, are
    restored when ``fit`` returns.
    """
    epochs, batch_size, rng = _check_fit_args(model, loss_fn, optimizer, X, y, epochs, batch_size, scheduler,
                                              val, rng, penalty, shuffle, progress)
    kind = _accuracy_kind(loss_fn)
    history = History()
    groups = None
    if record_grad_norms:
        groups, history.grad_norm_names = _grad_norm_groups(model)
    n = X.shape[0]
    n_batches = -(-n // batch_size)
    watch = _DivergenceWatch()
    run = _Run(reporter=_make_progress(progress, epochs))
    with _TrainingMode(model), np.errstate(all="ignore"):
        for epoch in range(epochs):
            X_epoch, y_epoch = _shuffled(X, y, rng) if shuffle else (X, y)
            sums = _one_epoch(model, loss_fn, optimizer, X_epoch, y_epoch, batch_size, penalty, kind, groups,
                              watch, run, epoch, history)
            if sums is None:
                break
            lr = float(optimizer.lr)  # the rate used in this epoch
            if val is not None:
                val_loss, val_acc = _evaluate(model, loss_fn, val[0], val[1], kind, diverging_ok=True)
                if not math.isfinite(val_loss):  # the last step of the epoch blew up
                    _stop(history, epoch, run.step - 1,
                          "the validation loss after this epoch is NaN or inf: "
                          + watch.cause(model, optimizer, val_loss, None, run.last_loss))
                    break
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_acc.append(val_acc)
            if scheduler is not None:
                scheduler.step()
            _record_epoch(history, sums, lr, n, n_batches, penalty, kind)
    if run.reporter is not None:
        run.reporter.finish(history)
    return history
