"""Tests for nnlib.data: generators, bundled loaders, plumbing and augmentation."""

import numpy as np
import pytest

from nnlib import data
from nnlib.data import (
    StandardScaler,
    add_noise,
    augment_digits,
    load_diabetes,
    load_digits,
    make_circles,
    make_linear,
    make_linear_multi,
    make_moons,
    make_spirals,
    make_xor,
    minibatches,
    one_hot,
    shift_images,
    train_val_split,
)

CLASSIFICATION = [make_moons, make_circles, make_xor, make_spirals]


# --- generators ------------------------------------------------------------------
@pytest.mark.parametrize("make", CLASSIFICATION + [make_linear, make_linear_multi])
def test_generators_same_seed_same_bits(make):
    X1, y1 = make(rng=7)
    X2, y2 = make(rng=np.random.default_rng(7))
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()
    X3, _ = make(rng=8)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", CLASSIFICATION)
def test_classification_shapes_dtypes_balance(make):
    X, y = make(n_samples=201, rng=0)
    assert X.shape == (201, 2) and X.dtype == np.float64
    assert y.shape == (201,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


def test_make_linear_model_exact_without_noise():
    X, y = make_linear(50, coef=(2.0, -3.5, 1.0), intercept=0.5, noise=0.0, rng=0)
    assert X.shape == (50, 3) and y.shape == (50,) and X.dtype == y.dtype == np.float64
    np.testing.assert_allclose(y, 2.0 * X[:, 0] - 3.5 * X[:, 1] + 1.0 * X[:, 2] + 0.5)


def test_make_linear_multi_shapes_and_model():
    coef = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    X, y = make_linear_multi(40, coef=coef, intercept=(1.0, -2.0), noise=0.0, rng=1)
    assert X.shape == (40, 3) and y.shape == (40, 2)
    np.testing.assert_allclose(y, X @ coef.T + [1.0, -2.0])


def test_noise_free_geometry():
    X, y = make_circles(100, noise=0.0, factor=0.3, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    X, y = make_xor(100, noise=0.0, rng=0)
    assert np.array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64))
    X, y = make_moons(100, noise=0.0, rng=0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)


def test_spirals_classes():
    X, y = make_spirals(300, n_classes=3, rng=0)
    assert np.array_equal(np.bincount(y), [100, 100, 100])
    assert np.abs(X).max() < 1.5


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: make_moons(0, rng=0), ["make_moons", "n_samples"]),
        (lambda: make_moons(10, noise=-1, rng=0), ["make_moons", "noise"]),
        (lambda: make_xor(10, rng="seed"), ["make_xor", "rng"]),
        (lambda: make_spirals(10, n_classes=1, rng=0), ["make_spirals", "n_classes"]),
        (lambda: make_circles(10, factor=1.5, rng=0), ["make_circles", "factor"]),
        (lambda: make_linear(10, coef=(1.0, np.nan), rng=0), ["make_linear", "coef"]),
        (lambda: make_linear_multi(10, intercept=(1.0,), rng=0), ["make_linear_multi", "intercept"]),
    ],
)
def test_generator_bad_arguments(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value)


# --- bundled data ---------------------------------------------------------------------
def test_load_diabetes_raw_and_scaled():
    X, y = load_diabetes()
    assert X.shape == (442, 3) and y.shape == (442,) and X.dtype == y.dtype == np.float64
    assert 15 < X[:, 0].mean() < 35  # raw bmi in kg/m^2
    Xs, ys = load_diabetes(features=None, scaled=True)
    assert Xs.shape == (442, 10)
    np.testing.assert_allclose(Xs.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_array_equal(y, ys)
    with pytest.raises(ValueError, match="load_diabetes: features.*'height'"):
        load_diabetes(features=("bmi", "height"))


def test_load_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert X.min() == 0 and X.max() == 16
    images, y2 = load_digits(return_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)


def test_load_digits_reads_scikit_learns_file_exactly():
    # nnlib reads the bundled file itself (importing scikit-learn costs about a second per lesson)
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    X, y = load_digits()
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    np.testing.assert_array_equal(load_digits(return_images=True)[0], bunch.images)


def test_load_digits_says_what_is_missing(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="digits.csv.gz comes with scikit-learn.*pip install scikit-learn"):
        load_digits()


# --- split, scaler, one_hot, minibatches ------------------------------------------------
def test_train_val_split_partitions_rows():
    X = np.arange(50, dtype=np.float64).reshape(25, 2)
    y = np.arange(25)
    X_train, X_val, y_train, y_val = train_val_split(X, y, 0.2, rng=3)
    assert X_val.shape == (5, 2) and X_train.shape == (20, 2)
    np.testing.assert_array_equal(X_train[:, 0] / 2, y_train)  # rows stay paired
    np.testing.assert_array_equal(X_val[:, 0] / 2, y_val)
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(25))
    again = train_val_split(X, y, 0.2, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (X_train, X_val, y_train, y_val)))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(val_fraction=0.0), ValueError, ["val_fraction", "(0, 1)", "0.0"]),
        (dict(val_fraction=1.2), ValueError, ["val_fraction", "1.2"]),
        (dict(X=np.full((4, 2), np.nan)), ValueError, ["X", "finite", "NaN"]),
        (dict(X=np.ones((4, 2), dtype=np.int64)), TypeError, ["X", "floating", "int64"]),
        (dict(y=np.arange(3)), ValueError, ["y", "4", "3"]),
        (dict(X=[[1.0]] * 4), TypeError, ["X", "numpy array", "list"]),
    ],
)
def test_train_val_split_bad_inputs(kwargs, error, words):
    args = dict(X=np.ones((4, 2)), y=np.arange(4), val_fraction=0.5)
    args.update(kwargs)
    with pytest.raises(error) as info:
        train_val_split(args["X"], args["y"], args["val_fraction"], rng=0)
    message = str(info.value)
    assert message.startswith("train_val_split:")
    for word in words:
        assert word in message


def test_standard_scaler():
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, size=(100, 3))
    X[:, 2] = 7.0  # constant column
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1)
    assert np.all(Z[:, 2] == 0) and scaler.scale_[2] == 1.0
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    Z32 = scaler.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32
    with pytest.raises(ValueError, match=r"StandardScaler.transform: X must have shape \(N, 3\), got \(2, 2\)"):
        scaler.transform(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(X)


def test_one_hot():
    out = one_hot(np.array([2, 0, 1, 2]), 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1, 2]])
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match=r"one_hot: y must be in \[0, 2\].*got label 3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: y must hold integer class labels, got dtype float64"):
        one_hot(np.array([0.0, 1.0]), 2)


@pytest.mark.parametrize("batch_size", [1, 7, 10, 64])
@pytest.mark.parametrize("seed", [None, 5])
def test_minibatches_cover_every_sample_once(batch_size, seed):
    X = np.arange(30, dtype=np.float64).reshape(10, 3)
    y = np.arange(10)
    batches = list(minibatches(X, y, batch_size, rng=seed))
    sizes = [len(yb) for _, yb in batches]
    assert sizes == [min(batch_size, 10 - i) for i in range(0, 10, batch_size)]  # last partial batch kept
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0] / 3, yb)
    if seed is None:
        assert np.shares_memory(batches[0][0], X)  # in order: views, not copies


def test_minibatches_shuffle_deterministic():
    X, y = np.zeros((20, 1)), np.arange(20)
    first = [yb for _, yb in minibatches(X, y, 6, rng=1)]
    second = [yb for _, yb in minibatches(X, y, 6, rng=1)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(np.concatenate(first), y)


def test_minibatches_bad_batch_size():
    with pytest.raises(ValueError, match=r"minibatches: batch_size must be in \[1, inf\], got 0"):
        next(minibatches(np.ones((3, 1)), np.arange(3), 0))
    with pytest.raises(TypeError, match="minibatches: batch_size must be an integer, got 2.5"):
        next(minibatches(np.ones((3, 1)), np.arange(3), 2.5))


# --- augmentation --------------------------------------------------------------------------
def _shift_reference(image, dy, dx):
    """Shift with np.roll, then blank what wrapped around."""
    out = np.roll(image, (dy, dx), axis=(-2, -1))
    if dy > 0:
        out[..., :dy, :] = 0
    elif dy < 0:
        out[..., dy:, :] = 0
    if dx > 0:
        out[..., :, :dx] = 0
    elif dx < 0:
        out[..., :, dx:] = 0
    return out


def test_shift_images_matches_reference():
    rng = np.random.default_rng(0)
    images = rng.random((40, 6, 5))
    out, shifts = shift_images(images, 2, rng=1, return_shifts=True)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert shifts.shape == (40, 2) and np.abs(shifts).max() <= 2
    assert len({tuple(s) for s in shifts}) > 5
    for image, shifted, (dy, dx) in zip(images, out, shifts):
        np.testing.assert_array_equal(shifted, _shift_reference(image, dy, dx))
    np.testing.assert_array_equal(shift_images(images, 0, rng=0), images)
    # (N, C, H, W): all channels move together
    four = rng.random((5, 2, 4, 4)).astype(np.float32)
    out4, shifts4 = shift_images(four, 1, rng=2, return_shifts=True)
    assert out4.dtype == np.float32
    for image, shifted, (dy, dx) in zip(four, out4, shifts4):
        np.testing.assert_array_equal(shifted, _shift_reference(image, dy, dx))


def test_shift_one_pixel_by_hand():
    image = np.zeros((1, 3, 3))
    image[0, 1, 1] = 1.0
    out, (shift,) = shift_images(image, 1, rng=4, return_shifts=True)
    dy, dx = shift
    assert out[0, 1 + dy, 1 + dx] == 1.0 and out.sum() == 1.0


def test_add_noise():
    X = np.zeros((2000, 5), dtype=np.float32)
    noisy = add_noise(X, 0.5, rng=0)
    assert noisy.dtype == np.float32 and noisy.shape == X.shape
    assert abs(noisy.std() - 0.5) < 0.02
    np.testing.assert_array_equal(noisy, add_noise(X, 0.5, rng=0))
    with pytest.raises(ValueError, match="add_noise: std must be in"):
        add_noise(X, -1.0, rng=0)


def test_augment_digits():
    X, y = load_digits()
    X, y = X[:50], y[:50]
    X_aug, y_aug = augment_digits(X, y, 2, rng=0, max_shift=1)
    assert X_aug.shape == (150, 64) and y_aug.shape == (150,)
    np.testing.assert_array_equal(X_aug[:50], X)
    np.testing.assert_array_equal(y_aug, np.tile(y, 3))
    images = X.reshape(-1, 8, 8)
    for copy in (1, 2):
        block = X_aug[50 * copy : 50 * (copy + 1)].reshape(-1, 8, 8)
        for image, shifted in zip(images, block):
            candidates = [_shift_reference(image, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            assert any(np.array_equal(shifted, c) for c in candidates)
    # The copies really are shifted: exactly the shifts drawn by shift_images from the same generator,
    # and most of them (8 of the 9 possible shifts are not (0, 0)) differ from the original.
    rng = np.random.default_rng(0)
    expected = [shift_images(images, 1, rng=rng).reshape(50, 64) for _ in range(2)]
    np.testing.assert_array_equal(X_aug[50:], np.concatenate(expected))
    moved = [not np.array_equal(a, b) for a, b in zip(X_aug[50:100], X)]
    assert sum(moved) >= 35
    noisy, _ = augment_digits(X, y, 1, rng=0, noise_std=0.5)
    assert not np.array_equal(noisy[50:], X_aug[50:100])
    with pytest.raises(ValueError, match=r"augment_digits: X must have shape \(N, 64\)"):
        augment_digits(np.ones((3, 10)), np.arange(3), 1, rng=0)


def test_all_names_exported():
    for name in data.__all__:
        assert getattr(data, name).__doc__
