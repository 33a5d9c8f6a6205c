"""The three building blocks: ``Parameter``, ``Module`` and ``Sequential``.

A network is a ``Module``. Calling it runs ``forward(x)``, which caches what
the backward pass will need. ``backward(grad_out)`` then takes dL/d(output),
adds dL/d(parameter) into each parameter's ``.grad`` and returns dL/d(input).
The argument ``grad_out`` is never modified.

The names follow PyTorch (``parameters()``, ``zero_grad()``, ``train()``,
``eval()``), so that what a reader learns here carries over.
"""

import numpy as np

__all__ = ["Parameter", "Module", "Sequential"]


class Parameter:
    """A trainable array ``data`` together with its gradient ``grad``.

    ``grad`` has the same shape and dtype as ``data`` and starts at zero.
    Backward passes *add* into it (so gradients from several losses sum), and
    ``zero_grad()`` resets it. A parameter with ``requires_grad = False`` is
    frozen: layers do not accumulate its gradient and optimizers skip it.
    """

    def __init__(self, data):
        data = np.asarray(data)
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
        """Set the gradient to zero, in place."""
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

    def forward(self, x):
        """Compute the output for input ``x`` and cache what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):
        """Given dL/d(output), accumulate parameter gradients; return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, x):
        return self.forward(x)

    # --- finding parameters and sub-modules -------------------------------
    def children(self):
        """The direct sub-modules, in assignment order."""
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Module))

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
        """Switch this module and its children to training mode (or back)."""
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


class Sequential(Module):
    """Layers applied one after another: ``Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 1, rng=rng))``.

    forward:  a_0 = x,  a_{k+1} = layer_k(a_k)
    backward: the chain rule, layer by layer in reverse order.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)

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
