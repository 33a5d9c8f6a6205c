"""Tests for nnlib.schedulers: hand-worked schedules, torch's sequences, validation."""

import inspect
import math

import numpy as np
import pytest

from nnlib.core import Parameter
from nnlib.optim import SGD, Adagrad, Adam, RMSprop
from nnlib.schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, MultiStepLR, StepLR

ALL = [StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR]


def _opt(lr=1.0, cls=SGD):
    return cls([Parameter(np.zeros(2))], lr=lr)


def schedule(make, epochs, lr=1.0):
    """get_last_lr() after construction, then after each of ``epochs`` steps."""
    opt = _opt(lr)
    sched = make(opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
        assert opt.lr == out[-1]
    return out


def test_by_hand():
    assert schedule(lambda o: StepLR(o, step_size=3, gamma=0.5), 7) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    np.testing.assert_allclose(schedule(lambda o: MultiStepLR(o, milestones=[5, 2]), 6),
                               [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)
    # a milestone listed twice applies gamma twice
    np.testing.assert_allclose(schedule(lambda o: MultiStepLR(o, [2, 2], gamma=0.5), 3), [1, 1, 0.25, 0.25])
    assert schedule(lambda o: ExponentialLR(o, gamma=0.5), 3) == [1, 0.5, 0.25, 0.125]
    # T_max 4: (1 + cos(πt/4)) / 2 = 1, (2 + √2)/4, 1/2, (2 − √2)/4, 0, then back up
    s2 = math.sqrt(2)
    np.testing.assert_allclose(schedule(lambda o: CosineAnnealingLR(o, T_max=4), 6),
                               [1, (2 + s2) / 4, 0.5, (2 - s2) / 4, 0, (2 - s2) / 4, 0.5], rtol=1e-14, atol=1e-16)
    # eta_min 0.2: 0.2 + 0.8·(1 + cos(πt/2)) / 2
    np.testing.assert_allclose(schedule(lambda o: CosineAnnealingLR(o, T_max=2, eta_min=0.2), 2), [1, 0.6, 0.2])


@pytest.mark.parametrize("make", [lambda o: StepLR(o, 2), lambda o: MultiStepLR(o, [1]),
                                  lambda o: ExponentialLR(o, 0.9), lambda o: CosineAnnealingLR(o, 10)])
def test_construction_records_base_lr_and_epoch_zero(make):
    opt = _opt(0.3)
    sched = make(opt)
    assert sched.last_epoch == 0 and sched.base_lr == 0.3 and opt.lr == 0.3
    assert sched.get_last_lr() == [0.3]
    sched.get_last_lr().append(99)  # a copy: changing it changes nothing
    assert sched.get_last_lr() == [0.3]
    sched.step()
    sched.step()
    assert sched.last_epoch == 2
    assert [sched.lr_at(t) for t in range(3)][-1] == opt.lr


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam])
def test_works_with_every_optimizer_and_the_optimizer_uses_the_new_rate(cls):
    p = Parameter(np.zeros(1))
    opt = cls([p], lr=0.1)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    assert opt.lr == 0.05
    if cls is SGD:
        p.grad[...] = 1.0
        opt.step()
        assert p.data[0] == pytest.approx(-0.05)


def test_lr_at_plots_a_whole_schedule_without_stepping():
    opt = _opt(0.1)
    sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-3)
    curve = [sched.lr_at(t) for t in range(101)]
    assert curve[0] == 0.1 and curve[-1] == pytest.approx(1e-3)
    assert np.all(np.diff(curve) < 0)
    assert sched.last_epoch == 0 and opt.lr == 0.1


TORCH_CASES = [
    (StepLR, dict(step_size=3)), (StepLR, dict(step_size=1, gamma=0.5)), (StepLR, dict(step_size=7, gamma=2.0)),
    (MultiStepLR, dict(milestones=[3, 8, 8, 20])), (MultiStepLR, dict(milestones=[10, 2], gamma=0.3)),
    (ExponentialLR, dict(gamma=0.9)), (ExponentialLR, dict(gamma=1.1)),
    (CosineAnnealingLR, dict(T_max=10)), (CosineAnnealingLR, dict(T_max=7, eta_min=0.01)),
    (CosineAnnealingLR, dict(T_max=1)),
]


@pytest.mark.parametrize("cls, kwargs", TORCH_CASES, ids=[f"{c.__name__}-{k}" for c, k in TORCH_CASES])
def test_get_last_lr_matches_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    lr, epochs = 0.1, 30
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    tsched = getattr(torch.optim.lr_scheduler, cls.__name__)(topt, **kwargs)
    expected = [tsched.get_last_lr()[0]]
    for _ in range(epochs):
        topt.step()
        tsched.step()
        expected.append(tsched.get_last_lr()[0])
    got = schedule(lambda o: cls(o, **kwargs), epochs, lr=lr)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_momentum_sgd_with_a_schedule_matches_torch():
    # The schedule changes lr mid-run: this is where PyTorch's momentum convention matters.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(12, 3))
    p, t = Parameter(np.zeros(3)), torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt, topt = SGD([p], lr=0.1, momentum=0.9), torch.optim.SGD([t], lr=0.1, momentum=0.9)
    sched, tsched = StepLR(opt, 3, 0.5), torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    for g in grads:
        p.grad[...] = g
        t.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)


def test_signatures_and_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for cls in ALL:
        ours = inspect.signature(cls).parameters
        theirs = inspect.signature(getattr(torch.optim.lr_scheduler, cls.__name__)).parameters
        assert list(theirs)[: len(ours)] == list(ours), cls.__name__
        for name, p in ours.items():
            assert theirs[name].default == p.default, f"{cls.__name__}.{name}"


def test_defaults_as_documented():
    def defaults(cls):
        return {n: p.default for n, p in inspect.signature(cls).parameters.items() if p.default is not p.empty}

    assert defaults(StepLR) == {"gamma": 0.1}
    assert defaults(MultiStepLR) == {"gamma": 0.1}
    assert defaults(ExponentialLR) == {}
    assert defaults(CosineAnnealingLR) == {"eta_min": 0}


INVALID = [
    (StepLR, dict(step_size=0), ValueError, r"StepLR: step_size must be in \[1, inf\], got 0"),
    (StepLR, dict(step_size=2.5), TypeError, r"StepLR: step_size must be an integer, got 2.5"),
    (StepLR, dict(step_size=2, gamma=0), ValueError, r"StepLR: gamma must be in \(0, inf\], got 0"),
    (StepLR, dict(step_size=2, gamma=-0.1), ValueError, r"StepLR: gamma must be in \(0, inf\], got -0.1"),
    (MultiStepLR, dict(milestones=[3, 0]), ValueError, r"MultiStepLR: milestones\[1\] must be in \[1, inf\], got 0"),
    (MultiStepLR, dict(milestones=[3, 4.5]), TypeError, r"MultiStepLR: milestones\[1\] must be an integer, got 4.5"),
    (MultiStepLR, dict(milestones=5), TypeError, r"MultiStepLR: milestones must be a list of epochs, got 5"),
    (MultiStepLR, dict(milestones=[2], gamma=float("inf")), ValueError, r"MultiStepLR: gamma must be finite, got inf"),
    (ExponentialLR, dict(gamma=0.0), ValueError, r"ExponentialLR: gamma must be in \(0, inf\], got 0.0"),
    (CosineAnnealingLR, dict(T_max=0), ValueError, r"CosineAnnealingLR: T_max must be in \[1, inf\], got 0"),
    (CosineAnnealingLR, dict(T_max=10, eta_min=-1e-3), ValueError,
     r"CosineAnnealingLR: eta_min must be in \[0, inf\], got -0.001"),
]


@pytest.mark.parametrize("cls, kwargs, error, message", INVALID, ids=[f"{c.__name__}-{k}" for c, k, _, _ in INVALID])
def test_invalid_arguments_raise(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(_opt(), **kwargs)


@pytest.mark.parametrize("cls, kwargs", [(StepLR, dict(step_size=1)), (ExponentialLR, dict(gamma=0.9))])
def test_optimizer_must_be_an_nnlib_optimizer(cls, kwargs):
    with pytest.raises(TypeError, match=f"{cls.__name__}: optimizer must be an nnlib Optimizer, got list"):
        cls([Parameter(np.zeros(1))], **kwargs)


def test_base_class_needs_lr_at():
    with pytest.raises(NotImplementedError, match="LRScheduler must implement lr_at"):
        LRScheduler(_opt())


def test_a_growing_schedule_never_raises_overflowerror():
    # gamma = 10 for 400 epochs: 10**400 does not fit in a float. lr_at says inf (for plotting a schedule),
    # and step() refuses to set it, naming gamma, and leaves the optimizer and the epoch as they were.
    optimizer = SGD([Parameter(np.ones(1))], lr=0.1)
    scheduler = ExponentialLR(optimizer, gamma=10)
    assert scheduler.lr_at(400) == math.inf
    assert StepLR(SGD([Parameter(np.ones(1))], lr=0.1), 1, gamma=10).lr_at(400) == math.inf
    for _ in range(309):
        scheduler.step()
    assert optimizer.lr == pytest.approx(1e308)  # 10^309 alone overflows, 0.1 · 10^309 does not
    with pytest.raises(ValueError, match=r"ExponentialLR\.step: the learning rate for epoch 310 overflows a float "
                                         r"\(base_lr=0\.1, gamma=10\.0\)"):
        scheduler.step()
    assert scheduler.last_epoch == 309 and optimizer.lr == pytest.approx(1e308)
    assert ExponentialLR(SGD([Parameter(np.ones(1))], lr=0.1), gamma=0.1).lr_at(400) == 0.0  # underflow is fine
