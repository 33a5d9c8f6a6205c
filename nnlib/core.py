"""The three building blocks: ``Parameter``, ``Module`` and ``Sequential``.

A network is a ``Module``. Calling it runs ``forward(x)``, which caches what
the backward pass will need. ``backward(grad_out)`` then takes dL/d(output),
adds dL/d(parameter) into each parameter's ``.grad`` and returns dL/d(input).
The argument ``grad_out`` is never modified.

The names follow PyTorch (``parameters()``, ``zero_grad()``, ``train()``,
``eval()``), so that what a reader learns here carries over.

One module object, one place in the network
-------------------------------------------
Because a module keeps its last input for ``backward``, a module object may
stand in only one place of a model. In PyTorch, where autograd records every
call, ``act = nn.ReLU()`` can be used twice; here the second call would
overwrite the first call's cache and the backward pass would silently use
the wrong one. So nnlib refuses reuse, loudly, in two places:

* ``Sequential(...)`` refuses a module that appears twice anywhere in it
  (also inside nested ``Sequential``s), naming both positions;
* calling a module a second time while the same outermost forward pass is
  running (a hand-written ``Module`` that uses ``self.act`` twice) raises.

The fix is always the same: create a new ``ReLU()`` for each place. (The
alternative, a stack of caches per module, would make reuse work, but every
forward without a backward, such as an evaluation, would leave a cache
behind; one object per place keeps each layer a plain forward/backward pair.)
The same module in two *different* models (a pretrained body reused in a
fine-tuned model) is fine: run each model's forward and backward in turn.
"""

import numpy as np

__all__ = ["Parameter", "Module", "Sequential"]


class Parameter:
    """A trainable array ``data`` together with its gradient ``grad``.

    ``grad`` has the same shape and dtype as ``data`` and starts at zero.
    Backward passes *add* into it (so gradients from several losses sum), and
    ``zero_grad()`` resets it. A parameter with ``requires_grad = False`` is
    frozen: layers do not accumulate its gradient and optimizers skip it.
    Setting ``grad = None`` (PyTorch's "no gradient") also makes optimizers
    skip it; ``zero_grad()`` gives it a zero array again, which a backward
    pass needs to add into.

    ``data`` must hold real numbers: ints and bools become float64, and
    complex numbers, strings or None are refused (TypeError).
    """

    def __init__(self, data):
        data = np.asarray(data)
        if data.dtype.kind not in "biuf":  # complex would lose its imaginary part, objects would become NaN
            raise TypeError(f"Parameter: data must hold real numbers (bool, int or float), got dtype {data.dtype}")
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.grad = np.zeros_like(data)
        self.requires_grad = True

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        """Set the gradient to zero, in place (or to a new zero array if it was set to None)."""
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
        else:
            self.grad.fill(0)

    def __repr__(self):
        frozen = "" if self.requires_grad else ", frozen"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{frozen})"


class Module:
    """Base class of every layer, activation and network.

    Subclasses implement ``forward(x)`` and ``backward(grad_out)``. Parameters
    and sub-modules stored as attributes (or in a list attribute) are found
    automatically by ``parameters()``, in the order they were assigned.
    """

    training = True
    _pass = 0  # the number of the last forward pass that called this module (see __call__)

    def forward(self, x):
        """Compute the output for input ``x`` and cache what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):
        """Given dL/d(output), accumulate parameter gradients; return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, x):
        """``forward(x)``, refusing a second use of this module within one outermost forward pass."""
        calls = _calls
        if calls.depth:  # inside another module's forward: has this module run in this pass already?
            if self._pass == calls.number:
                raise RuntimeError(f"{type(calls.outer).__name__}.forward: each module must be called once per "
                                   f"forward pass, got this {type(self).__name__} object called twice; it caches "
                                   f"one input for backward: {_create_new(self)} (see nnlib.core)")
        else:  # an outermost call starts a new pass
            calls.number += 1
            calls.outer = self
        self._pass = calls.number
        calls.depth += 1
        try:
            return self.forward(x)
        finally:
            calls.depth -= 1

    # --- finding parameters and sub-modules -------------------------------
    def children(self):
        """The direct sub-modules, in assignment order."""
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Module))

    def _named_modules(self, prefix=""):
        """Yield ``(position, module)`` for every sub-module, depth first, e.g. ``("3", relu)``, ``("1.0", lin)``."""
        for key, value in vars(self).items():
            items = [(key, value)] if isinstance(value, Module) else (
                list(enumerate(value)) if isinstance(value, (list, tuple)) else [])
            for name, item in items:
                if isinstance(item, Module):
                    yield f"{prefix}{name}", item
                    yield from item._named_modules(f"{prefix}{name}.")

    def named_parameters(self, prefix=""):
        """Yield ``(name, parameter)`` pairs, e.g. ``("0.weight", p)``."""
        for key, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + key, value
            elif isinstance(value, Module):
                yield from value.named_parameters(f"{prefix}{key}.")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{i}.")

    def parameters(self):
        """All parameters, frozen ones included (as in PyTorch)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self, trainable_only=False):
        """The number of scalar parameters; only unfrozen ones if ``trainable_only``."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def zero_grad(self):
        """Reset every parameter's gradient to zero."""
        for p in self.parameters():
            p.zero_grad()

    # --- modes -------------------------------------------------------------
    def train(self, mode=True):
        """Switch this module and its children to training mode (or back, with ``mode=False``)."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Switch to evaluation mode: dropout becomes the identity."""
        return self.train(False)

    # --- fine-tuning ------------------------------------------------------
    def freeze(self):
        """Freeze every parameter: no gradient is accumulated, no update made."""
        for p in self.parameters():
            p.requires_grad = False
        return self

    def unfreeze(self):
        """Make every parameter trainable again."""
        for p in self.parameters():
            p.requires_grad = True
        return self

    def extra_repr(self):
        """Extra text inside the repr's parentheses, e.g. ``in_features=3, out_features=1``."""
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class _Calls:
    """The forward pass being run: how deeply module calls are nested, its number, its outermost module.

    Each module called during a pass is stamped with the pass number (``module._pass``); meeting the
    stamp again within the pass means the module is being reused. (One counter for the process: a model
    is not meant to run in two threads at once, since its modules' caches could not be shared either.)
    """

    depth = 0
    number = 0
    outer = None


_calls = _Calls()


def _create_new(module):
    """The advice in the error for a reused module: "create a new ReLU() for each place"."""
    name = type(module).__name__
    args = "" if not module.extra_repr() and not isinstance(module, Sequential) else "..."
    return f"create a new {name}({args}) for each place"


class Sequential(Module):
    """Layers applied one after another: ``Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 1, rng=rng))``.

    forward:  a_0 = x,  a_{k+1} = layer_k(a_k)
    backward: the chain rule, layer by layer in reverse order.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if isinstance(layer, type) and issubclass(layer, Module):
                raise TypeError(f"Sequential: layer {i} must be a Module instance, got the class {layer.__name__}; "
                                f"write {layer.__name__}(...) with parentheses")
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)
        first_seen = {}  # id(module) -> its first position
        for position, module in self._named_modules():
            first = first_seen.setdefault(id(module), position)
            if first != position:
                raise ValueError(f"Sequential: layers {first} and {position} must be different objects, got the same "
                                 f"{type(module).__name__} object twice; a module caches one input for backward, "
                                 f"so it can stand in one place only: {_create_new(module)} (see nnlib.core)")

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
