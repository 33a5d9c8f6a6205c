"""Shared test set-up.

* The repository root goes first on ``sys.path``, so the tests import the
  working tree's nnlib even where it is not installed (``make`` installs it
  editable into .venv, which is the same code).
* Hypothesis runs without per-example deadlines (the machines are small and
  shared; a slow example is not a failure) and, on CI, derandomized, so a run
  is reproducible.
* Fixtures for the built site: ``site`` is _build/html. Tests that need it (or a
  browser) skip when it is missing, or FAIL when ``NNLIB_STRICT=1`` (set by
  .ci/run), so CI can never pass by skipping them.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    from hypothesis import settings
except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
    pass
else:
    settings.register_profile("nnlib", deadline=None, print_blob=True)
    settings.register_profile("nnlib-ci", deadline=None, print_blob=True, derandomize=True)
    settings.load_profile("nnlib-ci" if os.environ.get("CI") else "nnlib")

#: The built site (``make book``).
SITE = ROOT / "_build" / "html"
#: The chapters, in order (see the "Book infrastructure contract" in the API notes).
CHAPTERS = [
    "01_linear_regression",
    "02_activations_width_depth",
    "03_softmax_cross_entropy",
    "04_learning_rate",
    "05_momentum",
    "06_overfitting",
]


def site_pages():
    """Every HTML page of the built site (not the theme's template fragments in _static/)."""
    if not SITE.is_dir():
        return []
    return sorted(p for p in SITE.rglob("*.html")
                  if p.relative_to(SITE).parts[0] not in ("_static", "_sources", "_images"))


def strict():
    """True when missing prerequisites (site, browser) must fail tests instead of skipping them."""
    return os.environ.get("NNLIB_STRICT", "") == "1"


def skip_or_fail(reason):
    """Skip with ``reason``, or fail with it under ``NNLIB_STRICT=1``."""
    if strict():
        pytest.fail(f"{reason} (NNLIB_STRICT=1: this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def repo_root():
    """The repository's root directory."""
    return ROOT


@pytest.fixture
def rng():
    """A fresh, seeded random generator for each test (never global seeding)."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def site():
    """The built site's directory, _build/html (build it with `make book`)."""
    if not (SITE / "index.html").is_file():
        skip_or_fail(f"no built site in {SITE.relative_to(ROOT)}; run `make book` first")
    return SITE


# --- torch-oracle tests: how many ran --------------------------------------------------------------
# A test that compares nnlib with PyTorch calls pytest.importorskip("torch") and skips silently where torch
# is missing. The summary at the end of every run says how many such tests passed, skipped or failed, so a
# CI log shows whether the oracle really ran.
_TORCH_TESTS = {"ids": set(), "passed": set(), "skipped": set(), "failed": set()}


def _uses_torch(item):
    import inspect

    function = getattr(item, "function", None)
    try:
        source = inspect.getsource(function)
    except (TypeError, OSError):
        return False
    return 'importorskip("torch")' in source


def pytest_collection_finish(session):
    _TORCH_TESTS["ids"].update(item.nodeid for item in session.items if _uses_torch(item))  # after deselection


def pytest_runtest_logreport(report):
    if report.nodeid not in _TORCH_TESTS["ids"]:
        return
    if report.skipped:
        _TORCH_TESTS["skipped"].add(report.nodeid)
    elif report.failed:
        _TORCH_TESTS["failed"].add(report.nodeid)
    elif report.when == "call" and report.passed:
        _TORCH_TESTS["passed"].add(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if not _TORCH_TESTS["ids"]:
        return
    from importlib import metadata

    try:
        version = f"torch {metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        version = "torch not installed"
    counts = {k: len(_TORCH_TESTS[k]) for k in ("passed", "skipped", "failed")}
    terminalreporter.write_line(f"torch-oracle tests: {counts['passed']} passed, {counts['skipped']} skipped, "
                                f"{counts['failed']} failed, of {len(_TORCH_TESTS['ids'])} collected ({version})")
