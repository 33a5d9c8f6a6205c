"""Learning-rate schedules: change ``optimizer.lr`` from one epoch to the next.

A scheduler wraps an optimizer. Building it records the optimizer's rate as
the base rate and sets ``last_epoch = 0``. Call ``step()`` once at the end of
every epoch: it adds one to ``last_epoch`` and writes the new rate into
``optimizer.lr``::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)
        scheduler.step()

The names, arguments and the rates produced are those of
``torch.optim.lr_scheduler``. One difference in how they are computed: each
rate here comes from a closed formula in ``base_lr`` and the epoch
(``lr_at(epoch)``), where PyTorch updates the current rate step by step. The
numbers agree (to rounding); but a rate set by hand on the optimizer is
overwritten at the next ``step()`` here, and schedulers cannot be chained.
``lr_at`` also lets a lesson plot a whole schedule without stepping it.
"""

import math
from bisect import bisect_right

from ._checks import check_number
from .optim import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: sets ``optimizer.lr = lr_at(last_epoch)`` at each ``step()``.

    Attributes: ``optimizer``, ``base_lr`` (the rate at construction) and
    ``last_epoch`` (how many times ``step()`` has been called).
    Subclasses implement ``lr_at(epoch)``.
    """

    def __init__(self, optimizer):
        if isinstance(optimizer, type):
            raise TypeError(f"{type(self).__name__}: optimizer must be an nnlib Optimizer instance, got the class "
                            f"{optimizer.__name__}; build it first, e.g. SGD(model.parameters(), lr=0.1)")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an nnlib Optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        optimizer.lr = self.lr_at(0)
        self._last_lr = [optimizer.lr]

    def lr_at(self, epoch):
        """The learning rate for ``epoch`` (0 is the rate before any ``step()``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement lr_at(epoch)")

    def step(self):
        """End of an epoch: ``last_epoch += 1`` and write the new rate into ``optimizer.lr``.

        A rate too large for a float (``lr_at`` gives inf, e.g. gamma = 10 for
        400 epochs) is refused with a ValueError, and nothing changes.
        """
        lr = self.lr_at(self.last_epoch + 1)
        if not math.isfinite(lr):
            name = type(self).__name__
            raise ValueError(f"{name}.step: the learning rate for epoch {self.last_epoch + 1} overflows a float "
                             f"(base_lr={self.base_lr!r}, gamma={getattr(self, 'gamma', None)!r}); use a gamma "
                             f"closer to 1 or fewer epochs, got lr_at({self.last_epoch + 1}) = {lr}")
        self.last_epoch += 1
        self.optimizer.lr = lr
        self._last_lr = [self.optimizer.lr]

    def _epoch(self, epoch):
        """``epoch`` checked: an int >= 0 (for ``lr_at``)."""
        return check_number(f"{type(self).__name__}.lr_at", "epoch", epoch, low=0, integer=True)

    def _scaled(self, k):
        """base_lr · gamma^k; inf (not an OverflowError) only when the product itself is too large for a float."""
        try:
            return self.base_lr * self.gamma ** k
        except OverflowError:  # gamma^k alone overflows; the product may still fit (0.1 · 10^309 = 1e308)
            if self.base_lr == 0:
                return 0.0
            try:
                return math.exp(math.log(self.base_lr) + k * math.log(self.gamma))
            except OverflowError:
                return math.inf

    def get_last_lr(self):
        """The rate this scheduler last set, as a one-element list (like PyTorch)."""
        return list(self._last_lr)

    def __repr__(self):
        return f"{type(self).__name__}(base_lr={self.base_lr!r}, last_epoch={self.last_epoch})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    lr_t = base_lr · gamma^⌊t / step_size⌋
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = check_number("StepLR", "step_size", step_size, low=1, integer=True)
        self.gamma = check_number("StepLR", "gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        """base_lr · gamma^⌊epoch / step_size⌋ (inf if that overflows a float)."""
        return self._scaled(self._epoch(epoch) // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each epoch listed in ``milestones``.

    lr_t = base_lr · gamma^(number of milestones ≤ t)

    A milestone listed twice applies gamma twice, as in PyTorch.
    """

    def __init__(self, optimizer, milestones, gamma=0.1):
        try:
            milestones = list(milestones)
        except TypeError:
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got {milestones!r}") from None
        self.milestones = sorted(check_number("MultiStepLR", f"milestones[{i}]", m, low=1, integer=True)
                                 for i, m in enumerate(milestones))
        self.gamma = check_number("MultiStepLR", "gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        """base_lr · gamma^(milestones ≤ epoch) (inf if that overflows a float)."""
        return self._scaled(bisect_right(self.milestones, self._epoch(epoch)))


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch.

    lr_t = base_lr · gamma^t

    A gamma above 1 makes the rate grow, which is how a learning-rate range
    test sweeps rates.
    """

    def __init__(self, optimizer, gamma):
        self.gamma = check_number("ExponentialLR", "gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        """base_lr · gamma^epoch (inf if that overflows a float, e.g. gamma = 10 after 400 epochs)."""
        return self._scaled(self._epoch(epoch))


class CosineAnnealingLR(LRScheduler):
    """Lower the rate from base_lr to ``eta_min`` along half a cosine over ``T_max`` epochs.

    lr_t = eta_min + (base_lr − eta_min) · (1 + cos(π·t / T_max)) / 2

    At t = T_max the rate is eta_min. Stepping past T_max continues the
    cosine, so the rate climbs back towards base_lr (PyTorch does the same);
    usually one sets T_max to the number of epochs.
    """

    def __init__(self, optimizer, T_max, eta_min=0):
        self.T_max = check_number("CosineAnnealingLR", "T_max", T_max, low=1, integer=True)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min, low=0)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        """eta_min + (base_lr − eta_min) · (1 + cos(π·epoch / T_max)) / 2."""
        epoch = self._epoch(epoch)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
