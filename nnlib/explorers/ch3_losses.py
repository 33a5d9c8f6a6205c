"""Chapter 3 explorers: softmax with a temperature, and the loss weight of a two-task network.

``softmax_bars(scores, temperature)`` draws a preset score vector next to
its softmax at that temperature. ``tradeoff(alpha)`` shows what the loss
weight α does to a network with a shared trunk and two heads, trained on

    L = (1 - α) · CE(digit class) + α · MSE(mean ink),

with validation curves of both tasks and the trade-off front of all α.

The pieces are public so the lesson and the tests can use them:

* ``SCORE_PRESETS``: the named score vectors of the softmax explorer;
* ``sharpness(p)``: top-two margin and ratio, and normalised entropy of a distribution;
* ``load_task_data()``: the 8×8 digits scaled to [0, 1], split 70/30, with the
  standardised mean ink as the second target (cached);
* ``TwoHeadNet``: trunk ``Linear → Tanh`` and two linear heads;
* ``train_two_task(alpha, seed)``: one cached training run (a ``TwoTaskRun``);
* ``alpha_sweep()``: the runs for every α of ``ALPHAS`` and seeds ``SEEDS`` (cached).

Speed: a run is ``EPOCHS`` epochs of Adam on minibatches of ``BATCH_SIZE``
(about 0.1 s); the whole sweep is computed once, on the first call, and the
explorer then only draws. Plots use linear axes or fixed tick labels (a
logarithmic axis's default labels cost ~15 ms per draw).
"""

import functools
from dataclasses import dataclass

import numpy as np

from .. import data, plots
from .._checks import check_number, check_rng
from ..activations import Tanh
from ..core import Module, Sequential
from ..layers import Linear
from ..losses import CombinedLoss, CrossEntropyLoss, MSELoss, softmax
from ..optim import Adam
from ..widgets import Choice, Slider, explorer

__all__ = [
    "SCORE_PRESETS",
    "TEMPERATURES",
    "ALPHAS",
    "SEEDS",
    "EPOCHS",
    "BATCH_SIZE",
    "TRUNK_WIDTH",
    "sharpness",
    "TaskData",
    "load_task_data",
    "TwoHeadNet",
    "TwoTaskRun",
    "train_two_task",
    "alpha_sweep",
    "softmax_bars",
    "tradeoff",
]

#: Named score vectors for the softmax explorer.
SCORE_PRESETS = {
    "notes: [1, 2, 3, 4, 1, 2]": (1.0, 2.0, 3.0, 4.0, 1.0, 2.0),
    "Wikipedia: [1, 2, 3, 4, 1, 2, 3]": (1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0),
    "close: [0.4, 0.3, 0.2, 0.1]": (0.4, 0.3, 0.2, 0.1),
    "clear winner: [6, 2, 1, 0]": (6.0, 2.0, 1.0, 0.0),
    "near tie: [3, 2.8, 1, 0]": (3.0, 2.8, 1.0, 0.0),
    "large: [1000, 1001, 1002]": (1000.0, 1001.0, 1002.0),
}

#: Temperatures of the softmax explorer.
TEMPERATURES = [0.2, 0.5, 1.0, 2.0, 5.0]

#: Loss weights α of the second task (mean ink) in the two-task sweep.
ALPHAS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

#: Seeds of the two-task sweep (initial weights and minibatch order).
SEEDS = (0, 1)

#: Training length and batch size of a two-task run.
EPOCHS = 30
BATCH_SIZE = 128

#: Units in the shared trunk: few, so that the two tasks compete for them.
TRUNK_WIDTH = 4

_LR = 0.02


def sharpness(p):
    """How decisive a distribution is: ``(margin, ratio, entropy)`` along the last axis.

    margin = p_(1) - p_(2) (largest minus second largest), ratio = p_(1) / p_(2),
    entropy = -Σ p log p / log K, normalised to [0, 1] (1 = uniform over K entries).
    Works on one vector (K,) or on rows (..., K).
    """
    p = np.asarray(p, dtype=np.float64)
    top = np.sort(p, axis=-1)[..., ::-1]
    margin = top[..., 0] - top[..., 1]
    with np.errstate(divide="ignore"):
        ratio = np.where(top[..., 1] > 0, top[..., 0] / np.where(top[..., 1] > 0, top[..., 1], 1), np.inf)
    logs = np.log(np.where(p > 0, p, 1.0))  # 0 log 0 = 0
    entropy = -(p * logs).sum(axis=-1) / np.log(p.shape[-1])
    return margin, ratio, entropy


# --- the two-task problem ---------------------------------------------------------------


@dataclass(frozen=True)
class TaskData:
    """Digits scaled to [0, 1], split 70/30; ``ink`` is the standardised mean pixel value, shape (N, 1)."""

    X_train: np.ndarray
    y_train: np.ndarray
    ink_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    ink_val: np.ndarray


@functools.lru_cache(maxsize=None)
def load_task_data(seed=0):
    """The two-task data set: 1257 training and 540 validation digits (cached, read-only arrays).

    Task a: the digit class y (0 … 9). Task b: the image's mean ink (the mean
    of its 64 pixel values), standardised with the training mean and standard
    deviation, so that predicting the training mean gives an MSE of about 1.
    """
    X, y = data.load_digits()
    X = X / 16.0
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, 0.3, rng=np.random.default_rng(seed))
    ink_train, ink_val = X_train.mean(axis=1), X_val.mean(axis=1)
    mean, std = ink_train.mean(), ink_train.std()
    arrays = [X_train, y_train, ((ink_train - mean) / std)[:, None],
              X_val, y_val, ((ink_val - mean) / std)[:, None]]
    for a in arrays:
        a.setflags(write=False)
    return TaskData(*arrays)


class TwoHeadNet(Module):
    """A shared trunk with two heads: ``forward(x)`` returns ``[logits (N, 10), ink (N, 1)]``.

    trunk:  h = tanh(x W_t^T + b_t)           (N, width)
    head a: z_a = h W_a^T + b_a               (N, 10), digit-class logits
    head b: z_b = h W_b^T + b_b               (N, 1), mean-ink prediction

    backward([g_a, g_b]): both heads send a gradient into h, and they add up,

        dL/dh = head_a.backward(g_a) + head_b.backward(g_b),

    which the trunk then back-propagates. Returns dL/dx.
    """

    def __init__(self, in_features=64, width=TRUNK_WIDTH, n_classes=10, *, rng):
        rng = check_rng("TwoHeadNet", rng)
        self.trunk = Sequential(Linear(in_features, width, rng=rng), Tanh())
        self.head_a = Linear(width, n_classes, rng=rng)
        self.head_b = Linear(width, 1, rng=rng)

    def forward(self, x):
        h = self.trunk(x)
        return [self.head_a(h), self.head_b(h)]

    def backward(self, grads):
        g_a, g_b = grads
        return self.trunk.backward(self.head_a.backward(g_a) + self.head_b.backward(g_b))


@dataclass(frozen=True)
class TwoTaskRun:
    """One trained ``TwoHeadNet`` and its validation metrics after each epoch."""

    alpha: float
    seed: int
    model: TwoHeadNet
    val_acc: np.ndarray  # digit-class accuracy, (EPOCHS,)
    val_ce: np.ndarray  # digit-class cross-entropy, (EPOCHS,)
    val_mse: np.ndarray  # mean-ink MSE (standardised units), (EPOCHS,)


def train_two_task(alpha, seed=0, epochs=EPOCHS, width=TRUNK_WIDTH):
    """Train a ``TwoHeadNet`` on L = (1 - α) CE + α MSE; cached by the arguments.

    Adam (lr 0.02), minibatches of ``BATCH_SIZE`` in an order drawn from
    ``seed``, which also seeds the initial weights. Validation metrics of both
    tasks are measured after every epoch. Do not train the returned model further.
    """
    alpha = check_number("train_two_task", "alpha", alpha, low=0, high=1)
    return _train(float(alpha), int(seed), int(epochs), int(width))


@functools.lru_cache(maxsize=256)
def _train(alpha, seed, epochs, width):
    d = load_task_data()
    rng = np.random.default_rng(seed)
    model = TwoHeadNet(width=width, rng=rng)
    model.trunk[0].input_grad = False  # nothing needs dL/dx of the data
    loss_fn = CombinedLoss([CrossEntropyLoss(), MSELoss()], weights=[1 - alpha, alpha])
    ce, mse = CrossEntropyLoss(), MSELoss()
    optimizer = Adam(model.parameters(), lr=_LR)
    n = d.X_train.shape[0]
    acc_curve, ce_curve, mse_curve = [], [], []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            loss_fn(model(d.X_train[batch]), [d.y_train[batch], d.ink_train[batch]])
            model.backward(loss_fn.backward())
            optimizer.step()
        z_a, z_b = model(d.X_val)
        acc_curve.append(float(np.mean(z_a.argmax(axis=1) == d.y_val)))
        ce_curve.append(ce(z_a, d.y_val))
        mse_curve.append(mse(z_b, d.ink_val))
    return TwoTaskRun(alpha, seed, model, np.array(acc_curve), np.array(ce_curve), np.array(mse_curve))


@functools.lru_cache(maxsize=None)
def alpha_sweep(alphas=tuple(ALPHAS), seeds=SEEDS):
    """``{(alpha, seed): TwoTaskRun}`` for every α in ``alphas`` and seed in ``seeds`` (computed once)."""
    return {(a, s): train_two_task(a, s) for a in alphas for s in seeds}


# --- explorer: softmax with a temperature -----------------------------------------------


def _bars(ax, values, color, ylabel):
    k = len(values)
    ax.bar(np.arange(k), values, color=color, width=0.7)
    ax.set_xticks(np.arange(k), [str(i) for i in range(k)])
    ax.set_xlabel("class k")
    ax.set_ylabel(ylabel)


@explorer("ch3.softmax_bars", alt="Bar charts of a score vector and of its softmax at a temperature",
          static="product",
          scores=Choice(list(SCORE_PRESETS), default="notes: [1, 2, 3, 4, 1, 2]", label="scores z"),
          temperature=Slider(TEMPERATURES, default=1.0, label="temperature T"))
def softmax_bars(scores="notes: [1, 2, 3, 4, 1, 2]", temperature=1.0):
    """Scores z (left) and p = softmax(z / T) (right), with p's top-two ratio, margin and entropy.

    Where all scores are positive, the right panel also marks the plain
    normalisation z / Σz (hollow diamonds) for comparison.
    """
    z = np.asarray(SCORE_PRESETS[scores], dtype=np.float64)
    p = softmax(z / temperature)
    margin, ratio, entropy = sharpness(p)
    fig, (ax_z, ax_p) = plots.figure(2, width=7.4, height=3.0)
    offset = 1000.0 if z.min() >= 1000 else 0.0  # the "large" preset: draw z - 1000
    shown = z - offset
    _bars(ax_z, shown, plots.COLORS[5], "score z_k - 1000" if offset else "score z_k")
    top = shown.max()  # every preset's maximum is a round number (0.4, 2, 3, 4 or 6)
    ax_z.set_ylim(min(0.0, shown.min()), 1.08 * top)
    ax_z.set_yticks([0, top / 2, top])  # three ticks, not the locator's seven: each tick costs ~1 ms to draw
    _bars(ax_p, p, plots.COLORS[0], f"softmax(z / {temperature:g})_k")
    ax_p.set_ylim(0, 1.45)
    ax_p.set_yticks([0, 0.5, 1])
    ratio_text = f"{ratio:.3g}" if np.isfinite(ratio) else "inf"
    text = f"p1/p2 = {ratio_text},  margin p1 - p2 = {margin:.3f}\nentropy = {entropy:.2f} (1 = uniform)"
    if z.min() > 0:
        ax_p.plot(np.arange(len(z)), z / z.sum(), "D", mfc="none", mec=plots.COLORS[3], ms=6)
        text += ",  \u25c7 = z / sum(z)"
    ax_p.text(0.02, 0.98, text, transform=ax_p.transAxes, ha="left", va="top", fontsize=8)
    return fig


# --- explorer: the loss weight α of two tasks -------------------------------------------


def _front(sweep):
    """Mean and spread (min, max over seeds) of the final validation metrics, per α."""
    alphas = sorted({a for a, _ in sweep})
    acc = np.array([[sweep[a, s].val_acc[-1] for s in SEEDS] for a in alphas])
    mse = np.array([[sweep[a, s].val_mse[-1] for s in SEEDS] for a in alphas])
    return np.array(alphas), acc, mse


_MSE_TICKS = [0.01, 0.1, 1]


@functools.lru_cache(maxsize=1)
def _curves():
    """Per-epoch validation accuracy and log10 MSE, averaged over the seeds: two arrays (len(ALPHAS), EPOCHS)."""
    sweep = alpha_sweep()
    acc = np.array([np.mean([sweep[a, s].val_acc for s in SEEDS], axis=0) for a in ALPHAS])
    mse = np.array([np.log10(np.mean([sweep[a, s].val_mse for s in SEEDS], axis=0)) for a in ALPHAS])
    return acc, mse


@explorer("ch3.tradeoff", alt="Validation curves of a two-task network and the trade-off front over the loss weight",
          alpha=Slider(ALPHAS, default=0.5, label="loss weight α of the ink task"))
def tradeoff(alpha=0.5):
    """Validation accuracy (digit class) and validation MSE (mean ink) per epoch for this α, and the front.

    Thin grey lines: the other α. Right: the final validation metrics of every α
    (mean of the seeds, bars from the smallest to the largest seed); the chosen α is ringed.
    """
    sweep = alpha_sweep()
    alphas, acc, mse = _front(sweep)
    epochs = np.arange(1, EPOCHS + 1)
    fig, (ax_a, ax_b, ax_f) = plots.figure(3, width=10.4, height=3.1)
    curves_a, curves_b = _curves()
    k = int(np.argmin(np.abs(alphas - alpha)))
    others = np.arange(len(alphas)) != k
    gap = np.full((int(others.sum()), 1), np.nan)  # NaN breaks the line: one artist for all other α
    x_grey = np.hstack([np.tile(epochs, (int(others.sum()), 1)), gap]).ravel()
    for ax, curves, color in [(ax_a, curves_a, plots.COLORS[0]), (ax_b, curves_b, plots.COLORS[3])]:
        ax.plot(x_grey, np.hstack([curves[others], gap]).ravel(), color="0.8", lw=0.8)
        ax.plot(epochs, curves[k], color=color, lw=2.2)
    for ax in (ax_a, ax_b):
        ax.set_xticks([0, 10, 20, 30])
    ax_a.set_ylim(0, 1)
    ax_a.set_yticks([0, 0.5, 1])
    ax_a.set_xlabel("epoch")
    ax_a.set_ylabel("validation accuracy (digit class)")
    ax_b.set_xlabel("epoch")
    ax_b.set_ylabel("validation MSE (mean ink)")
    ticks = _MSE_TICKS
    ax_b.set_yticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax_b.set_ylim(np.log10(0.002), np.log10(8))

    x = np.log10(mse.mean(axis=1))
    y = acc.mean(axis=1)
    ax_f.plot(x, y, "o-", color=plots.COLORS[2], ms=4, lw=1)
    ax_f.vlines(x, acc.min(axis=1), acc.max(axis=1), color=plots.COLORS[2], lw=1)  # spread over the seeds
    ax_f.hlines(y, np.log10(mse.min(axis=1)), np.log10(mse.max(axis=1)), color=plots.COLORS[2], lw=1)
    for i in sorted({0, len(alphas) - 1}):
        ax_f.text(x[i], y[i] + 0.03, f"α = {alphas[i]:g}", fontsize=7, ha="center")
    ax_f.plot(x[k], y[k], "o", ms=13, mfc="none", mec=plots.COLORS[3], mew=2)
    ax_f.set_xticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax_f.set_xlim(np.log10(0.002), np.log10(8))
    ax_f.set_ylim(0, 1)
    ax_f.set_yticks([0, 0.5, 1])
    ax_f.set_xlabel("validation MSE, mean ink (lower is better)")
    ax_f.set_ylabel("validation accuracy, digit class")
    ax_a.text(0.97, 0.05, f"α = {alpha:g}: acc {y[k]:.3f}", transform=ax_a.transAxes, ha="right", fontsize=8)
    ax_b.text(0.97, 0.92, f"α = {alpha:g}: MSE {mse.mean(axis=1)[k]:.3g}", transform=ax_b.transAxes,
              ha="right", fontsize=8)
    return fig
