"""Chapter 6 explorers: overfitting and its cures.

Three explorers, all drawing from cached training runs so that a live redraw
only plots:

* ``polynomial`` (``"ch6.polynomial"``): a polynomial of a chosen degree fitted
  by least squares to a few noisy points of sin(πx), and the training and
  validation error against the degree;
* ``weight_penalty`` (``"ch6.weight_penalty"``): an MLP on a small digits
  subset trained with an L2 penalty λ; the histogram of its first-layer
  weights, and the training and validation error against λ;
* ``dropout_rate`` (``"ch6.dropout_rate"``): the same MLP with dropout rate p
  after its hidden layer; its loss curves and the validation accuracy against
  p over several seeds.

The chapter's lesson calls the same cached functions (``train_mlp``,
``penalty_sweep``, ``dropout_sweep``) for its own figures and claim checks, so
every expensive run happens once per kernel.

Each explorer draws the parts of its figure that no control changes (axes,
ticks, labels, the reference curves) once, on its first call, and a redraw
pastes them and draws only what changed on top: a ``plots.Sheet``, which keeps a redraw near 30 ms.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .. import plots
from ..activations import ReLU
from ..core import Sequential
from ..data import load_digits
from ..layers import Dropout, Linear
from ..losses import CrossEntropyLoss, L1Penalty, L2Penalty
from ..optim import SGD
from ..train import fit
from ..widgets import Slider, explorer, frame_dpi
from ..plots import Sheet

__all__ = [
    "true_function", "poly_data", "poly_features", "poly_fit", "poly_errors", "POLY_DEGREES", "POLY_POINTS",
    "digits_task", "make_mlp", "train_mlp", "Run", "weight_stats", "penalty_sweep", "dropout_sweep",
    "N_TRAIN", "N_VAL", "HIDDEN", "EPOCHS", "BATCH_SIZE", "LR", "MOMENTUM", "LAMBDAS", "DROPOUT_RATES", "SEEDS",
    "DEGREE_CHOICES", "polynomial", "weight_penalty", "dropout_rate",
]

# --------------------------------------------------------------------------
# Polynomial regression on a few points
# --------------------------------------------------------------------------
#: Degrees whose errors are computed (and drawn).
POLY_DEGREES = list(range(13))
#: Degrees the polynomial explorer's slider offers.
DEGREE_CHOICES = [0, 1, 2, 3, 4, 5, 7, 9, 11]
#: Training set sizes the polynomial explorer offers.
POLY_POINTS = [8, 12, 20, 50]
_POLY_NOISE = 0.25
_POLY_VAL = 200


def _title(ax, text):
    """A title without the layout pass ``set_title`` triggers on every draw (a large share of a redraw)."""
    ax.text(0.5, 1.02, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=9)


def true_function(x):
    """The curve behind the polynomial data: sin(πx) on [-1, 1]."""
    return np.sin(np.pi * x)


@functools.lru_cache(maxsize=16)
def poly_data(n_points=12, seed=0):
    """``n_points`` noisy training points and 200 validation points of sin(πx) on [-1, 1].

    Validation x are uniform in [-1, 1]. Training x are stratified: one
    uniform draw in each of ``n_points`` equal subintervals of [-1, 1], so
    every training set, small or large, covers the interval (no validation
    point lies farther than 2/n_points from a training point), and errors
    measure interpolation rather than extrapolation. Returns
    ``(x_train, y_train, x_val, y_val)``, 1-D float64 arrays; the noise is
    Gaussian with standard deviation 0.25. Cached: do not modify the arrays.
    """
    rng = np.random.default_rng(seed)
    x_val = rng.uniform(-1, 1, _POLY_VAL)
    y_val = true_function(x_val) + _POLY_NOISE * rng.standard_normal(_POLY_VAL)
    x = -1.0 + 2.0 * (np.arange(n_points) + rng.uniform(size=n_points)) / n_points
    y = true_function(x) + _POLY_NOISE * rng.standard_normal(n_points)
    return x, y, x_val, y_val


def poly_features(x, degree):
    """The columns 1, x, x², …, x^degree of a 1-D array ``x``: shape (N, degree + 1)."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)


def poly_fit(x, y, degree):
    """Least-squares coefficients (c_0 … c_degree) of a polynomial through (x, y).

    With more coefficients than points, ``lstsq`` returns the interpolating
    polynomial of smallest coefficient norm.
    """
    coef, *_ = np.linalg.lstsq(poly_features(x, degree), y, rcond=None)
    return coef


@functools.lru_cache(maxsize=16)
def poly_errors(n_points=12, seed=0):
    """Training and validation RMSE for every degree in ``POLY_DEGREES``: two arrays."""
    x, y, x_val, y_val = poly_data(n_points, seed)
    train, val = [], []
    for d in POLY_DEGREES:
        coef = poly_fit(x, y, d)
        train.append(np.sqrt(np.mean((poly_features(x, d) @ coef - y) ** 2)))
        val.append(np.sqrt(np.mean((poly_features(x_val, d) @ coef - y_val) ** 2)))
    return np.array(train), np.array(val)


_FIG_WIDTH = 6.72  # inches: 672 CSS px in the book (100 px per inch), so 8 pt text is 11 CSS px


def _poly_layout(dpi):
    fig, axes = plots.figure(ncols=2, width=_FIG_WIDTH, height=3.0, dpi=dpi)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
    return fig, axes


@functools.lru_cache(maxsize=2 * len(POLY_POINTS))
def _poly_backdrop(n_points, dpi):
    """The polynomial explorer's fixed parts for ``n_points`` training points, as a ``Sheet.backdrop`` (cached)."""
    x, y, x_val, y_val = poly_data(n_points)
    train, val = poly_errors(n_points)
    fig, axes = _poly_layout(dpi)

    ax = axes[0]
    grid = np.linspace(-1, 1, 300)
    ax.plot(grid, true_function(grid), color="0.6", lw=1.2, ls="--")
    ax.scatter(x_val, y_val, s=5, color=plots.COLORS[5], alpha=0.45)
    ax.set_ylim(-3, 3)
    ax.set_xlim(-1.02, 1.02)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax.set_yticks([-2, 0, 2])
    ax.set_xlabel("x")
    ax.set_ylabel("y")

    ax = axes[1]
    degrees = np.array(POLY_DEGREES)
    ax.plot(degrees, np.maximum(train, 1e-4), "-o", ms=3, color=plots.COLORS[0])
    ax.plot(degrees, val, "-o", ms=3, color=plots.COLORS[3])
    ax.axhline(_POLY_NOISE, color="0.5", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 30)
    ax.set_yticks([1e-4, 1e-3, 1e-2, 0.1, 1, 10], ["1e-4", "0.001", "0.01", "0.1", "1", "10"])
    ax.minorticks_off()
    ax.set_xlim(-0.6, 12.6)
    ax.set_xticks([0, 3, 6, 9, 12])
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("RMSE")
    _title(ax, "error against degree")
    return Sheet.backdrop(fig, axes)


@explorer("ch6.polynomial",
          alt="A polynomial fitted to noisy points of a sine curve, and training and validation error against degree",
          degree=Slider(DEGREE_CHOICES, default=3, label="degree"),
          n_points=Slider(POLY_POINTS, default=12, label="training points"))
def polynomial(degree=3, n_points=12):
    """Least-squares polynomial of ``degree`` through ``n_points`` noisy points; error against degree.

    The figure is a ``Sheet``'s (the axes, the validation data and the error
    curves are drawn once per training set size, for every size on the first
    call): render it at its own dpi, as ``plots.to_image`` does.
    """
    dpi = frame_dpi(_FIG_WIDTH, 80)
    for n in POLY_POINTS:
        _poly_backdrop(n, dpi)
    x, y, _, _ = poly_data(n_points)
    train, val = poly_errors(n_points)
    coef = poly_fit(x, y, degree)
    sheet = Sheet(_poly_backdrop(n_points, dpi))
    ax = sheet.ax

    grid = np.linspace(-1, 1, 300)  # panel 0: the data and the fit
    handles = [ax.plot([], [], color="0.6", lw=1.2, ls="--", label="true curve sin(πx)")[0],
               ax.scatter([], [], s=5, color=plots.COLORS[5], alpha=0.45, label="validation points")]
    handles += sheet.plot(0, grid, poly_features(grid, degree) @ coef, color=plots.COLORS[3], lw=1.8,
                          label=f"degree {degree} fit", clip=True)
    handles.insert(2, ax.scatter(*sheet.xy(0, x, y), s=22, color=plots.COLORS[0], label=f"{n_points} training points"))
    sheet.legend(0, handles, loc="lower right", fontsize=8)
    sheet.text(0, 0.5, 1.02, f"train RMSE {train[degree]:.3f}, validation RMSE {val[degree]:.3f}",
               ha="center", va="bottom", fontsize=9)

    handles = [ax.plot([], [], "-o", ms=3, color=plots.COLORS[0], label="training")[0],  # panel 1: the errors
               ax.plot([], [], "-o", ms=3, color=plots.COLORS[3], label="validation")[0],
               ax.plot([], [], color="0.5", lw=0.8, ls=":", label="noise level 0.25")[0]]
    sheet.axvline(1, degree, color="k", lw=0.8)
    sheet.legend(1, handles, loc="lower left", fontsize=8)
    return sheet.fig


# --------------------------------------------------------------------------
# A small MLP on a small subset of the digits
# --------------------------------------------------------------------------
#: Training images of the small digits task, validation images, hidden units.
N_TRAIN, N_VAL, HIDDEN = 100, 500, 64
#: Training budget shared by the chapter's MLP runs: SGD with momentum, minibatches of 20.
EPOCHS, BATCH_SIZE, LR, MOMENTUM = 60, 20, 0.05, 0.9
#: Penalty strengths of the λ explorer.
LAMBDAS = [0.0, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1]
#: Dropout rates of the dropout explorer and claim check.
DROPOUT_RATES = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7]
#: Seeds of the multi-seed sweeps.
SEEDS = (0, 1, 2)


@functools.lru_cache(maxsize=8)
def digits_task(n_train=N_TRAIN, *, raw=False):
    """A fixed small-data digits task: ``(X_train, y_train, X_val, y_val)``.

    The 1797 digits are shuffled once (seed 0); the first 500 are the
    validation set and the next ``n_train`` the training set. Pixels are
    divided by 16 (so they lie in [0, 1]) unless ``raw``, which keeps the
    original 0 … 16 values (augment raw images, then divide). Cached: do not
    modify the arrays.
    """
    X, y = load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    val, train = order[:N_VAL], order[N_VAL:N_VAL + n_train]
    if not raw:
        X = X / 16.0
    return X[train], y[train], X[val], y[val]


def make_mlp(hidden=HIDDEN, p=0.0, *, rng, n_in=64, n_out=10):
    """``Linear(n_in, hidden) → ReLU → [Dropout(p)] → Linear(hidden, n_out)``; dropout only if p > 0."""
    layers = [Linear(n_in, hidden, rng=rng), ReLU()]
    if p > 0:
        layers.append(Dropout(p, rng=rng))
    layers.append(Linear(hidden, n_out, rng=rng))
    return Sequential(*layers)


@dataclass
class Run:
    """One cached training run: its ``history`` and copies of the first-layer ``weight`` and of every parameter."""

    history: object
    weight: np.ndarray
    params: list

    @property
    def val_error(self):
        """1 − the final validation accuracy."""
        return 1.0 - self.history.val_acc[-1]


def train_mlp(hidden=HIDDEN, lam=0.0, penalty="l2", p=0.0, seed=0, n_train=N_TRAIN, epochs=EPOCHS):
    """Train the chapter's MLP on the small digits task; cached on the arguments.

    ``lam`` > 0 adds ``L2Penalty`` (``penalty="l2"``) or ``L1Penalty``
    (``"l1"``) on the weights; ``p`` > 0 puts dropout after the hidden layer.
    The seed sets the initial weights, the dropout masks and the batch order;
    the data are the same for every seed. SGD(lr=0.05, momentum=0.9),
    batches of 20. Returns a ``Run``; treat it as read-only.
    """
    if penalty not in ("l1", "l2"):
        raise ValueError(f"train_mlp: penalty must be 'l1' or 'l2', got {penalty!r}")
    if lam == 0:
        penalty = "l2"  # no penalty: one cache entry whatever the name
    return _train_mlp(int(hidden), float(lam), penalty, float(p), int(seed), int(n_train), int(epochs))


@functools.lru_cache(maxsize=256)
def _train_mlp(hidden, lam, penalty, p, seed, n_train, epochs):
    X, y, X_val, y_val = digits_task(n_train)
    rng = np.random.default_rng(seed)
    model = make_mlp(hidden, p, rng=rng)
    pen = None
    if lam > 0:
        pen = (L2Penalty if penalty == "l2" else L1Penalty)(model.parameters(), lam)
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    history = fit(model, CrossEntropyLoss(), opt, X, y, epochs, BATCH_SIZE, val=(X_val, y_val), rng=rng,
                  penalty=pen, progress=False)
    params = [q.data.copy() for q in model.parameters()]
    return Run(history, params[0], params)


def weight_stats(w):
    """Size and balance of a weight array, as a dict of floats.

    * ``norm``: the Euclidean norm sqrt(Σ w²);
    * ``max_abs``: the largest |w|;
    * ``peak_to_rms``: max|w| / RMS(w), how far the largest weight sticks out (scale-free);
    * ``participation``: (Σ w²)² / (n Σ w⁴), in (0, 1]: the share of weights that
      effectively carry the total, 1 when all |w| are equal, 1/n when one weight has it all;
    * ``near_zero``: the share of weights with |w| < 1e-3.
    """
    w = np.asarray(w, dtype=np.float64).ravel()
    sq = w * w
    total = sq.sum()
    rms = np.sqrt(total / w.size)
    return {
        "norm": float(np.sqrt(total)),
        "max_abs": float(np.abs(w).max()),
        "peak_to_rms": float(np.abs(w).max() / rms) if rms > 0 else float("nan"),
        "participation": float(total * total / (w.size * (sq * sq).sum())) if total > 0 else float("nan"),
        "near_zero": float(np.mean(np.abs(w) < 1e-3)),
    }


# --------------------------------------------------------------------------
# Many small MLPs at once (the chapter's multi-seed experiments)
# --------------------------------------------------------------------------
_PARAM_NAMES = ("W1", "b1", "W2", "b2")


@dataclass
class Runs:
    """``R`` networks ``Linear(d, H) → ReLU → [Dropout] → Linear(H, K)`` trained together by ``train_mlps``.

    ``params`` and ``best`` are lists ``[W1 (R, H, d), b1 (R, H), W2 (R, K, H), b2 (R, K)]``
    (nnlib's ``(out, in)`` layout): after the last epoch, and at the evaluated
    epoch with the lowest validation loss (``best_epoch``, counted from 1).
    ``train_loss`` (R, epochs) is each epoch's mean minibatch cross-entropy in
    train mode (penalty excluded); ``val_loss`` and ``val_acc`` (R, evals) are
    measured in eval mode after the epochs in ``eval_epochs``. With ``patience``,
    a network stops after ``stopped_epoch`` (its later entries are NaN).
    """

    params: list
    train_loss: np.ndarray
    eval_epochs: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    best: list
    best_epoch: np.ndarray
    stopped_epoch: np.ndarray


def mlp_logits(params, X):
    """Eval-mode outputs of stacked networks: ``params`` as in ``Runs``, ``X`` (N, d) or (R, N, d) → (R, N, K)."""
    W1, b1, W2, b2 = params
    h = np.matmul(X, W1.transpose(0, 2, 1))
    h += b1[:, None, :]
    np.maximum(h, 0.0, out=h)
    z = np.matmul(h, W2.transpose(0, 2, 1))
    z += b2[:, None, :]
    return z


def _cross_entropy(z, y):
    """Mean cross-entropy of logits z (R, N, K) against labels y (R, N) or (N,): per network (R,), and softmax."""
    shifted = z - z.max(axis=2, keepdims=True)
    e = np.exp(shifted)
    e_sum = e.sum(axis=2, keepdims=True)
    y = np.broadcast_to(y, z.shape[:2])
    picked = np.take_along_axis(shifted, y[..., None], axis=2)[..., 0]
    return (np.log(e_sum[..., 0]) - picked).mean(axis=1), e / e_sum


def evaluate_mlps(params, X, y):
    """Eval-mode cross-entropy and accuracy of stacked networks on (X, y): two arrays (R,)."""
    z = mlp_logits(params, X)
    loss, _ = _cross_entropy(z, y)
    return loss, (z.argmax(axis=2) == y).mean(axis=1)


def _per_model(name, value, R):
    value = np.asarray(value, dtype=np.float64)
    if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != R):
        raise ValueError(f"train_mlps: {name} must be a number or one value per network ({R}), "
                         f"got shape {value.shape}")
    return np.broadcast_to(value, (R,)).copy()


def train_mlps(X, y, seeds, *, hidden=HIDDEN, n_out=10, p=0.0, lam=0.0, lr=LR, momentum=MOMENTUM,
               optimizer="sgd", betas=(0.9, 0.999), eps=1e-8, epochs=EPOCHS, batch_size=BATCH_SIZE, val=None,
               eval_every=1, patience=None, init=None, trainable=_PARAM_NAMES):
    """Train one network per seed, all at once, with the same arithmetic as ``make_mlp`` + ``fit``.

    Network r is ``make_mlp(hidden, p[r], rng=np.random.default_rng(seeds[r]))``,
    and that generator then draws its batch order and dropout masks exactly
    as ``fit`` does, so a network here ends where ``train_mlp`` /
    ``fit`` would (to rounding). The stacked arithmetic is what makes dozens
    of seeds and settings affordable.

    * ``X`` (N, d), ``y`` (N,): one training set for all; or (R, N, d), (R, N): one each.
    * ``p``, ``lam``, ``lr``: a number, or one value per network.
    * ``optimizer``: ``"sgd"`` (``SGD(lr, momentum)`` with ``L2Penalty(lam)``: λ·w on
      the weights, not the biases), ``"adam"`` (``Adam`` with the same L2 penalty
      folded into the gradient) or ``"adamw"`` (``AdamW``'s decoupled decay
      w ← w − lr·λ·w on the weights, then Adam's step).
    * ``val=(X_val, y_val)``: measured every ``eval_every`` epochs (and after the
      last); ``Runs.best`` keeps the weights with the lowest validation loss
      (early stopping with unlimited patience). ``patience`` (epochs): a network
      whose validation loss has not improved for that long stops training
      (early stopping; the others go on without it, so the cost falls).
    * ``init``: a list like ``Runs.params`` whose non-None entries replace
      the initial weights (fine-tuning from a pretrained network); only the
      parameters named in ``trainable`` are updated.
    """
    seeds = [int(s) for s in seeds]
    R = len(seeds)
    if R == 0:
        raise ValueError("train_mlps: seeds must name at least one network, got []")
    if optimizer not in ("sgd", "adam", "adamw"):
        raise ValueError(f"train_mlps: optimizer must be 'sgd', 'adam' or 'adamw', got {optimizer!r}")
    unknown = set(trainable) - set(_PARAM_NAMES)
    if unknown:
        raise ValueError(f"train_mlps: trainable must name parameters among {_PARAM_NAMES}, got {sorted(unknown)}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    shared = X.ndim == 2
    if not (X.ndim in (2, 3) and y.shape == X.shape[:-1] and (shared or X.shape[0] == R)):
        raise ValueError(f"train_mlps: X must be (N, d) with y (N,), or (R, N, d) with y (R, N) for R = {R} "
                         f"networks, got X {X.shape} and y {y.shape}")
    p, lam, lr = (_per_model(n, v, R) for n, v in (("p", p), ("lam", lam), ("lr", lr)))
    n, d = X.shape[-2:]
    rngs, stacks = [], []
    for seed, rate in zip(seeds, p):
        rng = np.random.default_rng(seed)
        stacks.append([q.data for q in make_mlp(hidden, rate, rng=rng, n_in=d, n_out=n_out).parameters()])
        rngs.append(rng)
    params = [np.stack([s[i] for s in stacks]) for i in range(4)]
    if init is not None:
        for i, value in enumerate(init):
            if value is not None:
                params[i] = np.array(np.broadcast_to(value, params[i].shape), dtype=np.float64)
    train_idx = [i for i, name in enumerate(_PARAM_NAMES) if name in trainable]
    state = {i: [np.zeros_like(params[i]), np.zeros_like(params[i])] for i in train_idx}
    scale = 1.0 / (1.0 - p)
    train_loss = np.full((R, epochs), np.nan)
    eval_epochs = [e for e in range(1, epochs + 1) if e % eval_every == 0 or e == epochs] if val is not None else []
    if patience is not None and val is None:
        raise ValueError("train_mlps: patience needs val=(X_val, y_val) to watch")
    val_loss = np.full((R, len(eval_epochs)), np.nan)
    val_acc = np.full((R, len(eval_epochs)), np.nan)
    out = [a.copy() for a in params]
    best = [a.copy() for a in params]
    best_epoch = np.zeros(R, dtype=int)
    best_loss = np.full(R, np.inf)
    stopped = np.full(R, epochs)
    beta1, beta2 = betas
    step = 0
    live = np.arange(R)  # the networks still training; the arrays below hold only them
    for epoch in range(1, epochs + 1):
        rows = np.arange(live.size)[:, None]
        dropping = np.flatnonzero(p > 0)
        epoch_loss = np.zeros(live.size)
        orders = np.stack([rng.permutation(n) for rng in rngs])
        for start in range(0, n, batch_size):
            idx = orders[:, start:start + batch_size]
            B = idx.shape[1]
            Xb, yb = (X[idx], y[idx]) if shared else (X[rows, idx], y[rows, idx])
            W1, b1, W2, b2 = params
            z1 = np.matmul(Xb, W1.transpose(0, 2, 1))
            z1 += b1[:, None, :]
            h = np.maximum(z1, 0.0)
            if dropping.size:
                mask = np.ones((live.size, B, hidden))
                for r in dropping:
                    mask[r] = (rngs[r].random((B, hidden)) >= p[r]) * scale[r]
                h *= mask
            z2 = np.matmul(h, W2.transpose(0, 2, 1))
            z2 += b2[:, None, :]
            loss, g2 = _cross_entropy(z2, yb)
            epoch_loss += loss * B
            g2[rows, np.arange(B), yb] -= 1.0
            g2 /= B
            grads = {2: np.matmul(g2.transpose(0, 2, 1), h), 3: g2.sum(axis=1)}
            if 0 in train_idx or 1 in train_idx:
                gh = np.matmul(g2, W2)
                if dropping.size:
                    gh *= mask
                gh *= z1 > 0
                grads[0] = np.matmul(gh.transpose(0, 2, 1), Xb) if 0 in train_idx else None
                grads[1] = gh.sum(axis=1)
            step += 1
            for i in train_idx:
                a, g = params[i], grads[i]
                shape = (live.size,) + (1,) * (a.ndim - 1)
                decay = lam.reshape(shape) if i in (0, 2) and lam.any() else None
                rate = lr.reshape(shape)
                if decay is not None and optimizer != "adamw":
                    g = g + decay * a  # L2: λ·w joins the gradient
                if optimizer == "sgd":
                    v = state[i][0]
                    v *= momentum  # torch: b ← μ·b + g (b starts at zero, so at the first gradient)
                    v += g
                    a -= rate * v
                    continue
                if decay is not None and optimizer == "adamw":  # w ← w − lr·λ·w
                    a *= 1.0 - rate * decay
                m, v = state[i]
                m *= beta1
                m += (1.0 - beta1) * g
                v *= beta2
                v += (g * g) * (1.0 - beta2)
                denom = np.sqrt(v) / (1.0 - beta2 ** step) ** 0.5 + eps
                a -= (rate / (1.0 - beta1 ** step)) * (m / denom)
        train_loss[live, epoch - 1] = epoch_loss / n
        if epoch not in eval_epochs:
            continue
        k = eval_epochs.index(epoch)
        val_loss[live, k], val_acc[live, k] = evaluate_mlps(params, *val)
        better = val_loss[live, k] < best_loss[live]
        best_loss[live[better]] = val_loss[live[better], k]
        best_epoch[live[better]] = epoch
        for b, a in zip(best, params):
            b[live[better]] = a[better]
        if patience is None:
            continue
        done = epoch - best_epoch[live] >= patience
        if done.any() and epoch < epochs:  # these stop: keep their weights, train on without them
            stopped[live[done]] = epoch
            for o, a in zip(out, params):
                o[live[done]] = a[done]
            keep = ~done
            live = live[keep]
            if live.size == 0:
                break
            params = [a[keep] for a in params]
            state = {i: [s[keep] for s in pair] for i, pair in state.items()}
            rngs = [rng for rng, kept in zip(rngs, keep) if kept]
            p, lam, lr, scale = p[keep], lam[keep], lr[keep], scale[keep]
            if not shared:
                X, y = X[keep], y[keep]
    for o, a in zip(out, params):
        o[live] = a
    return Runs(out, train_loss, np.array(eval_epochs), val_loss, val_acc, best, best_epoch, stopped)


__all__ += ["Runs", "train_mlps", "mlp_logits", "evaluate_mlps"]


def penalty_sweep(lams=tuple(LAMBDAS), seed=0, penalty="l2"):
    """``train_mlp`` for each λ in ``lams`` (cached runs): a list of ``Run``."""
    return [train_mlp(lam=lam, penalty=penalty, seed=seed) for lam in lams]


@functools.lru_cache(maxsize=4)
def dropout_sweep(rates=tuple(DROPOUT_RATES), seeds=SEEDS):
    """Final validation accuracies for every dropout rate and seed: an array (len(rates), len(seeds)).

    The runs are ``train_mlp(p=p, seed=s)``'s, trained together by ``train_mlps`` (same numbers, to rounding).
    """
    X, y, X_val, y_val = digits_task()
    runs = train_mlps(X, y, [s for _ in rates for s in seeds], p=np.repeat(rates, len(seeds)),
                      val=(X_val, y_val), eval_every=EPOCHS)
    return runs.val_acc[:, -1].reshape(len(rates), len(seeds))


_HIST_BINS = np.linspace(-0.8, 0.8, 65)
_HIST_TOP = 1550  # above the tallest bar at any λ: one scale, so the bars can be compared across λ


def _hist_counts(w):
    return np.histogram(np.clip(w, -0.8, 0.8), bins=_HIST_BINS)[0]


def _mlp_layout(dpi):
    fig, axes = plots.figure(ncols=2, width=_FIG_WIDTH, height=3.0, dpi=dpi)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88, wspace=0.32)
    return fig, axes


@functools.lru_cache(maxsize=2)
def _penalty_backdrop(dpi):
    """The λ explorer's fixed parts, as a ``Sheet.backdrop`` (cached): the λ = 0 histogram and the error curves."""
    runs = penalty_sweep()
    fig, axes = _mlp_layout(dpi)

    ax = axes[0]
    ax.stairs(_hist_counts(runs[0].weight), _HIST_BINS, color=plots.COLORS[0], lw=1.2)
    ax.set_xlim(-0.88, 0.88)
    ax.set_ylim(0, _HIST_TOP)
    ax.set_xticks([-0.8, -0.4, 0, 0.4, 0.8])
    ax.set_yticks([0, 500, 1000, 1500])
    ax.set_xlabel("first-layer weight w")
    ax.set_ylabel("count")

    ax = axes[1]
    xs = np.arange(len(LAMBDAS))
    ax.plot(xs, [r.val_error for r in runs], "-o", ms=4, color=plots.COLORS[3])
    ax.plot(xs, [1 - r.history.train_acc[-1] for r in runs], "-o", ms=4, color=plots.COLORS[0])
    ax.set_xlim(-0.3, len(LAMBDAS) - 0.7)
    ax.set_xticks(xs, [f"{v:g}" for v in LAMBDAS], fontsize=8)
    ax.set_ylim(-0.01, 0.5)
    ax.set_yticks([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    ax.set_xlabel("λ")
    ax.set_ylabel("error rate (final epoch)")
    _title(ax, "error against λ")
    return Sheet.backdrop(fig, axes)


@explorer("ch6.weight_penalty",
          alt="Weight histogram, and training and validation error, of a digits MLP trained with an L2 penalty",
          lam=Slider(LAMBDAS, default=0.01, label="L2 strength λ"))
def weight_penalty(lam=0.01):
    """An L2 penalty λ: the first-layer weights (against λ = 0) and the training and validation error against λ.

    The figure is a ``Sheet``'s: render it at its own dpi, as ``plots.to_image`` does.
    """
    runs = penalty_sweep()
    i = LAMBDAS.index(lam)
    run = runs[i]
    sheet = Sheet(_penalty_backdrop(frame_dpi(_FIG_WIDTH, 80)))
    ax = sheet.ax

    # panel 0: the histogram at λ over the one at λ = 0
    edges, heights = sheet.xy(0, _HIST_BINS, np.append(_hist_counts(run.weight), 0))
    handles = [ax.stairs(heights[:-1], edges, baseline=sheet.xy(0, 0, 0)[1], fill=True, color=plots.COLORS[3],
                         alpha=0.55, label=f"λ = {lam:g}")]
    if lam > 0:
        handles.insert(0, ax.plot([], [], color=plots.COLORS[0], lw=1.2, label="λ = 0")[0])
    s = weight_stats(run.weight)
    sheet.text(0, 0.03, 0.96, f"‖W‖ = {s['norm']:.2f}\nmax|w| = {s['max_abs']:.2f}\n"
               f"participation = {s['participation']:.2f}", va="top", fontsize=8)
    sheet.legend(0, handles, loc="upper right", fontsize=8)
    sheet.text(0, 0.5, 1.02, f"first-layer weights ({run.weight.size}) at λ = {lam:g}", ha="center", va="bottom",
               fontsize=9)

    sheet.axvline(1, i, color="k", lw=0.8)  # panel 1: the errors against λ
    ax.text(*sheet.xy(1, i + (0.15 if i < 4 else -0.15), 0.3), f"final validation\nloss {run.history.val_loss[-1]:.3f}",
            ha="left" if i < 4 else "right", fontsize=8)
    handles = [ax.plot([], [], "-o", ms=4, color=plots.COLORS[3], label="validation error")[0],
               ax.plot([], [], "-o", ms=4, color=plots.COLORS[0], label="training error")[0]]
    sheet.legend(1, handles, loc="upper left", fontsize=8)
    return sheet.fig


@functools.lru_cache(maxsize=2)
def _dropout_backdrop(dpi):
    """The dropout explorer's fixed parts, as a ``Sheet.backdrop`` (cached): the p = 0 curves and the accuracies."""
    base, acc = train_mlp(p=0.0), dropout_sweep()
    fig, axes = _mlp_layout(dpi)

    ax = axes[0]
    epochs = np.arange(1, base.history.epochs + 1)
    ax.plot(epochs, base.history.train_loss, color="0.65", lw=1.0)
    ax.plot(epochs, base.history.val_loss, color="0.65", lw=1.0, ls="--")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 5)
    ax.set_yticks([1e-3, 1e-2, 0.1, 1], ["0.001", "0.01", "0.1", "1"])
    ax.minorticks_off()
    ax.set_xlim(-2, EPOCHS + 3)
    ax.set_xticks([0, 20, 40, 60])
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")

    ax = axes[1]
    mean, std = acc.mean(axis=1), acc.std(axis=1)
    for j in range(acc.shape[1]):
        ax.plot(DROPOUT_RATES, acc[:, j], ".", color="0.6", ms=4)
    ax.errorbar(DROPOUT_RATES, mean, yerr=std, fmt="-o", ms=4, capsize=3, color=plots.COLORS[2])
    ax.set_xlim(-0.035, 0.735)
    ax.set_ylim(0.84, 0.92)
    ax.set_yticks([0.84, 0.86, 0.88, 0.9, 0.92])
    ax.set_xticks([0, 0.2, 0.4, 0.6])
    ax.set_xlabel("dropout rate p")
    ax.set_ylabel("validation accuracy (final epoch)")
    _title(ax, "accuracy against p")
    return Sheet.backdrop(fig, axes)


@explorer("ch6.dropout_rate",
          alt="Loss curves of a digits MLP with dropout, and validation accuracy against the dropout rate",
          p=Slider(DROPOUT_RATES, default=0.5, label="dropout rate p"))
def dropout_rate(p=0.5):
    """Dropout rate p: the loss curves (p against p = 0) and the validation accuracy against p over seeds.

    The figure is a ``Sheet``'s: render it at its own dpi, as ``plots.to_image`` does.
    """
    run, acc = train_mlp(p=p), dropout_sweep()
    sheet = Sheet(_dropout_backdrop(frame_dpi(_FIG_WIDTH, 80)))
    ax = sheet.ax

    epochs = np.arange(1, run.history.epochs + 1)  # panel 0: the loss curves at p over those at p = 0
    handles = [ax.plot([], [], color="0.65", lw=1.0, label="p = 0: training")[0],
               ax.plot([], [], color="0.65", lw=1.0, ls="--", label="p = 0: validation")[0]]
    if p > 0:
        handles += sheet.plot(0, epochs, run.history.train_loss, color=plots.COLORS[0],
                              label=f"p = {p:g}: training (train mode)", clip=True)
        handles += sheet.plot(0, epochs, run.history.val_loss, color=plots.COLORS[3], ls="--",
                              label=f"p = {p:g}: validation", clip=True)
    sheet.legend(0, handles, loc="lower left", fontsize=8)
    sheet.text(0, 0.5, 1.02, f"loss curves, seed 0, p = {p:g}", ha="center", va="bottom", fontsize=9)

    sheet.axvline(1, p, color="k", lw=0.8)  # panel 1: accuracy against p
    handles = [ax.errorbar([], [], yerr=[], fmt="-o", ms=4, capsize=3, color=plots.COLORS[2],
                           label=f"mean ± std over {acc.shape[1]} seeds")]
    sheet.legend(1, handles, loc="lower left", fontsize=8)
    return sheet.fig
