"""Tests of nnlib.losses: softmax, the losses, CombinedLoss and the penalties."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.core import Sequential
from nnlib.gradcheck import gradcheck
from nnlib.layers import Linear
from nnlib.losses import (
    BCEWithLogitsLoss,
    CombinedLoss,
    CrossEntropyLoss,
    L1Penalty,
    L2Penalty,
    MSELoss,
    log_softmax,
    softmax,
)

FAST = settings(max_examples=25, deadline=None, derandomize=True)
seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 5)


def maybe(draw_it, value):
    return value if draw_it else None


# --- gradient checks over random shapes and weightings ----------------------------------


@FAST
@given(n=dims, d=dims, use_weight=st.booleans(), use_sample_weight=st.booleans(), vector=st.booleans(), seed=seeds)
def test_mse_gradcheck(n, d, use_weight, use_sample_weight, vector, seed):
    rng = np.random.default_rng(seed)
    shape = (n,) if vector else (n, d)
    weight = maybe(use_weight, rng.uniform(0.1, 2.0, size=shape[1:]))
    sample_weight = maybe(use_sample_weight, rng.uniform(0.1, 2.0, size=n))
    y_hat, y = rng.standard_normal(shape), rng.standard_normal(shape)
    assert gradcheck(MSELoss(weight), y_hat, y, sample_weight=sample_weight)


@FAST
@given(n=dims, c=st.integers(2, 5), use_weight=st.booleans(), use_sample_weight=st.booleans(), seed=seeds)
def test_cross_entropy_gradcheck(n, c, use_weight, use_sample_weight, seed):
    rng = np.random.default_rng(seed)
    weight = maybe(use_weight, rng.uniform(0.1, 2.0, size=c))
    sample_weight = maybe(use_sample_weight, rng.uniform(0.1, 2.0, size=n))
    z, y = 3 * rng.standard_normal((n, c)), rng.integers(0, c, size=n)
    assert gradcheck(CrossEntropyLoss(weight), z, y, sample_weight=sample_weight)


@FAST
@given(
    n=dims,
    k=dims,
    use_weight=st.booleans(),
    use_pos_weight=st.booleans(),
    use_sample_weight=st.booleans(),
    soft_targets=st.booleans(),
    seed=seeds,
)
def test_bce_with_logits_gradcheck(n, k, use_weight, use_pos_weight, use_sample_weight, soft_targets, seed):
    rng = np.random.default_rng(seed)
    weight = maybe(use_weight, rng.uniform(0.1, 2.0, size=k))
    pos_weight = maybe(use_pos_weight, rng.uniform(0.1, 4.0, size=k))
    sample_weight = maybe(use_sample_weight, rng.uniform(0.1, 2.0, size=n))
    z = 3 * rng.standard_normal((n, k))
    y = rng.random((n, k)) if soft_targets else rng.integers(0, 2, (n, k)).astype(float)
    assert gradcheck(BCEWithLogitsLoss(weight, pos_weight), z, y, sample_weight=sample_weight)


part_weights = st.just(0.0) | st.floats(0.1, 3.0)  # tiny weights would drown in finite-difference noise


@FAST
@given(n=dims, d=dims, c=st.integers(2, 4), w1=part_weights, w2=part_weights, seed=seeds)
def test_combined_loss_gradcheck(n, d, c, w1, w2, seed):
    rng = np.random.default_rng(seed)
    loss_fn = CombinedLoss([MSELoss(), CrossEntropyLoss()], weights=[w1, w2])
    y_hats = [rng.standard_normal((n, d)), rng.standard_normal((n, c))]
    ys = [rng.standard_normal((n, d)), rng.integers(0, c, n)]
    assert gradcheck(loss_fn, y_hats, ys, sample_weight=rng.uniform(0.5, 1.5, n))


@FAST
@given(n_in=dims, n_hidden=dims, lam=st.floats(0.0, 2.0), include_bias=st.booleans(), seed=seeds)
def test_penalties_gradcheck(n_in, n_hidden, lam, include_bias, seed):
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(n_in, n_hidden, rng=rng), Linear(n_hidden, 2, rng=rng))
    for p in model.parameters():  # keep weights clear of the L1 kink at 0
        p.data[np.abs(p.data) < 0.01] = 0.1
    assert gradcheck(L1Penalty(model, lam, include_bias=include_bias))
    assert gradcheck(L2Penalty(model.parameters(), lam, include_bias=include_bias))


# --- softmax ------------------------------------------------------------------------


def test_softmax_by_hand_and_properties():
    z = np.array([1.0, 2.0, 3.0])
    e = np.exp(z)
    np.testing.assert_allclose(softmax(z), e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(softmax(z), [0.09003057, 0.24472847, 0.66524096], rtol=1e-7)
    np.testing.assert_allclose(softmax(z + 1000.0), softmax(z), rtol=1e-14)  # shift invariance
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-14)
    z2 = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(softmax(z2).sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(z2, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(np.exp(log_softmax(z2, axis=0)), softmax(z2, axis=0))
    np.testing.assert_allclose(softmax([0, 0]), [0.5, 0.5])  # lists of ints are fine
    assert softmax(z.astype(np.float32)).dtype == np.float32


def test_softmax_rejects_non_finite():
    with pytest.raises(ValueError, match="softmax: z must be finite, got an array containing NaN"):
        softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="log_softmax: z must be finite, got an array containing inf"):
        log_softmax(np.array([0.0, np.inf]))


# --- finite and warning-free for huge logits -------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_everything_is_finite_and_warning_free_for_logits_of_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    labels = np.array([1, 0, 2])
    targets = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = [softmax(z), log_softmax(z)]
        for loss_fn, y in [
            (CrossEntropyLoss(weight=[1.0, 2.0, 3.0]), labels),
            (BCEWithLogitsLoss(), targets),
            (BCEWithLogitsLoss(weight=[1.0, 0.5, 2.0], pos_weight=[3.0, 1.0, 0.5]), targets),
            (MSELoss(), targets),
        ]:
            value = loss_fn(z, y, sample_weight=np.array([1.0, 2.0, 0.5]))
            grad = loss_fn.backward()
            assert np.isfinite(value), type(loss_fn).__name__
            assert grad.dtype == dtype
            outputs.append(grad)
        combined = CombinedLoss([CrossEntropyLoss(), BCEWithLogitsLoss()], weights=[1.0, 0.5])
        assert np.isfinite(combined([z, z], [labels, targets]))
        outputs.extend(combined.backward())
    for out in outputs:
        assert np.isfinite(out).all()
    # the values are right, not just finite: CE of a 1e4 margin is 2e4
    assert CrossEntropyLoss()(np.array([[1e4, -1e4]]), np.array([1])) == 2e4
    assert BCEWithLogitsLoss()(np.array([-1e4]), np.array([1.0])) == 1e4


# --- values by hand -------------------------------------------------------------------


def test_mse_by_hand_and_weights():
    y_hat = np.array([[1.0, 2.0], [3.0, 5.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0]])  # squared errors 1, 0, 4, 16
    loss_fn = MSELoss()
    assert loss_fn(y_hat, y) == pytest.approx(21 / 4)
    np.testing.assert_allclose(loss_fn.backward(), 2 * (y_hat - y) / 4)
    # weight 0 excludes the second output: the MSE of the first output alone
    assert MSELoss(weight=[1.0, 0.0])(y_hat, y) == pytest.approx((1 + 4) / 2)
    # sample weights: the weighted mean of the per-sample means
    assert loss_fn(y_hat, y, sample_weight=np.array([3.0, 1.0])) == pytest.approx((3 * 0.5 + 1 * 10) / 4)


def test_integer_sample_weights_equal_repeated_samples():
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    counts = np.array([1, 3, 0, 2])
    repeated = np.repeat(np.arange(4), counts)
    for loss_fn, y in [
        (CrossEntropyLoss(weight=[1.0, 2.0, 0.5]), labels),
        (MSELoss(), rng.standard_normal((4, 3))),
        (BCEWithLogitsLoss(pos_weight=[2.0, 1.0, 1.0]), rng.random((4, 3))),
    ]:
        weighted = loss_fn(z, y, sample_weight=counts)
        assert weighted == pytest.approx(loss_fn(z[repeated], y[repeated]), rel=1e-12)


def test_cross_entropy_by_hand():
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    y = np.array([0, 2])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    l = -np.log(p[[0, 1], y])
    loss_fn = CrossEntropyLoss()
    assert loss_fn(z, y) == pytest.approx(l.mean(), rel=1e-14)
    np.testing.assert_allclose(loss_fn.backward(), (p - np.eye(3)[y]) / 2, rtol=1e-14)
    w = np.array([1.0, 1.0, 3.0])
    assert CrossEntropyLoss(weight=w)(z, y) == pytest.approx((l[0] + 3 * l[1]) / 4, rel=1e-14)


def test_bce_with_logits_by_hand():
    z = np.array([[0.5], [-1.0], [2.0]])
    y = np.array([[1.0], [0.0], [0.25]])
    p = 1 / (1 + np.exp(-z))
    l = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss_fn = BCEWithLogitsLoss()
    assert loss_fn(z, y) == pytest.approx(l.mean(), rel=1e-14)
    np.testing.assert_allclose(loss_fn.backward(), (p - y) / 3, rtol=1e-14)
    lp = -(3.0 * y * np.log(p) + (1 - y) * np.log(1 - p))
    assert BCEWithLogitsLoss(pos_weight=[3.0])(z, y) == pytest.approx(lp.mean(), rel=1e-14)
    assert BCEWithLogitsLoss(weight=[[1.0], [0.0], [2.0]])(z, y) == pytest.approx((l[0, 0] + 2 * l[2, 0]) / 3)
    assert loss_fn(z, np.array([[1], [0], [1]])) > 0  # integer 0/1 targets are accepted


# --- PyTorch as the oracle ------------------------------------------------------------


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    z, labels = 2 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    targets = rng.random((6, 4))
    w_class, w_entry, w_pos = rng.uniform(0.2, 2, 4), rng.uniform(0.2, 2, (6, 4)), rng.uniform(0.2, 3, 4)

    def torch_value_and_grad(fn):
        tz = torch.from_numpy(z).requires_grad_()
        value = fn(tz)
        value.backward()
        return value.item(), tz.grad.numpy()

    cases = [
        (CrossEntropyLoss(), labels, lambda t: F.cross_entropy(t, torch.from_numpy(labels))),
        (
            CrossEntropyLoss(weight=w_class),
            labels,
            lambda t: F.cross_entropy(t, torch.from_numpy(labels), weight=torch.from_numpy(w_class)),
        ),
        (MSELoss(), targets, lambda t: F.mse_loss(t, torch.from_numpy(targets))),
        (
            BCEWithLogitsLoss(weight=w_entry, pos_weight=w_pos),
            targets,
            lambda t: F.binary_cross_entropy_with_logits(
                t, torch.from_numpy(targets), weight=torch.from_numpy(w_entry), pos_weight=torch.from_numpy(w_pos)
            ),
        ),
    ]
    for loss_fn, y, torch_fn in cases:
        value, grad = torch_value_and_grad(torch_fn)
        assert loss_fn(z, y) == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(loss_fn.backward(), grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(log_softmax(z), F.log_softmax(torch.from_numpy(z), dim=-1).numpy(), rtol=1e-13)


# --- calling convention -----------------------------------------------------------------


def test_backward_before_forward_raises():
    for loss_fn in (MSELoss(), CrossEntropyLoss(), BCEWithLogitsLoss(), CombinedLoss([MSELoss()])):
        name = type(loss_fn).__name__
        with pytest.raises(RuntimeError, match=rf"{name}.backward: there is no loss to differentiate yet"):
            loss_fn.backward()


def test_losses_return_floats_and_never_mutate_inputs():
    rng = np.random.default_rng(4)
    z, labels, targets = rng.standard_normal((5, 3)), rng.integers(0, 3, 5), rng.random((5, 3))
    for loss_fn, y in [(MSELoss(), targets), (CrossEntropyLoss(), labels), (BCEWithLogitsLoss(), targets)]:
        z_copy, y_copy = z.copy(), y.copy()
        value = loss_fn(z, y)
        assert type(value) is float
        first = loss_fn.backward()
        expected = first.copy()
        first += 1.0  # changing a returned gradient does not change the next one
        np.testing.assert_array_equal(loss_fn.backward(), expected)
        np.testing.assert_array_equal(z, z_copy)
        np.testing.assert_array_equal(y, y_copy)


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3)).astype(np.float32)
    for loss_fn, y in [
        (MSELoss(weight=[1.0, 2.0, 0.0]), rng.random((4, 3))),  # float64 targets do not upcast
        (CrossEntropyLoss(weight=[1.0, 2.0, 3.0]), np.array([0, 1, 2, 0])),
        (BCEWithLogitsLoss(pos_weight=[2.0, 1.0, 1.0]), rng.random((4, 3)).astype(np.float32)),
    ]:
        loss_fn(z, y, sample_weight=np.ones(4))
        assert loss_fn.backward().dtype == np.float32


# --- CombinedLoss and penalties -------------------------------------------------------


def test_combined_loss_is_the_weighted_sum():
    rng = np.random.default_rng(6)
    mse, ce = MSELoss(), CrossEntropyLoss()
    loss_fn = CombinedLoss([mse, ce], weights=[2.0, 0.5])
    y_hats = [rng.standard_normal((4, 1)), rng.standard_normal((4, 3))]
    ys = [rng.standard_normal((4, 1)), rng.integers(0, 3, 4)]
    value = loss_fn(y_hats, ys)
    parts = [MSELoss()(y_hats[0], ys[0]), CrossEntropyLoss()(y_hats[1], ys[1])]
    assert loss_fn.last == pytest.approx(parts)
    assert value == pytest.approx(2.0 * parts[0] + 0.5 * parts[1])
    grads = loss_fn.backward()
    np.testing.assert_allclose(grads[0], 2.0 * mse.backward())
    np.testing.assert_allclose(grads[1], 0.5 * ce.backward())


def test_penalty_values_and_conventions():
    rng = np.random.default_rng(7)
    layer = Linear(3, 2, rng=rng)
    w = layer.weight.data
    assert L1Penalty(layer, 0.5)() == pytest.approx(0.5 * np.abs(w).sum())
    assert L2Penalty(layer, 0.5)() == pytest.approx(0.25 * (w**2).sum())  # lam/2 * sum w^2
    both = L2Penalty(layer, 0.5, include_bias=True)
    assert both() == pytest.approx(0.25 * ((w**2).sum() + (layer.bias.data**2).sum()))

    penalty = L2Penalty(layer.parameters(), 0.5)
    layer.weight.grad[...] = 1.0
    penalty.backward()
    np.testing.assert_allclose(layer.weight.grad, 1.0 + 0.5 * w)  # added, not overwritten
    assert not layer.bias.grad.any()  # biases are not penalised by default
    L1Penalty(layer, 0.5).backward()
    np.testing.assert_allclose(layer.weight.grad, 1.0 + 0.5 * w + 0.5 * np.sign(w))

    layer.zero_grad()
    layer.freeze()
    L2Penalty(layer, 0.5).backward()
    assert not layer.weight.grad.any()  # frozen weights get no gradient
    assert L2Penalty(layer, 0.0)() == 0.0


# --- bad input ----------------------------------------------------------------------------


def test_shape_mismatch_is_reported_with_a_hint():
    with pytest.raises(ValueError, match=r"MSELoss: y must have the same shape as y_hat, \(4, 1\), got \(4,\); .*reshape"):
        MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: y must have the same shape as y_hat, \(4,\), got \(4, 1\)"):
        BCEWithLogitsLoss()(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: y_hat must be 2-dimensional"):
        CrossEntropyLoss()(np.zeros(4), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="CrossEntropyLoss: y must have 3 labels to match the predictions, got 2"):
        CrossEntropyLoss()(np.zeros((3, 2)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="y_hat must hold at least one sample"):
        MSELoss()(np.zeros((0, 2)), np.zeros((0, 2)))


def test_wrong_dtypes_are_type_errors():
    with pytest.raises(TypeError, match="MSELoss: y_hat must have a floating dtype"):
        MSELoss()(np.zeros(3, dtype=int), np.zeros(3))
    with pytest.raises(TypeError, match="CrossEntropyLoss: y must hold integer class labels, got dtype float64"):
        CrossEntropyLoss()(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="MSELoss: y must be a numpy array, got list"):
        MSELoss()(np.zeros(2), [0.0, 1.0])
    with pytest.raises(TypeError, match="BCEWithLogitsLoss: y must hold numbers"):
        BCEWithLogitsLoss()(np.zeros(2), np.array(["a", "b"]))


def test_non_finite_values_are_rejected():
    with pytest.raises(ValueError, match="CrossEntropyLoss: y_hat must be finite, got an array containing NaN.*diverged"):
        CrossEntropyLoss()(np.array([[0.0, np.nan]]), np.array([0]))
    with pytest.raises(ValueError, match="BCEWithLogitsLoss: y_hat must be finite, got an array containing inf"):
        BCEWithLogitsLoss()(np.array([np.inf]), np.array([1.0]))
    with pytest.raises(ValueError, match="MSELoss: y must be finite, got an array containing NaN"):
        MSELoss()(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        MSELoss()(np.zeros(2), np.zeros(2), sample_weight=np.array([1.0, np.inf]))


def test_labels_and_targets_out_of_range():
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: y must be in \[0, 2\] for 3 classes, got label 3"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"y must be in \[0, 2\] for 3 classes, got label -1"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: y must be in \[0, 1\].*got 2"):
        BCEWithLogitsLoss()(np.zeros(2), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: y must be in \[0, 1\].*got -0.5"):
        BCEWithLogitsLoss()(np.zeros(2), np.array([-0.5, 1.0]))


def test_cross_entropy_backward_is_softmax_minus_onehot_and_repeatable():
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    z_before = z.copy()
    loss_fn = CrossEntropyLoss()
    assert loss_fn(z, y) == pytest.approx(-log_softmax(z)[np.arange(5), y].mean(), rel=1e-14)
    first, second = loss_fn.backward(), loss_fn.backward()
    expected = softmax(z)
    expected[np.arange(5), y] -= 1
    np.testing.assert_allclose(first, expected / 5, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(first, second)
    assert first is not second
    np.testing.assert_array_equal(z, z_before)
    # -inf is rejected too, even where it would not touch the loss (not the label's logit)
    with pytest.raises(ValueError, match="CrossEntropyLoss: y_hat must be finite, got an array containing inf"):
        loss_fn(np.array([[0.0, -np.inf]]), np.array([0]))


def test_bad_weights():
    with pytest.raises(ValueError, match="CrossEntropyLoss: weight must be non-negative"):
        CrossEntropyLoss(weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="CrossEntropyLoss: weight has 2 entries but y_hat has 3 classes"):
        CrossEntropyLoss(weight=[1.0, 1.0])(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"weight must be 1-dimensional \(C,\)"):
        CrossEntropyLoss(weight=[[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"MSELoss: weight of shape \(3,\) cannot be broadcast to y_hat's shape \(4, 2\)"):
        MSELoss(weight=[1.0, 1.0, 1.0])(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="BCEWithLogitsLoss: pos_weight must be finite"):
        BCEWithLogitsLoss(pos_weight=[np.nan])
    with pytest.raises(ValueError, match="MSELoss: the weights of this batch sum to zero"):
        MSELoss(weight=[0.0, 0.0])(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="CrossEntropyLoss: the weights of this batch sum to zero"):
        CrossEntropyLoss(weight=[0.0, 1.0])(np.zeros((2, 2)), np.array([0, 0]))


def test_bad_sample_weight():
    z, y = np.zeros((3, 2)), np.array([0, 1, 1])
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: sample_weight must have shape \(3,\), got \(2,\)"):
        CrossEntropyLoss()(z, y, sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        CrossEntropyLoss()(z, y, sample_weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        BCEWithLogitsLoss()(z, np.zeros((3, 2)), sample_weight=np.zeros(3))


def test_bad_combined_loss():
    with pytest.raises(ValueError, match=r"CombinedLoss: weights must have one entry per loss \(2\), got 1"):
        CombinedLoss([MSELoss(), MSELoss()], weights=[1.0])
    with pytest.raises(TypeError, match="CombinedLoss: losses\\[1\\] must be a Loss, such as MSELoss\\(\\); got function"):
        CombinedLoss([MSELoss(), softmax])
    with pytest.raises(ValueError, match="CombinedLoss: weights\\[0\\] must be in \\[0, inf\\], got -1"):
        CombinedLoss([MSELoss()], weights=[-1])
    mse = MSELoss()
    with pytest.raises(ValueError, match="each part needs its own loss object"):
        CombinedLoss([mse, mse])
    with pytest.raises(ValueError, match="CombinedLoss: losses must contain at least one loss"):
        CombinedLoss([])
    loss_fn = CombinedLoss([MSELoss(), MSELoss()])
    with pytest.raises(ValueError, match=r"CombinedLoss: ys must have one entry per loss \(2\), got 1"):
        loss_fn([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(TypeError, match="CombinedLoss: y_hats must be a list with one entry per loss, got ndarray"):
        loss_fn(np.zeros(2), [np.zeros(2), np.zeros(2)])


def test_bad_penalties():
    layer = Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match=r"L2Penalty: lam must be in \[0, inf\], got -0.1"):
        L2Penalty(layer, -0.1)
    with pytest.raises(TypeError, match="L1Penalty: lam must be a number"):
        L1Penalty(layer, "0.1")
    with pytest.raises(TypeError, match="L1Penalty: params\\[0\\] must be a Parameter, got ndarray"):
        L1Penalty([layer.weight.data], 0.1)
    with pytest.raises(ValueError, match="L2Penalty: params has no weights to penalise.*include_bias=True"):
        L2Penalty([layer.bias], 0.1)


# --- the extremes: no warning where the result fits in a float ----------------------------------------


@pytest.mark.filterwarnings("error")
def test_softmax_log_softmax_and_cross_entropy_at_plus_minus_1e308():
    z = np.array([[1e308, -1e308], [-1e308, 1e308]])
    np.testing.assert_array_equal(softmax(z), [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(softmax(z, axis=0), [[1.0, 0.0], [0.0, 1.0]])
    # log_softmax's documented limit: the true value -2e308 is below the most negative float64, so -inf.
    np.testing.assert_array_equal(log_softmax(z), [[0.0, -np.inf], [-np.inf, 0.0]])
    ce = CrossEntropyLoss()
    assert ce(z, np.array([0, 1])) == 0.0  # the right class, with certainty
    np.testing.assert_array_equal(ce.backward(), np.zeros((2, 2)))
    assert ce(z, np.array([1, 0])) == np.inf  # a true loss of 2e308 is not representable
    np.testing.assert_array_equal(ce.backward(), [[0.5, -0.5], [-0.5, 0.5]])  # its gradient is, exactly
    # A mean that fits although the sum does not: three losses of 1.5e308 each.
    z3 = np.array([[0.0, -1.5e308]] * 3)
    assert ce(z3, np.array([1, 1, 1])) == pytest.approx(1.5e308, rel=1e-15)


@pytest.mark.filterwarnings("error")
def test_bce_mean_fits_although_the_sum_overflows():
    z = np.array([[1e308, -1e308], [-1e308, 1e308]])
    loss = BCEWithLogitsLoss()(z, np.array([[0.0, 1.0], [1.0, 0.0]]))  # four losses of 1e308
    assert loss == pytest.approx(1e308, rel=1e-15)
