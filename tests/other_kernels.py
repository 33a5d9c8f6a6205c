"""Rerun every lesson's checked outputs under nbval on other floating-point kernels (``make test-kernels``).

A lesson's checked output must not depend on the last bits of a sum, since those differ between CPUs. This
machine can imitate other CPUs: OpenBLAS can be forced onto a generic core (``OPENBLAS_CORETYPE=Prescott``:
SSE3 kernels instead of AVX2/FMA ones), and numpy's SIMD dispatch can be lowered
(``NPY_DISABLE_CPU_FEATURES=X86_V3``: no AVX2/FMA loops for tanh, exp, ...). Each combination rounds some
results differently: each of the two single settings caught a checked output that the two together did not
(a chaotic run whose fate changed with the last bits), so all three run, two at a time on the two cores.
``tests/test_portable.py`` checks that each set really changes results on this machine.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: generic BLAS and generic numpy loops; generic BLAS only; generic numpy loops only
KERNEL_SETS = [
    {"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": "X86_V3"},
    {"OPENBLAS_CORETYPE": "Prescott"},
    {"NPY_DISABLE_CPU_FEATURES": "X86_V3"},
]
SETTINGS = {key for kernels in KERNEL_SETS for key in kernels}   # each pass sets its own, and clears the rest


def describe(kernels):
    return " ".join(f"{key}={value}" for key, value in kernels.items())


def run_lessons(kernels):
    """nbval on every lesson in live mode under these kernels: (kernels, completed process)."""
    env = {k: v for k, v in os.environ.items() if k != "NNLIB_BUILD" and k not in SETTINGS}
    env.update(kernels, OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               "lessons"]
    return kernels, subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def main():
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_lessons, KERNEL_SETS))
    failed = 0
    for kernels, done in results:
        summary = (done.stdout.strip().splitlines() or ["no output"])[-1]
        print(f"== {describe(kernels)}: {summary}")
        if done.returncode != 0:
            failed += 1
            print(done.stdout, done.stderr, sep="\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
