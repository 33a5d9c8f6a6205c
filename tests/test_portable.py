"""The second-kernel pass of the lessons (``make test-kernels``) really runs on other floating-point kernels.

``make test-kernels`` reruns every lesson under nbval with OpenBLAS forced onto
a generic core (``OPENBLAS_CORETYPE=Prescott``: SSE3 kernels instead of the
AVX2/FMA ones) and numpy's SIMD dispatch lowered (``NPY_DISABLE_CPU_FEATURES=X86_V3``:
no AVX2/FMA loops for tanh, exp, ...). A checked output that depends on the
last bits of a BLAS or SIMD kernel then fails there. That pass only proves
something if those settings change results on this machine: these tests show
that they do, for a matrix product and for ``np.tanh``.
"""

import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT

#: The environment of the second pass; the Makefile's KERNELS variable must say the same.
KERNELS = {"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": "X86_V3"}

_PROBE = """
import hashlib, numpy as np
rng = np.random.default_rng(0)
A, B, x = rng.normal(size=(64, 50)), rng.normal(size=(50, 33)), 3 * rng.normal(size=100_000)
print(hashlib.sha1((A @ B).tobytes()).hexdigest(), hashlib.sha1(np.tanh(x).tobytes()).hexdigest())
"""

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="the second-kernel settings name x86-64 kernels")


def _bits(extra):
    env = {k: v for k, v in os.environ.items() if k not in KERNELS}
    env.update(extra, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stderr == "", out.stderr
    matmul, tanh = out.stdout.split()
    return matmul, tanh


def test_makefile_uses_these_kernels():
    makefile = (ROOT / "Makefile").read_text()
    for key, value in KERNELS.items():
        assert f"{key}={value}" in makefile, f"the Makefile's test-kernels pass should set {key}={value}"


def test_generic_openblas_core_changes_a_matrix_products_bits():
    assert _bits({})[0] != _bits({"OPENBLAS_CORETYPE": KERNELS["OPENBLAS_CORETYPE"]})[0]


def test_lower_numpy_simd_changes_tanhs_bits():
    assert _bits({})[1] != _bits({"NPY_DISABLE_CPU_FEATURES": KERNELS["NPY_DISABLE_CPU_FEATURES"]})[1]
