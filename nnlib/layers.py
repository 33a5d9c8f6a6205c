"""Layers with parameters or shape changes: ``Linear``, ``Dropout``, pooling, ``Flatten``.

Every layer follows the same recipe:

* ``forward(x)`` computes the output and keeps what the backward pass needs
  (for ``Linear`` that is the input ``x``);
* ``backward(grad_out)`` receives dL/d(output), *adds* dL/d(parameter) into
  each trainable parameter's ``.grad`` and returns dL/d(input).

The backward formulas are written next to the forward ones. Neither method
modifies its argument.
"""

import numpy as np

from nnlib._checks import check_array, check_number, check_rng, check_same_dtype
from nnlib.core import Module, Parameter

__all__ = ["Linear", "Dropout", "MaxPool2d", "AvgPool2d", "Flatten"]


def _no_forward(where):
    """The error for calling backward() before forward()."""
    return RuntimeError(f"{where}: backward() was called before forward(); run a forward pass first")


def _check_grad_out(where, grad_out, shape, dtype):
    """Raise unless ``grad_out`` is an array of the given shape and dtype (the layer's output's)."""
    if isinstance(grad_out, np.ndarray) and grad_out.shape == shape and grad_out.dtype == dtype:
        return grad_out  # the fast, common case
    check_array(where, "grad_out", grad_out, shape=shape, finite=False)
    check_same_dtype(where, "grad_out", grad_out, dtype)
    return grad_out


def _pair(where, name, value):
    """Turn ``k`` or ``(kh, kw)`` into a pair of positive ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}")
        return tuple(check_number(where, name, v, low=1, integer=True) for v in value)
    k = check_number(where, name, value, low=1, integer=True)
    return (k, k)


class Linear(Module):
    """A fully connected layer: ``y = x @ W.T + b``.

    Shapes: x (N, in_features), W (out_features, in_features),
    b (out_features,), y (N, out_features).

    Initialisation (as in PyTorch): every entry of W and b is drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) using ``rng``.

    Backward, for upstream gradient G = dL/dy of shape (N, out_features)::

        dL/dW = G.T @ x        (out_features, in_features)
        dL/db = G.sum(axis=0)  (out_features,)
        dL/dx = G @ W          (N, in_features)

    The input must be a 2-D float array with the parameters' dtype (float64
    by default, float32 with ``dtype=np.float32``); nothing is ever upcast.
    Only cheap checks run on the input (type, dtype, shape): NaN or inf values
    pass through and are reported by the loss, which sees them either way.

    ``input_grad`` (attribute, default True): whether backward computes
    dL/dx. For the first layer of a network nothing uses dL/dX (the data is
    not trained), so setting ``layer.input_grad = False`` there skips the
    product G @ W (a third of the layer's backward work); backward then
    returns None. ``train.fit`` does this for the layer that reads the data
    while it trains, as PyTorch computes no gradient for its input data.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output row.
    rng : numpy.random.Generator or int
        Source of the initial weights (keyword only, required).
    bias : bool
        Whether to learn the offset ``b`` (default True).
    dtype : numpy dtype
        float64 (default) or float32.
    """

    def __init__(self, in_features, out_features, *, rng, bias=True, dtype=np.float64):
        where = "Linear"
        self.in_features = check_number(where, "in_features", in_features, low=1, integer=True)
        self.out_features = check_number(where, "out_features", out_features, low=1, integer=True)
        rng = check_rng(where, rng)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{where}: dtype must be a floating dtype (float32 or float64), got {dtype}")
        bound = 1.0 / np.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=self.out_features).astype(dtype)) if bias else None
        self.input_grad = True
        self._x = None

    def forward(self, x):
        w = self.weight.data
        # Fast path: one line of cheap checks; the slow path only builds the error message.
        if not (isinstance(x, np.ndarray) and x.dtype == w.dtype and x.ndim == 2 and x.shape[1] == self.in_features):
            check_array("Linear.forward", "x", x, shape=(None, self.in_features), finite=False)
            check_same_dtype("Linear.forward", "x", x, w.dtype)
        self._x = x
        y = x @ w.T  # y = x W^T + b
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_out):
        x = self._x
        if x is None:
            raise _no_forward("Linear.backward")
        g = _check_grad_out("Linear.backward", grad_out, (x.shape[0], self.out_features), x.dtype)
        if self.weight.requires_grad:
            self.weight.grad += g.T @ x  # dL/dW = G^T x
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += g.sum(axis=0)  # dL/db = sum over the batch of G
        if not self.input_grad:
            return None  # nothing needs dL/dx (e.g. the first layer): skip the product
        return g @ self.weight.data  # dL/dx = G W

    def extra_repr(self):
        text = f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        if self.weight.data.dtype != np.float64:
            text += f", dtype={self.weight.data.dtype}"
        return text


_DRAWABLE = (np.dtype(np.float32), np.dtype(np.float64))


class Dropout(Module):
    """Inverted dropout: during training, zero each input with probability ``p``.

    Training mode, with a fresh random mask m (m_i = 1 with probability 1 - p)::

        y = x * m / (1 - p)          dL/dx = G * m / (1 - p)

    Dividing by 1 - p keeps the expected value of every unit unchanged,
    E[y] = x, so nothing needs rescaling at test time. In evaluation mode
    (``model.eval()``) the layer is the identity: y = x, dL/dx = G.

    Parameters
    ----------
    p : float in [0, 1)
        Probability of dropping a unit (default 0.5).
    rng : numpy.random.Generator or int
        Source of the masks (keyword only, required). The same seed gives the
        same masks. Masks are drawn in the input's dtype (float16 inputs in
        float64), so a float32 and a float64 network see different (equally
        random) masks.
    """

    def __init__(self, p=0.5, *, rng):
        self.p = check_number("Dropout", "p", p, low=0, high=1, high_open=True)
        self.rng = check_rng("Dropout", rng)
        self._mask = None  # m / (1 - p), or None when the layer acted as the identity
        self._out = None  # (shape, dtype) of the last output

    def forward(self, x):
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            check_array("Dropout.forward", "x", x, finite=False)
        self._out = (x.shape, x.dtype)
        if not self.training or self.p == 0:
            self._mask = None
            return x
        draw = x.dtype if x.dtype in _DRAWABLE else np.float64  # numpy draws only float32 or float64
        keep = self.rng.random(x.shape, dtype=draw) >= self.p  # True with probability 1 - p
        self._mask = keep * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, grad_out):
        if self._out is None:
            raise _no_forward("Dropout.backward")
        g = _check_grad_out("Dropout.backward", grad_out, *self._out)
        if self._mask is None:
            return g  # identity
        return g * self._mask  # dL/dx = G * m / (1 - p)

    def extra_repr(self):
        return f"p={self.p}"


class _Pool2d(Module):
    """Shared set-up of the pooling layers: kernel size, stride and the window view."""

    def __init__(self, kernel_size, stride=None):
        where = type(self).__name__
        self.kernel_size = _pair(where, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(where, "stride", stride)
        self._x = None  # (shape, dtype) of the last input
        self._out_shape = None

    def _windows(self, x):
        """A read-only view of every pooling window: shape (N, C, H_out, W_out, kh, kw).

        H_out = (H - kh) // sh + 1 and W_out = (W - kw) // sw + 1 (no padding;
        rows or columns that do not fill a window are left out, as in PyTorch).
        """
        where = f"{type(self).__name__}.forward"
        check_array(where, "x", x, ndim=4, finite=False)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if x.shape[2] < kh or x.shape[3] < kw:
            raise ValueError(
                f"{where}: x must be at least {kh}x{kw} in its last two dimensions (N, C, H, W), got shape {x.shape}"
            )
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        self._x = (x.shape, x.dtype)
        self._out_shape = windows.shape[:4]
        return windows

    def _check_backward(self, grad_out):
        where = f"{type(self).__name__}.backward"
        if self._x is None:
            raise _no_forward(where)
        return _check_grad_out(where, grad_out, self._out_shape, self._x[1])

    def _window_slices(self):
        """For each kernel offset (i, j): the flat index i*kw + j and the slice of x it reads.

        Window (r, c) reads x[..., r*sh + i, c*sw + j] at offset (i, j), so the
        offset (i, j) of all windows together is x[..., i::sh, j::sw] (cut to
        H_out by W_out).
        """
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        h_out, w_out = self._out_shape[2:]
        for i in range(kh):
            for j in range(kw):
                rows = slice(i, i + sh * (h_out - 1) + 1, sh)
                cols = slice(j, j + sw * (w_out - 1) + 1, sw)
                yield i * kw + j, (Ellipsis, rows, cols)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """Max pooling over (kh, kw) windows of an (N, C, H, W) input, no padding.

    Forward: ``y[n, c, r, s] = max of x over window (r, s)``, where window
    (r, s) covers rows r*sh ... r*sh + kh - 1 and columns s*sw ... s*sw + kw - 1.

    Backward: the maximum is the only input that moved the output, so the
    whole upstream gradient G[n, c, r, s] goes to the position of the
    maximum (the first one in reading order on ties, as in PyTorch); every
    other input of the window gets 0. Overlapping windows add up.

    ``kernel_size`` and ``stride`` are an int or a pair (kh, kw); ``stride``
    defaults to ``kernel_size`` (non-overlapping windows).
    """

    def forward(self, x):
        windows = self._windows(x)
        kh, kw = self.kernel_size
        flat = windows.reshape(*windows.shape[:4], kh * kw)  # (N, C, H_out, W_out, kh*kw); N = 0 is fine
        self._argmax = flat.argmax(axis=-1)  # first maximum on ties
        return np.take_along_axis(flat, self._argmax[..., None], axis=-1)[..., 0]

    def backward(self, grad_out):
        g = self._check_backward(grad_out)
        dx = np.zeros(*self._x)
        for k, window_slice in self._window_slices():
            dx[window_slice] += np.where(self._argmax == k, g, 0)  # G goes where offset k was the max
        return dx


class AvgPool2d(_Pool2d):
    """Average pooling over (kh, kw) windows of an (N, C, H, W) input, no padding.

    Forward: ``y[n, c, r, s] = mean of x over window (r, s)``.

    Backward: each of the kh*kw inputs of a window contributed 1/(kh*kw) of
    the output, so each receives G[n, c, r, s] / (kh*kw). Overlapping windows
    add up.

    Extremes: a window of values near 1e308 whose sum overflows still gets its
    (representable) mean; a window holding both +inf and −inf has no mean and
    gives NaN, as in PyTorch, without a warning.

    ``kernel_size`` and ``stride`` are an int or a pair (kh, kw); ``stride``
    defaults to ``kernel_size`` (non-overlapping windows).
    """

    def forward(self, x):
        windows = self._windows(x)
        with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is NaN, as in PyTorch; no warning
            y = windows.mean(axis=(-2, -1))
        if not np.isfinite(y).all() and np.isfinite(x).all():  # the window's sum overflowed, not its mean
            kh, kw = self.kernel_size
            y = (windows / (kh * kw)).sum(axis=(-2, -1))
        return y

    def backward(self, grad_out):
        g = self._check_backward(grad_out)
        kh, kw = self.kernel_size
        share = g / (kh * kw)
        dx = np.zeros(*self._x)
        for _, window_slice in self._window_slices():
            dx[window_slice] += share
        return dx


class Flatten(Module):
    """Flatten every sample into one row: (N, d1, d2, ...) -> (N, d1*d2*...).

    Backward only undoes the reshape: dL/dx = G.reshape(x.shape).
    Use it between convolution-style layers (pooling) and ``Linear``.
    """

    def __init__(self):
        self._x = None  # (shape, dtype) of the last input

    def forward(self, x):
        check_array("Flatten.forward", "x", x, finite=False)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten.forward: x must have a batch dimension and at least one more, got shape {x.shape}"
            )
        self._x = (x.shape, x.dtype)
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))

    def backward(self, grad_out):
        if self._x is None:
            raise _no_forward("Flatten.backward")
        shape, dtype = self._x
        g = _check_grad_out("Flatten.backward", grad_out, (shape[0], int(np.prod(shape[1:]))), dtype)
        return g.reshape(shape)
