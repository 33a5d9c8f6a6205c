"""Gradient checking: compare a backward pass with finite differences.

A backward pass is easy to get subtly wrong, and a wrong gradient often
still trains, only badly. The cure is to compare it with a numerical
derivative. For a function f of an array x, the central difference

    df/dx_i ≈ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has error O(eps^2), so in float64 with eps = 1e-6 it agrees with a correct
gradient to about 1e-9 relative error, while a wrong one is off by far more.
The check uses the relative error of the whole tensor,

    ||a - n|| / max(||a||, ||n||, tiny),

with a the analytic (backward) gradient and n the numerical one.
"""

import numbers

import numpy as np

from nnlib._checks import check_array, check_number, check_rng
from nnlib.core import Module
from nnlib.losses import Loss, Penalty

__all__ = ["numerical_grad", "gradcheck"]


def numerical_grad(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    Returns an array n of x's shape with
    n_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

    ``f`` is called as ``f(x)`` and must return a number. ``x`` is changed in
    place, one entry at a time, and always restored, so ``f`` may also read x
    indirectly (for example a layer's weight array). Costs 2 * x.size calls of f.
    """
    if not callable(f) or isinstance(f, type):
        raise TypeError(f"numerical_grad: f must be a function of x that returns a number, got {type(f).__name__}")
    check_array("numerical_grad", "x", x, finite=False)
    eps = check_number("numerical_grad", "eps", eps, low=0, low_open=True)
    grad = np.zeros(x.shape, dtype=np.float64)
    checked = False  # whether f's first value has been checked to be a number
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + eps
            f_plus = f(x)
            x[i] = old - eps
            f_minus = f(x)
        finally:
            x[i] = old
        if not checked:
            _check_scalar_output(f_plus)
            checked = True
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _check_scalar_output(value):
    """Raise TypeError unless ``value`` (what f returned) is a single real number."""
    if np.ndim(value) != 0:
        raise TypeError(f"numerical_grad: f must return a single real number (e.g. a loss), got an array of shape "
                        f"{np.shape(value)}; for a vector-valued f check sum(G * f(x)) for a random G")
    if isinstance(value, (str, bytes, bool)) or not isinstance(value, (numbers.Real, np.ndarray)) \
            or np.iscomplexobj(value):
        raise TypeError(f"numerical_grad: f must return a single real number (e.g. a loss), got {value!r}")


def _require_float64(what, x):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"gradcheck: {what} must be a float64 array (float32 is too coarse for finite differences), got {got}"
        )


def _compare(what, analytic, numeric, rtol):
    """Raise AssertionError if the two gradients differ by more than ``rtol`` (relative)."""
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(f"gradcheck: {what}: backward gave shape {analytic.shape}, expected {numeric.shape}")
    size_a, size_n = np.linalg.norm(analytic), np.linalg.norm(numeric)
    error = np.linalg.norm(analytic - numeric) / max(size_a, size_n, np.finfo(np.float64).tiny)
    if not error <= rtol:  # also catches NaN
        raise AssertionError(
            f"gradcheck: {what}: relative error {error:.3g} exceeds rtol={rtol:g} "
            f"(|analytic| = {size_a:.6g}, |numerical| = {size_n:.6g})"
        )


def _unchanged(what, before, after):
    if not np.array_equal(before, after, equal_nan=True):
        raise AssertionError(f"gradcheck: {what} was modified in place")


def _check_module(module, x, rtol, eps, rng):
    name = type(module).__name__
    _require_float64(f"{name} input x", x)
    params = list(module.named_parameters())
    for pname, p in params:
        _require_float64(f"{name} parameter '{pname}'", p.data)
    x_before = x.copy()

    # Analytic: back-propagate a random upstream gradient G, i.e. differentiate f = sum(G * module(x)).
    out = module(x)
    upstream = rng.standard_normal(np.shape(out))
    upstream_before = upstream.copy()
    saved = [p.grad.copy() for _, p in params]
    try:
        for _, p in params:
            p.grad[...] = 0
        dx = module.backward(upstream)
        analytic = {pname: p.grad.copy() for pname, p in params}
    finally:
        for (_, p), grad in zip(params, saved):
            p.grad[...] = grad
    if dx is None:
        raise AssertionError(f"gradcheck: {name}.backward returned None instead of dL/dx (is input_grad False?)")
    _unchanged(f"{name}.backward's grad_out", upstream_before, upstream)
    _unchanged(f"{name}'s input x", x_before, x)

    def f(_):
        return float(np.sum(upstream * module(x)))

    _compare(f"{name}: dL/dx (input)", dx, numerical_grad(f, x, eps), rtol)
    for pname, p in params:
        if p.requires_grad:
            _compare(f"{name}: dL/d{pname} (parameter)", analytic[pname], numerical_grad(f, p.data, eps), rtol)
        elif analytic[pname].any():
            raise AssertionError(f"gradcheck: {name}: frozen parameter '{pname}' received a gradient")


def _check_loss(loss_fn, y_hat, y, sample_weight, rtol, eps):
    name = type(loss_fn).__name__
    several = isinstance(y_hat, (list, tuple))  # CombinedLoss: one y_hat per part
    y_hats = list(y_hat) if several else [y_hat]
    labels = [f"y_hats[{k}]" for k in range(len(y_hats))] if several else ["y_hat"]
    for label, yh in zip(labels, y_hats):
        _require_float64(f"{name} {label}", yh)
    before = [yh.copy() for yh in y_hats]

    loss_fn(y_hat, y, sample_weight)
    grads = loss_fn.backward()
    grads = list(grads) if several else [grads]
    for label, yh, yh_before in zip(labels, y_hats, before):
        _unchanged(f"{name}'s {label}", yh_before, yh)

    def f(_):
        return loss_fn(y_hat, y, sample_weight)

    for label, yh, grad in zip(labels, y_hats, grads):
        _compare(f"{name}: dL/d{label}", grad, numerical_grad(f, yh, eps), rtol)


def _check_penalty(penalty, rtol, eps):
    name = type(penalty).__name__
    for k, p in enumerate(penalty.params):
        _require_float64(f"{name} params[{k}]", p.data)
    saved = [p.grad.copy() for p in penalty.params]
    try:
        for p in penalty.params:
            p.grad[...] = 0
        penalty.backward()
        analytic = [p.grad.copy() for p in penalty.params]
    finally:
        for p, grad in zip(penalty.params, saved):
            p.grad[...] = grad

    def f(_):
        return penalty()

    for k, (p, grad) in enumerate(zip(penalty.params, analytic)):
        what = f"{name}: d(penalty)/d(params[{k}]) of shape {p.shape}"
        if p.requires_grad:
            _compare(what, grad, numerical_grad(f, p.data, eps), rtol)
        elif grad.any():
            raise AssertionError(f"gradcheck: {what}: frozen parameter received a gradient")


def gradcheck(fn, *inputs, sample_weight=None, rtol=1e-6, eps=1e-6, rng=0):
    """Check a backward pass against central differences; return True or raise AssertionError.

    What is checked depends on ``fn``:

    * a ``Module``: ``gradcheck(module, x)``. A random upstream gradient G
      (drawn from ``rng``) is back-propagated, so the check is on
      f(x) = sum(G * module(x)): dL/dx and dL/d(each parameter) are compared
      with finite differences. Also checked: backward leaves ``grad_out`` and
      ``x`` unchanged, and frozen parameters receive no gradient.
    * a ``Loss``: ``gradcheck(loss_fn, y_hat, y, sample_weight=None)`` checks
      dL/dy_hat. For a ``CombinedLoss`` pass lists: ``gradcheck(loss_fn, y_hats, ys)``.
    * a ``Penalty``: ``gradcheck(penalty)`` checks the gradient it adds to
      each penalised parameter.

    All arrays (inputs and parameters) must be float64. ``fn`` must be
    deterministic: put ``Dropout`` in eval mode (or re-seed it for each call).
    Arrays are perturbed in place and restored; parameters' ``.grad`` are
    left as they were. Nothing is printed.

    The AssertionError names the tensor and the relative error
    ||a - n|| / max(||a||, ||n||, tiny), e.g.
    ``gradcheck: Linear: dL/dweight (parameter): relative error 0.5 exceeds rtol=1e-06 ...``.
    Avoid inputs within ``eps`` of a kink (relu at 0, ties in a max pool),
    where the derivative does not exist.

    Parameters
    ----------
    fn : Module, Loss or Penalty
    *inputs : the arrays to call it with (see above)
    sample_weight : optional (N,) array, for losses only
    rtol : float
        Largest accepted relative error (default 1e-6).
    eps : float
        Finite-difference step (default 1e-6).
    rng : numpy.random.Generator or int
        Source of the upstream gradient for modules (default seed 0).
    """
    rtol = check_number("gradcheck", "rtol", rtol, low=0, low_open=True)
    eps = check_number("gradcheck", "eps", eps, low=0, low_open=True)
    rng = check_rng("gradcheck", rng)
    if isinstance(fn, Module):
        if len(inputs) != 1 or sample_weight is not None:
            raise TypeError("gradcheck: a Module is checked as gradcheck(module, x)")
        _check_module(fn, inputs[0], rtol, eps, rng)
    elif isinstance(fn, Loss):
        if len(inputs) != 2:
            raise TypeError("gradcheck: a Loss is checked as gradcheck(loss_fn, y_hat, y, sample_weight=None)")
        _check_loss(fn, inputs[0], inputs[1], sample_weight, rtol, eps)
    elif isinstance(fn, Penalty):
        if inputs or sample_weight is not None:
            raise TypeError("gradcheck: a Penalty is checked as gradcheck(penalty), with no other arguments")
        _check_penalty(fn, rtol, eps)
    elif isinstance(fn, type):
        raise TypeError(f"gradcheck: fn must be a Module, Loss or Penalty instance, got the class {fn.__name__}; "
                        f"create one first, e.g. {fn.__name__}(...)")
    else:
        raise TypeError(f"gradcheck: fn must be a Module, Loss or Penalty, got {type(fn).__name__}")
    return True
