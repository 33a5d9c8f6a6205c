"""Data for the lessons: small synthetic sets, two bundled real ones, and the plumbing around them.

Everything random takes an explicit ``rng`` (a ``numpy.random.Generator`` or an
int seed), so the same seed always gives the same bits.

* Synthetic: ``make_linear``, ``make_linear_multi`` (regression);
  ``make_moons``, ``make_circles``, ``make_xor``, ``make_spirals`` (2-D classification).
* Real, read from files shipped inside scikit-learn (never the network):
  ``load_diabetes``, ``load_digits``.
* Plumbing: ``train_val_split``, ``StandardScaler``, ``one_hot``, ``minibatches``.
* Augmentation for the digits: ``shift_images``, ``add_noise``, ``augment_digits``.

Features are float64 arrays ``X`` of shape (N, F); class labels are int64
arrays ``y`` of shape (N,), as in scikit-learn and PyTorch.
"""

import importlib.util
import numbers
from pathlib import Path

import numpy as np

from nnlib._checks import check_array, check_labels, check_number, check_rng

__all__ = [
    "make_linear",
    "make_linear_multi",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spirals",
    "load_diabetes",
    "load_digits",
    "train_val_split",
    "StandardScaler",
    "one_hot",
    "minibatches",
    "shift_images",
    "add_noise",
    "augment_digits",
]


# --- small helpers -----------------------------------------------------------
def _real_array(where, name, value):
    """``value`` as a float64 array, if it holds real numbers (no strings, None or complex)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must hold real numbers, got {value!r}")
    return array.astype(np.float64)


def _check_n_samples(where, n_samples, minimum=1):
    return check_number(where, "n_samples", n_samples, low=minimum, integer=True)


def _check_noise(where, noise, name="noise"):
    return check_number(where, name, noise, low=0)


def _check_X_y(where, X, y):
    """X: floating, finite, at least 1-D; y: an array with one entry per row of X."""
    check_array(where, "X", X)
    if X.ndim < 1:
        raise ValueError(f"{where}: X must have at least one dimension (N, ...), got a 0-d array")
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y must be a numpy array, got {type(y).__name__}")
    if y.ndim < 1 or y.shape[0] != X.shape[0]:
        got = "a 0-d array" if y.ndim < 1 else f"{y.shape[0]} rows"
        raise ValueError(f"{where}: y must have one entry per row of X ({X.shape[0]}), got {got}")
    if np.issubdtype(y.dtype, np.inexact) and not np.isfinite(y).all():
        bad = "NaN" if np.isnan(y).any() else "inf"
        raise ValueError(f"{where}: y must be finite, got an array containing {bad}")
    return X, y


def _shuffle(X, y, rng):
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


# --- regression ----------------------------------------------------------------
def make_linear(n_samples=100, coef=(2.0, -3.5, 1.0), intercept=0.5, noise=0.1, *, rng):
    """Data from a linear model with noise: y = a·x1 + b·x2 + c·x3 + d + ε.

    X has shape (n_samples, len(coef)) with entries drawn from the standard
    normal distribution; ε is Gaussian with standard deviation ``noise``.
    With the defaults, y = 2.0·x1 − 3.5·x2 + 1.0·x3 + 0.5 + ε.

    Returns ``X`` (N, F) float64 and ``y`` (N,) float64.
    """
    where = "make_linear"
    n = _check_n_samples(where, n_samples)
    noise = _check_noise(where, noise)
    coef = _real_array(where, "coef", coef)
    if coef.ndim != 1 or coef.size == 0 or not np.isfinite(coef).all():
        raise ValueError(f"{where}: coef must be a non-empty sequence of finite numbers, got {coef.tolist()!r}")
    intercept = check_number(where, "intercept", intercept)
    rng = check_rng(where, rng)
    X = rng.standard_normal((n, coef.size))
    y = X @ coef + intercept + noise * rng.standard_normal(n)
    return X, y


def make_linear_multi(
    n_samples=100,
    coef=((2.0, -3.5, 1.0), (-1.0, 0.5, 3.0)),
    intercept=(0.5, -1.0),
    noise=0.1,
    *,
    rng,
):
    """Two (or more) targets from one linear model: y = X @ coef.T + intercept + ε.

    ``coef`` has shape (T, F) (one row per target) and ``intercept`` shape (T,).
    X is standard normal, shape (n_samples, F); ε is Gaussian with standard
    deviation ``noise``, drawn independently for every target.

    Returns ``X`` (N, F) float64 and ``y`` (N, T) float64.
    """
    where = "make_linear_multi"
    n = _check_n_samples(where, n_samples)
    noise = _check_noise(where, noise)
    coef = _real_array(where, "coef", coef)
    if coef.ndim != 2 or coef.size == 0 or not np.isfinite(coef).all():
        raise ValueError(f"{where}: coef must be a finite (targets, features) matrix, got shape {coef.shape}")
    intercept = np.asarray(intercept, dtype=np.float64)
    if intercept.shape != (coef.shape[0],) or not np.isfinite(intercept).all():
        raise ValueError(
            f"{where}: intercept must hold {coef.shape[0]} finite numbers (one per row of coef), "
            f"got shape {intercept.shape}"
        )
    rng = check_rng(where, rng)
    X = rng.standard_normal((n, coef.shape[1]))
    y = X @ coef.T + intercept + noise * rng.standard_normal((n, coef.shape[0]))
    return X, y


# --- two-dimensional classification ---------------------------------------------
def make_moons(n_samples=200, noise=0.1, *, rng):
    """Two interleaving half circles (the shapes of scikit-learn's ``make_moons``).

    Class 0 lies on the upper half circle (cos t, sin t); class 1 on the lower
    one (1 − cos t, 0.5 − sin t), for t in [0, π]. Gaussian noise with standard
    deviation ``noise`` is added to both coordinates; the rows are shuffled.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64.
    """
    where = "make_moons"
    n = _check_n_samples(where, n_samples, minimum=2)
    noise = _check_noise(where, noise)
    rng = check_rng(where, rng)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    X, y = _shuffle(X, y, rng)
    X += noise * rng.standard_normal(X.shape)
    return X, y


def make_circles(n_samples=200, noise=0.05, factor=0.5, *, rng):
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0).

    Points are evenly spaced in angle; Gaussian noise with standard deviation
    ``noise`` is added; the rows are shuffled. No straight line separates the
    classes, which is what makes this a lesson for hidden layers.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64.
    """
    where = "make_circles"
    n = _check_n_samples(where, n_samples, minimum=2)
    noise = _check_noise(where, noise)
    factor = check_number(where, "factor", factor, low=0, high=1, low_open=True, high_open=True)
    rng = check_rng(where, rng)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            factor * np.column_stack([np.cos(t_in), np.sin(t_in)]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    X, y = _shuffle(X, y, rng)
    X += noise * rng.standard_normal(X.shape)
    return X, y


def make_xor(n_samples=200, noise=0.2, *, rng):
    """The XOR problem: four clusters at (±1, ±1); the label is 1 where the signs differ.

    Clusters (1, 1) and (−1, −1) are class 0, (1, −1) and (−1, 1) class 1, so
    y = (x1 > 0) XOR (x2 > 0) at the cluster centres. Each cluster gets
    n_samples/4 points (±1), spread by Gaussian noise with standard deviation
    ``noise``; the rows are shuffled.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64.
    """
    where = "make_xor"
    n = _check_n_samples(where, n_samples)
    noise = _check_noise(where, noise)
    rng = check_rng(where, rng)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = rng.permutation(np.arange(n) % 4)
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = (which >= 2).astype(np.int64)
    return X, y


def make_spirals(n_samples=200, noise=0.05, *, n_classes=2, turns=1.0, rng):
    """Interleaved spiral arms, one per class (the CS231n spiral data set).

    Arm k has points at radius r in [0, 1] and angle 2πk/K + 2π·turns·r, so
    the arms wind around each other. Gaussian noise with standard deviation
    ``noise`` is added to both coordinates; the rows are shuffled. The classes
    differ in size by at most one point.

    Returns ``X`` (N, 2) float64 and ``y`` (N,) int64 in [0, n_classes).
    """
    where = "make_spirals"
    n_classes = check_number(where, "n_classes", n_classes, low=2, integer=True)
    n = _check_n_samples(where, n_samples, minimum=n_classes)
    noise = _check_noise(where, noise)
    turns = check_number(where, "turns", turns, low=0, low_open=True)
    rng = check_rng(where, rng)
    sizes = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    parts, labels = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.05, 1.0, m)
        angle = 2 * np.pi * k / n_classes + 2 * np.pi * turns * r
        parts.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
        labels.append(np.full(m, k, dtype=np.int64))
    X, y = _shuffle(np.concatenate(parts), np.concatenate(labels), rng)
    X += noise * rng.standard_normal(X.shape)
    return X, y


# --- bundled real data -----------------------------------------------------------
_DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def load_diabetes(features=("bmi", "bp", "s5"), *, scaled=False):
    """The diabetes data (442 patients) from the file bundled with scikit-learn.

    ``features`` picks columns by name from ``age, sex, bmi, bp, s1 … s6``
    (``None`` gives all ten). The target is disease progression one year later.

    By default the values are the **raw** ones (bmi in kg/m², bp in mm Hg, …),
    so that feature scaling has something to show. ``scaled=True`` gives
    scikit-learn's default version instead: each column mean-centred and scaled
    so that its sum of squares is 1.

    Returns ``X`` (442, len(features)) float64 and ``y`` (442,) float64.
    """
    where = "load_diabetes"
    if features is None:
        features = _DIABETES_FEATURES
    if isinstance(features, str):
        features = (features,)
    features = tuple(features)
    if not features:
        raise ValueError(f"{where}: features must name at least one column, got an empty sequence")
    for name in features:
        if name not in _DIABETES_FEATURES:
            raise ValueError(f"{where}: features must be among {', '.join(_DIABETES_FEATURES)}; got {name!r}")
    from sklearn.datasets import load_diabetes as _sk_load_diabetes

    bunch = _sk_load_diabetes(scaled=bool(scaled))
    columns = [list(bunch.feature_names).index(name) for name in features]
    X = np.ascontiguousarray(bunch.data[:, columns], dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.float64)
    return X, y


def load_digits(*, return_images=False):
    """The 8×8 handwritten digits (1797 images) from the file bundled with scikit-learn.

    Pixel values are the raw integers 0 … 16 stored as float64 (not scaled to
    [0, 1]; use ``StandardScaler`` or divide by 16).

    Returns ``X`` (1797, 64) float64 and ``y`` (1797,) int64 in 0 … 9, or, with
    ``return_images=True``, ``images`` (1797, 8, 8) float64 and ``y``.
    """
    data = np.loadtxt(_sklearn_data_file("digits.csv.gz"), delimiter=",")  # 64 pixels, then the label
    X, y = np.ascontiguousarray(data[:, :-1]), data[:, -1].astype(np.int64)
    return (X.reshape(-1, 8, 8), y) if return_images else (X, y)


def _sklearn_data_file(name):
    """The path of a data file bundled with scikit-learn, found without importing scikit-learn (about 1 s)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the data file {name} comes with scikit-learn, which is not installed: pip install scikit-learn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"scikit-learn has no bundled data file {name} (looked for {path})")
    return path


# --- plumbing --------------------------------------------------------------------
def train_val_split(X, y, val_fraction=0.2, *, rng):
    """Shuffle the rows, then hold out a fraction of them for validation.

    The validation set gets ceil(val_fraction · N) rows (as in scikit-learn),
    and both parts get at least one row. Returns ``X_train, X_val, y_train,
    y_val``, in scikit-learn's ``train_test_split`` order.
    """
    where = "train_val_split"
    _check_X_y(where, X, y)
    val_fraction = check_number(where, "val_fraction", val_fraction, low=0, high=1, low_open=True, high_open=True)
    rng = check_rng(where, rng)
    n = X.shape[0]
    if n < 2:
        raise ValueError(f"{where}: X must have at least 2 rows to split, got {n}")
    n_val = min(max(int(np.ceil(val_fraction * n)), 1), n - 1)
    order = rng.permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], X[val], y[train], y[val]


class StandardScaler:
    """Rescale each column to mean 0 and standard deviation 1: x' = (x − mean) / scale.

    ``fit(X)`` learns ``mean_`` and ``scale_`` (the population standard
    deviation, ddof=0, as in scikit-learn) from the training data only; apply
    the same ``transform`` to validation and test data. A column that does not
    vary gets ``scale_ = 1``, so it becomes all zeros instead of NaN. The
    statistics are kept in float64; the output has the dtype of the input.
    """

    def __init__(self):
        self.mean_ = None
        self.scale_ = None
        self.n_features_in_ = None

    def fit(self, X):
        """Learn each column's mean and standard deviation from ``X`` (N, F). Returns self."""
        check_array("StandardScaler.fit", "X", X, ndim=2)
        if X.shape[0] == 0:
            raise ValueError("StandardScaler.fit: X must have at least one row, got shape (0, ...)")
        X64 = X.astype(np.float64, copy=False)
        mean = X64.mean(axis=0)
        std = X64.std(axis=0)
        # A constant column can come out with a tiny non-zero std from rounding.
        constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self, where, X):
        if self.mean_ is None:
            method = where.split(".")[-1]
            raise RuntimeError(f"{where}: this StandardScaler is not fitted yet; call fit(X_train) before {method}")
        check_array(where, "X", X, shape=(None, self.n_features_in_))

    def transform(self, X):
        """Return (X − mean_) / scale_, a new array with the dtype of ``X``."""
        self._check_fitted("StandardScaler.transform", X)
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """Undo ``transform``: return X · scale_ + mean_."""
        self._check_fitted("StandardScaler.inverse_transform", X)
        return X * self.scale_.astype(X.dtype) + self.mean_.astype(X.dtype)

    def __repr__(self):
        fitted = f"n_features_in_={self.n_features_in_}" if self.mean_ is not None else "not fitted"
        return f"StandardScaler({fitted})"


def one_hot(y, num_classes, *, dtype=np.float64):
    """Turn integer labels (N,) into rows of a (N, num_classes) identity matrix.

    ``one_hot(np.array([2, 0]), 3)`` is ``[[0, 0, 1], [1, 0, 0]]``.
    """
    where = "one_hot"
    num_classes = check_number(where, "num_classes", num_classes, low=1, integer=True)
    check_labels(where, "y", y, num_classes)
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


def minibatches(X, y, batch_size, *, rng=None):
    """Yield ``(X_batch, y_batch)`` pairs that together cover every row exactly once.

    With ``rng`` the rows are visited in a random order (a fresh permutation on
    every call, so call it once per epoch); without it, in order, and the
    batches are views, not copies. The last batch is smaller when batch_size
    does not divide N; it is kept, not dropped.

        for X_batch, y_batch in minibatches(X, y, 32, rng=rng):
            ...
    """
    where = "minibatches"
    _check_X_y(where, X, y)
    batch_size = check_number(where, "batch_size", batch_size, low=1, integer=True)
    n = X.shape[0]
    if rng is None:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
        return
    order = check_rng(where, rng).permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


# --- augmentation -------------------------------------------------------------------
def shift_images(images, max_shift=1, *, rng, return_shifts=False):
    """Move each image by a random whole number of pixels, filling the gap with zeros.

    ``images`` has shape (N, H, W) (or (N, C, H, W): all channels move
    together). Each image gets its own shift (dy, dx), both drawn uniformly
    from −max_shift … max_shift; positive dy moves the content down, positive
    dx moves it right: ``out[i, r, c] = images[i, r − dy, c − dx]``, and 0 where
    that falls outside the image. Returns a new array of the same shape and
    dtype, plus the shifts as an (N, 2) int64 array of (dy, dx) when
    ``return_shifts``.
    """
    where = "shift_images"
    check_array(where, "images", images)
    if images.ndim not in (3, 4):
        raise ValueError(f"{where}: images must have shape (N, H, W) or (N, C, H, W), got {images.shape}")
    max_shift = check_number(where, "max_shift", max_shift, low=0, integer=True)
    rng = check_rng(where, rng)
    n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    m = max_shift
    pad = [(0, 0)] * (images.ndim - 2) + [(m, m), (m, m)]
    padded = np.pad(images, pad)
    out = np.empty_like(images)
    # One slice of the padded array per distinct shift: at most (2m+1)^2 groups.
    codes = (shifts[:, 0] + m) * (2 * m + 1) + (shifts[:, 1] + m)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        dy, dx = shifts[rows[0]]
        out[rows] = padded[rows, ..., m - dy : m - dy + h, m - dx : m - dx + w]
    if return_shifts:
        return out, shifts
    return out


def add_noise(X, std, *, rng):
    """Return X plus Gaussian noise with standard deviation ``std`` (same shape and dtype).

    Values are not clipped, so pixels can leave their original range.
    """
    where = "add_noise"
    check_array(where, "X", X)
    std = check_number(where, "std", std, low=0)
    rng = check_rng(where, rng)
    return X + (std * rng.standard_normal(X.shape)).astype(X.dtype, copy=False)


def augment_digits(X, y, copies, *, rng, max_shift=1, noise_std=0.0, image_shape=(8, 8)):
    """Enlarge a set of small images with shifted (and optionally noisy) copies.

    ``X`` holds flattened images (N, H·W) (8×8 digits by default) or images
    (N, H, W). Each copy is every image shifted by up to ``max_shift`` pixels
    (see ``shift_images``) plus Gaussian noise with standard deviation
    ``noise_std`` in the units of ``X`` (e.g. 0.5 for raw 0 … 16 digit pixels;
    the default 0 adds none). Augment *before* standardizing, so that the zero
    fill means "blank paper".

    Returns ``X_aug`` with (1 + copies)·N rows, the originals first, then each
    copy in turn, and the matching ``y_aug``.
    """
    where = "augment_digits"
    _check_X_y(where, X, y)
    copies = check_number(where, "copies", copies, low=0, integer=True)
    noise_std = check_number(where, "noise_std", noise_std, low=0)
    rng = check_rng(where, rng)
    if not (
        isinstance(image_shape, tuple)
        and len(image_shape) == 2
        and all(isinstance(s, numbers.Integral) for s in image_shape)
    ):
        raise TypeError(f"{where}: image_shape must be a tuple (H, W) of ints, got {image_shape!r}")
    h, w = image_shape
    if X.ndim == 2:
        if X.shape[1] != h * w:
            raise ValueError(f"{where}: X must have shape (N, {h * w}) for {h}x{w} images, got {X.shape}")
        images = X.reshape(-1, h, w)
    elif X.ndim == 3:
        images = X
    else:
        raise ValueError(f"{where}: X must have shape (N, H*W) or (N, H, W), got {X.shape}")
    parts, labels = [X], [y]
    for _ in range(copies):
        new = shift_images(images, max_shift, rng=rng)
        if noise_std > 0:
            new = add_noise(new, noise_std, rng=rng)
        parts.append(new.reshape(X.shape))
        labels.append(y)
    return np.concatenate(parts), np.concatenate(labels)
