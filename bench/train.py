"""How fast is nnlib's training loop? Two tables from one run: ``python bench/train.py``.

1. Small network (the lesson-sized case, where per-batch overhead matters):
   a 64-100-10 ReLU MLP on the digits, SGD with momentum 0.9, batch 64,
   50 epochs, trained three ways:
     (a) nnlib: Sequential(Linear, ReLU, Linear) + CrossEntropyLoss + SGD + fit;
     (b) a plain numpy loop written out below: same initial weights, same
         batches, same formulas, so the final weights should agree to the bit;
     (c) scikit-learn's MLPClassifier with the same settings (its own
         initialisation and shuffling, so only the accuracy is comparable).
   Times are medians over interleaved repeats; ratios are of those medians.

2. Wide network (where the matrix products dominate): 512-1024-1024-10 ReLU,
   float32, batch 256, synthetic data. nnlib's achieved GFLOP/s is compared
   with numpy's own float32 matmul rate for the same shapes, measured in the
   same run.

This is a benchmark, not a test: it prints, it does not assert.
"""

import os
import statistics
import sys
import time
import warnings

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nnlib.activations import ReLU  # noqa: E402
from nnlib.core import Sequential  # noqa: E402
from nnlib.data import StandardScaler, load_digits, train_val_split  # noqa: E402
from nnlib.layers import Linear  # noqa: E402
from nnlib.losses import CrossEntropyLoss  # noqa: E402
from nnlib.optim import SGD  # noqa: E402
from nnlib.train import accuracy, fit, predict  # noqa: E402

REPEATS = 5
EPOCHS = 50
BATCH = 64
HIDDEN = 100
LR = 0.01
MOMENTUM = 0.9
SEED = 0

WIDE = (512, 1024, 1024, 10)
WIDE_BATCH = 256
WIDE_SAMPLES = 8192
WIDE_EPOCHS = 2
WIDE_REPEATS = 3


# --- the small network ---------------------------------------------------------------------
def digits_split():
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_val_split(X, y, 0.2, rng=SEED)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def small_model():
    rng = np.random.default_rng(SEED)
    return Sequential(Linear(64, HIDDEN, rng=rng), ReLU(), Linear(HIDDEN, 10, rng=rng))


def run_nnlib(X, y):
    model = small_model()
    optimizer = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    start = time.perf_counter()
    history = fit(model, CrossEntropyLoss(), optimizer, X, y, EPOCHS, BATCH, rng=SEED)
    elapsed = time.perf_counter() - start
    return elapsed, model, history


def run_plain(X, y, input_grad=False):
    """The same training written out in numpy: what fit + the layers do, minus the framework.

    Like fit, it records each epoch's mean loss and accuracy. Unlike nnlib it
    does not compute dL/dX for the first layer (nobody needs it) unless
    ``input_grad``, and it assigns gradients instead of zeroing and
    accumulating them.
    """
    init = small_model()
    W1, b1, W2, b2 = (p.data.copy() for p in init.parameters())
    params = [W1, b1, W2, b2]
    buffers = [None] * 4
    rng = np.random.default_rng(SEED)
    n = X.shape[0]
    train_loss, train_acc = [], []
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        X_epoch, y_epoch = X.take(order, axis=0), y.take(order, axis=0)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, BATCH):
            Xb, yb = X_epoch[s : s + BATCH], y_epoch[s : s + BATCH]
            m = Xb.shape[0]
            rows = np.arange(m)
            # forward
            z1 = Xb @ W1.T
            z1 += b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W2.T
            z2 += b2
            shifted = z2 - z2.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss_sum += float(np.sum((1.0 / m) * -log_p[rows, yb])) * m
            correct += int(np.count_nonzero(z2.argmax(axis=1) == yb))
            # backward: dL/dz2 = (softmax - onehot) / m, then the chain rule
            g2 = np.exp(log_p)
            g2[rows, yb] -= 1
            g2 *= 1.0 / m
            g1 = (g2 @ W2) * (a1 > 0)
            grads = [g1.T @ Xb, g1.sum(axis=0), g2.T @ a1, g2.sum(axis=0)]
            if input_grad:
                g1 @ W1  # dL/dX: what nnlib's first Linear returns and nothing uses
            # SGD with momentum (PyTorch's rule): b = m*b + g; p -= lr*b
            for i, (p, g) in enumerate(zip(params, grads)):
                if buffers[i] is None:
                    buffers[i] = g.copy()
                else:
                    buffers[i] *= MOMENTUM
                    buffers[i] += g
                p -= LR * buffers[i]
        train_loss.append(loss_sum / n)
        train_acc.append(correct / n)
    elapsed = time.perf_counter() - start
    return elapsed, params, train_loss


def run_sklearn(X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="sgd",
        alpha=0.0,
        batch_size=BATCH,
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        max_iter=EPOCHS,
        shuffle=True,
        random_state=SEED,
        tol=0.0,
        n_iter_no_change=EPOCHS + 1,
        early_stopping=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        elapsed = time.perf_counter() - start
    return elapsed, clf


def small_table():
    X_train, X_test, y_train, y_test = digits_split()
    times = {"nnlib": [], "plain": [], "plain_dx": [], "sklearn": []}
    for _ in range(REPEATS):  # interleaved, so a slow moment hurts all three alike
        t, model, history = run_nnlib(X_train, y_train)
        times["nnlib"].append(t)
        t, plain_params, plain_loss = run_plain(X_train, y_train)
        times["plain"].append(t)
        times["plain_dx"].append(run_plain(X_train, y_train, input_grad=True)[0])
        t, clf = run_sklearn(X_train, y_train)
        times["sklearn"].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}

    W1, b1, W2, b2 = plain_params
    plain_logits = np.maximum(X_test @ W1.T + b1, 0) @ W2.T + b2
    acc = {
        "nnlib": accuracy(predict(model, X_test), y_test),
        "plain": accuracy(plain_logits, y_test),
        "sklearn": float(np.mean(clf.predict(X_test) == y_test)),
    }
    max_dw = max(float(np.abs(p.data - q).max()) for p, q in zip(model.parameters(), plain_params))
    max_dloss = float(np.max(np.abs(np.array(history.train_loss) - np.array(plain_loss))))
    steps = EPOCHS * -(-X_train.shape[0] // BATCH)

    print(f"Small network: {64}-{HIDDEN}-10 ReLU, SGD lr={LR} momentum={MOMENTUM}, batch {BATCH}, {EPOCHS} epochs,")
    print(f"digits standardized, {X_train.shape[0]} train / {X_test.shape[0]} test rows, {steps} steps; "
          f"median of {REPEATS} interleaved runs")
    print()
    print(f"{'way':<28}{'median s':>10}{'min s':>9}{'us/step':>10}{'test acc':>10}")
    names = {"nnlib": "(a) nnlib fit", "plain": "(b) plain numpy loop", "plain_dx": "(b') (b) + first-layer dL/dX",
             "sklearn": "(c) sklearn MLPClassifier"}
    for key, name in names.items():
        shown = f"{acc[key]:>10.4f}" if key in acc else f"{'':>10}"
        print(f"{name:<28}{med[key]:>10.3f}{min(times[key]):>9.3f}{1e6 * med[key] / steps:>10.1f}{shown}")
    print()
    r_plain = med["nnlib"] / med["plain"]
    r_sk = med["nnlib"] / med["sklearn"]
    spread = max(acc.values()) - min(acc.values())
    print(f"{'check':<44}{'measured':>10}{'target':>10}{'':>6}")
    print(f"{'time nnlib / plain numpy':<44}{r_plain:>10.2f}{'<= 1.30':>10}{_ok(r_plain <= 1.3):>6}")
    r_dx = med["nnlib"] / med["plain_dx"]
    label = "time nnlib / (b') (framework overhead only)"
    print(f"{label:<44}{r_dx:>10.2f}{'':>10}{'info':>6}")
    print(f"{'time nnlib / MLPClassifier':<44}{r_sk:>10.2f}{'<= 0.50':>10}{_ok(r_sk <= 0.5):>6}")
    print(f"{'accuracy spread (max - min)':<44}{spread:>10.4f}{'<= 0.01':>10}{_ok(spread <= 0.01):>6}")
    print(f"{'max |weight nnlib - weight plain| (final)':<44}{max_dw:>10.2e}")
    print(f"{'max |train loss nnlib - plain| (per epoch)':<44}{max_dloss:>10.2e}")
    return r_plain


# --- the wide network --------------------------------------------------------------------------------------
def wide_flops_per_step(n):
    """FLOPs of the matrix products in one training step, as nnlib does them.

    forward  x @ W.T             2·n·in·out per layer
    backward G.T @ x  (dL/dW)    2·n·in·out per layer
             G @ W    (dL/dx)    2·n·in·out per layer, the first layer included
                                 (nnlib's Sequential returns dL/dX even though nothing uses it)
    Element-wise work (bias, ReLU, softmax, the SGD update) is not counted.
    """
    pairs = list(zip(WIDE[:-1], WIDE[1:]))
    return 3 * sum(2 * n * a * b for a, b in pairs)


def numpy_matmul_rate(steps=16, repeats=3):
    """numpy's float32 GFLOP/s on exactly the matrix products of ``steps`` wide training steps."""
    rng = np.random.default_rng(1)
    n = WIDE_BATCH
    pairs = list(zip(WIDE[:-1], WIDE[1:]))
    xs = [rng.standard_normal((n, a), dtype=np.float32) for a, _ in pairs]
    ws = [rng.standard_normal((b, a), dtype=np.float32) for a, b in pairs]
    gs = [rng.standard_normal((n, b), dtype=np.float32) for _, b in pairs]
    flops = wide_flops_per_step(n) * steps
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            for x, w, g in zip(xs, ws, gs):
                x @ w.T
                g.T @ x
                g @ w
        times.append(time.perf_counter() - start)
    return flops / statistics.median(times) / 1e9


def wide_table():
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((WIDE_SAMPLES, WIDE[0]), dtype=np.float32)
    teacher = rng.standard_normal((WIDE[0], WIDE[-1]), dtype=np.float32)
    y = (X @ teacher).argmax(axis=1).astype(np.int64)
    steps = WIDE_EPOCHS * -(-WIDE_SAMPLES // WIDE_BATCH)
    flops = wide_flops_per_step(WIDE_BATCH) * (WIDE_SAMPLES // WIDE_BATCH) * WIDE_EPOCHS
    flops += wide_flops_per_step(WIDE_SAMPLES % WIDE_BATCH) * WIDE_EPOCHS

    nn_times, ref_rates = [], []
    for _ in range(WIDE_REPEATS):  # interleaved with the reference measurement
        init = np.random.default_rng(SEED)
        layers = []
        for i, (a, b) in enumerate(zip(WIDE[:-1], WIDE[1:])):
            layers.append(Linear(a, b, rng=init, dtype=np.float32))
            if i < len(WIDE) - 2:
                layers.append(ReLU())
        model = Sequential(*layers)
        optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
        start = time.perf_counter()
        history = fit(model, CrossEntropyLoss(), optimizer, X, y, WIDE_EPOCHS, WIDE_BATCH, rng=SEED)
        nn_times.append(time.perf_counter() - start)
        ref_rates.append(numpy_matmul_rate(steps=steps, repeats=1))
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    t = statistics.median(nn_times)
    rate = flops / t / 1e9
    ref = statistics.median(ref_rates)
    share = rate / ref
    pair = statistics.median(flops / tn / 1e9 / r for tn, r in zip(nn_times, ref_rates))

    arch = "-".join(str(s) for s in WIDE)
    print(f"Wide network: {arch} ReLU, float32, batch {WIDE_BATCH}, {WIDE_SAMPLES} samples, {WIDE_EPOCHS} epochs "
          f"({steps} steps), SGD momentum; median of {WIDE_REPEATS}")
    print("FLOPs counted: matrix products only, forward 2·N·Σ in·out, backward twice that (dL/dW and dL/dx,")
    print("the first layer's dL/dx included because nnlib computes it); element-wise work not counted.")
    print()
    print(f"{'':<40}{'value':>12}{'target':>10}{'':>6}")
    print(f"{'GFLOP per run':<40}{flops / 1e9:>12.1f}")
    print(f"{'nnlib fit, median s':<40}{t:>12.3f}")
    print(f"{'nnlib achieved GFLOP/s':<40}{rate:>12.1f}")
    print(f"{'numpy float32 matmul GFLOP/s (same shapes)':<40}{ref:>12.1f}")
    print(f"{'nnlib / numpy matmul':<40}{100 * share:>11.0f}%{'>= 60%':>10}{_ok(share >= 0.6):>6}")
    print(f"{'  (median of the per-repeat ratios)':<40}{100 * pair:>11.0f}%")
    print(f"{'final train loss (sanity)':<40}{history.train_loss[-1]:>12.4f}")
    return share


def _ok(flag):
    return "ok" if flag else "MISS"


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = [
        f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture')}, {d.get('num_threads')} threads)"
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "no BLAS found"


def main():
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    coretype = os.environ.get("OPENBLAS_CORETYPE", "")
    print(f"numpy {np.__version__}, BLAS: {blas_info()}, OPENBLAS_CORETYPE={coretype!r}, {os.cpu_count()} CPUs,")
    print(f"load average {load} (timings are wall-clock, so other load on the machine shows in them)")
    print()
    small_table()
    print()
    wide_table()


if __name__ == "__main__":
    main()
