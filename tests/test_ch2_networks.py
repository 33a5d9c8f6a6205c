"""Chapter 2's explorer module: the playground, its data, its networks and its helpers."""

import warnings

import numpy as np
import pytest

from nnlib import plots, widgets
from nnlib.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from nnlib.core import Sequential
from nnlib.explorers import ch2_networks as ch2
from nnlib.layers import Linear


def _render(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = ch2.playground(**kwargs)
        data = plots.to_image(fig)
    return data


def test_playground_static_grid_holds_the_full_product_the_lesson_asks_about():
    fn = widgets.REGISTRY["ch2.playground"]
    assert fn is ch2.playground
    assert list(fn.controls) == ["dataset", "activation", "width", "depth", "lr"]
    grid = set(widgets.static_grid(fn))
    assert len(grid) <= widgets.MAX_FRAMES
    c = fn.controls
    lr = c["lr"].default_index
    # data set x activation x width x depth in full, at the default rate
    assert {(d, a, w, h, lr) for d in range(4) for a in range(4) for w in range(4) for h in range(4)} <= grid
    # every rate with every data set and activation, at the default width and depth
    w, h = c["width"].default_index, c["depth"].default_index
    assert {(d, a, w, h, r) for d in range(4) for a in range(4) for r in range(len(c["lr"].values))} <= grid
    assert len(grid) == 4 * 4 * 4 * 4 + 4 * 4 * (len(c["lr"].values) - 1)


def test_defaults_render_without_warnings():
    data = _render()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kwargs", [
    {"dataset": "spirals", "activation": "sigmoid", "width": 2, "depth": 1, "lr": 0.01},
    {"dataset": "xor", "activation": "leaky_relu", "width": 16, "depth": 4, "lr": 3.0},
    {"dataset": "moons", "activation": "tanh", "width": 16, "depth": 4, "lr": 1.0},
    {"dataset": "circles", "activation": "relu", "width": 2, "depth": 4, "lr": 3.0},
])
def test_extreme_controls_render_without_warnings_and_show_their_numbers(kwargs):
    assert _render(**kwargs)[:8] == b"\x89PNG\r\n\x1a\n"
    run = ch2.train_playground(**kwargs)
    numbers = ch2.summary(run)
    fig = ch2.playground(**kwargs)
    label = fig.axes[0].get_xlabel()
    if run.diverged:
        assert numbers["diverged_at"] is not None and label == ""
        return
    # the numbers drawn are the run's, recomputed here from the model's own predictions
    ds = run.dataset
    train_acc = np.mean(ch2.predict(run.model, ds.X_train).argmax(axis=1) == ds.y_train)
    val_acc = np.mean(ch2.predict(run.model, ds.X_val).argmax(axis=1) == ds.y_val)
    assert numbers["train_acc"] == pytest.approx(train_acc)
    assert numbers["val_acc"] == pytest.approx(val_acc)
    assert f"train acc {train_acc:.2f}" in label and f"val acc {val_acc:.2f}" in label
    relu = kwargs["activation"] == "relu"
    assert numbers["units"] == (kwargs["width"] * kwargs["depth"] if relu else 0)
    assert (f"dead ReLU units: {numbers['dead']} of {numbers['units']}" in label) == relu


def test_the_playground_shows_what_the_lesson_asks_about():
    """Width 2 and one sigmoid layer cannot fit the spirals; the default ReLU network fits the circles."""
    weak = ch2.summary(ch2.train_playground("spirals", "sigmoid", 2, 1, 0.3))
    strong = ch2.summary(ch2.train_playground("circles", "relu", 8, 2, 0.3))
    assert weak["val_acc"] < 0.8 < 0.95 <= strong["val_acc"]


def test_every_control_value_renders_around_the_defaults():
    fn = ch2.playground
    for key, control in fn.controls.items():
        pictures = {_render(**{key: value}) for value in control.values}
        assert len(pictures) == len(control.values), f"{key}: some values draw the same picture"


def test_same_arguments_give_the_same_picture():
    ch2._train.cache_clear()
    first = _render(dataset="xor", activation="tanh", width=4, depth=2, lr=0.1)
    ch2._train.cache_clear()
    assert _render(dataset="xor", activation="tanh", width=4, depth=2, lr=0.1) == first


def test_a_diverging_run_is_marked_not_drawn():
    # a huge learning rate blows the loss up; the run must say so and the figure must still render
    run = ch2.train_playground("moons", "relu", 16, 4, 1000.0, seed=0)
    assert run.diverged
    assert np.isnan(run.train_acc)
    ch2._train.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, (ax_b, ax_l) = plots.figure(2)
        ch2._boundary_panel(ax_b, run)
        ch2._loss_panel(ax_l, run)
        texts = [t.get_text() for ax in (ax_b, ax_l) for t in ax.texts]
        plots.to_image(fig)
    assert any("diverged" in t for t in texts)


def test_make_dataset_is_standardised_split_and_cached():
    for name in ch2.DATASETS:
        ds = ch2.make_dataset(name)
        assert ds.X_train.shape == (140, 2) and ds.X_val.shape == (60, 2)
        assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y)) == {0, 1}
        np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(ds.X_train.std(0), 1, atol=1e-12)
        assert ch2.make_dataset(name) is ds
        assert not ds.X_train.flags.writeable
    with pytest.raises(ValueError, match="must be one of"):
        ch2.make_dataset("swiss roll")


@pytest.mark.parametrize("act, cls", [("sigmoid", Sigmoid), ("tanh", Tanh), ("relu", ReLU), ("leaky_relu", LeakyReLU)])
def test_mlp_structure_and_parameter_count(act, cls):
    model = ch2.mlp(5, 3, act, rng=0)
    kinds = [type(layer) for layer in model]
    assert kinds == [Linear, cls, Linear, cls, Linear, cls, Linear]
    sizes = [2, 5, 5, 5, 2]
    assert model.num_parameters() == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert model(np.zeros((7, 2))).shape == (7, 2)


def test_mlp_depth_zero_is_a_linear_model_and_bad_sizes_are_refused():
    model = ch2.mlp(4, 0, rng=0)
    assert len(model) == 1 and isinstance(model[0], Linear)
    with pytest.raises(ValueError, match="depth"):
        ch2.mlp(0, 2, rng=0)


def test_mlp_is_reproducible_from_the_seed():
    a, b = ch2.mlp(8, 2, rng=3), ch2.mlp(8, 2, rng=3)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_train_playground_learns_and_is_cached():
    run = ch2.train_playground("circles", "relu", 8, 2, 0.3)
    assert not run.diverged
    assert run.history.epochs == ch2.STEPS
    assert len(run.history.val_loss) == ch2.STEPS
    assert run.val_acc > 0.9 and run.train_acc > 0.9
    # positional, keyword and default spellings share one cache entry
    assert ch2.train_playground(dataset="circles", activation="relu", width=8, depth=2, lr=0.3, seed=0) is run


def test_dead_units_counts_relu_units_silent_on_every_input():
    layer = Linear(2, 3, rng=0)
    layer.weight.data[...] = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    layer.bias.data[...] = [0.0, -10.0, -5.0]  # unit 1: dead (x2 <= 1); unit 2: dead (x >= 0)
    model = Sequential(layer, ReLU(), Linear(3, 2, rng=0))
    X = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    assert ch2.dead_units(model, X) == (2, 3)
    # leaky ReLU units are never dead: they are not counted
    assert ch2.dead_units(ch2.mlp(4, 2, "leaky_relu", rng=0), X) == (0, 0)


def test_shade_is_white_on_the_boundary_and_class_coloured_away_from_it():
    img = ch2._shade(np.array([[0.0, 0.5, 1.0]]))
    assert img.shape == (1, 3, 3)
    np.testing.assert_allclose(img[0, 1], 1.0)
    assert np.all((img >= 0) & (img <= 1))
    np.testing.assert_allclose(img[0, 0], 1 - 0.55 * (1 - ch2._CLASS_RGB[0]))
    np.testing.assert_allclose(img[0, 2], 1 - 0.55 * (1 - ch2._CLASS_RGB[1]))
