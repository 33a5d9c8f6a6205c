"""Optimizers: how the gradient becomes a step.

Every optimizer holds a list of ``Parameter`` objects and a learning rate
``lr``. After ``loss.backward()`` has filled each ``p.grad``, ``step()``
moves every trainable parameter, and ``zero_grad()`` clears the gradients
for the next batch::

    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(X_batch), y_batch)
        model.backward(loss_fn.backward())
        optimizer.step()

The update rules, argument names and defaults are exactly those of
``torch.optim`` (single parameter group), so the numbers a reader gets here
are the numbers PyTorch gives. Each class's docstring writes its rule out.

Notation: p a parameter, g its gradient, lr the learning rate, t the step
count (1 on the first step), λ the weight decay. Every optimizer but AdamW
first folds L2 weight decay into the gradient, g ← g + λ·p, as PyTorch does;
AdamW instead shrinks the parameter itself, p ← p − lr·λ·p ("decoupled"
weight decay), before its Adam step.
"""

import numpy as np

from ._checks import check_flag, check_number
from .core import Module, Parameter

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


def _add_scaled(y, x, a, tmp):
    """y ← y + a·x in place, using ``tmp`` as scratch so no new array is made."""
    if a == 1:
        y += x
    else:
        np.multiply(x, a, out=tmp)
        y += tmp


class Optimizer:
    """Base class: a list of parameters, a learning rate, and per-parameter state.

    ``params`` is any iterable of ``Parameter`` (a list, or ``model.parameters()``).
    ``lr`` is the current learning rate; schedulers change it between epochs.
    ``state[p]`` is a dict holding what the optimizer remembers about ``p``
    (step count, moving averages), with PyTorch's key names.

    ``step()`` skips frozen parameters (``requires_grad = False``) and those
    whose ``grad`` is None (as PyTorch does), and updates the others in place,
    in their own dtype (float32 stays float32).

    Non-finite gradients: ``step()`` does not check for them. A NaN or inf in a
    gradient is carried into the parameters, as in PyTorch, and no warning is
    raised; a training loop notices the divergence from its loss becoming
    non-finite (``train.fit`` and ``surfaces.descend`` stop and mark it).
    """

    _hyperparameters = ("lr", "weight_decay")
    #: False: weight decay is L2, folded into the gradient (g ← g + λ·p) before ``_update``.
    #: True (AdamW): ``_update`` applies it to the parameter itself.
    _decoupled_weight_decay = False

    def __init__(self, params, lr, weight_decay=0):
        where = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{where}: params must be an iterable of Parameters, got a {type(params).__name__} module; "
                            "pass model.parameters()")
        if isinstance(params, Parameter):
            raise TypeError(f"{where}: params must be an iterable of Parameters, got a single Parameter; pass [p]")
        if callable(params) and getattr(params, "__name__", "") == "parameters":
            raise TypeError(f"{where}: params must be an iterable of Parameters, got the method model.parameters; "
                            "call it: model.parameters()")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{where}: params must be an iterable of Parameters, got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{where}: params must contain at least one Parameter, got an empty list")
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{where}: params[{i}] must be a Parameter, got {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{where}: params must not contain the same Parameter twice")
        self.params = params
        self.lr = lr
        self.weight_decay = check_number(where, "weight_decay", weight_decay, low=0)
        self.state = {}
        self._scratch = {}

    @property
    def lr(self):
        """The current learning rate (a float >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_number(type(self).__name__, "lr", value, low=0)

    def zero_grad(self):
        """Set every parameter's gradient to zero, in place (a gradient set to None becomes zeros again)."""
        for p in self.params:
            p.zero_grad()

    def step(self):
        """Update every trainable parameter once, in place, from its ``.grad``."""
        decay = 0 if self._decoupled_weight_decay else self.weight_decay
        with np.errstate(all="ignore"):  # a NaN/inf gradient propagates silently (see the class docstring)
            for p in self.params:
                g = p.grad
                if not p.requires_grad or g is None:  # frozen, or no gradient (p.grad = None): skipped, as in torch
                    continue
                if not isinstance(g, np.ndarray):
                    raise TypeError(f"{type(self).__name__}.step: p.grad must be a numpy array or None, "
                                    f"got {type(g).__name__}")
                if g.shape != p.data.shape:
                    raise ValueError(f"{type(self).__name__}.step: p.grad must have shape {p.data.shape} "
                                     f"like its parameter, got {g.shape}")
                scratch = self._scratch.get(p)
                if scratch is None:  # two arrays shaped like p, made on p's first step and reused
                    scratch = self._scratch[p] = tuple(np.empty((2,) + p.data.shape, dtype=p.data.dtype))
                tmp, decayed = scratch
                if decay != 0:  # g ← g + λ·p (p.grad itself is never written to)
                    np.multiply(p.data, decay, out=decayed)
                    decayed += g
                    g = decayed
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                self._update(p, g, state, tmp)

    def _update(self, p, g, state, tmp):
        """Move ``p.data`` given gradient ``g`` (never written to); ``tmp`` is scratch shaped like p."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, g, state, tmp)")

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyperparameters)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's rule).

    With μ = momentum, τ = dampening and b the momentum buffer::

        g ← g + λ·p                      (weight decay)
        b ← g                            on the first step (no dampening then)
        b ← μ·b + (1 − τ)·g              on later steps
        d ← g + μ·b   if nesterov,  else  d ← b      (d ← g when μ = 0)
        p ← p − lr·d

    This is PyTorch's convention: the buffer b accumulates gradients and the
    learning rate multiplies it at the moment of the step. Many textbooks
    write the classical velocity form instead::

        v ← β·v − lr·g
        p ← p + v

    With τ = 0 and a constant lr the two give the same path, with v = −lr·b.
    They differ when lr changes mid-run (for example under a scheduler): here
    the new lr scales the whole buffer at once, while the classical form keeps
    the velocity built up under the old lr and only new gradients see the new lr.

    Nesterov momentum evaluates the step "one momentum step ahead":
    d = g + μ·b. It needs μ > 0 and τ = 0.
    """

    _hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, lr, weight_decay)
        self.momentum = check_number("SGD", "momentum", momentum, low=0, high=1, high_open=True)
        self.dampening = check_number("SGD", "dampening", dampening, low=0, high=1)
        self.nesterov = check_flag("SGD", "nesterov", nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True requires momentum in (0, 1) and dampening = 0, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")

    def _update(self, p, g, state, tmp):
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:  # first step: b ← g
                b = state["momentum_buffer"] = np.array(g, dtype=p.data.dtype)
            else:  # b ← μ·b + (1 − τ)·g
                b *= self.momentum
                _add_scaled(b, g, 1 - self.dampening, tmp)
            if self.nesterov:  # d ← g + μ·b
                np.multiply(b, self.momentum, out=tmp)
                tmp += g
                g = tmp
            else:  # d ← b
                g = b
        _add_scaled(p.data, g, -self.lr, tmp)  # p ← p − lr·d


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with its summed squared gradients.

    With G the running sum (starting at ``initial_accumulator_value``)::

        g ← g + λ·p
        lr_t = lr / (1 + (t − 1)·lr_decay)
        G ← G + g²
        p ← p − lr_t · g / (√G + ε)

    Coordinates that have seen large gradients take small steps. Because G
    only grows, the steps keep shrinking, which is why RMSprop and Adam
    replace the sum with a moving average.
    """

    _hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, lr, weight_decay)
        self.lr_decay = check_number("Adagrad", "lr_decay", lr_decay, low=0)
        self.initial_accumulator_value = check_number(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value, low=0)
        self.eps = check_number("Adagrad", "eps", eps, low=0, low_open=True)  # eps = 0 gives 0/0 = NaN

    def _update(self, p, g, state, tmp):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, self.initial_accumulator_value)
        state["step"] += 1
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        G = state["sum"]
        np.multiply(g, g, out=tmp)  # G ← G + g²
        G += tmp
        np.sqrt(G, out=tmp)  # √G + ε
        tmp += self.eps
        np.divide(g, tmp, out=tmp)  # p ← p − lr_t·g / (√G + ε)
        _add_scaled(p.data, tmp, -lr_t, tmp)


class RMSprop(Optimizer):
    """RMSprop: divide the step by a moving root-mean-square of the gradient.

    With α the smoothing constant, v the mean square, ḡ the mean gradient and
    b the momentum buffer (all starting at zero)::

        g ← g + λ·p
        v ← α·v + (1 − α)·g²
        s = √v + ε                              if not centered
        ḡ ← α·ḡ + (1 − α)·g,  s = √(v − ḡ²) + ε    if centered
        b ← μ·b + g / s,  p ← p − lr·b           if momentum μ > 0
        p ← p − lr·g / s                         otherwise

    Centered RMSprop divides by an estimate of the gradient's standard
    deviation instead of its root mean square. v − ḡ² cannot be negative in
    exact arithmetic; it is clamped at 0 so rounding cannot make it NaN.
    """

    _hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, lr, weight_decay)
        self.alpha = check_number("RMSprop", "alpha", alpha, low=0, high=1)
        self.eps = check_number("RMSprop", "eps", eps, low=0, low_open=True)  # eps = 0 gives 0/0 = NaN
        self.momentum = check_number("RMSprop", "momentum", momentum, low=0, high=1, high_open=True)
        self.centered = check_flag("RMSprop", "centered", centered)

    def _update(self, p, g, state, tmp):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        a, v = self.alpha, state["square_avg"]
        v *= a  # v ← α·v + (1 − α)·g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - a
        v += tmp
        if self.centered:
            g_avg = state["grad_avg"]
            np.subtract(g, g_avg, out=tmp)  # ḡ ← ḡ + (1 − α)·(g − ḡ)
            tmp *= 1 - a
            g_avg += tmp
            np.multiply(g_avg, g_avg, out=tmp)  # s = √max(v − ḡ², 0) + ε
            np.subtract(v, tmp, out=tmp)
            np.maximum(tmp, 0, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)  # s = √v + ε
        tmp += self.eps
        np.divide(g, tmp, out=tmp)  # g / s
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum  # b ← μ·b + g/s
            b += tmp
            _add_scaled(p.data, b, -self.lr, tmp)  # p ← p − lr·b
        else:
            _add_scaled(p.data, tmp, -self.lr, tmp)  # p ← p − lr·g/s


class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a moving RMS of the gradient.

    With (β1, β2) = betas and m, v starting at zero::

        g ← g + λ·p
        m ← β1·m + (1 − β1)·g               (first moment: a smoothed gradient)
        v ← β2·v + (1 − β2)·g²              (second moment)
        v_max ← max(v_max, v), use v_max for v   if amsgrad
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   (bias correction: m, v start at 0)
        p ← p − lr · m̂ / (√v̂ + ε)

    Because of the bias correction, the first step moves each coordinate by
    almost exactly lr, whatever the gradient's size. Weight decay here is the
    L2 form folded into g (PyTorch's Adam, not AdamW).
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, lr, weight_decay)
        where = type(self).__name__  # Adam or AdamW
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_number(where, "betas[0]", betas[0], low=0, high=1, high_open=True),
                      check_number(where, "betas[1]", betas[1], low=0, high=1, high_open=True))
        self.eps = check_number(where, "eps", eps, low=0, low_open=True)  # eps = 0 gives 0/0 = NaN
        self.amsgrad = check_flag(where, "amsgrad", amsgrad)

    def _update(self, p, g, state, tmp):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t, (beta1, beta2) = state["step"], self.betas
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1  # m ← β1·m + (1 − β1)·g
        _add_scaled(m, g, 1 - beta1, tmp)
        v *= beta2  # v ← β2·v + (1 − β2)·g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        if self.amsgrad:  # v_max ← max(v_max, v)
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        np.sqrt(v, out=tmp)  # √v̂ + ε = √v / √(1 − β2^t) + ε
        tmp /= bias_correction2 ** 0.5
        tmp += self.eps
        np.divide(m, tmp, out=tmp)  # p ← p − (lr / (1 − β1^t))·m / (√v̂ + ε)
        _add_scaled(p.data, tmp, -self.lr / bias_correction1, tmp)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's AdamW).

    Adam with ``weight_decay`` adds λ·p to the gradient (L2), so the decay
    too is divided by √v̂ and coordinates with large gradients are barely
    decayed. AdamW shrinks the parameter directly instead, by the same
    fraction lr·λ for every coordinate, and leaves the gradient alone::

        Adam (L2)                              AdamW (decoupled)
        g ← g + λ·p                            p ← p − lr·λ·p
        m ← β1·m + (1 − β1)·g                  m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²                 v ← β2·v + (1 − β2)·g²
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   (the same)
        p ← p − lr · m̂ / (√v̂ + ε)               p ← p − lr · m̂ / (√v̂ + ε)

    The defaults are PyTorch's: lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8,
    weight_decay = 1e-2 (not 0 as in Adam), amsgrad = False.
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _update(self, p, g, state, tmp):
        if self.weight_decay != 0:
            p.data *= 1 - self.lr * self.weight_decay  # p ← p − lr·λ·p, computed as PyTorch does
        super()._update(p, g, state, tmp)
