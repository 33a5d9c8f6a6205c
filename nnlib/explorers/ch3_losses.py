"""Chapter 3 explorers: softmax with a temperature, and the loss weight of a two-task network.

``softmax_bars(scores, temperature)`` draws a preset score vector next to
its softmax at that temperature. ``tradeoff(alpha)`` shows what the loss
weight α does to a network with a shared trunk and two heads, trained on

    L = (1 - α) · CE(digit class) + α · MSE(mean ink),

with the validation curves of both tasks per epoch, one line per seed, at
one α, and each seed's path through (ink MSE, digit accuracy) over training
(the lesson's table gives the final values).

The pieces are public so the lesson and the tests can use them:

* ``SCORE_PRESETS``: the named score vectors of the softmax explorer;
* ``sharpness(p)``: top-two margin and ratio, and normalised entropy of a distribution;
* ``load_task_data()``: the 8×8 digits scaled to [0, 1], split 70/30, with the
  standardised mean ink as the second target (cached);
* ``TwoHeadNet``: trunk ``Linear → Tanh`` and two linear heads;
* ``train_two_task(alpha, seed)``: one cached training run (a ``TwoTaskRun``);
* ``alpha_sweep()``: the runs for every α of ``ALPHAS`` and seeds ``SEEDS`` (cached),
  trained all at once by ``_train_many``, a vectorised numpy copy of ``train_two_task``.

Speed: a run is ``EPOCHS`` epochs of Adam on minibatches of ``BATCH_SIZE``;
through the Module loop that is ~0.3 s a run, so the 55 runs of the sweep
are trained together (~3 s on a loaded 2-core machine). The sweep is
computed once, on the first call, and the explorer then only draws. Plots use linear axes or fixed tick labels (a
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
from ..widgets import Choice, Slider, explorer, frame_dpi

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
    "INK_REGIME",
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
SEEDS = (0, 1, 2, 3, 4)

#: Training length and batch size of a two-task run.
EPOCHS = 60
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
    train_loss: np.ndarray | None = None  # (1 - α) CE + α MSE, mean over each epoch's minibatches (alpha_sweep)


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
def alpha_sweep(alphas=tuple(ALPHAS), seeds=SEEDS, epochs=EPOCHS, width=TRUNK_WIDTH):
    """``{(alpha, seed): TwoTaskRun}`` for every α in ``alphas`` and seed in ``seeds`` (computed once).

    The runs are those of ``train_two_task(alpha, seed, epochs, width)`` (the
    same initial weights, minibatch order and Adam steps, equal to ~1e-15), but
    trained all at once by ``_train_many``, a vectorised copy of the same
    maths: 55 runs through the Module loop would take ~20 times longer. Each
    run also records ``train_loss``.
    """
    alphas = tuple(check_number("alpha_sweep", "alphas[]", a, low=0, high=1) for a in alphas)
    seeds = tuple(int(s) for s in seeds)
    if not alphas or not seeds:
        raise ValueError(f"alpha_sweep: alphas and seeds must not be empty, got {alphas!r} and {seeds!r}")
    return _train_many(alphas, seeds, int(epochs), int(width))


def _train_many(alphas, seeds, epochs, width):
    """Train a ``TwoHeadNet`` for every (α, seed) at once, in plain numpy; a dict of ``TwoTaskRun``.

    The same computation as ``_train`` for each run: initial weights from
    ``TwoHeadNet(width, rng)``, minibatch order from the same ``rng``, the
    loss (1 - α) CE + α MSE and its gradient (``CombinedLoss``), back through
    the heads and the tanh trunk (``TwoHeadNet.backward``), and Adam's update
    (``nnlib.optim.Adam``, lr 0.02, betas (0.9, 0.999), eps 1e-8). Arrays carry
    the seeds on the first axis and the α on another; the trunk of every α of
    one seed is one matrix product, (batch, 64) @ (64, α × width).
    """
    d = load_task_data()
    n_alpha, n_seed, w = len(alphas), len(seeds), width
    n, n_in = d.X_train.shape
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    inits, orders = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        net = TwoHeadNet(width=w, rng=rng)
        inits.append([p.data for p in net.parameters()])  # W_t (w, 64), b_t, W_a (10, w), b_a, W_b (1, w), b_b
        orders.append([rng.permutation(n) for _ in range(epochs)])

    def stacked(k, transpose=False):  # parameter k of every seed, repeated for every α: (seed, α, ...)
        a = np.stack([i[k].T if transpose else i[k] for i in inits])[:, None]
        return np.repeat(a, n_alpha, axis=1)

    w_t = np.ascontiguousarray(stacked(0, True).transpose(0, 2, 1, 3))  # (seed, 64, α, w)
    params = [w_t, stacked(1), stacked(2, True), stacked(3), stacked(4, True), stacked(5)]
    # b_t (seed, α, w), W_a^T (seed, α, w, 10), b_a (seed, α, 10), W_b^T (seed, α, w, 1), b_b (seed, α, 1)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    alpha = np.asarray(alphas, dtype=np.float64)[None, :, None, None]  # (1, α, 1, 1)
    one_hot = np.eye(10)[d.y_train]

    def forward(X):  # X (seed or 1, N, 64) -> h (seed, α, N, w), z_a (seed, α, N, 10), z_b (seed, α, N, 1)
        w_t, b_t, w_a, b_a, w_b, b_b = params
        rows = X.shape[1]
        pre = (X @ w_t.reshape(n_seed, n_in, n_alpha * w)).reshape(n_seed, rows, n_alpha, w)
        h = np.tanh(pre.transpose(0, 2, 1, 3) + b_t[:, :, None])
        return h, h @ w_a + b_a[:, :, None], h @ w_b + b_b[:, :, None]

    acc, ce, mse, train_loss = [], [], [], []
    t = 0
    for epoch in range(epochs):
        total = np.zeros((n_seed, n_alpha))
        for start in range(0, n, BATCH_SIZE):
            batch = np.stack([o[epoch][start:start + BATCH_SIZE] for o in orders])  # (seed, b)
            b = batch.shape[1]
            X = d.X_train[batch]
            h, z_a, z_b = forward(X)
            e = np.exp(z_a)  # no max to subtract: |z_a| <= sum |W_a| + |b_a| (|h| <= 1), far below exp's limit
            p = e / e.sum(axis=-1, keepdims=True)  # softmax
            y = one_hot[batch][:, None]
            err_b = z_b - d.ink_train[batch][:, None]
            p_true = (p * y).sum(axis=-1)
            total += b * ((1 - alpha[..., 0, 0]) * -np.log(p_true).mean(axis=-1)
                          + alpha[..., 0, 0] * (err_b ** 2).mean(axis=(-1, -2)))
            g_a = (1 - alpha) * (p - y) / b  # CombinedLoss.backward(): weighted (p - y)/N
            g_b = alpha * (2.0 / b) * err_b  # and weighted 2 (z_b - ink)/N
            g_pre = (g_a @ np.swapaxes(params[2], -1, -2) + g_b @ np.swapaxes(params[4], -1, -2)) * (1 - h * h)
            g_wt = np.swapaxes(X, -1, -2) @ g_pre.transpose(0, 2, 1, 3).reshape(n_seed, b, n_alpha * w)
            h_t = np.swapaxes(h, -1, -2)
            grads = [g_wt.reshape(w_t.shape), g_pre.sum(axis=2), h_t @ g_a, g_a.sum(axis=2), h_t @ g_b,
                     g_b.sum(axis=2)]
            t += 1
            step = _LR / (1 - beta1 ** t)
            root = (1 - beta2 ** t) ** 0.5
            for param, g, m_k, v_k in zip(params, grads, m, v):  # Adam, as nnlib.optim.Adam
                m_k *= beta1
                m_k += (1 - beta1) * g
                v_k *= beta2
                v_k += (1 - beta2) * (g * g)
                param -= step * m_k / (np.sqrt(v_k) / root + eps)
        train_loss.append(total / n)
        h, z_a, z_b = forward(d.X_val[None])
        shifted = z_a - z_a.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        acc.append((z_a.argmax(axis=-1) == d.y_val).mean(axis=-1))
        ce.append(-log_p[..., np.arange(len(d.y_val)), d.y_val].mean(axis=-1))
        mse.append(((z_b - d.ink_val) ** 2).mean(axis=(-1, -2)))
    acc, ce, mse, train_loss = (np.stack(c, axis=-1) for c in (acc, ce, mse, train_loss))

    runs = {}
    for i, seed in enumerate(seeds):
        for j, a in enumerate(alphas):
            model = TwoHeadNet(width=w, rng=seed)
            w_t, b_t, w_a, b_a, w_b, b_b = (param[i, :, j] if k == 0 else param[i, j] for k, param in enumerate(params))
            for target, value in zip(model.parameters(), [w_t.T, b_t, w_a.T, b_a, w_b.T, b_b]):
                target.data[...] = value
            runs[a, seed] = TwoTaskRun(a, seed, model, acc[i, j], ce[i, j], mse[i, j], train_loss[i, j])
    return runs


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
    # 6.72 inches: 672 CSS px in the book (100 px per inch), where 8 pt text is 11 CSS px
    fig, (ax_z, ax_p) = plots.figure(2, width=6.72, height=3.0, dpi=frame_dpi(6.72, 100))
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


_MSE_TICKS = [0.01, 0.1, 1]

#: Validation ink MSE below which a run counts as in the "ink regime" (its trunk encodes the ink); 1 = the mean.
INK_REGIME = 0.2

_SEED_COLORS = plots.COLORS[:5]


@functools.lru_cache(maxsize=1)
def _curves():
    """Per-epoch validation accuracy and log10 ink MSE of every run: two arrays (len(ALPHAS), len(SEEDS), EPOCHS)."""
    sweep = alpha_sweep()
    acc = np.array([[sweep[a, s].val_acc for s in SEEDS] for a in ALPHAS])
    mse = np.log10(np.array([[sweep[a, s].val_mse for s in SEEDS] for a in ALPHAS]))
    return acc, mse


@explorer("ch3.tradeoff", alt="Validation curves of each seed of a two-task network at one loss weight, per epoch "
          "and as a path of digit accuracy against ink error",
          alpha=Slider(ALPHAS, default=0.5, label="loss weight α of the ink task"))
def tradeoff(alpha=0.5):
    """Each seed's validation accuracy (digit class) and MSE (mean ink) per epoch at this α, and its path.

    One colour per seed, never averaged: seeds that switch to the ink regime at
    different epochs stay visible as separate sudden drops. Right: each seed's
    path through (ink MSE, digit accuracy) over training, ending at a dot; grey
    dots are the final points of every run at the other α. What the lesson's
    table of final values cannot show: when and how each seed gets there.
    """
    acc, mse = _curves()
    k = int(np.argmin(np.abs(np.asarray(ALPHAS) - alpha)))
    epochs = np.arange(1, acc.shape[2] + 1)  # EPOCHS, as the sweep ran them
    # 6.72 inches: 672 CSS px in the book (100 px per inch), where 8 pt text is 11 CSS px
    fig, (ax_a, ax_b, ax_p) = plots.figure(3, width=6.72, height=3.0, dpi=frame_dpi(6.72, 100))
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.16, top=0.9, wspace=0.42)
    for j, color in enumerate(_SEED_COLORS[:acc.shape[1]]):
        ax_a.plot(epochs, acc[k, j], color=color, lw=1.3)
        ax_b.plot(epochs, mse[k, j], color=color, lw=1.3)
        ax_p.plot(mse[k, j], acc[k, j], color=color, lw=1.0)
        ax_p.plot(mse[k, j, -1], acc[k, j, -1], "o", color=color, ms=5)
    others = np.arange(len(ALPHAS)) != k
    ax_p.plot(mse[others, :, -1].ravel(), acc[others, :, -1].ravel(), "o", color="0.75", ms=3, zorder=0)
    for ax in (ax_a, ax_b):
        ax.set_xticks(np.linspace(0, len(epochs), 4).round().astype(int))
        ax.set_xlabel("epoch")
    lim_mse = (np.log10(0.002), np.log10(8))
    for ax in (ax_a, ax_p):
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.5, 1])
    ax_a.set_ylabel("digit accuracy")
    ax_b.set_ylabel("ink MSE")
    ax_b.set_ylim(*lim_mse)
    ax_b.set_yticks(np.log10(_MSE_TICKS), [f"{t:g}" for t in _MSE_TICKS])
    ax_p.set_xlim(*lim_mse)
    ax_p.set_xticks(np.log10(_MSE_TICKS), [f"{t:g}" for t in _MSE_TICKS])
    ax_p.set_xlabel("ink MSE")
    ax_p.set_ylabel("digit accuracy")
    ax_b.axhline(np.log10(INK_REGIME), color="0.5", ls=":", lw=1)
    ax_p.axvline(np.log10(INK_REGIME), color="0.5", ls=":", lw=1)
    ax_p.text(np.log10(INK_REGIME) - 0.1, 0.04, "ink\nregime", ha="right", va="bottom", fontsize=8, color="0.4")
    ax_a.text(0.0, 1.03, f"α = {ALPHAS[k]:g}: one colour per seed", transform=ax_a.transAxes, ha="left",
              va="bottom", fontsize=9)
    ax_p.text(1.0, 1.03, "path over training; grey: other α", transform=ax_p.transAxes, ha="right",
              va="bottom", fontsize=9)
    return fig
