"""How fast is nnlib's training loop? Two tables from one run.

    python bench/train.py            # about 20 s on a quiet 2-core machine (a loaded one: minutes)
    python bench/train.py --quick    # fewer repeats: a rough look in a third of the time

1. Small network (the lesson-sized case, where per-batch overhead matters):
   a 64-100-10 ReLU MLP on the digits, SGD with momentum 0.9, batch 64,
   50 epochs, trained three ways:
     (a) nnlib: Sequential(Linear, ReLU, Linear) + CrossEntropyLoss + SGD + fit;
     (b) the same training written out by hand in numpy (``run_plain``):
         same initial weights, same batches, same formulas, so the final
         weights agree with nnlib's to the bit;
     (c) scikit-learn's MLPClassifier doing the same work: one hidden layer
         of 100 ReLUs, softmax cross-entropy, plain SGD with momentum 0.9
         (not Nesterov), batch 64, the same constant learning rate, 50
         epochs, no L2 penalty, no early stopping. It uses its own
         initialisation and shuffling, so only its accuracy is comparable.
   None of the three computes a gradient for the input data (nnlib's fit
   skips it, like PyTorch; MLPClassifier's backward stops at the first layer).

2. Wide network (where the matrix products dominate): 512-1024-1024-10 ReLU,
   float32, batch 256, synthetic data. nnlib's achieved GFLOP/s is compared
   with numpy's own float32 matmul rate on exactly the products a training
   step does, measured in the same run.

Timing. The machine may be shared, so times are CPU time of this process
(``time.process_time``, every thread included: it does not count the time
spent waiting for a CPU); wall-clock medians are printed alongside. Each way
is warmed up untimed, then runs ``--repeats`` times, interleaved and in
rotating order, so that a busy moment hurts all of them alike. The tables
show medians. A ratio is measured within each repeat, whose runs are back
to back, and the median over the repeats is checked against the target; the
ratio of the medians is printed as a cross-check.
On a busy machine the wide table still moves: multi-threaded matrix products
lose more to other load than single-threaded numpy work does, and a BLAS
thread that waits for its preempted partner spins, which CPU time counts.
``--blas-threads 1`` takes that part out.

This is a benchmark, not a test: it prints, with a target, the measured
value and ok/MISS for each check; it does not fail.
"""

import argparse
import gc
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

EPOCHS = 50
BATCH = 64
HIDDEN = 100
LR = 0.01
MOMENTUM = 0.9
SEED = 0

WIDE = (512, 1024, 1024, 10)
WIDE_BATCH = 256
WIDE_SAMPLES = 8192

# The targets, from the issue.
TARGET_VS_PLAIN = 1.3  # nnlib time <= 1.3 x the plain numpy loop's
TARGET_VS_SKLEARN = 0.5  # nnlib time <= 0.5 x MLPClassifier's
TARGET_ACC_SPREAD = 0.01  # at equal accuracy (+-1%)
TARGET_WIDE_SHARE = 0.6  # nnlib's GFLOP/s >= 60% of numpy's matmul rate


def timed(fn, *args):
    """Run ``fn(*args)``; return (CPU seconds, wall seconds, fn's result)."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args)
    return time.process_time() - cpu, time.perf_counter() - wall, result


def interleaved(ways, repeats, warmup=None):
    """Run ``warmup`` (default: every way once) untimed, then every way ``repeats`` times in rotating order.

    ``ways`` maps a name to a function of no arguments. Returns
    ({name: [CPU seconds]}, {name: [wall seconds]}, {name: the last result}).
    """
    names = list(ways)
    for run in (warmup or ways).values():  # imports, caches, BLAS threads
        run()
    last = {}
    cpu = {name: [] for name in names}
    wall = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            c, w, last[name] = timed(ways[name])
            cpu[name].append(c)
            wall[name].append(w)
    return cpu, wall, last


def _ok(flag):
    return "ok" if flag else "MISS"


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
    history = fit(model, CrossEntropyLoss(), optimizer, X, y, EPOCHS, BATCH, rng=SEED)
    return model, history


def run_plain(X, y):
    """The same training written out by hand in numpy: the loop a reader of the book would write.

    It starts from nnlib's initial weights and draws the same batches, and it
    does what fit does for each batch (the loss and accuracy for the history
    included), with the same formulas. Where numpy offers two equally plain
    spellings, it uses nnlib's, so that the comparison measures the framework
    and the weights agree to the bit. Returns the weights and the per-epoch
    mean training loss.
    """
    W1, b1, W2, b2 = params = [p.data.copy() for p in small_model().parameters()]
    velocity = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(SEED)
    n = X.shape[0]
    train_loss, train_acc = [], []
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        X_epoch, y_epoch = X[order], y[order]
        loss_sum, correct = 0.0, 0
        for start in range(0, n, BATCH):
            Xb, yb = X_epoch[start : start + BATCH], y_epoch[start : start + BATCH]
            m = Xb.shape[0]
            rows = np.arange(m)
            # forward
            z1 = Xb @ W1.T + b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W2.T + b2
            # softmax cross-entropy, shifted by each row's maximum so that exp cannot overflow
            shifted = z2 - z2.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            e_sum = e.sum(axis=1, keepdims=True)
            loss = (np.log(e_sum[:, 0]) - shifted[rows, yb]).sum() / m
            loss_sum += loss * m
            correct += np.count_nonzero(z2.argmax(axis=1) == yb)
            # backward: dL/dz2 = (softmax - onehot) / m, then the chain rule
            g2 = e / e_sum
            g2[rows, yb] -= 1
            g2 *= 1 / m
            g1 = (g2 @ W2) * (a1 > 0)
            grads = [g1.T @ Xb, g1.sum(axis=0), g2.T @ a1, g2.sum(axis=0)]
            # SGD with momentum (PyTorch's rule; v starts at 0, so the first v is g): v = momentum * v + g; p -= lr * v
            for p, g, v in zip(params, grads, velocity):
                v *= MOMENTUM
                v += g
                p -= LR * v
        train_loss.append(loss_sum / n)
        train_acc.append(correct / n)
    return params, train_loss


def sklearn_classifier():
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="sgd",
        alpha=0.0,  # no L2 penalty
        batch_size=BATCH,
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        max_iter=EPOCHS,
        shuffle=True,
        random_state=SEED,
        tol=0.0,
        n_iter_no_change=EPOCHS + 1,  # never stops early: exactly max_iter epochs
        early_stopping=False,
    )


def run_sklearn(X, y):
    from sklearn.exceptions import ConvergenceWarning

    clf = sklearn_classifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # "max_iter reached": intended
        clf.fit(X, y)
    return clf


def small_table(repeats):
    X_train, X_test, y_train, y_test = digits_split()
    ways = {
        "nnlib": lambda: run_nnlib(X_train, y_train),
        "plain": lambda: run_plain(X_train, y_train),
        "sklearn": lambda: run_sklearn(X_train, y_train),
    }
    cpu, wall, last = interleaved(ways, repeats)
    model, history = last["nnlib"]
    plain_params, plain_loss = last["plain"]
    clf = last["sklearn"]
    steps = EPOCHS * -(-X_train.shape[0] // BATCH)
    # The same work: every epoch run, every batch stepped, the same architecture.
    assert clf.n_iter_ == EPOCHS and clf.t_ == EPOCHS * X_train.shape[0], (clf.n_iter_, clf.t_)
    assert [c.shape for c in clf.coefs_] == [(64, HIDDEN), (HIDDEN, 10)]
    assert history.epochs == EPOCHS

    W1, b1, W2, b2 = plain_params
    plain_logits = np.maximum(X_test @ W1.T + b1, 0) @ W2.T + b2
    acc = {
        "nnlib": accuracy(predict(model, X_test), y_test),
        "plain": accuracy(plain_logits, y_test),
        "sklearn": float(np.mean(clf.predict(X_test) == y_test)),
    }
    max_dw = max(float(np.abs(p.data - q).max()) for p, q in zip(model.parameters(), plain_params))
    max_dloss = float(np.max(np.abs(np.array(history.train_loss) - np.array(plain_loss))))
    med = {k: statistics.median(v) for k, v in cpu.items()}
    med_wall = {k: statistics.median(v) for k, v in wall.items()}

    print(f"Small network: 64-{HIDDEN}-10 ReLU, SGD lr={LR} momentum={MOMENTUM}, batch {BATCH}, {EPOCHS} epochs,")
    print(f"digits standardized, {X_train.shape[0]} train / {X_test.shape[0]} test rows, {steps} steps; "
          f"medians of {repeats} interleaved runs")
    print()
    print(f"{'way':<30}{'CPU s':>8}{'min':>8}{'us/step':>9}{'wall s':>9}{'test acc':>10}")
    names = {"nnlib": "(a) nnlib fit", "plain": "(b) plain numpy loop", "sklearn": "(c) sklearn MLPClassifier"}
    for key, name in names.items():
        print(f"{name:<30}{med[key]:>8.3f}{min(cpu[key]):>8.3f}{1e6 * med[key] / steps:>9.1f}"
              f"{med_wall[key]:>9.3f}{acc[key]:>10.4f}")
    print()
    spread = max(acc.values()) - min(acc.values())
    print(f"{'check (CPU time)':<40}{'measured':>10}{'of medians':>12}{'target':>10}{'':>6}")
    r_plain = _ratio_row("time nnlib / plain numpy", cpu["nnlib"], cpu["plain"], TARGET_VS_PLAIN)
    r_sk = _ratio_row("time nnlib / MLPClassifier", cpu["nnlib"], cpu["sklearn"], TARGET_VS_SKLEARN)
    print(f"{'accuracy spread (max - min)':<40}{spread:>10.4f}{'':>12}{'<= ' + str(TARGET_ACC_SPREAD):>10}"
          f"{_ok(spread <= TARGET_ACC_SPREAD):>6}")
    sk_plain = _ratio_row("time MLPClassifier / plain numpy", cpu["sklearn"], cpu["plain"])
    _ratio_row("time nnlib / plain numpy, wall clock", wall["nnlib"], wall["plain"])
    _ratio_row("time nnlib / MLPClassifier, wall clock", wall["nnlib"], wall["sklearn"])
    print(f"{'max |weight nnlib - weight plain| (final)':<40}{max_dw:>10.2e}")
    print(f"{'max |train loss nnlib - plain| (epochs)':<40}{max_dloss:>10.2e}")
    print("(measured: the median over repeats of the ratio within each repeat, whose runs are back to back;")
    print(" of medians: the ratio of the medians in the table above)")
    if r_sk > TARGET_VS_SKLEARN:
        print()
        print(f"MISS, nnlib / MLPClassifier: MLPClassifier takes {sk_plain:.2f}x the plain numpy loop here, so the")
        print(f"target <= {TARGET_VS_SKLEARN} needs nnlib at <= {TARGET_VS_SKLEARN * sk_plain:.2f}x the loop, "
              f"and nnlib is at {r_plain:.2f}x. A framework running")
        print("the same numpy operations would have to beat the same math written out by hand, while most")
        print("of a step is matrix products that cost the same either way.")


def _ratio_row(label, times, reference, target=None):
    """Print one ratio row (an upper-bound check if ``target`` is given); return the measured ratio.

    Measured is the median of the per-repeat ratios: runs of one repeat are
    back to back, so a busy moment affects both. The ratio of the medians is
    printed next to it as a cross-check.
    """
    paired = statistics.median(t / r for t, r in zip(times, reference))
    of_medians = statistics.median(times) / statistics.median(reference)
    check = f"{'<= ' + str(target):>10}{_ok(paired <= target):>6}" if target is not None else f"{'':>10}{'info':>6}"
    print(f"{label:<40}{paired:>10.2f}{of_medians:>12.2f}{check}")
    return paired


# --- the wide network --------------------------------------------------------------------------------------
def wide_flops_per_step(n):
    """FLOPs of the matrix products of one wide training step on a batch of n rows.

    Per layer with input x (n, a) and weight W (b, a), and upstream gradient G (n, b):
    forward x @ W.T, backward G.T @ x (dL/dW) and G @ W (dL/dx), 2·n·a·b FLOPs each,
    except that the first layer's dL/dx is skipped (fit computes no gradient for
    the data). Element-wise work (bias, ReLU, softmax, the SGD update) is not counted.
    """
    pairs = list(zip(WIDE[:-1], WIDE[1:]))
    return 3 * sum(2 * n * a * b for a, b in pairs) - 2 * n * WIDE[0] * WIDE[1]


def numpy_matmul_run(steps):
    """numpy doing the matrix products of ``steps`` wide training steps and nothing else.

    The same shapes and memory layouts as nnlib's Linear (W.T and G.T are
    transposed views), batch WIDE_BATCH.
    """
    rng = np.random.default_rng(1)
    pairs = list(zip(WIDE[:-1], WIDE[1:]))
    xs = [rng.standard_normal((WIDE_BATCH, a), dtype=np.float32) for a, _ in pairs]
    ws = [rng.standard_normal((b, a), dtype=np.float32) for a, b in pairs]
    gs = [rng.standard_normal((WIDE_BATCH, b), dtype=np.float32) for _, b in pairs]

    def run():
        for _ in range(steps):
            for i, (x, w, g) in enumerate(zip(xs, ws, gs)):
                x @ w.T  # forward
                g.T @ x  # dL/dW
                if i > 0:
                    g @ w  # dL/dx, skipped for the first layer

    return run


def wide_table(repeats):
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((WIDE_SAMPLES, WIDE[0]), dtype=np.float32)
    teacher = rng.standard_normal((WIDE[0], WIDE[-1]), dtype=np.float32)
    y = (X @ teacher).argmax(axis=1).astype(np.int64)
    steps = WIDE_SAMPLES // WIDE_BATCH  # one epoch
    flops = steps * wide_flops_per_step(WIDE_BATCH)

    def run_nnlib(rows=WIDE_SAMPLES):
        init = np.random.default_rng(SEED)
        layers = []
        for i, (a, b) in enumerate(zip(WIDE[:-1], WIDE[1:])):
            layers.append(Linear(a, b, rng=init, dtype=np.float32))
            if i < len(WIDE) - 2:
                layers.append(ReLU())
        model = Sequential(*layers)
        optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)
        history = fit(model, CrossEntropyLoss(), optimizer, X[:rows], y[:rows], 1, WIDE_BATCH, rng=SEED)
        return model, history

    ways = {"nnlib": run_nnlib, "numpy": numpy_matmul_run(steps)}
    warmup = {"nnlib": lambda: run_nnlib(rows=4 * WIDE_BATCH), "numpy": numpy_matmul_run(4)}
    cpu, wall, last = interleaved(ways, repeats, warmup)
    model, history = last["nnlib"]
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    rate = {k: flops / statistics.median(v) / 1e9 for k, v in cpu.items()}
    rate_wall = {k: flops / statistics.median(v) / 1e9 for k, v in wall.items()}
    # nnlib's share of numpy's rate, repeat by repeat (the runs of a repeat are back to back): time numpy / time nnlib
    share = statistics.median(t_np / t_nn for t_np, t_nn in zip(cpu["numpy"], cpu["nnlib"]))
    share_wall = statistics.median(t_np / t_nn for t_np, t_nn in zip(wall["numpy"], wall["nnlib"]))
    of_medians = rate["nnlib"] / rate["numpy"]

    arch = "-".join(str(s) for s in WIDE)
    print(f"Wide network: {arch} ReLU, float32, batch {WIDE_BATCH}, {WIDE_SAMPLES} samples, one epoch "
          f"({steps} steps), SGD momentum 0.9; medians of {repeats} interleaved runs")
    print("FLOPs counted: the matrix products only (forward, dL/dW, and dL/dx except the first layer's,")
    print("which fit skips); the numpy reference does exactly these products and nothing else.")
    print()
    print(f"{'':<46}{'CPU time':>10}{'wall':>10}{'target':>10}{'':>6}")
    print(f"{'GFLOP per run':<46}{flops / 1e9:>10.1f}")
    print(f"{'nnlib fit, median s':<46}{statistics.median(cpu['nnlib']):>10.3f}"
          f"{statistics.median(wall['nnlib']):>10.3f}")
    print(f"{'nnlib achieved GFLOP/s':<46}{rate['nnlib']:>10.1f}{rate_wall['nnlib']:>10.1f}")
    print(f"{'numpy float32 matmul GFLOP/s (same products)':<46}{rate['numpy']:>10.1f}{rate_wall['numpy']:>10.1f}")
    print(f"{'nnlib / numpy matmul (median of per-repeat)':<46}{share:>10.0%}{share_wall:>10.0%}"
          f"{'>= ' + format(TARGET_WIDE_SHARE, '.0%'):>10}{_ok(share >= TARGET_WIDE_SHARE):>6}")
    print(f"{'  the same, ratio of the medians above':<46}{of_medians:>10.0%}"
          f"{rate_wall['nnlib'] / rate_wall['numpy']:>10.0%}{'':>10}{'info':>6}")
    print(f"{'final train loss (sanity)':<46}{history.train_loss[-1]:>10.4f}")


# --- the run ---------------------------------------------------------------------------------------------
def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = [
        f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture')}, threads: {d.get('num_threads')})"
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "no BLAS found"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats of everything (a rough look)")
    parser.add_argument("--repeats", type=int, help="timed runs of each way (default 11 small, 5 wide; --quick 3)")
    parser.add_argument("--blas-threads", type=int,
                        help="limit BLAS to this many threads (threadpoolctl); 1 is steadier on a busy machine")
    args = parser.parse_args(argv)
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    repeats = args.repeats or (3 if args.quick else 11)
    wide_repeats = args.repeats or (3 if args.quick else 5)

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    coretype = os.environ.get("OPENBLAS_CORETYPE", "")
    print(f"numpy {np.__version__}, BLAS: {blas_info()}, OPENBLAS_CORETYPE={coretype!r}, {os.cpu_count()} CPUs,")
    print(f"load average {load}{' (quick run)' if args.quick else ''}")
    print()
    small_table(repeats)
    print()
    wide_table(wide_repeats)


if __name__ == "__main__":
    main()
