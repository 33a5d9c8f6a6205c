"""Tests of nnlib.activations: the functions, their derivatives and the layers."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.activations import (
    LeakyReLU,
    ReLU,
    Sigmoid,
    Tanh,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from nnlib.gradcheck import gradcheck, numerical_grad

FAST = settings(max_examples=25, deadline=None, derandomize=True)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3)

PAIRS = [  # (function, derivative)
    (sigmoid, sigmoid_grad),
    (tanh, tanh_grad),
    (relu, relu_grad),
    (leaky_relu, leaky_relu_grad),
    (lambda x: leaky_relu(x, 0.2), lambda x: leaky_relu_grad(x, 0.2)),
]


def away_from_zero(rng, shape, scale=3.0):
    """Random inputs with |x| >= 0.05, clear of the kink of relu and leaky relu at 0."""
    x = rng.uniform(-scale, scale, size=shape)
    return np.where(np.abs(x) < 0.05, 0.5, x)


# --- gradient checks ------------------------------------------------------------------


@FAST
@given(shape=shapes, seed=seeds)
def test_grad_functions_match_finite_differences(shape, seed):
    x = away_from_zero(np.random.default_rng(seed), shape)
    for f, f_grad in PAIRS:
        numeric = numerical_grad(lambda v: float(np.sum(f(v))), x.copy())
        np.testing.assert_allclose(f_grad(x), numeric, rtol=1e-6, atol=1e-9)


@FAST
@given(n=st.integers(1, 6), d=st.integers(1, 6), slope=st.floats(0.0, 0.5), seed=seeds)
def test_activation_layers_gradcheck(n, d, slope, seed):
    rng = np.random.default_rng(seed)
    x = away_from_zero(rng, (n, d))
    for layer in (Sigmoid(), Tanh(), ReLU(), LeakyReLU(slope)):
        assert gradcheck(layer, x, rng=rng)


# --- values -----------------------------------------------------------------------------


def test_values_by_hand():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(tanh(x), np.tanh(x))
    np.testing.assert_array_equal(relu(x), [0.0, 0.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(leaky_relu(x), [-0.02, -0.005, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(leaky_relu(x, negative_slope=0.1), [-0.2, -0.05, 0.0, 0.5, 2.0])
    assert sigmoid(0.0) == 0.5 and sigmoid_grad(0.0) == 0.25
    assert tanh_grad(0.0) == 1.0
    assert relu_grad(0.0) == 0.0  # PyTorch's convention at the kink
    assert leaky_relu_grad(0.0) == 0.01
    np.testing.assert_array_equal(relu_grad(x), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(sigmoid_grad(x), sigmoid(x) * (1 - sigmoid(x)), rtol=1e-12)
    np.testing.assert_allclose(tanh_grad(x), 1 - np.tanh(x) ** 2, rtol=1e-12)


def test_functions_accept_numbers_and_ints():
    assert relu(-3) == 0.0
    np.testing.assert_allclose(sigmoid([0, 1]), [0.5, 1 / (1 + np.exp(-1.0))])
    assert sigmoid(np.arange(3)).dtype == np.float64


def test_sigmoid_grad_is_at_most_a_quarter():
    x = np.linspace(-20, 20, 4001)
    assert sigmoid_grad(x).max() == 0.25
    assert (sigmoid_grad(x) > 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_friends_are_stable_and_warning_free(dtype):
    x = np.array([-1e300 if dtype == np.float64 else -3e38, -1e6, -1e4, -50.0, 0.0, 50.0, 1e4, 1e6], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, ds = sigmoid(x), sigmoid_grad(x)
        t, dt = tanh(x), tanh_grad(x)
        layer = Sigmoid()
        y = layer(x)
        g = layer.backward(np.ones_like(x))
    for values in (s, ds, t, dt, y, g):
        assert np.isfinite(values).all() and values.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert 0 < s[3] < 1e-20  # sigmoid(-50) is tiny but not rounded to 0 or made negative
    np.testing.assert_allclose(s[3], np.exp(-50.0), rtol=1e-6)


def test_float32_stays_float32():
    x = np.array([[-1.0, 2.0]], dtype=np.float32)
    for f in (sigmoid, sigmoid_grad, tanh, tanh_grad, relu, relu_grad, leaky_relu, leaky_relu_grad):
        assert f(x).dtype == np.float32, f.__name__
    for layer in (Sigmoid(), Tanh(), ReLU(), LeakyReLU()):
        assert layer(x).dtype == np.float32
        assert layer.backward(np.ones_like(x)).dtype == np.float32


# --- layers ----------------------------------------------------------------------------


def test_layer_backward_is_the_chain_rule_with_the_derivative():
    rng = np.random.default_rng(0)
    x, g = away_from_zero(rng, (4, 3)), rng.standard_normal((4, 3))
    for layer, f, f_grad in [
        (Sigmoid(), sigmoid, sigmoid_grad),
        (Tanh(), tanh, tanh_grad),
        (ReLU(), relu, relu_grad),
        (LeakyReLU(0.3), lambda v: leaky_relu(v, 0.3), lambda v: leaky_relu_grad(v, 0.3)),
    ]:
        np.testing.assert_allclose(layer(x), f(x), rtol=1e-15)
        g_copy = g.copy()
        np.testing.assert_allclose(layer.backward(g), g * f_grad(x), rtol=1e-12)
        np.testing.assert_array_equal(g, g_copy)  # grad_out untouched


def test_layers_have_no_parameters():
    for layer in (Sigmoid(), Tanh(), ReLU(), LeakyReLU()):
        assert layer.parameters() == []
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


def test_layers_reject_bad_input():
    with pytest.raises(TypeError, match="ReLU.forward: x must have a floating dtype"):
        ReLU()(np.array([1, 2]))
    with pytest.raises(TypeError, match="Sigmoid.forward: x must be a numpy array, got list"):
        Sigmoid()([0.0])
    with pytest.raises(RuntimeError, match=r"Tanh.backward: backward\(\) was called before forward\(\)"):
        Tanh().backward(np.ones(3))
    layer = LeakyReLU()
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"LeakyReLU.backward: grad_out must have shape \(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(TypeError, match="grad_out must have dtype float64"):
        layer.backward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="LeakyReLU: negative_slope must be a number"):
        LeakyReLU("0.1")
    with pytest.raises(ValueError, match="leaky_relu: negative_slope must be finite"):
        leaky_relu(1.0, negative_slope=np.nan)


def test_layers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((5, 4)) * 3, rng.standard_normal((5, 4))
    for ours, theirs in [
        (Sigmoid(), torch.nn.Sigmoid()),
        (Tanh(), torch.nn.Tanh()),
        (ReLU(), torch.nn.ReLU()),
        (LeakyReLU(), torch.nn.LeakyReLU()),
        (LeakyReLU(0.25), torch.nn.LeakyReLU(0.25)),
    ]:
        tx = torch.from_numpy(x).requires_grad_()
        ty = theirs(tx)
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(ours(x), ty.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
