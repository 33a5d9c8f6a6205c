"""The other-kernel passes of the lessons (``make test-kernels``) really run on other floating-point kernels.

``make test-kernels`` (``tests/other_kernels.py``) reruns every lesson under nbval with OpenBLAS forced onto a
generic core (``OPENBLAS_CORETYPE=Prescott``: SSE3 kernels instead of the AVX2/FMA ones), with numpy's SIMD
dispatch lowered (``NPY_DISABLE_CPU_FEATURES=X86_V3``: no AVX2/FMA loops for tanh, exp, ...), and with both.
A checked output that depends on the last bits of a BLAS or SIMD kernel then fails in one of them. Those
passes only prove something if each setting changes results on this machine: these tests show that they do,
for a matrix product and for ``np.tanh``.
"""

import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT

from other_kernels import KERNEL_SETS

KERNELS = {key: value for kernels in KERNEL_SETS for key, value in kernels.items()}   # every setting used

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


def test_makefile_runs_the_other_kernel_passes():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) tests/other_kernels.py" in makefile


def test_the_passes_cover_each_setting_alone_and_both_together():
    assert sorted(map(sorted, KERNEL_SETS)) == sorted([["OPENBLAS_CORETYPE"], ["NPY_DISABLE_CPU_FEATURES"],
                                                       ["NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE"]])


@pytest.mark.parametrize("kernels", KERNEL_SETS, ids=lambda k: "+".join(k))
def test_every_pass_changes_some_bits(kernels):
    assert _bits({}) != _bits(kernels)


def test_generic_openblas_core_changes_a_matrix_products_bits():
    assert _bits({})[0] != _bits({"OPENBLAS_CORETYPE": KERNELS["OPENBLAS_CORETYPE"]})[0]


def test_lower_numpy_simd_changes_tanhs_bits():
    assert _bits({})[1] != _bits({"NPY_DISABLE_CPU_FEATURES": KERNELS["NPY_DISABLE_CPU_FEATURES"]})[1]
