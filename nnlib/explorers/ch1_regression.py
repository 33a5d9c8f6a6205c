"""Chapter 1 explorers: linear regression trained by full-batch gradient descent.

* ``gradient_descent(lr_factor, steps, scaled)``: the model
  y = a·bmi + b·bp + c·s5 + d on the diabetes data, trained from m = 0. It
  shows the excess loss L(m_k) − L* per step, the loss over the plane of two
  parameters (a, d) with b and c held at their optimum together with the
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
"""

import functools

import numpy as np

from nnlib import data, plots
from nnlib.widgets import Choice, Slider, Toggle, explorer

__all__ = ["gradient_descent", "step_by_step", "design_matrix", "stability_limit", "run_gd",
           "DIVERGENCE_FACTOR"]

#: A run whose loss exceeds this many times its starting loss is stopped and called diverged.
DIVERGENCE_FACTOR = 1e6

_FEATURES = ("bmi", "bp", "s5")
_DPI = 85  # 935 px wide: legible, and small enough frames for the static book version
_NAMES = ("a", "b", "c", "d")


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


_MAX_STEPS = 3000


@functools.lru_cache(maxsize=64)
def _diabetes_run(lr_factor, scaled):
    A, y, _, _, limit = _diabetes(scaled)
    return run_gd(A, y, lr_factor * limit, _MAX_STEPS)


@functools.lru_cache(maxsize=2)
def _slice_grid(scaled, n=70):
    """Loss over the (a, d) plane, b and c at their optimum: the grid and its bounds."""
    A, y, m_star, l_star, _ = _diabetes(scaled)
    a0, d0 = 0.0, 0.0  # the start m_0 = 0
    xs_lo, xs_hi = min(a0, m_star[0]), max(a0, m_star[0])
    ys_lo, ys_hi = min(d0, m_star[3]), max(d0, m_star[3])
    pad_x, pad_y = 0.35 * (xs_hi - xs_lo), 0.35 * (ys_hi - ys_lo)
    xs = np.linspace(xs_lo - pad_x, xs_hi + pad_x, n)
    ys = np.linspace(ys_lo - pad_y, ys_hi + pad_y, n)
    # L is quadratic: L(m* + δ) = L* + δᵀ (AᵀA/N) δ exactly.
    G = A.T @ A / A.shape[0]
    da, dd = np.meshgrid(xs - m_star[0], ys - m_star[3])
    z = G[0, 0] * da ** 2 + 2 * G[0, 3] * da * dd + G[3, 3] * dd ** 2
    levels = np.quantile(np.log10(z.ravel() + 1e-9 * l_star), np.linspace(0.02, 1.0, 14))
    return xs, ys, np.log10(z + 1e-9 * l_star), levels


@functools.lru_cache(maxsize=1)
def _synthetic():
    X, y = data.make_linear(n_samples=100, rng=0)
    return X, y, design_matrix(X)


@functools.lru_cache(maxsize=8)
def _synthetic_run(lr):
    _, y, A = _synthetic()
    return run_gd(A, y, lr, 60)


# --------------------------------------------------------------------------
# The main explorer
# --------------------------------------------------------------------------
_LR_FACTORS = [0.02, 0.1, 0.3, 0.6, 0.95, 1.1]
_STEPS = [10, 30, 100, 300, 1000, 3000]


@explorer(
    "ch1.gradient_descent",
    alt="Gradient descent on the diabetes data: excess loss per step, the descent path on the loss "
        "surface over (a, d), and predictions against the truth",
    static=("lr_factor", "scaled"),
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
    A, y, m_star, l_star, limit = _diabetes(bool(scaled))
    params, losses, diverged_at = _diabetes_run(float(lr_factor), bool(scaled))
    shown = min(int(steps), len(losses) - 1)
    stopped = diverged_at is not None and diverged_at <= steps
    params, losses = params[: shown + 1], losses[: shown + 1]

    fig, axes = plots.figure(ncols=3, width=11.0, height=3.4, dpi=_DPI)
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.15, top=0.83, wspace=0.36)
    lr = lr_factor * limit
    kappa = np.linalg.cond(A.T @ A)
    fig.text(0.5, 0.955, f"{'standardized' if scaled else 'raw'} features: lr = {lr:.3g} "
             f"(stability limit 2/λmax = {limit:.3g}), condition number of XᵀX = {kappa:.3g}",
             ha="center", va="center", fontsize=9.5)

    # 1. the excess loss
    ax = axes[0]
    # log10 on a linear axis: a log-scale axis (minor ticks, mathtext labels) costs a third of the drawing time
    excess = np.log10(np.maximum(losses - l_star, 1e-13 * l_star))
    ax.plot(np.arange(len(excess)), excess, color=plots.COLORS[0], lw=1.6)
    if stopped:
        ax.plot(len(excess) - 1, excess[-1], "x", color=plots.COLORS[3], ms=9, mew=2)
    ax.set_xlim(0, max(int(steps), 1))
    ax.set_ylim(-10.5, max(5.0, excess.max() + 0.5))
    ax.set_xlabel("step k")
    ax.set_ylabel("log₁₀ (L(m_k) − L*)")
    if stopped:
        plots.mark_diverged(ax, f"diverged at step {diverged_at}:\nloss > 10⁶ × start")
    elif lr_factor > 1:
        plots.mark_diverged(ax, "lr > 2/λmax: unstable,\nthe loss will blow up")
    else:
        gap = losses[-1] - l_star
        shown_gap = f"{gap:.3g}" if gap > 1e-10 * l_star else "0 (to rounding error)"
        _title(ax, f"after {shown} steps: L − L* = {shown_gap}", fontsize=9)

    # 2. the loss surface over (a, d), b and c fixed at the optimum
    ax = axes[1]
    xs, ys, z, levels = _slice_grid(bool(scaled))
    ax.contourf(xs, ys, z, levels=levels, cmap="Greys", alpha=0.5, extend="both")
    ax.plot(m_star[0], m_star[3], "*", color="k", ms=11)
    ax.text(m_star[0], m_star[3], "minimum   ", ha="right", va="center", fontsize=8)
    inside = ((params[:, 0] >= xs[0]) & (params[:, 0] <= xs[-1])
              & (params[:, 3] >= ys[0]) & (params[:, 3] <= ys[-1]))
    stop = len(params) if inside.all() else int(np.argmin(inside)) + 1
    path = params[:stop]
    ax.plot(path[:, 0], path[:, 3], "-o", color=plots.COLORS[0], ms=2.2, lw=1.1)
    ax.plot(path[-1, 0], path[-1, 3], "o", color=plots.COLORS[3], ms=5)
    ax.text(path[0, 0], path[0, 3], "m₀ ", ha="right", va="center", fontsize=8, color=plots.COLORS[0])
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.grid(False)
    unit = "per std of bmi" if scaled else "per kg/m² of bmi"
    ax.set_xlabel(f"a (weight of bmi, {unit})")
    ax.set_ylabel("d (intercept)")
    _title(ax, "L over (a, d), b, c at optimum; path projected", fontsize=9)
    if stop < len(params):
        ax.text(0.5, 0.94, f"the path leaves the plot after step {len(path) - 1}", transform=ax.transAxes,
                ha="center", va="top", color=plots.COLORS[3], fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.8})

    # 3. predictions against the truth
    ax = axes[2]
    if stopped:
        plots.mark_diverged(ax, "diverged:\nno predictions")
        ax.set_xlim(0, 360)
        ax.set_ylim(0, 360)
    else:
        y_hat = A @ params[-1]
        ax.scatter(y, y_hat, s=6, color=plots.COLORS[0], alpha=0.6)
        lo, hi = 0, 360
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
        ax.text(hi, hi, "ŷ = y ", ha="right", va="bottom", fontsize=8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo - 40, hi + 40)
        outside = int(np.sum((y_hat < lo - 40) | (y_hat > hi + 40)))
        if outside:
            ax.text(0.97, 0.05, f"{outside} predictions outside the plot", transform=ax.transAxes,
                    ha="right", color=plots.COLORS[3], fontsize=8)
        _title(ax, f"MSE {losses[-1]:.4g} (least squares: {l_star:.4g})", fontsize=9)
    ax.set_xlabel("true y (disease progression)")
    ax.set_ylabel("predicted ŷ")
    return fig


# --------------------------------------------------------------------------
# The step-by-step explorer
# --------------------------------------------------------------------------
_KS = [0, 1, 2, 3, 5, 10, 20, 59]
_LRS = [0.05, 0.2, 1.05]


def _row(label, values, fmt="{:>9.4f}"):
    return f"{label:<18}" + "".join(fmt.format(v) for v in values)


@explorer(
    "ch1.step_by_step",
    alt="The numbers of one gradient-descent iteration on the synthetic data, with the loss and the "
        "parameters over the iterations",
    static="product",
    k=Slider(_KS, default=0, label="iteration k"),
    lr=Choice(_LRS, default=0.2, label="learning rate"),
)
def step_by_step(k=0, lr=0.2):
    """Iteration k of gradient descent on y = 2·x1 − 3.5·x2 + 1·x3 + 0.5 + noise (N = 100, m_0 = 0)."""
    X, y, A = _synthetic()
    params, losses, diverged_at = _synthetic_run(float(lr))
    last = len(params) - 2  # the last iteration with a successor
    asked, k = int(k), min(int(k), last)
    n = len(y)
    m = params[k]
    y_hat = A @ m
    r = y_hat - y
    grad = 2.0 / n * (A.T @ r)
    update = -lr * grad
    m_next = m + update

    fig, axes = plots.figure(ncols=3, width=11.0, height=3.6, dpi=_DPI)
    text_ax, loss_ax, param_ax = axes
    text_ax.set_position([0.0, 0.0, 0.45, 1.0])
    text_ax.axis("off")
    loss_ax.set_position([0.52, 0.15, 0.2, 0.72])
    param_ax.set_position([0.78, 0.15, 0.2, 0.72])

    lines = [f"iteration k = {k}    learning rate lr = {lr:g}", ""]
    if asked > k:
        lines[1] = f"(k = {asked} asked: the run was stopped at divergence)"
    lines.append(f"{'':<18}" + "".join(f"{name:>9}" for name in _NAMES))
    lines.append(_row("m_k", m))
    lines.append(_row("∂L/∂m at m_k", grad))
    lines.append(_row("update −lr·∂L/∂m", update))
    lines.append(_row("m_k+1", m_next))
    lines.append(_row("true values", [2.0, -3.5, 1.0, 0.5]))
    lines.append("")
    lines.append(f"{'sample':<8}{'x1':>8}{'x2':>8}{'x3':>8}{'ŷ':>9}{'y':>9}{'r = ŷ−y':>10}")
    for i in range(4):
        lines.append(f"{i:<8}" + "".join(f"{v:>8.3f}" for v in X[i]) + f"{y_hat[i]:>9.3f}{y[i]:>9.3f}{r[i]:>10.3f}")
    lines.append(f"{'…':<8}  ({n} samples in all)")
    lines.append("")
    lines.append(f"loss L(m_k) = (1/N)·Σ r_i² = {losses[k]:.6g}")
    lines.append(f"loss L(m_k+1)              = {losses[k + 1]:.6g}")
    text_ax.text(0.02, 0.96, "\n".join(lines), transform=text_ax.transAxes, va="top", ha="left",
                 family="monospace", fontsize=8.8)

    steps = np.arange(len(losses))
    log_losses = np.log10(losses)  # log10 on a linear axis: much faster to draw than a log-scale axis
    loss_ax.plot(steps, log_losses, color=plots.COLORS[0], lw=1.4)
    loss_ax.plot(k, log_losses[k], "o", color=plots.COLORS[3], ms=6)
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("log₁₀ of the loss L")
    if diverged_at is not None:
        plots.mark_diverged(loss_ax, f"diverged at {diverged_at}")
    elif lr > stability_limit(A):
        plots.mark_diverged(loss_ax, "lr > 2/λmax:\nthe loss grows")

    for j, (name, true) in enumerate(zip(_NAMES, [2.0, -3.5, 1.0, 0.5])):
        color = plots.COLORS[j]
        param_ax.plot(steps, params[:, j], color=color, lw=1.3, label=name)
        param_ax.axhline(true, color=color, lw=0.8, ls=":")
    param_ax.axvline(k, color="k", lw=0.8, alpha=0.6)
    bound = 6.0
    param_ax.set_ylim(-bound, bound)
    param_ax.set_xlabel("iteration")
    param_ax.set_ylabel("parameter value (true: dotted)")
    for j, name in enumerate(_NAMES):
        param_ax.text(0.08 + 0.12 * j, 1.03, name, transform=param_ax.transAxes, color=plots.COLORS[j],
                      fontsize=9, fontweight="bold", va="bottom")
    return fig
