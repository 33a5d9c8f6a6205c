"""Argument checks shared by every nnlib module.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the
argument, what was expected and what was received, for example::

    ValueError: Linear.forward: x must have shape (N, 3), got (5, 4)

The first argument of every check, ``where``, is the name of the calling
function or method, so the message says where the bad value went in.
"""

import numbers

import numpy as np

__all__ = []


def _describe_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_array(where, name, x, *, ndim=None, shape=None, floating=True, finite=True):
    """Return ``x`` if it is a numpy array of the expected kind, else raise.

    ``shape`` may use ``None`` for dimensions that can be anything, e.g.
    ``(None, 3)`` for "any number of rows, three columns".
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array, got {type(x).__name__}")
    if floating and not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{where}: {name} must have a floating dtype (float32 or float64), got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{where}: {name} must be {ndim}-dimensional, got shape {_describe_shape(x.shape)}")
    if shape is not None:
        ok = x.ndim == len(shape) and all(want is None or want == got for want, got in zip(shape, x.shape))
        if not ok:
            wanted = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{where}: {name} must have shape {wanted}, got {_describe_shape(x.shape)}")
    if finite and np.issubdtype(x.dtype, np.inexact) and not np.isfinite(x).all():
        bad = "NaN" if np.isnan(x).any() else "inf"
        raise ValueError(f"{where}: {name} must be finite, got an array containing {bad}")
    return x


def check_same_dtype(where, name, x, dtype):
    """Raise TypeError unless ``x.dtype`` equals ``dtype``."""
    if x.dtype != dtype:
        raise TypeError(f"{where}: {name} must have dtype {np.dtype(dtype)} to match the parameters, got {x.dtype}")
    return x


def check_labels(where, name, y, n_classes, n_samples=None):
    """Integer class labels of shape (N,), each in [0, n_classes)."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array of integer labels, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{where}: {name} must hold integer class labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"{where}: {name} must be 1-dimensional (N,), got shape {_describe_shape(y.shape)}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{where}: {name} must have {n_samples} labels to match the predictions, got {y.shape[0]}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y.min() if y.min() < 0 else y.max()
        raise ValueError(f"{where}: {name} must be in [0, {n_classes - 1}] for {n_classes} classes, got label {bad}")
    return y


def check_number(where, name, value, *, low=None, high=None, low_open=False, high_open=False, integer=False):
    """Return ``value`` as a float (or int) if it lies in the stated range.

    ``low_open``/``high_open`` exclude the end points, so momentum in [0, 1)
    is ``check_number(where, "momentum", m, low=0, high=1, high_open=True)``.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{where}: {name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not integer and not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{where}: {name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return int(value) if integer else float(value)


def check_rng(where, rng):
    """Accept a ``numpy.random.Generator`` or an int seed; return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"{where}: rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def check_not_class(where, name, value, example):
    """Raise TypeError if ``value`` is a class where an instance is needed.

    For example ``fit(model, CrossEntropyLoss, ...)`` instead of
    ``CrossEntropyLoss()``; ``example`` shows the expected call.
    """
    if isinstance(value, type):
        raise TypeError(f"{where}: {name} must be an instance such as {example}, got the class {value.__name__}; "
                        f"create one with {value.__name__}(...)")
    return value


def check_flag(where, name, value):
    """Return ``value`` as a bool if it is True or False (numpy bools too), else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False, got {value!r}")
    return bool(value)
