"""Benchmark every registered explorer in live mode: how long one redraw takes.

A live explorer redraws when a control moves: it calls the explorer function
with the new values and renders the returned matplotlib figure to PNG. This
script does exactly that for every explorer in ``nnlib.widgets.REGISTRY``
(``import nnlib.explorers`` fills it) and every value of each control, the
other controls at their defaults, and prints the median (p50) and 95th
percentile (p95) time per explorer and overall. The target is p95 <= 100 ms.

    .venv/bin/python bench/widgets.py [--repeat N] [--only NAME ...] [--strict]

``--strict`` exits with status 1 when the overall p95 misses the target.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.pop("NNLIB_BUILD", None)  # live mode, like JupyterLab
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_P95_MS = 100.0

# How this script reads an explorer; the one place to adapt if nnlib.widgets renames things.
CONTROLS = "controls"  # fn.<CONTROLS>: dict of control key -> spec


def controls_of(fn):
    """{key: (values, default)} for an explorer function."""
    return {key: (list(spec.values), spec.default) for key, spec in getattr(fn, CONTROLS).items()}


def settle_memory():
    from nnlib.widgets import settle_memory as settle

    settle()


def render(fn, kwargs):
    """One live redraw, exactly as the widget does it: call the explorer, render its figure to PNG."""
    from nnlib.widgets import render as redraw

    return redraw(fn, kwargs)


def percentile(samples, q):
    """The q-th percentile (0..100) of samples, by linear interpolation."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bench_explorer(fn, repeat):
    """Milliseconds per redraw, over each control's values (others at defaults), `repeat` times."""
    controls = controls_of(fn)
    defaults = {key: default for key, (_, default) in controls.items()}
    render(fn, defaults)  # warm-up: imports, caches and fonts are not what a reader waits for
    settle_memory()  # as the live widget does when it is shown
    times = []
    for _ in range(repeat):
        for key, (values, _) in controls.items():
            for value in values:
                kwargs = {**defaults, key: value}
                start = time.perf_counter()
                render(fn, kwargs)
                times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="passes over every control value (default 1)")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark only these explorers")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the overall p95 exceeds the target")
    args = parser.parse_args(argv)

    import nnlib.explorers  # noqa: F401  (registers every chapter's explorers)
    from nnlib.widgets import REGISTRY

    names = sorted(REGISTRY) if args.only is None else args.only
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown explorer(s) {unknown}; registered: {sorted(REGISTRY)}")
    if not names:
        print("No explorers are registered (nnlib.explorers imports none yet).")
        return 0

    width = max(len(name) for name in names)
    print(f"Live redraw time per explorer (call + render to PNG), target p95 <= {TARGET_P95_MS:g} ms")
    print(f"{'explorer':<{width}}  {'redraws':>7}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}")
    everything = []
    for name in names:
        times = bench_explorer(REGISTRY[name], args.repeat)
        everything += times
        flag = "" if percentile(times, 95) <= TARGET_P95_MS else "  over target"
        print(f"{name:<{width}}  {len(times):>7}  {statistics.median(times):7.1f}  "
              f"{percentile(times, 95):7.1f}  {max(times):7.1f}{flag}")
    p95 = percentile(everything, 95)
    print(f"{'overall':<{width}}  {len(everything):>7}  {statistics.median(everything):7.1f}  "
          f"{p95:7.1f}  {max(everything):7.1f}")
    verdict = "meets" if p95 <= TARGET_P95_MS else "MISSES"
    print(f"Overall p95 {p95:.1f} ms {verdict} the {TARGET_P95_MS:g} ms target.")
    return 1 if args.strict and p95 > TARGET_P95_MS else 0


if __name__ == "__main__":
    sys.exit(main())
