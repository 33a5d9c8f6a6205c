"""Tests for nnlib.optim.

1. Trajectories worked out by hand from PyTorch's published update rules.
2. Where torch is installed: every optimizer and option combination against
   torch.optim over 50 steps in float64, and torch's defaults.
3. Frozen parameters, float32, argument validation, non-finite gradients.
"""

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.core import Parameter, Sequential, Module
from nnlib.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

ALL = [SGD, Adagrad, RMSprop, Adam, AdamW]

# Every hand example starts at p = 1 and is fed the gradients 1, 2, −1
# (set directly, so they do not depend on p, except through weight decay).
GRADS = [1.0, 2.0, -1.0]


def trajectory(cls, grads=GRADS, p0=1.0, **kwargs):
    p = Parameter(np.array([p0]))
    opt = cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad[...] = g
        opt.step()
        out.append(p.data[0])
    return out


# --------------------------------------------------------------------------
# 1. By hand
# --------------------------------------------------------------------------
SGD_CASES = [
    # plain: p ← p − 0.1·g
    (dict(lr=0.1), [0.9, 0.7, 0.8]),
    # momentum 0.9: b = 1, 0.9·1 + 2 = 2.9, 0.9·2.9 − 1 = 1.61;  p ← p − 0.1·b
    (dict(lr=0.1, momentum=0.9), [0.9, 0.61, 0.449]),
    # nesterov: same b, step d = g + 0.9·b = 1.9, 4.61, 0.449
    (dict(lr=0.1, momentum=0.9, nesterov=True), [0.81, 0.349, 0.3041]),
    # dampening 0.5: b = 1 (first step: no dampening), 0.9 + 0.5·2 = 1.9, 1.71 − 0.5 = 1.21
    (dict(lr=0.1, momentum=0.9, dampening=0.5), [0.9, 0.71, 0.589]),
    # weight decay 0.1: g' = g + 0.1·p = 1.1, 2.089, −0.93189
    (dict(lr=0.1, weight_decay=0.1), [0.89, 0.6811, 0.774289]),
    # momentum + weight decay: g' = 1.1, 2.089, −0.94179; b = 1.1, 3.079, 1.82931
    (dict(lr=0.1, momentum=0.9, weight_decay=0.1), [0.89, 0.5821, 0.399169]),
]


@pytest.mark.parametrize("kwargs, expected", SGD_CASES)
def test_sgd_by_hand(kwargs, expected):
    np.testing.assert_allclose(trajectory(SGD, **kwargs), expected, rtol=0, atol=1e-12)


def test_adagrad_by_hand():
    # lr_t = 0.1 / (1 + (t − 1)·0.5) = 0.1, 0.1/1.5, 0.05;  G = 1, 5, 6;
    # eps = 0.5 is large on purpose: it shows that ε is added to √G, not to G.
    p1 = 1 - 0.1 * 1 / (1 + 0.5)
    p2 = p1 - (0.1 / 1.5) * 2 / (math.sqrt(5) + 0.5)
    p3 = p2 + 0.05 * 1 / (math.sqrt(6) + 0.5)
    got = trajectory(Adagrad, lr=0.1, lr_decay=0.5, eps=0.5)
    np.testing.assert_allclose(got, [p1, p2, p3], rtol=0, atol=1e-12)
    # initial_accumulator_value = 1: G = 2, 6, 7
    p1 = 1 - 0.1 * 1 / (math.sqrt(2) + 0.5)
    p2 = p1 - (0.1 / 1.5) * 2 / (math.sqrt(6) + 0.5)
    p3 = p2 + 0.05 * 1 / (math.sqrt(7) + 0.5)
    got = trajectory(Adagrad, lr=0.1, lr_decay=0.5, eps=0.5, initial_accumulator_value=1.0)
    np.testing.assert_allclose(got, [p1, p2, p3], rtol=0, atol=1e-12)


def test_rmsprop_by_hand():
    # alpha 0.9: v = 0.1, 0.09 + 0.4 = 0.49, 0.441 + 0.1 = 0.541; eps 0.1 is added to √v.
    p1 = 1 - 0.1 * 1 / (math.sqrt(0.1) + 0.1)
    p2 = p1 - 0.1 * 2 / (0.7 + 0.1)
    p3 = p2 + 0.1 * 1 / (math.sqrt(0.541) + 0.1)
    got = trajectory(RMSprop, lr=0.1, alpha=0.9, eps=0.1)
    np.testing.assert_allclose(got, [p1, p2, p3], rtol=0, atol=1e-12)


def test_rmsprop_centered_momentum_by_hand():
    # v  = 0.1, 0.49, 0.541;  ḡ = 0.1, 0.09 + 0.2 = 0.29, 0.261 − 0.1 = 0.161
    # s  = √(v − ḡ²) + 0.1 = √0.09 + 0.1 = 0.4, √0.4059 + 0.1, √0.515079 + 0.1
    # b ← 0.5·b + g/s;  p ← p − 0.1·b
    b1 = 1 / 0.4
    b2 = 0.5 * b1 + 2 / (math.sqrt(0.4059) + 0.1)
    b3 = 0.5 * b2 - 1 / (math.sqrt(0.515079) + 0.1)
    expected = [1 - 0.1 * b1, 1 - 0.1 * (b1 + b2), 1 - 0.1 * (b1 + b2 + b3)]
    got = trajectory(RMSprop, lr=0.1, alpha=0.9, eps=0.1, momentum=0.5, centered=True)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_adam_by_hand():
    # m = 0.1, 0.09 + 0.2 = 0.29, 0.261 − 0.1 = 0.161
    # v = 0.001, 0.000999 + 0.004 = 0.004999, 0.004994001 + 0.001 = 0.005994001
    # 1 − β1^t = 0.1, 0.19, 0.271;  1 − β2^t = 0.001, 0.001999, 0.002997001
    p1 = 1 - 0.1 * (0.1 / 0.1) / (math.sqrt(0.001 / 0.001) + 1e-8)
    p2 = p1 - 0.1 * (0.29 / 0.19) / (math.sqrt(0.004999 / 0.001999) + 1e-8)
    p3 = p2 - 0.1 * (0.161 / 0.271) / (math.sqrt(0.005994001 / 0.002997001) + 1e-8)
    np.testing.assert_allclose(trajectory(Adam, lr=0.1), [p1, p2, p3], rtol=0, atol=1e-12)


def test_adam_amsgrad_by_hand():
    # betas (0.5, 0.5), eps 1e-300 (too small to change a sum of order 1; eps must be > 0), gradients 2 then 0:
    # m = 1, 0.5;  v = 2, 1;  v_max = 2, 2;  1 − β^t = 0.5, 0.75
    p1 = 1 - 0.1 * (1 / 0.5) / math.sqrt(2 / 0.5)  # = 0.9
    plain = p1 - 0.1 * (0.5 / 0.75) / math.sqrt(1 / 0.75)
    ams = p1 - 0.1 * (0.5 / 0.75) / math.sqrt(2 / 0.75)
    kw = dict(lr=0.1, betas=(0.5, 0.5), eps=1e-300)
    np.testing.assert_allclose(trajectory(Adam, [2.0, 0.0], **kw), [p1, plain], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trajectory(Adam, [2.0, 0.0], amsgrad=True, **kw), [p1, ams], rtol=0, atol=1e-12)


def test_adamw_by_hand():
    # Decoupled decay λ = 0.5 with lr = 0.1: p ← p·(1 − 0.05) first, then Adam's step on the raw gradient
    # (the decay never enters m or v). Adam's steps are those of test_adam_by_hand.
    s1 = 0.1 * (0.1 / 0.1) / (math.sqrt(0.001 / 0.001) + 1e-8)
    s2 = 0.1 * (0.29 / 0.19) / (math.sqrt(0.004999 / 0.001999) + 1e-8)
    s3 = 0.1 * (0.161 / 0.271) / (math.sqrt(0.005994001 / 0.002997001) + 1e-8)
    p1 = 1 * 0.95 - s1
    p2 = p1 * 0.95 - s2
    p3 = p2 * 0.95 - s3
    np.testing.assert_allclose(trajectory(AdamW, lr=0.1, weight_decay=0.5), [p1, p2, p3], rtol=0, atol=1e-12)
    # Without decay AdamW is Adam, bit for bit.
    assert trajectory(AdamW, lr=0.1, weight_decay=0) == trajectory(Adam, lr=0.1)


def test_adamw_decay_differs_from_adam_l2():
    # Same λ: Adam divides the decay term by √v̂ with the gradient, AdamW does not.
    adam = trajectory(Adam, lr=0.1, weight_decay=0.5)
    adamw = trajectory(AdamW, lr=0.1, weight_decay=0.5)
    assert abs(adam[-1] - adamw[-1]) > 1e-3


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_adam_steps_are_about_lr_whatever_the_gradient_scale(scale):
    # With a constant gradient m̂ = g and √v̂ = |g| at every step.
    got = trajectory(Adam, [scale] * 5, p0=0.0, lr=0.01)
    np.testing.assert_allclose(got, -0.01 * np.arange(1, 6), rtol=1e-5)


def test_sgd_matches_classical_momentum_only_while_lr_is_constant():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(10, 3))
    lrs = [0.1] * 5 + [0.02] * 5  # the rate drops after five steps
    beta = 0.9
    p = Parameter(np.zeros(3))
    opt = SGD([p], lr=0.1, momentum=beta)
    x, v = np.zeros(3), np.zeros(3)  # classical: v ← βv − lr·g, x ← x + v
    for t, (g, lr) in enumerate(zip(grads, lrs)):
        opt.lr = lr
        p.grad[...] = g
        opt.step()
        v = beta * v - lr * g
        x = x + v
        if t < 5:
            np.testing.assert_allclose(p.data, x, rtol=0, atol=1e-12)
            np.testing.assert_allclose(opt.state[p]["momentum_buffer"] * -lr, v, rtol=0, atol=1e-12)
    assert not np.allclose(p.data, x, atol=1e-3)


# --------------------------------------------------------------------------
# 2. Against torch.optim
# --------------------------------------------------------------------------
OPTION_GRID = (
    [(SGD, dict(lr=0.05, momentum=m, dampening=d, weight_decay=w, nesterov=n))
     for m in (0, 0.9) for d in (0, 0.5) for w in (0, 0.1) for n in (False, True)
     if not (n and (m == 0 or d != 0))]
    + [(Adagrad, dict(lr=0.1, lr_decay=ld, weight_decay=w, initial_accumulator_value=a))
       for ld in (0, 0.1) for w in (0, 0.1) for a in (0, 0.5)]
    + [(Adagrad, dict(lr=0.1, eps=0.3))]
    + [(RMSprop, dict(lr=0.01, momentum=m, centered=c, weight_decay=w))
       for m in (0, 0.9) for c in (False, True) for w in (0, 0.1)]
    + [(RMSprop, dict(lr=0.01, alpha=0.3, eps=0.01, centered=True))]
    + [(Adam, dict(lr=0.05, betas=b, weight_decay=w, amsgrad=a))
       for b in ((0.9, 0.999), (0.5, 0.8)) for w in (0, 0.1) for a in (False, True)]
    + [(Adam, dict(lr=0.05, eps=0.1))]
    + [(AdamW, dict(lr=0.05, betas=b, weight_decay=w, amsgrad=a))
       for b in ((0.9, 0.999), (0.5, 0.8)) for w in (0, 1e-2, 0.3) for a in (False, True)]
    + [(AdamW, dict()), (AdamW, dict(lr=0.05, eps=0.1))]
)


def _quadratic(seed):
    """f(W, b) = ½ zᵀAz − cᵀz with z = concat(W.ravel(), b): a random, well-posed bowl."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    A = Q @ np.diag(np.linspace(0.5, 5.0, 16)) @ Q.T
    c = rng.normal(size=16)

    def grads(W, b):
        z = np.concatenate([W.ravel(), b])
        gz = A @ z - c
        return gz[:12].reshape(3, 4), gz[12:]

    start = [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=2)]
    return grads, start


def _run_both(torch, cls, kwargs, steps, dtype=np.float64, seed=0):
    grads, start = _quadratic(seed)
    ours = [Parameter(x.astype(dtype)) for x in start]
    ours[2].requires_grad = False  # the third parameter is frozen
    theirs = [torch.tensor(x.astype(dtype), requires_grad=(i < 2)) for i, x in enumerate(start)]
    opt = cls(ours, **kwargs)
    topt = getattr(torch.optim, cls.__name__)(theirs, **kwargs)
    out_ours, out_theirs = [], []
    for _ in range(steps):
        for p, g in zip(ours, grads(ours[0].data, ours[1].data)):
            p.grad[...] = g
        opt.step()
        tW, tb = (t.detach().numpy() for t in theirs[:2])
        for t, g in zip(theirs, grads(tW, tb)):
            t.grad = torch.from_numpy(np.ascontiguousarray(g, dtype=dtype))
        topt.step()
        out_ours.append([p.data.copy() for p in ours])
        out_theirs.append([t.detach().numpy().copy() for t in theirs])
    return out_ours, out_theirs


def _assert_same_path(ours, theirs, rtol, atol):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"after step {k + 1}")


@pytest.mark.parametrize("cls, kwargs", OPTION_GRID, ids=lambda v: v.__name__ if isinstance(v, type) else
                         ",".join(f"{k}={x}" for k, x in v.items()))
def test_matches_torch_float64(cls, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_both(torch, cls, kwargs, steps=50)
    _assert_same_path(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours[-1][2], theirs[-1][2])  # the frozen one never moved


@pytest.mark.parametrize("cls, kwargs", [(SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
                                         (Adagrad, dict(lr=0.1)), (RMSprop, dict(lr=0.01, centered=True)),
                                         (Adam, dict(lr=0.05, amsgrad=True)),
                                         (AdamW, dict(lr=0.05, weight_decay=0.1))], ids=lambda v: getattr(v, "__name__", ""))
def test_matches_torch_float32(cls, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_both(torch, cls, kwargs, steps=20, dtype=np.float32)
    assert all(x.dtype == np.float32 for x in ours[-1])
    _assert_same_path(ours, theirs, rtol=1e-4, atol=1e-5)


finite_unit = st.floats(0, 0.95)


@st.composite
def random_config(draw):
    cls = draw(st.sampled_from(ALL))
    wd = draw(st.sampled_from([0.0, draw(st.floats(0, 0.5))]))
    if cls is SGD:
        m = draw(st.sampled_from([0.0, draw(finite_unit)]))
        nesterov = m > 0 and draw(st.booleans())
        d = 0.0 if nesterov else draw(st.floats(0, 1))
        kw = dict(lr=draw(st.floats(1e-3, 0.1)), momentum=m, dampening=d, nesterov=nesterov)
    elif cls is Adagrad:
        kw = dict(lr=draw(st.floats(1e-3, 0.5)), lr_decay=draw(st.floats(0, 1)),
                  initial_accumulator_value=draw(st.floats(0, 1)), eps=draw(st.floats(1e-10, 0.1)))
    elif cls is RMSprop:
        kw = dict(lr=draw(st.floats(1e-3, 0.05)), alpha=draw(st.floats(0.05, 1)), eps=draw(st.floats(1e-8, 0.1)),
                  momentum=draw(st.sampled_from([0.0, draw(finite_unit)])), centered=draw(st.booleans()))
    else:  # Adam or AdamW
        kw = dict(lr=draw(st.floats(1e-3, 0.1)), betas=(draw(finite_unit), draw(st.floats(0.5, 0.999))),
                  eps=draw(st.floats(1e-8, 0.1)), amsgrad=draw(st.booleans()))
    return cls, dict(kw, weight_decay=wd)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(config=random_config(), seed=st.integers(0, 2**16))
def test_matches_torch_for_random_hyperparameters(config, seed):
    torch = pytest.importorskip("torch")
    cls, kwargs = config
    ours, theirs = _run_both(torch, cls, kwargs, steps=15, seed=seed)
    # atol, not just rtol: centered RMSprop with a small alpha takes √(v − ḡ²) of nearly equal
    # numbers, which magnifies last-bit differences (torch computes ḡ with lerp).
    _assert_same_path(ours, theirs, rtol=1e-9, atol=1e-9)


def _our_defaults(cls):
    return {name: p.default for name, p in inspect.signature(cls).parameters.items() if name != "params"}


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for cls in ALL:
        theirs = inspect.signature(getattr(torch.optim, cls.__name__)).parameters
        ours = _our_defaults(cls)
        assert list(theirs)[: len(ours) + 1] == ["params", *ours], cls.__name__  # same names, same order
        for name, default in ours.items():
            assert theirs[name].default == default, f"{cls.__name__}.{name}"


def test_defaults_as_documented():
    # The same facts without torch, so they are checked in every environment.
    assert _our_defaults(SGD) == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    assert _our_defaults(Adagrad) == dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                                          eps=1e-10)
    assert _our_defaults(RMSprop) == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                                          centered=False)
    assert _our_defaults(Adam) == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)
    assert _our_defaults(AdamW) == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)


# --------------------------------------------------------------------------
# 3. Behaviour
# --------------------------------------------------------------------------
EVERY_OPTION = [(SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
                (SGD, dict(lr=0.1, momentum=0.9, dampening=0.5)), (SGD, dict(lr=0.1)),
                (Adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1)),
                (RMSprop, dict(lr=0.1, momentum=0.9, centered=True, weight_decay=0.1)), (RMSprop, dict(lr=0.1)),
                (Adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1)), (Adam, dict(lr=0.1)),
                (AdamW, dict(lr=0.1, amsgrad=True, weight_decay=0.1)), (AdamW, dict(lr=0.1))]
option_ids = [f"{c.__name__}-{i}" for i, (c, _) in enumerate(EVERY_OPTION)]


@pytest.mark.parametrize("cls, kwargs", EVERY_OPTION, ids=option_ids)
def test_frozen_parameters_are_untouched(cls, kwargs):
    live, frozen = Parameter(np.ones(3)), Parameter(np.ones(3))
    frozen.requires_grad = False
    opt = cls([live, frozen], **kwargs)
    for _ in range(3):
        live.grad[...] = frozen.grad[...] = 1.0
        opt.step()
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    assert frozen not in opt.state
    assert not np.allclose(live.data, 1.0)
    frozen.requires_grad = True  # unfreezing later starts its state then
    opt.step()
    assert not np.allclose(frozen.data, 1.0)


@pytest.mark.parametrize("cls, kwargs", EVERY_OPTION, ids=option_ids)
def test_float32_stays_float32_and_arrays_are_updated_in_place(cls, kwargs):
    p = Parameter(np.full((4, 3), 0.5, dtype=np.float32))
    data, grad = p.data, p.grad
    opt = cls([p], **kwargs)
    for _ in range(3):
        p.grad[...] = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
        opt.step()
    assert p.data is data and p.grad is grad
    assert p.data.dtype == np.float32
    for key, value in opt.state[p].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


@pytest.mark.parametrize("cls, kwargs", EVERY_OPTION, ids=option_ids)
def test_step_does_not_modify_the_gradient(cls, kwargs):
    p = Parameter(np.linspace(-1, 1, 6))
    opt = cls([p], **kwargs)
    for _ in range(3):
        p.grad[...] = np.arange(6.0) - 2
        opt.step()
        np.testing.assert_array_equal(p.grad, np.arange(6.0) - 2)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("cls, kwargs", EVERY_OPTION, ids=option_ids)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_gradient_propagates_without_warning(cls, kwargs, bad):
    p = Parameter(np.ones(3))
    opt = cls([p], **kwargs)
    p.grad[...] = [1.0, bad, 1.0]
    opt.step()
    assert not np.isfinite(p.data[1])
    assert np.isfinite(p.data[[0, 2]]).all()


@pytest.mark.filterwarnings("error")
def test_huge_gradients_overflow_without_warning():
    p = Parameter(np.ones(2, dtype=np.float32))
    opt = Adam([p], lr=0.1)
    p.grad[...] = 1e30  # g² overflows float32
    opt.step()  # no RuntimeWarning (the filter turns one into a failure)
    v = opt.state[p]["exp_avg_sq"]
    assert np.isinf(v).all()  # the overflow really happened ...
    np.testing.assert_allclose(opt.state[p]["exp_avg"], 1e29, rtol=1e-6)
    # ... and its effect is a step of m̂ / √inf = 0, not NaN: the parameters are finite and unchanged.
    np.testing.assert_array_equal(p.data, np.ones(2, dtype=np.float32))


@pytest.mark.parametrize("cls, kwargs", EVERY_OPTION, ids=option_ids)
def test_a_gradient_set_to_none_is_skipped_like_torch(cls, kwargs):
    skipped, live = Parameter(np.ones(3)), Parameter(np.ones(3))
    opt = cls([skipped, live], **kwargs)
    skipped.grad = None
    live.grad[...] = 1.0
    opt.step()
    np.testing.assert_array_equal(skipped.data, np.ones(3))
    assert skipped not in opt.state
    assert not np.allclose(live.data, 1.0)
    opt.zero_grad()  # gives it a zero gradient again, so layers can add into it
    np.testing.assert_array_equal(skipped.grad, np.zeros(3))


def test_eps_zero_is_refused_because_it_makes_nan_from_a_zero_gradient():
    # What eps > 0 prevents: with eps = 0 a gradient entry that is exactly 0 (a dead ReLU) gives 0/0.
    p = Parameter(np.ones(2))
    opt = Adam([p], lr=0.1, eps=1e-300)
    opt.eps = 0.0  # bypass the check to show the failure it guards against
    p.grad[...] = [0.0, 1.0]
    opt.step()
    assert np.isnan(p.data[0]) and np.isfinite(p.data[1])
    for cls in (Adagrad, RMSprop, Adam, AdamW):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: eps must be in \(0, inf\], got 0"):
            cls([Parameter(np.ones(2))], eps=0)


def test_zero_grad_and_lr_attribute():
    p = Parameter(np.ones(3))
    p.grad[...] = 5
    opt = SGD([p], lr=0.1)
    opt.zero_grad()
    np.testing.assert_array_equal(p.grad, 0)
    opt.lr = 0.5
    assert opt.lr == 0.5 and isinstance(opt.lr, float)
    assert repr(opt) == "SGD(lr=0.5, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)"


def test_params_may_be_a_generator_or_a_module_parameter_list():
    class Tiny(Module):
        def __init__(self):
            self.w, self.b = Parameter(np.ones(2)), Parameter(np.zeros(1))

    model = Tiny()
    for params in (model.parameters(), (p for p in model.parameters())):
        opt = SGD(params, lr=0.1)
        assert opt.params == [model.w, model.b]


def _p():
    return [Parameter(np.ones(2))]


INVALID = [
    (SGD, dict(lr=-0.1), ValueError, r"SGD: lr must be in \[0, inf\], got -0.1"),
    (SGD, dict(lr=float("nan")), ValueError, r"SGD: lr must be finite, got nan"),
    (SGD, dict(lr="0.1"), TypeError, r"SGD: lr must be a number, got '0.1'"),
    (SGD, dict(momentum=-0.5), ValueError, r"SGD: momentum must be in \[0, 1\), got -0.5"),
    (SGD, dict(momentum=1.0), ValueError, r"SGD: momentum must be in \[0, 1\), got 1.0"),
    (SGD, dict(dampening=1.5), ValueError, r"SGD: dampening must be in \[0, 1\], got 1.5"),
    (SGD, dict(weight_decay=-1), ValueError, r"SGD: weight_decay must be in \[0, inf\], got -1"),
    (SGD, dict(nesterov=True), ValueError, r"SGD: nesterov=True requires momentum in \(0, 1\) and dampening = 0, "
                                           r"got momentum=0, dampening=0"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError,
     r"nesterov=True requires .* got momentum=0.9, dampening=0.1"),
    (SGD, dict(nesterov="yes"), TypeError, r"SGD: nesterov must be True or False, got 'yes'"),
    (Adagrad, dict(lr=-1), ValueError, r"Adagrad: lr must be in \[0, inf\], got -1"),
    (Adagrad, dict(lr_decay=-0.1), ValueError, r"Adagrad: lr_decay must be in \[0, inf\], got -0.1"),
    (Adagrad, dict(weight_decay=-0.1), ValueError, r"Adagrad: weight_decay must be in \[0, inf\], got -0.1"),
    (Adagrad, dict(initial_accumulator_value=-1), ValueError,
     r"Adagrad: initial_accumulator_value must be in \[0, inf\], got -1"),
    (Adagrad, dict(eps=-1e-10), ValueError, r"Adagrad: eps must be in \(0, inf\], got -1e-10"),
    (RMSprop, dict(lr=-1), ValueError, r"RMSprop: lr must be in \[0, inf\], got -1"),
    (RMSprop, dict(alpha=1.01), ValueError, r"RMSprop: alpha must be in \[0, 1\], got 1.01"),
    (RMSprop, dict(alpha=-0.1), ValueError, r"RMSprop: alpha must be in \[0, 1\], got -0.1"),
    (RMSprop, dict(eps=-1), ValueError, r"RMSprop: eps must be in \(0, inf\], got -1"),
    (RMSprop, dict(weight_decay=-1), ValueError, r"RMSprop: weight_decay must be in \[0, inf\], got -1"),
    (RMSprop, dict(momentum=1), ValueError, r"RMSprop: momentum must be in \[0, 1\), got 1"),
    (RMSprop, dict(centered=1), TypeError, r"RMSprop: centered must be True or False, got 1"),
    (Adam, dict(lr=-1), ValueError, r"Adam: lr must be in \[0, inf\], got -1"),
    (Adam, dict(betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    (Adam, dict(betas=(0.9, -0.1)), ValueError, r"Adam: betas\[1\] must be in \[0, 1\), got -0.1"),
    (Adam, dict(betas=0.9), TypeError, r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
    (Adam, dict(eps=-1), ValueError, r"Adam: eps must be in \(0, inf\], got -1"),
    (Adam, dict(weight_decay=-1), ValueError, r"Adam: weight_decay must be in \[0, inf\], got -1"),
    (Adam, dict(amsgrad=None), TypeError, r"Adam: amsgrad must be True or False, got None"),
    (AdamW, dict(weight_decay=-0.01), ValueError, r"AdamW: weight_decay must be in \[0, inf\], got -0.01"),
    (AdamW, dict(betas=(0.9, 1.0)), ValueError, r"AdamW: betas\[1\] must be in \[0, 1\), got 1.0"),
]


@pytest.mark.parametrize("cls, kwargs, error, message", INVALID,
                         ids=[f"{c.__name__}-{'-'.join(k)}" for c, k, _, _ in INVALID])
def test_invalid_hyperparameters_raise(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(_p(), **kwargs)


@pytest.mark.parametrize("cls", ALL)
def test_invalid_parameter_lists_raise(cls):
    name = cls.__name__
    with pytest.raises(ValueError, match=f"{name}: params must contain at least one Parameter, got an empty list"):
        cls([])
    with pytest.raises(ValueError, match=f"{name}: params must contain at least one Parameter"):
        cls(p for p in [])
    with pytest.raises(TypeError, match=rf"{name}: params\[1\] must be a Parameter, got ndarray"):
        cls([Parameter(np.ones(2)), np.ones(2)])
    with pytest.raises(TypeError, match=rf"{name}: params must be an iterable of Parameters, got a single Parameter"):
        cls(Parameter(np.ones(2)))
    with pytest.raises(TypeError, match=rf"got a Sequential module; pass model.parameters\(\)"):
        cls(Sequential())
    with pytest.raises(TypeError, match=rf"{name}: params must be an iterable of Parameters, got int"):
        cls(3)
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match=f"{name}: params must not contain the same Parameter twice"):
        cls([p, p])


def test_lr_set_later_is_validated_and_grad_shape_is_checked():
    p = Parameter(np.ones(3))
    opt = Adam([p])
    with pytest.raises(ValueError, match=r"Adam: lr must be in \[0, inf\], got -0.1"):
        opt.lr = -0.1
    p.grad = np.ones(1)
    with pytest.raises(ValueError, match=r"Adam.step: p.grad must have shape \(3,\) like its parameter, got \(1,\)"):
        opt.step()


def test_base_class_cannot_step():
    opt = Optimizer([Parameter(np.ones(1))], lr=0.1)
    with pytest.raises(NotImplementedError, match="Optimizer must implement _update"):
        opt.step()


def test_every_optimizer_docstring_writes_out_its_rule():
    assert "b ← μ·b + (1 − τ)·g" in SGD.__doc__ and "p ← p − lr·d" in SGD.__doc__
    assert "v ← β·v − lr·g" in SGD.__doc__ and "v = −lr·b" in SGD.__doc__
    assert "G ← G + g²" in Adagrad.__doc__
    assert "√(v − ḡ²)" in RMSprop.__doc__
    assert "m̂ = m / (1 − β1^t)" in Adam.__doc__
    assert "p ← p − lr·λ·p" in AdamW.__doc__ and "g ← g + λ·p" in AdamW.__doc__  # next to Adam's
