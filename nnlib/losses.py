"""Loss functions, softmax, and weight penalties.

Every loss is used the same way::

    loss = loss_fn(y_hat, y)      # a Python float; caches what backward needs
    grad = loss_fn.backward()     # dL/dy_hat, same shape and dtype as y_hat
    model.backward(grad)

``y_hat`` is what the model outputs (raw scores, "logits", for the
classification losses: the softmax or sigmoid is fused into the loss, which
is both simpler to differentiate and numerically stable). The inputs are
never modified.

Averaging and weights. A loss is the mean of per-sample (or per-element)
losses l_i. Every call accepts ``sample_weight`` (shape (N,), non-negative):
the mean then becomes the weighted mean sum_i s_i l_i / sum_i s_i.

``L1Penalty`` and ``L2Penalty`` are not losses of (y_hat, y) but of the
parameters; they add their gradient straight into ``p.grad``.
"""

import numbers

import numpy as np

from nnlib._checks import check_array, check_labels, check_number
from nnlib.core import Module, Parameter

__all__ = [
    "softmax",
    "log_softmax",
    "Loss",
    "MSELoss",
    "CrossEntropyLoss",
    "BCEWithLogitsLoss",
    "CombinedLoss",
    "Penalty",
    "L1Penalty",
    "L2Penalty",
]


# --- softmax --------------------------------------------------------------------


def _check_logits(where, z, axis):
    """z as a float array (ints become float64), finite, with at least one entry along ``axis``; and the axis."""
    z = np.asarray(z)
    if z.dtype.kind in "biu":
        z = z.astype(np.float64)
    elif z.dtype.kind != "f":
        got = type(z[()]).__name__ if z.dtype.kind == "O" and z.ndim == 0 else f"dtype {z.dtype}"
        raise TypeError(f"{where}: z must be an array of real numbers, got {got}")
    check_array(where, "z", z)
    if z.ndim == 0:
        raise ValueError(f"{where}: z must have at least one dimension (one score per class), got a single number")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{where}: axis must be an int, got {axis!r}")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"{where}: axis must be in [{-z.ndim}, {z.ndim - 1}] for z of shape {z.shape}, got {axis}")
    if z.shape[axis] == 0:
        raise ValueError(f"{where}: z must have at least one class along axis {axis}, got shape {z.shape}")
    return z, int(axis)


def _log_softmax(z, axis):
    with np.errstate(over="ignore"):  # z - max(z) may overflow to -inf (e.g. -1e308 - 1e308): exp gives 0, exactly
        shifted = z - z.max(axis=axis, keepdims=True)  # the largest entry becomes 0, so exp() cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """softmax(z)_k = e^(z_k) / sum_j e^(z_j), along ``axis`` (default: the last).

    The outputs are positive and sum to 1: a probability for each class.
    Adding the same constant to every z_k does not change the result, so it
    is computed as softmax(z - max(z)): the largest exponent is e^0 = 1 and
    nothing overflows, even for z = 1e4 (or ±1e308, where z - max(z) rounds
    to -inf and its probability to exactly 0, with no warning).

    Derivative (the Jacobian): d softmax_k / d z_j = p_k (δ_kj - p_j).
    """
    z, axis = _check_logits("softmax", z, axis)
    with np.errstate(over="ignore"):  # see log_softmax: an overflow to -inf is exact here
        shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """log softmax(z)_k = z_k - log sum_j e^(z_j), along ``axis`` (default: the last).

    Computed with the log-sum-exp trick, m = max(z):
    log sum_j e^(z_j) = m + log sum_j e^(z_j - m), so it is finite for
    finite z whenever the true value fits in a float (taking log(softmax(z))
    instead gives -inf once a probability underflows to 0, near z_k - m < -745).

    Limit: the result is z_k - m plus a term in [0, log C], so it is below
    -1.8e308 (the most negative float64) when z_k - m is, for example z =
    [1e308, -1e308] (true value -2e308). That entry is then -inf, with no
    warning; in float32 the same happens below -3.4e38.

    Derivative: d log softmax_k / d z_j = δ_kj - softmax_j(z).
    """
    return _log_softmax(*_check_logits("log_softmax", z, axis))


# --- checks shared by the losses ------------------------------------------------


def _check_y_hat(where, y_hat, ndim=None):
    """y_hat: a float array with a batch dimension, at least one sample, all values finite."""
    if not (isinstance(y_hat, np.ndarray) and y_hat.dtype.kind == "f" and (ndim is None or y_hat.ndim == ndim)):
        check_array(where, "y_hat", y_hat, ndim=ndim, finite=False)  # raises, naming the problem
    if y_hat.ndim == 0 or y_hat.shape[0] == 0:
        raise ValueError(f"{where}: y_hat must hold at least one sample (N >= 1), got shape {y_hat.shape}")
    if not np.isfinite(y_hat).all():
        bad = "NaN" if np.isnan(y_hat).any() else "inf"
        raise ValueError(
            f"{where}: y_hat must be finite, got an array containing {bad} "
            "(during training this means the model has diverged; fit stops and says why in History.diverged_reason)"
        )
    return y_hat


def _check_targets(where, y, y_hat):
    """Real-valued targets of y_hat's shape; returned in y_hat's dtype."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y must be a numpy array, got {type(y).__name__}")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{where}: y must hold numbers (bool, int or float), got dtype {y.dtype}")
    if y.shape != y_hat.shape:
        hint = ""
        if y_hat.shape == y.shape + (1,):
            hint = "; make them match, e.g. with y.reshape(-1, 1)"
        elif y.shape == y_hat.shape + (1,):
            hint = "; make them match, e.g. with y.ravel()"
        raise ValueError(f"{where}: y must have the same shape as y_hat, {y_hat.shape}, got {y.shape}{hint}")
    check_array(where, "y", y, floating=False)
    return y.astype(y_hat.dtype, copy=False)


def _check_weight_vector(where, name, weight):
    """A constructor's ``weight`` argument: a finite, non-negative float64 array."""
    w = np.asarray(weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must hold numbers, got dtype {w.dtype}")
    w = check_array(where, name, w.astype(np.float64))
    if (w < 0).any():
        raise ValueError(f"{where}: {name} must be non-negative, got a minimum of {w.min()}")
    return w


def _check_broadcast(where, name, w, shape):
    """Raise unless ``w`` broadcasts to ``shape`` without enlarging it."""
    try:
        ok = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{where}: {name} of shape {w.shape} cannot be broadcast to y_hat's shape {shape}")


def _check_sample_weight(where, sample_weight, n, dtype):
    """``sample_weight``: None, or N non-negative numbers that are not all zero (returned in ``dtype``)."""
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"{where}: sample_weight must hold numbers, got dtype {s.dtype}")
    check_array(where, "sample_weight", s, shape=(n,), floating=False)
    if (s < 0).any():
        raise ValueError(f"{where}: sample_weight must be non-negative, got a minimum of {s.min()}")
    if not s.any():
        raise ValueError(f"{where}: sample_weight must not be all zero (the weighted mean would be 0/0)")
    return s.astype(dtype, copy=False)


def _per_sample(s, ndim):
    """Sample weights of shape (N,) reshaped to broadcast against an (N, ...) array."""
    return s.reshape((-1,) + (1,) * (ndim - 1))


# --- the losses -------------------------------------------------------------------


class Loss:
    """Base class of the losses: ``loss = loss_fn(y_hat, y, sample_weight=None)``, then ``loss_fn.backward()``.

    Subclasses implement ``forward(y_hat, y, sample_weight)``, which checks
    the inputs, returns the loss as a Python float and stores in
    ``self._cache`` what ``backward()`` needs; ``backward()`` returns
    dL/dy_hat (a new array, same shape and dtype as y_hat).
    """

    _cache = None  # set by forward

    def __call__(self, y_hat, y, sample_weight=None):
        return self.forward(y_hat, y, sample_weight)

    def forward(self, y_hat, y, sample_weight=None):
        """Return the loss as a float and cache what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(y_hat, y, sample_weight)")

    def backward(self):
        """Return dL/dy_hat for the last forward call."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward()")

    def _saved(self):
        """What the last forward cached, or a clear error if there was none."""
        if self._cache is None:
            name = type(self).__name__
            raise RuntimeError(
                f"{name}.backward: there is no loss to differentiate yet; call loss_fn(y_hat, y) before backward()"
            )
        return self._cache

    def extra_repr(self):
        """Extra text inside the repr's parentheses, e.g. ``in_features=3, out_features=1``."""
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class MSELoss(Loss):
    """Mean squared error: L = mean over all entries of (y_hat - y)^2.

    Gradient: dL/dy_hat = 2 (y_hat - y) / n, with n the number of entries.

    ``y`` must have exactly the shape of ``y_hat`` (no silent broadcasting:
    an (N, 1) prediction against (N,) targets is a ValueError, not an
    (N, N) table of differences).

    Weights. ``weight`` (broadcastable to y_hat, non-negative) says how much
    each output counts, and ``sample_weight`` (N,) how much each sample
    counts. Together they give w_ij = sample_weight_i * weight_j and

        L = sum_ij w_ij (y_hat_ij - y_ij)^2 / sum_ij w_ij,
        dL/dy_hat_ij = 2 w_ij (y_hat_ij - y_ij) / sum_ij w_ij.

    Dividing by the total weight makes a weight of 0 *exclude* an output:
    ``MSELoss(weight=[1, 0])`` is the MSE of the first output alone. (PyTorch's
    MSELoss has no weight; with no weights this is exactly its mean.)
    """

    def __init__(self, weight=None):
        self.weight = None if weight is None else _check_weight_vector("MSELoss", "weight", weight)

    def forward(self, y_hat, y, sample_weight=None):
        where = "MSELoss"
        y_hat = _check_y_hat(where, y_hat)
        y = _check_targets(where, y, y_hat)
        s = _check_sample_weight(where, sample_weight, y_hat.shape[0], y_hat.dtype)
        w = None
        if self.weight is not None:
            _check_broadcast(where, "weight", self.weight, y_hat.shape)
            w = self.weight.astype(y_hat.dtype)
        if s is not None:
            w = _per_sample(s, y_hat.ndim) if w is None else w * _per_sample(s, y_hat.ndim)

        diff = y_hat - y
        if w is None:
            scale = 1.0 / diff.size  # plain mean
        else:
            total = np.broadcast_to(w, diff.shape).sum()
            if total == 0:
                raise ValueError(f"{where}: the weights of this batch sum to zero, so the weighted mean is undefined")
            scale = w / total  # w_ij / sum w
        self._cache = (diff, scale)
        return float(np.sum(scale * diff * diff))

    def backward(self):
        diff, scale = self._saved()
        return 2 * scale * diff  # dL/dy_hat = 2 w (y_hat - y) / sum w

    def extra_repr(self):
        return "" if self.weight is None else f"weight={self.weight.tolist()}"


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy for classification, from logits: ``loss_fn(logits, labels)``.

    y_hat: logits z of shape (N, C) (no softmax applied); y: integer labels
    of shape (N,), each in [0, C). Per sample,

        l_i = -log softmax(z_i)[y_i] = -z_i[y_i] + log sum_k e^(z_ik),

    computed with log-sum-exp: with m_i = max_k z_ik and e_ik = e^(z_ik - m_i),
    l_i = log sum_k e_ik - (z_i[y_i] - m_i), finite for finite logits whenever the
    loss itself fits in a float (at logits such as ±1e308 a loss of 2e308 is inf,
    without a warning; its gradient stays exact). Then

        dl_i/dz_i = softmax(z_i) - onehot(y_i),   softmax(z_i)_k = e_ik / sum_j e_ij:

    the predicted probabilities minus the true ones, the simplest gradient
    in deep learning. It is the reason softmax and cross-entropy are fused.

    Weights. ``weight`` (C,) gives each class a weight w_c, as in PyTorch;
    with sample weights s_i too, each sample counts c_i = s_i * w_(y_i) and

        L = sum_i c_i l_i / sum_i c_i   (PyTorch's normalisation for class weights).
    """

    def __init__(self, weight=None):
        where = "CrossEntropyLoss"
        self.weight = None if weight is None else _check_weight_vector(where, "weight", weight)
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(
                f"{where}: weight must be 1-dimensional (C,), one weight per class, got shape {self.weight.shape}"
            )

    def forward(self, y_hat, y, sample_weight=None):
        where = "CrossEntropyLoss"
        z = _check_y_hat(where, y_hat, ndim=2)
        n, n_classes = z.shape
        labels_ok = isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (n,)
        if not (labels_ok and y.min() >= 0 and y.max() < n_classes):  # the fast path for good labels
            check_labels(where, "y", y, n_classes, n)  # raises, naming the problem
        s = _check_sample_weight(where, sample_weight, n, z.dtype)
        c = None  # per-sample weights c_i, None when all are equal
        if self.weight is not None:
            if self.weight.shape[0] != n_classes:
                raise ValueError(
                    f"{where}: weight has {self.weight.shape[0]} entries but y_hat has {n_classes} classes (columns)"
                )
            c = self.weight.astype(z.dtype)[y]
        if s is not None:
            c = s if c is None else c * s

        with np.errstate(over="ignore"):  # z_ik - m_i below -1.8e308 becomes -inf: e_ik = 0, exactly
            shifted = z - z.max(axis=1, keepdims=True)  # z_ik - m_i: the largest entry of each row becomes 0
        e = np.exp(shifted)  # e_ik, in (0, 1]: cannot overflow
        e_sum = e.sum(axis=1, keepdims=True)  # sum_k e_ik, in [1, C]
        rows = np.arange(n)
        nll = np.log(e_sum[:, 0]) - shifted[rows, y]  # l_i = log sum_k e_ik - (z_i[y_i] - m_i)
        if c is None:
            coef = 1.0 / n  # plain mean
            with np.errstate(over="ignore"):
                total = nll.sum()
            overflowed = np.isinf(total) and np.isfinite(nll).all()  # the sum overflows, the mean need not
            loss = float(np.sum(nll / n)) if overflowed else float(total) / n
        else:
            total = c.sum()
            if total == 0:
                raise ValueError(f"{where}: the weights of this batch sum to zero, so the weighted mean is undefined")
            coef = c / total  # c_i / sum c
            loss = float(np.sum(coef * nll))
        self._cache = (e, e_sum, rows, y, coef)
        return loss

    def backward(self):
        e, e_sum, rows, y, coef = self._saved()
        grad = e / e_sum  # softmax probabilities p
        grad[rows, y] -= 1  # p - onehot(y)
        grad *= coef if isinstance(coef, float) else coef[:, None]  # times c_i / sum c (or 1/N)
        return grad

    def extra_repr(self):
        return "" if self.weight is None else f"weight={self.weight.tolist()}"


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits (sigmoid fused in): ``loss_fn(logits, targets)``.

    y_hat: logits z; y: targets of the same shape, in [0, 1] (0/1 labels or
    probabilities; ints are accepted). Per entry, with p = σ(z),

        l = -[y log p + (1 - y) log(1 - p)]
          = max(z, 0) - z y + log(1 + e^(-|z|))      (the stable form used here),
        dl/dz = σ(z) - y.

    The stable form never exponentiates a positive number, so it is finite
    and warning-free for any finite z (log p itself would be -inf for z = -1e4).

    ``pos_weight`` (broadcastable along the last axis, e.g. one per output)
    multiplies the positive term, l = -[P y log p + (1 - y) log(1 - p)], as in
    PyTorch; P > 1 favours recall. In stable form, with sp = log(1 + e^(-z)),

        l = (1 - y) z + (1 + (P - 1) y) sp,    dl/dz = (1 - y) - (1 + (P - 1) y) σ(-z).

    ``weight`` (broadcastable to y_hat) rescales each entry's loss as in
    PyTorch: L = mean(weight * l) (a plain mean, *not* divided by the total
    weight, unlike ``MSELoss``). ``sample_weight`` (N,) makes the mean over
    samples a weighted one: L = sum_i s_i m_i / sum_i s_i, where m_i is the
    mean of weight * l over sample i's entries.
    """

    def __init__(self, weight=None, pos_weight=None):
        where = "BCEWithLogitsLoss"
        self.weight = None if weight is None else _check_weight_vector(where, "weight", weight)
        self.pos_weight = None if pos_weight is None else _check_weight_vector(where, "pos_weight", pos_weight)

    def forward(self, y_hat, y, sample_weight=None):
        where = "BCEWithLogitsLoss"
        z = _check_y_hat(where, y_hat)
        y = _check_targets(where, y, z)
        if y.min() < 0 or y.max() > 1:
            bad = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"{where}: y must be in [0, 1] (0/1 labels or probabilities), got {bad}")
        s = _check_sample_weight(where, sample_weight, z.shape[0], z.dtype)
        w = None  # per-entry weights
        if self.weight is not None:
            _check_broadcast(where, "weight", self.weight, z.shape)
            w = self.weight.astype(z.dtype)
        if s is not None:
            w = _per_sample(s, z.ndim) if w is None else w * _per_sample(s, z.ndim)
        # The mean divides by the number of entries, N * K; with sample weights, N becomes sum_i s_i.
        norm = z.size if s is None else s.sum() * (z.size // z.shape[0])

        e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        if self.pos_weight is None:
            loss = np.maximum(z, 0) - z * y + np.log1p(e)
            factor = None
        else:
            _check_broadcast(where, "pos_weight", self.pos_weight, z.shape)
            factor = 1 + (self.pos_weight.astype(z.dtype) - 1) * y  # 1 + (P - 1) y
            softplus_neg = np.maximum(-z, 0) + np.log1p(e)  # log(1 + e^(-z)) = -log sigmoid(z)
            loss = (1 - y) * z + factor * softplus_neg
        if w is not None:
            loss = w * loss
        self._cache = (z, y, e, factor, w, norm)
        with np.errstate(over="ignore"):
            total = loss.sum()
        if np.isinf(total) and np.isfinite(loss).all():  # the sum overflows (logits near ±1e308), the mean need not
            return float(np.sum(loss / norm))
        return float(total / norm)

    def backward(self):
        z, y, e, factor, w, norm = self._saved()
        # with e = e^(-|z|): sigmoid(z) = 1/(1 + e) for z >= 0 and e/(1 + e) for z < 0, and sigmoid(-z) the other way
        if factor is None:
            grad = np.where(z >= 0, 1, e) / (1 + e) - y  # sigmoid(z) - y
        else:
            sigmoid_neg = np.where(z >= 0, e, 1) / (1 + e)  # sigmoid(-z) = 1 - sigmoid(z)
            grad = (1 - y) - factor * sigmoid_neg
        if w is not None:
            grad = w * grad
        return grad / norm

    def extra_repr(self):
        parts = []
        if self.weight is not None:
            parts.append(f"weight={self.weight.tolist()}")
        if self.pos_weight is not None:
            parts.append(f"pos_weight={self.pos_weight.tolist()}")
        return ", ".join(parts)


class CombinedLoss(Loss):
    """A weighted sum of losses, for multi-task or joint training.

    ``loss_fn = CombinedLoss([MSELoss(), CrossEntropyLoss()], weights=[1.0, 0.5])``
    is called on lists, one entry per part::

        L = sum_k weights_k * losses_k(y_hats[k], ys[k])
        loss_fn.backward() -> [weights_k * dL_k/dy_hat_k for each k]

    Each head of a multi-task model then back-propagates its own gradient.
    ``loss_fn.last`` holds the unweighted value of each part from the last
    call (useful for plotting the tasks separately). A ``sample_weight``
    applies the same per-sample weights to every part.
    """

    def __init__(self, losses, weights=None):
        where = "CombinedLoss"
        if isinstance(losses, Loss) or not isinstance(losses, (list, tuple)):
            raise TypeError(f"{where}: losses must be a list of losses such as [CrossEntropyLoss(), MSELoss()], "
                            f"got {type(losses).__name__}")
        losses = list(losses)
        if not losses:
            raise ValueError(f"{where}: losses must contain at least one loss, got an empty list")
        for k, loss in enumerate(losses):
            if not isinstance(loss, Loss):
                got = f"the class {loss.__name__}; create one with {loss.__name__}()" if isinstance(loss, type) \
                    else type(loss).__name__
                raise TypeError(f"{where}: losses[{k}] must be a Loss, such as MSELoss(); got {got}")
        if len({id(loss) for loss in losses}) != len(losses):
            raise ValueError(
                f"{where}: each part needs its own loss object (one object cannot cache two forward passes)"
            )
        if weights is None:
            weights = [1.0] * len(losses)
        if not isinstance(weights, (list, tuple, np.ndarray)):
            raise TypeError(f"{where}: weights must be a list of numbers, one per loss, got {type(weights).__name__}")
        weights = list(weights)
        if len(weights) != len(losses):
            raise ValueError(f"{where}: weights must have one entry per loss ({len(losses)}), got {len(weights)}")
        self.losses = losses
        self.weights = [check_number(where, f"weights[{k}]", w, low=0) for k, w in enumerate(weights)]
        self.last = []

    def forward(self, y_hats, ys, sample_weight=None):
        where = "CombinedLoss"
        for name, values in (("y_hats", y_hats), ("ys", ys)):
            if not isinstance(values, (list, tuple)):
                raise TypeError(f"{where}: {name} must be a list with one entry per loss, got {type(values).__name__}")
            if len(values) != len(self.losses):
                raise ValueError(
                    f"{where}: {name} must have one entry per loss ({len(self.losses)}), got {len(values)}"
                )
        self.last = [loss(y_hat, y, sample_weight) for loss, y_hat, y in zip(self.losses, y_hats, ys)]
        self._cache = True
        return float(sum(w * value for w, value in zip(self.weights, self.last)))

    def backward(self):
        self._saved()
        return [w * loss.backward() for w, loss in zip(self.weights, self.losses)]

    def extra_repr(self):
        return f"{self.losses!r}, weights={self.weights}"


# --- penalties ----------------------------------------------------------------------


class Penalty:
    """Base class of the weight penalties ``L1Penalty`` and ``L2Penalty``.

    ``penalty = L2Penalty(model.parameters(), lam=1e-3)``; in the training
    loop add ``penalty()`` to the loss and call ``penalty.backward()``, which
    *adds* the penalty's gradient into each parameter's ``.grad``.

    By default only weights (parameters with ndim >= 2) are penalised, not
    biases; pass ``include_bias=True`` to penalise 1-D parameters too.
    Frozen parameters count in the value but receive no gradient.
    Subclasses define ``_value(w)`` and ``_grad(w)`` for one array, without lam.
    """

    def __init__(self, params, lam, *, include_bias=False):
        where = type(self).__name__
        if isinstance(params, Module):
            params = params.parameters()
        if callable(params):
            raise TypeError(f"{where}: params must be an iterable of Parameters, got the method or function "
                            f"{getattr(params, '__name__', params)!r}; call it: model.parameters()")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{where}: params must be an iterable of Parameters, got {type(params).__name__}") from None
        for k, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{where}: params[{k}] must be a Parameter, got {type(p).__name__}")
        self.lam = check_number(where, "lam", lam, low=0)
        self.params = [p for p in params if include_bias or p.data.ndim >= 2]
        if not self.params:
            raise ValueError(
                f"{where}: params has no weights to penalise (ndim >= 2); biases are skipped unless include_bias=True"
            )

    def __call__(self):
        """The penalty's value, a Python float."""
        return float(self.lam * sum(self._value(p.data) for p in self.params))

    def backward(self):
        """Add d(penalty)/dw into ``p.grad`` for every trainable penalised parameter."""
        for p in self.params:
            if p.requires_grad:
                p.grad += self.lam * self._grad(p.data)

    def __repr__(self):
        return f"{type(self).__name__}(lam={self.lam}, {len(self.params)} parameters)"


class L1Penalty(Penalty):
    """L1 penalty ("lasso"): P = lam * sum |w|, gradient dP/dw = lam * sign(w) (0 at w = 0).

    Its pull towards zero has the same size for every weight, so it drives
    small weights to exactly zero: it makes weights sparse.
    """

    def _value(self, w):
        return np.abs(w).sum()

    def _grad(self, w):
        return np.sign(w)


class L2Penalty(Penalty):
    """L2 penalty ("weight decay", "ridge"): P = lam/2 * sum w^2, gradient dP/dw = lam * w.

    The factor 1/2 makes the gradient lam * w, so this equals an optimizer's
    ``weight_decay=lam`` with SGD. It shrinks large weights most.
    """

    def _value(self, w):
        return 0.5 * np.vdot(w, w)

    def _grad(self, w):
        return w
