"""Tests of nnlib.layers: Linear, Dropout, MaxPool2d, AvgPool2d, Flatten."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.activations import ReLU, Sigmoid, Tanh
from nnlib.core import Module, Sequential
from nnlib.gradcheck import gradcheck
from nnlib.layers import AvgPool2d, Dropout, Flatten, Linear, MaxPool2d

FAST = settings(max_examples=25, deadline=None, derandomize=True)
seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 6)


def distinct_images(rng, shape):
    """Images whose values are at least 0.01 apart, so max pooling has no (near) ties."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 - 1.0


class ReseededDropout(Module):
    """Dropout in training mode with the same mask on every call, so finite differences apply."""

    def __init__(self, p, seed):
        self.dropout = Dropout(p, rng=seed)
        self.seed = seed

    def forward(self, x):
        self.dropout.rng = np.random.default_rng(self.seed)
        return self.dropout(x)

    def backward(self, grad_out):
        return self.dropout.backward(grad_out)


# --- gradient checks over random shapes --------------------------------------------


@FAST
@given(n=dims, n_in=dims, n_out=dims, bias=st.booleans(), seed=seeds)
def test_linear_gradcheck(n, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(n_in, n_out, rng=rng, bias=bias)
    assert gradcheck(layer, rng.standard_normal((n, n_in)), rng=rng)


@FAST
@given(n=dims, d=dims, p=st.floats(0.0, 0.9), seed=seeds)
def test_dropout_gradcheck_train_and_eval(n, d, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    assert gradcheck(ReseededDropout(p, seed), x)
    assert gradcheck(Dropout(p, rng=seed).eval(), x)


@FAST
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(2, 8),
    w=st.integers(2, 8),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    seed=seeds,
)
def test_pool_gradcheck(n, c, h, w, kh, kw, sh, sw, seed):
    kh, kw = min(kh, h), min(kw, w)
    x = distinct_images(np.random.default_rng(seed), (n, c, h, w))
    assert gradcheck(MaxPool2d((kh, kw), stride=(sh, sw)), x)
    assert gradcheck(AvgPool2d((kh, kw), stride=(sh, sw)), x)


@FAST
@given(shape=st.lists(dims, min_size=2, max_size=4), seed=seeds)
def test_flatten_gradcheck(shape, seed):
    assert gradcheck(Flatten(), np.random.default_rng(seed).standard_normal(shape))


@FAST
@given(seed=seeds)
def test_small_conv_style_network_gradcheck(seed):
    """Pool -> Flatten -> Linear -> Tanh -> Linear, the shape of the digits model, checked end to end."""
    rng = np.random.default_rng(seed)
    model = Sequential(MaxPool2d(2), Flatten(), Linear(8, 5, rng=rng), Tanh(), Linear(5, 3, rng=rng))
    assert gradcheck(model, distinct_images(rng, (3, 2, 4, 4)), rng=rng)


# --- Linear ------------------------------------------------------------------------------


def test_linear_init_follows_torch_bound_and_seed():
    layer = Linear(25, 40, rng=0)
    assert layer.weight.shape == (40, 25) and layer.bias.shape == (40,)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= 1 / 5
        assert np.abs(p.data).max() > 0.18  # fills the interval, not a narrower one
    again = Linear(25, 40, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(layer.weight.data, again.weight.data)
    assert Linear(3, 2, rng=0, bias=False).bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_linear_forward_backward_by_hand():
    layer = Linear(2, 3, rng=0)
    layer.weight.data[...] = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
    layer.bias.data[...] = [0.5, 0.0, -1.0]
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(layer(x), [[3.5, -1.0, 2.5], [0.5, 1.0, 4.5]])
    g = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g @ layer.weight.data)
    np.testing.assert_allclose(layer.weight.grad, g.T @ x)
    np.testing.assert_allclose(layer.bias.grad, [1.0, 1.0, 1.0])


def test_linear_gradients_accumulate_and_frozen_params_get_none():
    rng = np.random.default_rng(1)
    layer = Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * g.T @ x)
    layer.zero_grad()
    layer.freeze()
    layer(x)
    dx = layer.backward(g)
    assert not layer.weight.grad.any() and not layer.bias.grad.any()
    np.testing.assert_allclose(dx, g @ layer.weight.data)  # the input gradient still flows


def test_linear_can_skip_the_input_gradient():
    """input_grad = False (for a first layer) skips dL/dx but leaves the parameter gradients alone."""
    rng = np.random.default_rng(8)
    full, lean = Linear(3, 2, rng=0), Linear(3, 2, rng=0)
    lean.input_grad = False
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    for layer in (full, lean):
        layer(x)
    assert full.backward(g) is not None
    assert lean.backward(g) is None
    np.testing.assert_array_equal(lean.weight.grad, full.weight.grad)
    np.testing.assert_array_equal(lean.bias.grad, full.bias.grad)
    with pytest.raises(AssertionError, match="returned None instead of dL/dx"):
        gradcheck(lean, x)


def test_layers_never_mutate_grad_out_or_input():
    rng = np.random.default_rng(2)
    x2, x4 = rng.standard_normal((4, 3)), distinct_images(rng, (2, 2, 4, 4))
    cases = [
        (Linear(3, 2, rng=rng), x2),
        (Dropout(0.5, rng=rng), x2),
        (MaxPool2d(2), x4),
        (AvgPool2d(2, stride=1), x4),
        (Flatten(), x4),
    ]
    for layer, x in cases:
        x_copy = x.copy()
        y = layer(x)
        g = rng.standard_normal(y.shape)
        g_copy = g.copy()
        layer.backward(g)
        np.testing.assert_array_equal(g, g_copy, err_msg=type(layer).__name__)
        np.testing.assert_array_equal(x, x_copy, err_msg=type(layer).__name__)


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    model = Sequential(
        MaxPool2d(2), AvgPool2d(1), Flatten(), Dropout(0.2, rng=rng), Linear(8, 4, rng=rng, dtype=np.float32)
    )
    x = rng.standard_normal((5, 2, 4, 4)).astype(np.float32)
    y = model(x)
    assert y.dtype == np.float32
    dx = model.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    layer = model[-1]
    assert layer.weight.data.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_linear_rejects_bad_input():
    layer = Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"Linear.forward: x must have shape \(N, 3\), got \(5, 4\)"):
        layer(np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"Linear.forward: x must have shape \(N, 3\), got \(3,\)"):
        layer(np.zeros(3))
    with pytest.raises(TypeError, match="Linear.forward: x must have dtype float64 to match the parameters, got float32"):
        layer(np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        layer(np.zeros((5, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="x must be a numpy array, got list"):
        layer([[0.0, 0.0, 0.0]])
    with pytest.raises(RuntimeError, match=r"Linear.backward: backward\(\) was called before forward\(\)"):
        Linear(3, 2, rng=0).backward(np.zeros((5, 2)))
    layer(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"Linear.backward: grad_out must have shape \(5, 2\), got \(5, 3\)"):
        layer.backward(np.zeros((5, 3)))
    with pytest.raises(TypeError, match="grad_out must have dtype float64"):
        layer.backward(np.zeros((5, 2), dtype=np.float32))


def test_linear_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"Linear: in_features must be in \[1, inf\], got 0"):
        Linear(0, 2, rng=0)
    with pytest.raises(TypeError, match="Linear: out_features must be an integer, got 2.5"):
        Linear(3, 2.5, rng=0)
    with pytest.raises(TypeError, match="Linear: dtype must be a floating dtype"):
        Linear(3, 2, rng=0, dtype=np.int32)
    with pytest.raises(TypeError, match="Linear: rng must be a numpy.random.Generator or an int seed"):
        Linear(3, 2, rng=None)


def test_linear_nan_input_flows_to_the_loss():
    """Linear only checks type, dtype and shape (it is on the hot path); NaNs are reported by the loss."""
    y = Linear(2, 2, rng=0)(np.array([[np.nan, 1.0]]))
    assert np.isnan(y).all()


# --- Dropout ----------------------------------------------------------------------------


def test_dropout_eval_is_identity():
    x = np.random.default_rng(0).standard_normal((10, 4))
    layer = Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer(x), x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_array_equal(Dropout(0.0, rng=0)(x), x)  # p = 0 is the identity in training too


def test_dropout_training_keeps_the_mean_and_drops_a_fraction_p():
    p = 0.3
    x = np.ones((400, 500))
    y = Dropout(p, rng=0)(x)
    assert abs((y == 0).mean() - p) < 0.01
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout: E[y] = x
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - p)])


def test_dropout_same_seed_same_mask_and_backward_uses_it():
    x = np.random.default_rng(0).standard_normal((6, 7))
    a, b = Dropout(0.5, rng=42), Dropout(0.5, rng=np.random.default_rng(42))
    ya, yb = a(x), b(x)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a(x), ya)  # a new mask on the next call
    g = np.ones_like(x)
    b_grad = b.backward(g)
    np.testing.assert_array_equal(b_grad, (yb != 0) * 2.0)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_dropout_rescales_kept_units_by_1_over_1_minus_p_forward_and_backward(p):
    # Gradient checks cannot see a missing 1/(1 - p): forward and backward would be scaled alike. Check the factor.
    x = np.full((50, 40), 3.0)
    layer = Dropout(p, rng=1)
    y = layer(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], 3.0 / (1 - p), rtol=1e-15)
    g = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(g[kept], 1.0 / (1 - p), rtol=1e-15)
    np.testing.assert_array_equal(g[~kept], 0.0)
    assert abs(y.mean() - 3.0) < 0.1  # E[y] = x: 2000 units, so the sample mean is within a few percent


def test_dropout_on_float16_and_pooling_an_empty_batch():
    y = Dropout(0.5, rng=0)(np.ones((4, 5), dtype=np.float16))
    assert y.dtype == np.float16 and set(np.unique(y)) <= {0.0, 2.0}
    for pool in (MaxPool2d(2), AvgPool2d(2)):
        out = pool(np.zeros((0, 3, 4, 4)))
        assert out.shape == (0, 3, 2, 2)
        assert pool.backward(np.zeros((0, 3, 2, 2))).shape == (0, 3, 4, 4)


@pytest.mark.filterwarnings("error")
def test_avg_pool_at_the_extremes_warns_never():
    huge = np.full((1, 1, 2, 2), 1e308)  # the window's sum overflows, its mean does not
    np.testing.assert_array_equal(AvgPool2d(2)(huge), [[[[1e308]]]])
    mixed = np.array([[[[np.inf, -np.inf], [1.0, 2.0]]]])  # +inf and -inf have no mean: NaN, as in PyTorch
    assert np.isnan(AvgPool2d(2)(mixed)).all()
    normal = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    ref = normal.reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4).mean(axis=-1)
    np.testing.assert_allclose(AvgPool2d(2)(normal), ref, rtol=1e-15)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\)"):
        Dropout(p, rng=0)


def test_dropout_rejects_bad_input():
    with pytest.raises(TypeError, match="Dropout.forward: x must have a floating dtype"):
        Dropout(rng=0)(np.ones((2, 2), dtype=int))
    with pytest.raises(RuntimeError, match="before forward"):
        Dropout(rng=0).backward(np.ones((2, 2)))


# --- pooling and Flatten ---------------------------------------------------------------


def test_max_pool_by_hand_and_ties_go_to_the_first_maximum():
    x = np.array([[[[1.0, 2.0, 5.0, 5.0], [3.0, 0.0, 5.0, 5.0], [0.0, 0.0, 1.0, 1.0], [0.0, 7.0, 1.0, 1.0]]]])
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool(x), [[[[3.0, 5.0], [7.0, 1.0]]]])
    dx = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 0], expected[0, 2], expected[3, 1], expected[2, 2] = 10.0, 20.0, 30.0, 40.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_avg_pool_by_hand_with_overlapping_windows():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    pool = AvgPool2d(2, stride=1)
    np.testing.assert_allclose(pool(x), [[[[2.0, 3.0], [5.0, 6.0]]]])
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(dx[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_pool_output_size_drops_incomplete_windows():
    x = np.zeros((2, 3, 8, 7))
    assert MaxPool2d(3)(x).shape == (2, 3, 2, 2)
    assert AvgPool2d((2, 3), stride=(1, 2))(x).shape == (2, 3, 7, 3)


def test_pool_and_flatten_reject_bad_input():
    with pytest.raises(ValueError, match="MaxPool2d.forward: x must be 4-dimensional"):
        MaxPool2d(2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="AvgPool2d.forward: x must be at least 3x3"):
        AvgPool2d(3)(np.zeros((1, 1, 2, 5)))
    with pytest.raises(TypeError, match="must have a floating dtype"):
        MaxPool2d(2)(np.zeros((1, 1, 4, 4), dtype=int))
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel_size must be in \[1, inf\], got 0"):
        MaxPool2d(0)
    with pytest.raises(ValueError, match="AvgPool2d: stride must be an int or a pair of ints"):
        AvgPool2d(2, stride=(1, 2, 3))
    pool = MaxPool2d(2)
    with pytest.raises(RuntimeError, match=r"MaxPool2d.backward: backward\(\) was called before forward\(\)"):
        pool.backward(np.zeros((1, 1, 2, 2)))
    pool(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have shape \(1, 1, 2, 2\), got \(1, 1, 4, 4\)"):
        pool.backward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="Flatten.forward: x must have a batch dimension"):
        Flatten()(np.zeros(3))


def test_flatten_shapes():
    x = np.arange(24.0).reshape(2, 3, 4)
    flat = Flatten()
    y = flat(x)
    np.testing.assert_array_equal(y, x.reshape(2, 12))
    assert flat.backward(np.ones((2, 12))).shape == (2, 3, 4)


# --- PyTorch as the oracle --------------------------------------------------------------


def test_linear_and_pools_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    layer = Linear(4, 3, rng=rng)
    x, g = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    t_layer = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        t_layer.weight.copy_(torch.from_numpy(layer.weight.data))
        t_layer.bias.copy_(torch.from_numpy(layer.bias.data))
    tx = torch.from_numpy(x).requires_grad_()
    ty = t_layer(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer(x), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(g), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, t_layer.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, t_layer.bias.grad.numpy(), rtol=1e-12)

    images = rng.integers(0, 4, size=(2, 3, 8, 7)).astype(np.float64)  # many ties on purpose
    for ours, theirs in [
        (MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (MaxPool2d(3, stride=2), torch.nn.MaxPool2d(3, stride=2)),
        (AvgPool2d((2, 3), stride=1), torch.nn.AvgPool2d((2, 3), stride=1)),
    ]:
        tx = torch.from_numpy(images).requires_grad_()
        ty = theirs(tx)
        g = rng.standard_normal(tuple(ty.shape))
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(ours(images), ty.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


# --- one module object, one place (see nnlib.core) ---------------------------------------


def _issue_models(rng, act):
    """The two models of the reuse report, built with ``act()`` giving the activation for each place."""
    return [Sequential(Linear(2, 8, rng=rng), act(), Linear(8, 8, rng=rng), act(), Linear(8, 2, rng=rng)),
            Sequential(Linear(3, 3, rng=rng), act(), Linear(3, 3, rng=rng), act())]


def test_sequential_refuses_a_module_used_twice_naming_both_places():
    rng = np.random.default_rng(0)
    relu = ReLU()
    same = "must be different objects, got the same"
    with pytest.raises(ValueError, match=rf"Sequential: layers 1 and 3 {same} ReLU object.*"
                                         r"create a new ReLU\(\) for each place"):
        Sequential(Linear(2, 8, rng=rng), relu, Linear(8, 8, rng=rng), relu, Linear(8, 2, rng=rng))
    with pytest.raises(ValueError, match=rf"layers 0 and 2 {same} Linear object.*create a new Linear\(\.\.\.\)"):
        Sequential(*[Linear(3, 3, rng=rng), Tanh()] * 2)
    block = Sequential(Linear(3, 3, rng=rng), Tanh())
    with pytest.raises(ValueError, match=rf"layers 0 and 1 {same} Sequential object"):
        Sequential(block, block)
    with pytest.raises(ValueError, match=rf"layers 0\.1 and 1\.1 {same} Tanh object"):  # inside nested blocks
        Sequential(block, Sequential(Linear(3, 3, rng=rng), block[1]))
    with pytest.raises(TypeError, match=r"Sequential: layer 1 must be a Module instance, got the class ReLU"):
        Sequential(Linear(2, 2, rng=rng), ReLU)


class SharedActivation(Module):
    """The PyTorch idiom ``self.act`` used twice in forward, which nnlib must refuse."""

    def __init__(self, rng):
        self.fc1, self.fc2, self.act = Linear(2, 4, rng=rng), Linear(4, 2, rng=rng), ReLU()

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(x))))

    def backward(self, grad_out):
        return self.fc1.backward(self.act.backward(self.fc2.backward(self.act.backward(grad_out))))


def test_a_hand_written_module_calling_one_activation_twice_is_refused_at_forward():
    x = np.random.default_rng(1).standard_normal((5, 2))
    model = SharedActivation(np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"SharedActivation\.forward: each module must be called once per "
                                           r"forward pass, got this ReLU object called twice.*"
                                           r"create a new ReLU\(\) for each place"):
        model(x)
    with pytest.raises(RuntimeError, match="called twice"):  # gradcheck too, instead of a wrong gradient
        gradcheck(model, x)
    # The failed pass leaves nothing behind: the same objects work in valid models afterwards,
    # and calling one model many times (evaluation, finite differences) is not reuse.
    fixed = Sequential(model.fc1, model.act, model.fc2, ReLU())
    for _ in range(3):
        fixed(x)
    assert gradcheck(fixed, x)


@pytest.mark.parametrize("act", [ReLU, Tanh, Sigmoid])
def test_the_reported_models_with_a_new_activation_per_place_pass_gradcheck(act):
    rng = np.random.default_rng(3)
    for model in _issue_models(rng, act):
        x = rng.standard_normal((7, model[0].in_features)) + 0.05  # away from ReLU's kink at 0
        assert gradcheck(model, x)


def test_sharing_parameters_rather_than_modules_is_exact():
    # Weight tying, done the nnlib way: two Linear objects holding the same Parameter objects.
    # Each adds its share into the shared .grad, so the total is the true gradient.
    rng = np.random.default_rng(4)
    first, second = Linear(3, 3, rng=rng), Linear(3, 3, rng=rng)
    second.weight, second.bias = first.weight, first.bias
    model = Sequential(first, Tanh(), second, Tanh())
    assert gradcheck(model, rng.standard_normal((6, 3)))


def test_one_body_in_two_models_gives_each_model_its_exact_gradient():
    # A module may belong to two different models (a pretrained body, then fine-tuned), as long as
    # each model's forward is followed by its own backward.
    rng = np.random.default_rng(5)
    body = Sequential(Linear(4, 6, rng=rng), Tanh())
    model_a = Sequential(body, Linear(6, 2, rng=rng))
    model_b = Sequential(body, Linear(6, 3, rng=rng), Tanh())
    x = rng.standard_normal((5, 4))
    assert gradcheck(model_a, x) and gradcheck(model_b, x) and gradcheck(model_a, x)


def test_a_new_activation_per_place_matches_torch_sharing_one():
    # In torch a shared nn.ReLU is exact (autograd records each call); nnlib's fix gives the same numbers.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    ours = _issue_models(rng, ReLU)[0]
    x, g = rng.standard_normal((9, 2)), rng.standard_normal((9, 2))
    linears = [torch.nn.Linear(a, b).double() for a, b in [(2, 8), (8, 8), (8, 2)]]
    with torch.no_grad():
        for t, mine in zip(linears, ours.layers[::2]):
            t.weight.copy_(torch.from_numpy(mine.weight.data))
            t.bias.copy_(torch.from_numpy(mine.bias.data))
    act = torch.nn.ReLU()
    theirs = torch.nn.Sequential(linears[0], act, linears[1], act, linears[2])
    tx = torch.from_numpy(x).requires_grad_()
    theirs(tx).backward(torch.from_numpy(g))
    ours(x)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12)
    for t, mine in zip(linears, ours.layers[::2]):
        np.testing.assert_allclose(mine.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
