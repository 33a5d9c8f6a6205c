"""Tests of nnlib.gradcheck: it passes correct gradients and catches wrong ones."""

import numpy as np
import pytest

from nnlib.core import Module, Parameter, Sequential
from nnlib.gradcheck import gradcheck, numerical_grad
from nnlib.layers import Linear
from nnlib.activations import Tanh
from nnlib.losses import L2Penalty, MSELoss


# --- deliberately broken pieces ----------------------------------------------------------


class LinearWithWrongWeightGrad(Linear):
    """A Linear layer whose dL/dW comes out doubled."""

    def backward(self, grad_out):
        dx = super().backward(grad_out)
        self.weight.grad *= 2
        return dx


class SquareWithWrongInputGrad(Module):
    """y = x^2, with the factor 2 of dy/dx = 2x forgotten."""

    def forward(self, x):
        self._x = x
        return x * x

    def backward(self, grad_out):
        return grad_out * self._x


class ScaleThatMutatesGradOut(Module):
    """y = 3x with the right gradient, computed in place in grad_out (forbidden)."""

    def forward(self, x):
        return 3 * x

    def backward(self, grad_out):
        grad_out *= 3
        return grad_out


class FrozenButAccumulates(Module):
    """y = w * x, whose backward ignores requires_grad."""

    def __init__(self):
        self.w = Parameter(np.array([2.0]))
        self.w.requires_grad = False

    def forward(self, x):
        self._x = x
        return self.w.data * x

    def backward(self, grad_out):
        self.w.grad += np.sum(grad_out * self._x, keepdims=True).reshape(1)
        return grad_out * self.w.data


class MSEWithHalfGradient(MSELoss):
    def backward(self):
        return 0.5 * super().backward()


class L2PenaltyWithoutLam(L2Penalty):
    def backward(self):
        for p in self.params:
            p.grad += p.data


# --- numerical_grad -----------------------------------------------------------------------


def test_numerical_grad_matches_a_known_derivative_and_restores_x():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    x_copy = x.copy()
    numeric = numerical_grad(lambda v: float(np.sum(np.sin(v) * v)), x)
    np.testing.assert_allclose(numeric, np.cos(x) * x + np.sin(x), rtol=1e-8)
    np.testing.assert_array_equal(x, x_copy)


def test_numerical_grad_restores_x_even_when_f_fails():
    x = np.array([1.0, 2.0])

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_grad(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_grad_works_on_non_contiguous_views():
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]
    numeric = numerical_grad(lambda v: float(np.sum(v**2)), view)
    np.testing.assert_allclose(numeric, 2 * view, rtol=1e-8)


def test_numerical_grad_rejects_bad_eps():
    with pytest.raises(ValueError, match=r"numerical_grad: eps must be in \(0, inf\]"):
        numerical_grad(lambda v: 0.0, np.zeros(2), eps=0)


# --- gradcheck passes correct gradients ----------------------------------------------------


def test_gradcheck_passes_and_leaves_grads_alone():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 4, rng=rng), Tanh(), Linear(4, 2, rng=rng))
    for p in model.parameters():
        p.grad[...] = 7.0
    x = rng.standard_normal((5, 3))
    x_copy = x.copy()
    assert gradcheck(model, x) is True
    for p in model.parameters():
        assert (p.grad == 7.0).all()
    np.testing.assert_array_equal(x, x_copy)


def test_gradcheck_accepts_frozen_parameters_that_get_no_gradient():
    rng = np.random.default_rng(1)
    model = Sequential(Linear(3, 4, rng=rng), Tanh(), Linear(4, 2, rng=rng))
    model[0].freeze()
    assert gradcheck(model, rng.standard_normal((5, 3)))


def test_gradcheck_never_prints(capsys):
    rng = np.random.default_rng(2)
    gradcheck(Linear(2, 2, rng=rng), rng.standard_normal((3, 2)))
    with pytest.raises(AssertionError):
        gradcheck(SquareWithWrongInputGrad(), rng.standard_normal((3, 2)))
    assert capsys.readouterr() == ("", "")


# --- gradcheck catches wrong gradients ------------------------------------------------------


def test_gradcheck_fails_for_a_wrong_parameter_gradient():
    rng = np.random.default_rng(3)
    layer = LinearWithWrongWeightGrad(3, 2, rng=rng)
    with pytest.raises(AssertionError, match=r"LinearWithWrongWeightGrad: dL/dweight \(parameter\): relative error 0\.5"):
        gradcheck(layer, rng.standard_normal((4, 3)))


def test_gradcheck_fails_for_a_wrong_input_gradient():
    x = np.random.default_rng(4).uniform(0.5, 2.0, size=(3, 2))
    with pytest.raises(AssertionError, match=r"SquareWithWrongInputGrad: dL/dx \(input\): relative error 0\.5 exceeds rtol=1e-06"):
        gradcheck(SquareWithWrongInputGrad(), x)


def test_gradcheck_fails_when_backward_mutates_grad_out():
    with pytest.raises(AssertionError, match="ScaleThatMutatesGradOut.backward's grad_out was modified in place"):
        gradcheck(ScaleThatMutatesGradOut(), np.ones((2, 2)))


def test_gradcheck_fails_when_a_frozen_parameter_gets_a_gradient():
    with pytest.raises(AssertionError, match="frozen parameter 'w' received a gradient"):
        gradcheck(FrozenButAccumulates(), np.ones((2, 1)))


def test_gradcheck_fails_for_a_wrong_loss_gradient():
    rng = np.random.default_rng(5)
    with pytest.raises(AssertionError, match=r"MSEWithHalfGradient: dL/dy_hat: relative error 0\.5"):
        gradcheck(MSEWithHalfGradient(), rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))


def test_gradcheck_fails_for_a_wrong_penalty_gradient():
    layer = Linear(3, 2, rng=6)
    with pytest.raises(AssertionError, match=r"L2PenaltyWithoutLam: d\(penalty\)/d\(params\[0\]\) of shape \(2, 3\)"):
        gradcheck(L2PenaltyWithoutLam(layer, 0.1))


# --- gradcheck's own argument checks ---------------------------------------------------------


def test_gradcheck_requires_float64():
    layer = Linear(2, 2, rng=0, dtype=np.float32)
    with pytest.raises(TypeError, match="gradcheck: Linear input x must be a float64 array .* got float32"):
        gradcheck(layer, np.ones((3, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="gradcheck: Linear parameter 'weight' must be a float64 array"):
        gradcheck(layer, np.ones((3, 2)))


def test_gradcheck_rejects_wrong_calls():
    layer = Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"a Module is checked as gradcheck\(module, x\)"):
        gradcheck(layer, np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"a Loss is checked as gradcheck\(loss_fn, y_hat, y"):
        gradcheck(MSELoss(), np.ones(3))
    with pytest.raises(TypeError, match=r"a Penalty is checked as gradcheck\(penalty\)"):
        gradcheck(L2Penalty(layer, 0.1), np.ones(3))
    with pytest.raises(TypeError, match="gradcheck: fn must be a Module, Loss or Penalty, got builtin_function_or_method"):
        gradcheck(len, np.ones(3))
    with pytest.raises(ValueError, match=r"gradcheck: rtol must be in \(0, inf\]"):
        gradcheck(layer, np.ones((3, 2)), rtol=0)
