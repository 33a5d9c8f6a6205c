"""Activation functions, as plain functions and as layers.

The functions (``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``) work on any
array or number; each ``*_grad`` function takes the same ``x`` and returns
the derivative f'(x), element by element.

The layers (``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``) wrap them for use
in a ``Sequential``. Their backward pass is the chain rule for an
element-wise function, dL/dx = dL/dy * f'(x); where f'(x) is simplest in
terms of the output y = f(x) (sigmoid, tanh), the layer reuses the y it
cached in forward instead of recomputing it.
"""

import numpy as np

from nnlib._checks import check_array, check_number, check_same_dtype
from nnlib.core import Module

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
]


def _as_float(where, x):
    """``x`` as a float array (bools, ints and numbers become float64; float32 stays float32)."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        if x.dtype.kind not in "biu":  # None, strings, complex: no silent NaN or cast
            got = type(x[()]).__name__ if x.dtype.kind == "O" and x.ndim == 0 else f"dtype {x.dtype}"
            raise TypeError(f"{where}: x must be a real number or an array of real numbers, got {got}")
        x = x.astype(np.float64)
    return x


def _result(y):
    """Return a plain number for a 0-d result, e.g. ``sigmoid(0.0) -> 0.5``."""
    return y[()]


# --- the functions ------------------------------------------------------------


def sigmoid(x):
    """The logistic sigmoid σ(x) = 1 / (1 + e^(-x)), range (0, 1).

    Derivative: σ'(x) = σ(x) (1 - σ(x)), at most 1/4 (at x = 0).

    Computed stably: with e = e^(-|x|), which never overflows,
    σ(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. So
    ``sigmoid(np.array([-1e4, 1e4]))`` is ``[0., 1.]`` with no warning.
    """
    x = _as_float("sigmoid", x)
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return _result(np.where(x >= 0, r, e * r))


def sigmoid_grad(x):
    """The derivative of the sigmoid: σ'(x) = σ(x) (1 - σ(x)), range (0, 1/4].

    Computed as e / (1 + e)^2 with e = e^(-|x|) (the same value, since σ' is
    symmetric), which stays accurate for large |x| where 1 - σ(x) rounds to 0.
    """
    x = _as_float("sigmoid_grad", x)
    e = np.exp(-np.abs(x))
    return _result(e / (1 + e) ** 2)


def tanh(x):
    """The hyperbolic tangent tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x)), range (-1, 1).

    Derivative: tanh'(x) = 1 - tanh(x)^2, at most 1 (at x = 0).
    It is a rescaled sigmoid, tanh(x) = 2 σ(2x) - 1, but centred on zero.
    """
    return _result(np.tanh(_as_float("tanh", x)))


def tanh_grad(x):
    """The derivative of tanh: tanh'(x) = 1 - tanh(x)^2, range (0, 1]."""
    t = np.tanh(_as_float("tanh_grad", x))
    return _result(1 - t * t)


def relu(x):
    """The rectified linear unit relu(x) = max(x, 0), range [0, inf).

    Derivative: 1 for x > 0 and 0 for x < 0. At x = 0 it is undefined; like
    PyTorch we use 0.
    """
    return _result(np.maximum(_as_float("relu", x), 0))


def relu_grad(x):
    """The derivative of relu: 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    x = _as_float("relu_grad", x)
    return _result((x > 0).astype(x.dtype))


def leaky_relu(x, negative_slope=0.01):
    """The leaky ReLU: x for x > 0 and a*x otherwise, where a = ``negative_slope``.

    Range (-inf, inf) for a > 0. Derivative: 1 for x > 0 and a for x < 0 (a at
    x = 0). The small slope keeps a gradient flowing for negative inputs.
    """
    x = _as_float("leaky_relu", x)
    a = check_number("leaky_relu", "negative_slope", negative_slope)
    return _result(np.where(x > 0, x, x * a))


def leaky_relu_grad(x, negative_slope=0.01):
    """The derivative of the leaky ReLU: 1 where x > 0, else ``negative_slope``."""
    x = _as_float("leaky_relu_grad", x)
    a = check_number("leaky_relu_grad", "negative_slope", negative_slope)
    one, slope = x.dtype.type(1), x.dtype.type(a)
    return _result(np.where(x > 0, one, slope))


# --- the layers ---------------------------------------------------------------


class _Activation(Module):
    """Shared checks of the activation layers. Subclasses fill ``_forward`` and ``_backward``."""

    def __init__(self):
        self._cache = None  # what backward needs (x or y); None until forward runs

    def forward(self, x):
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            check_array(f"{type(self).__name__}.forward", "x", x, finite=False)
        return self._forward(x)

    def backward(self, grad_out):
        where = f"{type(self).__name__}.backward"
        cache = self._cache
        if cache is None:
            raise RuntimeError(f"{where}: backward() was called before forward(); run a forward pass first")
        if not (isinstance(grad_out, np.ndarray) and grad_out.shape == cache.shape and grad_out.dtype == cache.dtype):
            check_array(where, "grad_out", grad_out, shape=cache.shape, finite=False)
            check_same_dtype(where, "grad_out", grad_out, cache.dtype)
        return self._backward(grad_out)


class Sigmoid(_Activation):
    """The sigmoid as a layer: y = σ(x) = 1 / (1 + e^(-x)).

    Backward: dL/dx = G * y * (1 - y), using the cached output y.
    Since y (1 - y) <= 1/4, each sigmoid layer shrinks the gradient by at
    least a factor of four: the root of the vanishing-gradient problem.
    """

    def _forward(self, x):
        self._cache = y = sigmoid(x)
        return y

    def _backward(self, grad_out):
        y = self._cache
        return grad_out * (y * (1 - y))


class Tanh(_Activation):
    """tanh as a layer: y = tanh(x).

    Backward: dL/dx = G * (1 - y^2), using the cached output y.
    """

    def _forward(self, x):
        self._cache = y = np.tanh(x)
        return y

    def _backward(self, grad_out):
        y = self._cache
        return grad_out * (1 - y * y)


class ReLU(_Activation):
    """relu as a layer: y = max(x, 0).

    Backward: dL/dx = G where x > 0 (equivalently y > 0), else 0.
    A unit whose input stays negative gets no gradient at all ("dead ReLU").
    """

    def _forward(self, x):
        self._cache = y = np.maximum(x, 0)
        return y

    def _backward(self, grad_out):
        return grad_out * (self._cache > 0)


class LeakyReLU(_Activation):
    """The leaky ReLU as a layer: y = x for x > 0, else a*x (a = ``negative_slope``).

    Backward: dL/dx = G where x > 0, else a*G. The default a = 0.01 follows
    PyTorch.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_number("LeakyReLU", "negative_slope", negative_slope)

    def _forward(self, x):
        self._cache = x  # the sign of x decides the slope
        return np.where(x > 0, x, x * x.dtype.type(self.negative_slope))

    def _backward(self, grad_out):
        x = self._cache
        return np.where(x > 0, grad_out, grad_out * x.dtype.type(self.negative_slope))

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"
