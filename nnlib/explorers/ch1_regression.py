"""Chapter 1 explorers: linear regression trained by full-batch gradient descent.

* ``gradient_descent(lr_factor, steps, scaled)``: the model
  y = a·bmi + b·bp + c·s5 + d on the diabetes data, trained from m = 0. It
  shows the excess loss L(θ_k) − L* per step, the loss over the plane of two
  parameters (w₁, b) with w₂ and w₃ held at their optimum together with the
  descent path projected onto that plane, and the predictions against the
  truth. The learning rate is given as a multiple of the stability limit
  2/λ_max of the problem shown, so the same control means the same thing with
  and without feature scaling.
* ``step_by_step(k, lr)``: the numbers of iteration k on the synthetic data
  y = 2·x1 − 3.5·x2 + 1·x3 + 0.5 + noise: the parameters, the first
  predictions and residuals, the loss, the gradient and the update.

The loss throughout is L(m) = (1/N)·Σ (ŷ_i − y_i)² (the mean squared error, as
in ``nnlib.losses.MSELoss`` and PyTorch), so ∇L = (2/N)·Xᵀ(Xm − y) and the
Hessian is H = (2/N)·XᵀX; plain gradient descent is stable for
lr < 2/λ_max(H).

The helpers ``design_matrix``, ``stability_limit`` and ``run_gd`` are public so
the tests can check them; the lesson writes its own loop in numpy.

Speed (a live redraw has 100 ms): the first call computes every run the
controls can ask for, so moving a control only draws. Drawing is mostly
text and ticks (about a millisecond per tick, about 30 µs per character), so
the axes get a few explicit ticks, the loss surface is a cached image rather
than contour polygons, and log scales are log10 values on linear axes.
"""

import functools

import numpy as np

from nnlib import data, plots
from nnlib.widgets import Choice, Slider, Toggle, explorer, frame_dpi

__all__ = ["gradient_descent", "step_by_step", "design_matrix", "stability_limit", "run_gd",
           "DIVERGENCE_FACTOR"]

#: A run whose loss exceeds this many times its starting loss is stopped and called diverged.
DIVERGENCE_FACTOR = 1e6

_FEATURES = ("bmi", "bp", "s5")
_WIDTH = 6.72  # inches: 672 CSS px in the book (100 px per inch), where 8 pt text is 11 CSS px
_DPI = 100  # live: 672 px wide
_NAMES = ("w₁", "w₂", "w₃", "b")  # the lesson's notation: ŷ = w₁x₁ + w₂x₂ + w₃x₃ + b, θ = [w₁, w₂, w₃, b]


# --------------------------------------------------------------------------
# Computations (tested in tests/test_ch1_regression.py)
# --------------------------------------------------------------------------
def design_matrix(X):
    """X (N, F) with a column of ones appended: (N, F + 1), so that ŷ = design_matrix(X) @ m."""
    return np.column_stack([X, np.ones(X.shape[0], dtype=X.dtype)])


def stability_limit(A):
    """The largest stable learning rate 2/λ_max(H) for L = mean((A m − y)²), where H = (2/N)·AᵀA."""
    hessian = 2.0 / A.shape[0] * (A.T @ A)
    return 2.0 / np.linalg.eigvalsh(hessian)[-1]


def run_gd(A, y, lr, steps, m0=None):
    """Full-batch gradient descent on L(m) = mean((A m − y)²).

    Returns ``(params, losses, diverged_at)``: ``params`` (k + 1, P) holds m_0 …
    m_k, ``losses`` (k + 1,) the loss at each, and ``diverged_at`` is the step
    at which the loss passed ``DIVERGENCE_FACTOR`` times its start (the run
    stops there, before any overflow), or None.
    """
    n = A.shape[0]
    m = np.zeros(A.shape[1]) if m0 is None else np.array(m0, dtype=np.float64)
    params = [m.copy()]
    r = A @ m - y
    losses = [float(r @ r) / n]
    limit = DIVERGENCE_FACTOR * max(losses[0], 1e-300)
    for k in range(steps):
        m = m - lr * (2.0 / n) * (A.T @ r)
        r = A @ m - y
        loss = float(r @ r) / n
        params.append(m.copy())
        losses.append(loss)
        if not loss <= limit:  # also catches NaN
            return np.array(params), np.array(losses), k + 1
    return np.array(params), np.array(losses), None


def _title(ax, text, fontsize=9):
    """A title drawn as plain text: Axes.set_title re-measures the axes on every draw (slow)."""
    ax.text(0.5, 1.03, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=fontsize)


def _nice_ticks(lo, hi, most=5):
    """At most ``most`` round ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ) inside [lo, hi], as many as allowed.

    Explicit ticks, only inside the view: every tick costs about a millisecond
    to create and label, and a default locator also makes ticks just outside.
    """
    magnitude = 10.0 ** np.floor(np.log10((hi - lo) / most))
    for step in (s * magnitude for s in (1, 2, 2.5, 5, 10, 20, 25, 50)):
        ticks = np.arange(np.ceil(lo / step - 1e-9) * step, hi + 1e-9 * step, step)
        if len(ticks) <= most:
            return ticks + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.array([lo, hi])


def _cell(value, decimals, width=9):
    """``value`` right-aligned in ``width`` characters, with a space before it.

    Fewer decimals when a large value (a diverging run) would not fit, and
    x.xe±yy when even none would not.
    """
    for places in range(decimals, -1, -1):
        text = f"{value:.{places}f}"
        if len(text) < width:
            return text.rjust(width)
    return f"{value:.1e}".rjust(width)


# --------------------------------------------------------------------------
# Cached data and runs
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _diabetes(scaled):
    X, y = data.load_diabetes(_FEATURES)
    if scaled:
        X = data.StandardScaler().fit_transform(X)
    A = design_matrix(X)
    m_star = np.linalg.lstsq(A, y, rcond=None)[0]
    r = A @ m_star - y
    return A, y, m_star, float(r @ r) / len(y), stability_limit(A)


@functools.lru_cache(maxsize=2)
def _condition_number(scaled):
    A = _diabetes(scaled)[0]
    return float(np.linalg.cond(A.T @ A))


_MAX_STEPS = 3000


@functools.lru_cache(maxsize=64)
def _diabetes_run(lr_factor, scaled):
    A, y, _, _, limit = _diabetes(scaled)
    return run_gd(A, y, lr_factor * limit, _MAX_STEPS)


@functools.lru_cache(maxsize=1)
def _all_diabetes_runs():
    """Every run the explorer can show (12 runs of at most 3000 steps, about 0.2 s), computed once.

    The first call (the explorer's first drawing) pays for all of them, so that
    moving a control afterwards only draws.
    """
    return {(f, s): _diabetes_run(f, s) for f in _LR_FACTORS for s in (False, True)}


@functools.lru_cache(maxsize=2)
def _slice_image(scaled, nx=240, ny=200):
    """The loss over the (w₁, b) plane, w₂ and w₃ at their optimum, as banded grey pixels.

    Returns ``(rgb, extent, xticks, yticks)``. The bands are those of a filled
    contour plot with 14 levels (quantiles of log10 of the excess loss), drawn
    as an image: an image is drawn far faster than contour polygons, and at
    about the panel's pixel size it looks the same.
    """
    A, y, m_star, l_star, _ = _diabetes(scaled)
    a0, d0 = 0.0, 0.0  # the start m_0 = 0
    xs_lo, xs_hi = min(a0, m_star[0]), max(a0, m_star[0])
    ys_lo, ys_hi = min(d0, m_star[3]), max(d0, m_star[3])
    pad_x, pad_y = 0.35 * (xs_hi - xs_lo), 0.35 * (ys_hi - ys_lo)
    x0, x1 = xs_lo - pad_x, xs_hi + pad_x
    y0, y1 = ys_lo - pad_y, ys_hi + pad_y
    xs = np.linspace(x0, x1, nx)
    ys = np.linspace(y0, y1, ny)
    # L is quadratic: L(m* + δ) = L* + δᵀ (AᵀA/N) δ exactly.
    G = A.T @ A / A.shape[0]
    da, dd = np.meshgrid(xs - m_star[0], ys - m_star[3])
    z = np.log10(G[0, 0] * da ** 2 + 2 * G[0, 3] * da * dd + G[3, 3] * dd ** 2 + 1e-9 * l_star)
    levels = np.quantile(z.ravel(), np.linspace(0.02, 1.0, 14))
    band = np.digitize(z, levels)  # 0 (below the lowest level) … 14: darker = higher loss
    grey = 1.0 - 0.5 * band / len(levels)  # white to mid grey, like the Greys colour map at alpha 0.5
    rgb = np.repeat(np.round(255 * grey).astype(np.uint8)[..., None], 3, axis=-1)
    return rgb, (x0, x1, y0, y1), _nice_ticks(x0, x1), _nice_ticks(y0, y1)


@functools.lru_cache(maxsize=1)
def _synthetic():
    X, y = data.make_linear(n_samples=100, rng=0)
    return X, y, design_matrix(X)


@functools.lru_cache(maxsize=8)
def _synthetic_run(lr):
    _, y, A = _synthetic()
    params, losses, diverged_at = run_gd(A, y, lr, 60)
    log_losses = np.log10(losses)
    return params, losses, diverged_at, log_losses, _nice_ticks(log_losses.min(), log_losses.max(), 4)


# --------------------------------------------------------------------------
# The main explorer
# --------------------------------------------------------------------------
_LR_FACTORS = [0.02, 0.1, 0.3, 0.6, 0.95, 1.1]
_STEPS = [10, 30, 100, 300, 1000, 3000]
_Y_RANGE = (0, 360)  # disease progression: the diabetes targets lie in 25 … 346


@explorer(
    "ch1.gradient_descent",
    alt="Gradient descent on the diabetes data: excess loss per step, the descent path on the loss "
        "surface over (w₁, b), and predictions against the truth",
    # every combination (72 frames): scaling off at every rate and every step count
    lr_factor=Slider(_LR_FACTORS, default=0.6, label="learning rate (× 2/λmax)"),
    steps=Slider(_STEPS, default=100, label="steps"),
    scaled=Toggle(default=True, label="feature scaling"),
)
def gradient_descent(lr_factor=0.6, steps=100, scaled=True):
    """Train y = a·bmi + b·bp + c·s5 + d by gradient descent from m = 0 and draw the run.

    ``lr_factor`` is the learning rate as a multiple of the stability limit
    2/λ_max(H); above 1 the run diverges. ``scaled`` standardizes the three
    features first (mean 0, standard deviation 1).
    """
    scaled = bool(scaled)
    A, y, m_star, l_star, limit = _diabetes(scaled)
    _all_diabetes_runs()
    params, losses, diverged_at = _diabetes_run(float(lr_factor), scaled)
    shown = min(int(steps), len(losses) - 1)
    stopped = diverged_at is not None and diverged_at <= steps
    params, losses = params[: shown + 1], losses[: shown + 1]

    fig, grid = plots.figure(ncols=2, nrows=2, width=_WIDTH, height=2.7, dpi=frame_dpi(_WIDTH, _DPI))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.09, top=0.93, wspace=0.42, hspace=0.5)
    axes, info = [grid[0, 0], grid[0, 1], grid[1, 0]], grid[1, 1]
    info.set_axis_off()
    lr = lr_factor * limit
    info.text(0.0, 0.95, f"{'standardized' if scaled else 'raw'} features\n"
              f"lr = {lr_factor:g} × 2/λmax = {lr:.3g}\n"
              f"stability limit 2/λmax = {limit:.3g}\n"
              f"condition number κ = {_condition_number(scaled):.3g}\n"
              f"steps shown: {int(steps)}",
              transform=info.transAxes, ha="left", va="top", fontsize=10, linespacing=1.5)

    # 1. the excess loss
    ax = axes[0]
    # log10 on a linear axis: a log-scale axis (minor ticks, mathtext labels) costs a third of the drawing time
    excess = np.log10(np.maximum(losses - l_star, 1e-13 * l_star))
    ax.plot(np.arange(len(excess)), excess, color=plots.COLORS[0], lw=1.6)
    if stopped:
        ax.plot(len(excess) - 1, excess[-1], "x", color=plots.COLORS[3], ms=9, mew=2)
    top = max(5.0, excess.max() + 0.5)
    ax.set_xlim(0, max(int(steps), 1))
    ax.set_ylim(-10.5, top)
    ax.set_xticks([0, int(steps) // 2, int(steps)])
    ax.set_yticks(np.arange(-10, top, 5))
    ax.set_xlabel("step k")
    ax.set_ylabel("log₁₀ (L(θ_k) − L*)")
    if stopped:
        plots.mark_diverged(ax, f"diverged at step {diverged_at}:\nloss > 10⁶ × start")
    elif lr_factor > 1:
        plots.mark_diverged(ax, "lr > 2/λmax: unstable,\nthe loss will blow up")
    else:
        gap = losses[-1] - l_star
        shown_gap = f"{gap:.3g}" if gap > 1e-10 * l_star else "0 (to rounding error)"
        _title(ax, f"after {shown} steps: L − L* = {shown_gap}", fontsize=9)

    # 2. the loss surface over (w₁, b), w₂ and w₃ fixed at the optimum
    ax = axes[1]
    rgb, (x0, x1, y0, y1), xticks, yticks = _slice_image(scaled)
    ax.imshow(rgb, extent=(x0, x1, y0, y1), origin="lower", aspect="auto", interpolation="nearest")
    ax.plot(m_star[0], m_star[3], "*", color="k", ms=11)
    ax.text(m_star[0], m_star[3], "minimum   ", ha="right", va="center", fontsize=8.5)
    inside = ((params[:, 0] >= x0) & (params[:, 0] <= x1) & (params[:, 3] >= y0) & (params[:, 3] <= y1))
    stop = len(params) if inside.all() else int(np.argmin(inside)) + 1
    path = params[:stop]
    ax.plot(path[:, 0], path[:, 3], "-o", color=plots.COLORS[0], ms=2.2, lw=1.1)
    ax.plot(path[-1, 0], path[-1, 3], "o", color=plots.COLORS[3], ms=5)
    ax.text(path[0, 0], path[0, 3], "θ₀ ", ha="right", va="center", fontsize=8, color=plots.COLORS[0])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks(xticks)
    ax.set_yticks(yticks)
    ax.grid(False)
    unit = "per std of bmi" if scaled else "per kg/m² of bmi"
    ax.set_xlabel(f"w₁ (weight of bmi, {unit})")
    ax.set_ylabel("b (intercept)")
    _title(ax, "L over (w₁, b); path projected", fontsize=9)
    if stop < len(params):
        ax.text(0.5, 0.94, f"the path leaves the plot after step {len(path) - 1}", transform=ax.transAxes,
                ha="center", va="top", color=plots.COLORS[3], fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.8})

    # 3. predictions against the truth
    ax = axes[2]
    lo, hi = _Y_RANGE
    ticks = [0, 100, 200, 300]
    if stopped:
        plots.mark_diverged(ax, "diverged:\nno predictions")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    else:
        y_hat = A @ params[-1]
        ax.scatter(y, y_hat, s=6, color=plots.COLORS[0], alpha=0.6)
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
        ax.text(hi, hi, "ŷ = y ", ha="right", va="bottom", fontsize=8.5)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo - 40, hi + 40)
        outside = int(np.sum((y_hat < lo - 40) | (y_hat > hi + 40)))
        if outside:
            ax.text(0.97, 0.05, f"{outside} predictions outside the plot", transform=ax.transAxes,
                    ha="right", color=plots.COLORS[3], fontsize=8.5)
        _title(ax, f"MSE {losses[-1]:.4g} (least squares: {l_star:.4g})", fontsize=9)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("true y (disease progression)")
    ax.set_ylabel("predicted ŷ")
    return fig


# --------------------------------------------------------------------------
# The step-by-step explorer
# --------------------------------------------------------------------------
_KS = [0, 1, 2, 3, 5, 10, 20, 59]
_LRS = [0.05, 0.2, 1.05]
_TRUE = (2.0, -3.5, 1.0, 0.5)
_SAMPLES = 3  # rows of the sample table


def _row(label, values):
    return f"{label:<17}" + "".join(_cell(v, 4) for v in values)


def _numbers(k, lr, asked):
    """The text block of iteration k: parameters, gradient, update, the first samples and the loss."""
    X, y, A = _synthetic()
    params, losses, _, _, _ = _synthetic_run(lr)
    n = len(y)
    m = params[k]
    y_hat = A @ m
    r = y_hat - y
    grad = 2.0 / n * (A.T @ r)
    update = -lr * grad
    note = f"   (k = {asked} asked: stopped at divergence)" if asked > k else ""
    lines = [f"iteration k = {k}, learning rate lr = {lr:g}{note}",
             f"{'':<17}" + "".join(f"{name:>9}" for name in _NAMES),
             _row("θ_k", m),
             _row("∂L/∂θ at θ_k", grad),
             _row("update −lr·∂L/∂θ", update),
             _row("θ_k+1", m + update),
             _row("true values", _TRUE),
             "",
             f"{'sample':<6}{'x1':>8}{'x2':>8}{'x3':>8}{'ŷ':>9}{'y':>9}{'r = ŷ−y':>9}"]
    for i in range(_SAMPLES):
        lines.append(f"{i:<6}" + "".join(_cell(v, 3, 8) for v in X[i])
                     + "".join(_cell(v, 3) for v in (y_hat[i], y[i], r[i])))
    lines += [f"…     ({n} samples in all)",
              "",
              f"L(θ_k)   = (1/N)·Σ r_i² = {losses[k]:.6g}",
              f"L(θ_k+1) = {losses[k + 1]:.6g}"]
    return "\n".join(lines)


@explorer(
    "ch1.step_by_step",
    alt="The numbers of one gradient-descent iteration on the synthetic data, with the loss and the "
        "parameters over the iterations",
    # every combination (24 frames): the lesson asks readers to step through k at each rate
    k=Slider(_KS, default=0, label="iteration k"),
    lr=Choice(_LRS, default=0.2, label="learning rate"),
)
def step_by_step(k=0, lr=0.2):
    """Iteration k of gradient descent on y = 2·x1 − 3.5·x2 + 1·x3 + 0.5 + noise (N = 100, m_0 = 0)."""
    lr = float(lr)
    _, _, A = _synthetic()
    params, losses, diverged_at, log_losses, loss_ticks = _synthetic_run(lr)
    last = len(params) - 2  # the last iteration with a successor
    asked, k = int(k), min(int(k), last)

    # the numbers on top, the loss and the parameters below
    fig, (loss_ax, param_ax) = plots.figure(ncols=2, width=_WIDTH, height=5.6, dpi=frame_dpi(_WIDTH, _DPI))
    loss_ax.set_position([0.1, 0.08, 0.36, 0.36])
    param_ax.set_position([0.61, 0.08, 0.36, 0.36])
    fig.text(0.02, 0.985, _numbers(k, lr, asked), va="top", ha="left", family="monospace", fontsize=8.6)

    steps = np.arange(len(losses))
    iteration_ticks = [0, 20, 40, 60]
    # log10 on a linear axis: much faster to draw than a log-scale axis
    loss_ax.plot(steps, log_losses, color=plots.COLORS[0], lw=1.4)
    loss_ax.plot(k, log_losses[k], "o", color=plots.COLORS[3], ms=6)
    loss_ax.set_xticks(iteration_ticks)
    loss_ax.set_yticks(loss_ticks)
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("log₁₀ of the loss L")
    if diverged_at is not None:
        plots.mark_diverged(loss_ax, f"diverged at {diverged_at}")
    elif lr > _synthetic_limit():
        plots.mark_diverged(loss_ax, "lr > 2/λmax:\nthe loss grows")

    for j, (name, true) in enumerate(zip(_NAMES, _TRUE)):
        color = plots.COLORS[j]
        param_ax.plot(steps, params[:, j], color=color, lw=1.3)
        param_ax.axhline(true, color=color, lw=0.8, ls=":")
        param_ax.text(0.08 + 0.12 * j, 1.03, name, transform=param_ax.transAxes, color=color,
                      fontsize=9, fontweight="bold", va="bottom")
    param_ax.axvline(k, color="k", lw=0.8, alpha=0.6)
    param_ax.set_ylim(-6.0, 6.0)
    param_ax.set_xticks(iteration_ticks)
    param_ax.set_yticks([-4, -2, 0, 2, 4])
    param_ax.set_xlabel("iteration")
    param_ax.set_ylabel("parameter value (true: dotted)")
    return fig


@functools.lru_cache(maxsize=1)
def _synthetic_limit():
    return stability_limit(_synthetic()[2])
