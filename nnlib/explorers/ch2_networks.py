"""Chapter 2 explorers: a small network on 2-D data, the book's answer to TensorFlow Playground.

``playground(dataset, activation, width, depth, lr)`` trains a
multi-layer perceptron with full-batch gradient descent and draws its
decision boundary next to the train and validation loss curves.

The pieces are public so the lesson and the tests can use them:

* ``make_dataset(name)``: the four cached 2-D data sets, standardised and
  split into train and validation parts;
* ``mlp(width, depth, activation, rng=...)``: the network
  ``Linear → f → Linear → f → ... → Linear`` as a ``Sequential``;
* ``train_playground(...)``: one cached training run (a ``PlaygroundRun``).

Speed (the live budget is 100 ms per redraw, training and drawing
together): the data sets and the evaluation grid are built once; a run is
``STEPS`` full-batch steps of SGD with momentum; the result of each distinct
set of arguments is kept by ``functools.lru_cache``; the decision boundary
is an image (no contour fill) and the boundary panel has no ticks.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .. import data, plots
from ..activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .._checks import check_rng
from ..core import Sequential
from ..layers import Linear
from ..losses import CrossEntropyLoss, softmax
from ..optim import SGD
from ..train import fit, predict
from ..widgets import Choice, Slider, explorer, frame_dpi

__all__ = [
    "DATASETS",
    "ACTIVATIONS",
    "STEPS",
    "MOMENTUM",
    "Dataset",
    "PlaygroundRun",
    "make_dataset",
    "mlp",
    "train_playground",
    "dead_units",
    "summary",
    "playground",
]

#: The data sets of the playground, with the noise used for each.
DATASETS = {
    "moons": lambda rng: data.make_moons(200, noise=0.15, rng=rng),
    "circles": lambda rng: data.make_circles(200, noise=0.08, factor=0.5, rng=rng),
    "xor": lambda rng: data.make_xor(200, noise=0.3, rng=rng),
    "spirals": lambda rng: data.make_spirals(200, noise=0.05, rng=rng),
}

#: Activation name → layer class.
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU}

_ACTIVATION_LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU"}

#: Full-batch gradient steps per playground run.
STEPS = 200

#: Momentum of the playground's SGD (so that a few hundred steps are enough).
MOMENTUM = 0.9

_GRID_N = 50  # the decision boundary is evaluated on a _GRID_N x _GRID_N grid
_PAD = 0.4


@dataclass(frozen=True)
class Dataset:
    """A standardised 2-D data set split 70/30 into train and validation parts."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray

    @property
    def X(self):
        return np.concatenate([self.X_train, self.X_val])

    @property
    def y(self):
        return np.concatenate([self.y_train, self.y_val])


@functools.lru_cache(maxsize=None)
def make_dataset(name, seed=0):
    """The data set ``name`` (one of ``DATASETS``): 200 points, standardised, 140 train / 60 validation.

    The scaler is fitted on the training part only. Cached: the same call
    returns the same (read-only) arrays.
    """
    if name not in DATASETS:
        raise ValueError(f"make_dataset: name must be one of {sorted(DATASETS)}, got {name!r}")
    rng = np.random.default_rng(seed)
    X, y = DATASETS[name](rng)
    X_train, X_val, y_train, y_val = data.train_val_split(X, y, 0.3, rng=rng)
    scaler = data.StandardScaler().fit(X_train)
    arrays = [scaler.transform(X_train), y_train, scaler.transform(X_val), y_val]
    for a in arrays:
        a.setflags(write=False)
    return Dataset(name, *arrays)


def mlp(width, depth, activation="relu", *, rng, in_features=2, out_features=2):
    """A multi-layer perceptron: ``depth`` hidden layers of ``width`` units, then a linear output.

    ``Sequential(Linear(in, width), f, Linear(width, width), f, ..., Linear(width, out))``
    with f the activation (a name in ``ACTIVATIONS`` or a layer class). The
    output gives logits, for ``CrossEntropyLoss``. Weights use ``Linear``'s
    default initialisation, drawn from ``rng``.
    """
    if depth < 0 or width < 1:
        raise ValueError(f"mlp: need depth >= 0 and width >= 1, got depth={depth!r}, width={width!r}")
    act = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    rng = check_rng("mlp", rng)
    layers, n_in = [], in_features
    for _ in range(depth):
        layers += [Linear(n_in, width, rng=rng), act()]
        n_in = width
    layers.append(Linear(n_in, out_features, rng=rng))
    return Sequential(*layers)


@dataclass(frozen=True)
class PlaygroundRun:
    """One trained playground network and what happened while it trained."""

    model: Sequential
    history: object  # nnlib.train.History
    dataset: Dataset

    @property
    def diverged(self):
        return self.history.diverged

    @property
    def val_acc(self):
        return self.history.val_acc[-1] if self.history.val_acc else float("nan")

    @property
    def train_acc(self):
        """Accuracy on the training set after the last step (fit records it before each step)."""
        if self.diverged:
            return float("nan")
        logits = predict(self.model, self.dataset.X_train)
        return float(np.mean(logits.argmax(axis=1) == self.dataset.y_train))


def train_playground(dataset="circles", activation="relu", width=8, depth=2, lr=0.3, seed=0, steps=STEPS):
    """Train ``mlp(width, depth, activation)`` on ``make_dataset(dataset)``; cached by the arguments.

    Full batch (every step sees all 140 training points), ``steps`` steps of
    ``SGD(lr, momentum=MOMENTUM)`` on ``CrossEntropyLoss``; the validation
    loss is measured after every step. ``seed`` seeds the initial weights.
    Returns a ``PlaygroundRun``; its ``history.diverged`` is True if the loss
    blew up. The same arguments return the same (cached) run: do not train
    its model further.
    """
    return _train(str(dataset), str(activation), int(width), int(depth), float(lr), int(seed), int(steps))


@functools.lru_cache(maxsize=1024)
def _train(dataset, activation, width, depth, lr, seed, steps):
    ds = make_dataset(dataset)
    model = mlp(width, depth, activation, rng=np.random.default_rng(seed))
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    history = fit(model, CrossEntropyLoss(), optimizer, ds.X_train, ds.y_train, epochs=steps,
                  batch_size=len(ds.X_train), shuffle=False, rng=None, val=(ds.X_val, ds.y_val), progress=False)
    return PlaygroundRun(model, history, ds)


@functools.lru_cache(maxsize=None)
def _grid(dataset):
    ds = make_dataset(dataset)
    X = ds.X
    x0, x1 = X[:, 0].min() - _PAD, X[:, 0].max() + _PAD
    y0, y1 = X[:, 1].min() - _PAD, X[:, 1].max() + _PAD
    xs, ys = np.linspace(x0, x1, _GRID_N), np.linspace(y0, y1, _GRID_N)
    points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    return points, (x0, x1, y0, y1)


def _hex_rgb(color):
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0


_CLASS_RGB = np.stack([_hex_rgb(plots.COLORS[0]), _hex_rgb(plots.COLORS[3])])


def _shade(p1):
    """An RGB image for P(class 1) = p1: the predicted class's colour, paler near p = 0.5 (white on the boundary)."""
    strength = 0.55 * np.abs(2 * p1 - 1)[..., None]
    color = np.where((p1 >= 0.5)[..., None], _CLASS_RGB[1], _CLASS_RGB[0])
    return 1 - strength * (1 - color)


def dead_units(model, X):
    """(dead, total): ReLU units of ``model`` whose output is 0 for every row of ``X``.

    Such a unit also gets zero gradient for every row, so training can no
    longer revive it.
    """
    dead = total = 0
    a = X
    for layer in model:
        a = layer(a)
        if type(layer) is ReLU:
            dead += int(np.count_nonzero((a <= 0).all(axis=0)))
            total += a.shape[1]
    return dead, total


def summary(run):
    """The numbers the playground writes under its decision boundary, for the lesson and the tests.

    ``{"train_acc", "val_acc", "dead", "units", "diverged_at"}``: accuracies
    after the last step (NaN if the run diverged), the ReLU units silent on
    every training point (``dead_units``) and the step at which the run was
    stopped (None if it was not).
    """
    ds = run.dataset
    dead, units = dead_units(run.model, ds.X_train) if not run.diverged else (0, 0)
    return {"train_acc": run.train_acc, "val_acc": run.val_acc if not run.diverged else float("nan"),
            "dead": dead, "units": units, "diverged_at": run.history.diverged_at if run.diverged else None}


def _summary_text(numbers):
    text = f"train acc {numbers['train_acc']:.2f}   val acc {numbers['val_acc']:.2f}  (triangles: validation)"
    if numbers["units"]:
        text += f"\ndead ReLU units: {numbers['dead']} of {numbers['units']}"
    return text


def _boundary_panel(ax, run):
    """The predicted class as a shaded image, the data on top; no ticks (they cost time)."""
    ds = run.dataset
    points, extent = _grid(ds.name)
    ok = not run.diverged
    if ok:
        with np.errstate(all="ignore"):
            logits = predict(run.model, points)
        ok = bool(np.isfinite(logits).all())
    if ok:
        p1 = softmax(logits, axis=1)[:, 1].reshape(_GRID_N, _GRID_N)
        ax.imshow(_shade(p1), extent=extent, origin="lower", interpolation="bilinear", aspect="auto")
    ax.scatter(ds.X_train[:, 0], ds.X_train[:, 1], c=_CLASS_RGB[ds.y_train], s=12, edgecolors="white",
               linewidths=0.4)
    ax.scatter(ds.X_val[:, 0], ds.X_val[:, 1], c=_CLASS_RGB[ds.y_val], s=14, marker="^", edgecolors="black",
               linewidths=0.4)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if ok:
        ax.set_xlabel(_summary_text(summary(run)))
    else:
        plots.mark_diverged(ax, "diverged: learning rate too large")


def _loss_panel(ax, run):
    """Train and validation loss per step; a diverged run ends in a cross and says so.

    A linear axis: a logarithmic one would set its tick labels with mathtext,
    which costs about 15 ms per draw.
    """
    h = run.history
    if h.train_loss:
        diverged = {"train": h.diverged_at} if h.diverged else None
        plots.loss_curves(ax, {"train": h.train_loss, "validation": h.val_loss}, xlabel="step (full batch)",
                          ylabel="cross-entropy loss", log=False, diverged=diverged)
        top = max(h.train_loss[0], h.val_loss[0], 0.8)
        ax.set_ylim(0, min(1.2 * top, 2.0))
    else:
        ax.set_xlabel("step (full batch)")
        ax.set_ylabel("cross-entropy loss")
    if h.diverged:
        plots.mark_diverged(ax, f"diverged at step {h.diverged_step}")
    ax.set_xlim(0, STEPS)
    ax.locator_params(nbins=4)


@explorer(
    "ch2.playground",
    alt="Decision boundary of a small network (left) and its train and validation loss (right)",
    # data set x activation x width x depth in full at lr 0.3 (256 frames); every rate with every data set
    # and activation at width 8, depth 2 (80 more); on the page, the other combinations are disabled, with a note
    static=[{"lr": [0.3]}, {"width": [8], "depth": [2]}],
    dataset=Choice(["circles", "moons", "xor", "spirals"], default="circles", label="data set"),
    activation=Choice(list(ACTIVATIONS), default="relu", label="activation",
                      labels=[_ACTIVATION_LABELS[a] for a in ACTIVATIONS]),
    width=Slider([2, 4, 8, 16], default=8, label="width (units per layer)"),
    depth=Slider([1, 2, 3, 4], default=2, label="depth (hidden layers)"),
    lr=Slider([0.01, 0.03, 0.1, 0.3, 1.0, 3.0], default=0.3, label="learning rate"),
)
def playground(dataset="circles", activation="relu", width=8, depth=2, lr=0.3):
    """Train a ``depth`` x ``width`` network with ``activation`` on ``dataset``; draw boundary and losses."""
    run = train_playground(dataset, activation, width, depth, lr)
    # 6.72 inches: 672 CSS px in the book (100 px per inch), where 8 pt text is 11 CSS px
    fig, (ax_b, ax_l) = plots.figure(2, width=6.72, height=3.0, dpi=frame_dpi(6.72, 80))
    _boundary_panel(ax_b, run)
    _loss_panel(ax_l, run)
    return fig
