"""Chapter 1 explorers: the helper computations and every explorer's figure at its extreme settings."""

import warnings

import numpy as np
import pytest

from nnlib import data, plots, widgets
from nnlib.explorers import ch1_regression as ch1


def _render(fn, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = fn(**kwargs)
        png = plots.to_image(fig)
    return png


# --- computations -------------------------------------------------------------------
def test_design_matrix_appends_a_column_of_ones():
    X = np.arange(6.0).reshape(3, 2)
    A = ch1.design_matrix(X)
    assert A.shape == (3, 3)
    np.testing.assert_array_equal(A[:, :2], X)
    np.testing.assert_array_equal(A[:, 2], 1.0)


def test_stability_limit_is_two_over_the_largest_hessian_eigenvalue():
    # Orthogonal columns with mean squares 4 and 1: H = (2/N) AᵀA = diag(8, 2), so the limit is 2/8.
    A = np.array([[2.0, 1.0], [-2.0, 1.0], [2.0, -1.0], [-2.0, -1.0]])
    assert ch1.stability_limit(A) == pytest.approx(0.25)


def test_run_gd_matches_least_squares_and_the_gradient_formula():
    X, y = data.make_linear(n_samples=50, rng=1)
    A = ch1.design_matrix(X)
    params, losses, diverged_at = ch1.run_gd(A, y, lr=0.3, steps=400)
    assert diverged_at is None
    assert params.shape == (401, 4) and losses.shape == (401,)
    np.testing.assert_allclose(params[-1], np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-9)
    # one step by hand: m_1 = m_0 − lr · (2/N) Aᵀ(A m_0 − y)
    np.testing.assert_allclose(params[1], -0.3 * 2 / len(y) * A.T @ (-y), rtol=1e-12)
    np.testing.assert_allclose(losses[0], np.mean(y ** 2), rtol=1e-12)
    assert np.all(np.diff(losses) <= 1e-12)  # a stable rate never increases the loss of a quadratic


def test_run_gd_stops_a_divergent_run_without_warnings():
    X, y = data.make_linear(n_samples=50, rng=1)
    A = ch1.design_matrix(X)
    lr = 1.2 * ch1.stability_limit(A)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params, losses, diverged_at = ch1.run_gd(A, y, lr=lr, steps=10_000)
    assert diverged_at is not None and diverged_at == len(losses) - 1
    assert np.isfinite(losses).all() and np.isfinite(params).all()
    assert losses[-1] > ch1.DIVERGENCE_FACTOR * losses[0]


def test_run_gd_just_below_the_limit_converges_and_just_above_diverges():
    X, y = data.make_linear(n_samples=50, rng=2)
    A = ch1.design_matrix(X)
    limit = ch1.stability_limit(A)
    assert ch1.run_gd(A, y, lr=0.98 * limit, steps=3000)[2] is None
    assert ch1.run_gd(A, y, lr=1.02 * limit, steps=3000)[2] is not None


# --- explorers ------------------------------------------------------------------------
def test_explorers_are_registered():
    assert widgets.REGISTRY["ch1.gradient_descent"] is ch1.gradient_descent
    assert widgets.REGISTRY["ch1.step_by_step"] is ch1.step_by_step


@pytest.mark.parametrize("name", ["ch1.gradient_descent", "ch1.step_by_step"])
def test_static_grid_is_the_full_product(name):
    fn = widgets.REGISTRY[name]
    grid = widgets.static_grid(fn)
    assert len(grid) == int(np.prod([len(c.values) for c in fn.controls.values()])) <= widgets.MAX_FRAMES


@pytest.mark.parametrize("lr_factor", [ch1._LR_FACTORS[0], 0.6, ch1._LR_FACTORS[-1]])
@pytest.mark.parametrize("steps", [ch1._STEPS[0], ch1._STEPS[-1]])
@pytest.mark.parametrize("scaled", [False, True])
def test_gradient_descent_explorer_draws_every_extreme(lr_factor, steps, scaled):
    assert _render(ch1.gradient_descent, lr_factor=lr_factor, steps=steps, scaled=scaled)[:4] == b"\x89PNG"


def test_gradient_descent_explorer_marks_divergence():
    fig = ch1.gradient_descent(lr_factor=ch1._LR_FACTORS[-1], steps=ch1._STEPS[-1], scaled=True)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("diverged" in t for t in texts)


def test_gradient_descent_explorer_is_deterministic():
    assert _render(ch1.gradient_descent) == _render(ch1.gradient_descent)


@pytest.mark.parametrize("k", [ch1._KS[0], ch1._KS[-1]])
@pytest.mark.parametrize("lr", ch1._LRS)
def test_step_by_step_explorer_draws_every_extreme(k, lr):
    assert _render(ch1.step_by_step, k=k, lr=lr)[:4] == b"\x89PNG"


def test_step_by_step_shows_the_numbers_of_iteration_k():
    X, y = data.make_linear(n_samples=100, rng=0)
    A = ch1.design_matrix(X)
    m = np.zeros(4)
    for _ in range(3):
        m = m - 0.2 * 2 / len(y) * A.T @ (A @ m - y)
    fig = ch1.step_by_step(k=3, lr=0.2)
    text = fig.texts[0].get_text()
    assert "iteration k = 3" in text
    assert "".join(f"{v:>9.4f}" for v in m) in text
    assert f"{np.mean((A @ m - y) ** 2):.6g}" in text


def test_step_by_step_keeps_columns_apart_when_the_run_diverges():
    fig = ch1.step_by_step(k=ch1._KS[-1], lr=ch1._LRS[-1])
    text = fig.texts[0].get_text()
    assert "stopped at divergence" in text
    row = next(line for line in text.splitlines() if line.startswith("θ_k "))
    cells = row[17:]
    assert len(cells) == 4 * 9
    for i in range(4):  # each cell is a number with a space before it
        cell = cells[9 * i: 9 * (i + 1)]
        assert cell[0] == " " and np.isfinite(float(cell))


@pytest.mark.parametrize("value, decimals, width, expected", [
    (1.6537, 4, 9, "   1.6537"), (-2286.2684, 4, 9, " -2286.27"), (0.0, 3, 8, "   0.000"),
    (-56764302.1, 4, 9, " -5.7e+07"),
])
def test_cell_fits_its_width_with_a_space_before(value, decimals, width, expected):
    assert ch1._cell(value, decimals, width) == expected


@pytest.mark.parametrize("lo, hi, most", [(-10.04, 38.7, 5), (-53.2, 205.4, 5), (-2.27, 8.77, 5), (-452.1, 117.2, 5),
                                          (-2.07, 1.25, 4), (1.25, 7.3, 4)])
def test_nice_ticks_are_few_round_and_inside(lo, hi, most):
    ticks = ch1._nice_ticks(lo, hi, most)
    assert 2 <= len(ticks) <= most
    assert lo <= ticks.min() and ticks.max() <= hi
    steps = np.diff(ticks)
    np.testing.assert_allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_static_versions_stay_small():
    # The chapter page must stay well under 5 MB; its two explorers get at most 1.5 MB of it.
    size = sum(len(widgets.StaticExplorer(fn)._repr_html_()) for fn in (ch1.gradient_descent, ch1.step_by_step))
    assert size < 1.5e6


def test_gradient_descent_precomputes_every_run_on_the_first_call():
    ch1.gradient_descent()
    runs = ch1._all_diabetes_runs()
    assert set(runs) == {(f, s) for f in ch1._LR_FACTORS for s in (False, True)}
    assert runs[1.1, True][2] is not None and runs[0.6, True][2] is None  # above the limit it diverges
