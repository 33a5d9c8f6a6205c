"""The explorers live, as a reader runs them: a real Jupyter server, kernel and browser.

A JupyterLab 4 server (which also serves Notebook 7's interface) runs a one-cell
notebook that shows chapter 2's playground. Headless chromium opens the
notebook in each interface, runs the cell, waits for the ipywidgets controls
and the image, then picks another data set and checks that the kernel
retrained and the image changed. Skipped without chromium, failed instead
when ``NNLIB_STRICT=1`` (as on CI).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser fixture skips (or fails under NNLIB_STRICT) without Playwright
    PlaywrightTimeout = TimeoutError

from conftest import skip_or_fail
from test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

CELL = "from nnlib.widgets import show\nfrom nnlib.explorers import ch2_networks as ch2\nshow(ch2.playground)"
INTERFACES = {"jupyterlab": "lab/tree/live.ipynb", "notebook7": "notebooks/live.ipynb"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """A Jupyter server on 127.0.0.1 (no token) serving a one-cell notebook; yields its base URL."""
    root = tmp_path_factory.mktemp("live")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "live.ipynb")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "NNLIB_BUILD"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "api/status", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.close()
                skip_or_fail("the Jupyter server did not start:\n" + (root / "server.log").read_text()[-2000:])
            time.sleep(0.5)
    yield base
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _idle_kernel(base, timeout=120):
    """Wait until the notebook's kernel exists and reports idle (asked over the REST API)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + "api/sessions", timeout=5) as response:
            sessions = json.load(response)
        if any(s["path"].endswith("live.ipynb") and s["kernel"]["execution_state"] == "idle"
               for s in sessions):
            return
        time.sleep(0.25)
    raise AssertionError(f"no idle kernel for live.ipynb after {timeout} s: {sessions}")


def _run_first_cell(page):
    """Run the notebook's cell with Shift+Enter and wait until the kernel has taken it.

    A key press can land before the editor is ready; the prompt then stays
    ``[ ]:``, so press again (up to four times) rather than wait forever.
    """
    prompt = page.locator(".jp-Cell .jp-InputPrompt").first
    for _ in range(4):
        page.locator(".jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function("el => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                                   arg=prompt.element_handle(), timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the cell never ran; its prompt reads {prompt.inner_text()!r}")


def _describe(page):
    """What the page shows, for a failure message: the prompt and the output area's text."""
    prompt = page.locator(".jp-Cell .jp-InputPrompt").first.inner_text()
    outputs = page.locator(".jp-Cell .jp-OutputArea").first.inner_text()
    return f"prompt {prompt!r}; outputs {outputs[:1500]!r}"


@pytest.mark.parametrize("interface", list(INTERFACES))
def test_live_explorer_retrains_when_a_control_moves(browser, jupyter, interface):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(jupyter + INTERFACES[interface])
        page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputArea-editor", timeout=60_000)
        _idle_kernel(jupyter)
        _run_first_cell(page)
        try:
            image = page.wait_for_selector(".nnlib-live-explorer img", timeout=120_000)
        except PlaywrightTimeout:
            raise AssertionError("no explorer image appeared: " + _describe(page)) from None
        page.wait_for_function("img => img.src.startsWith('blob:') || img.src.startsWith('data:')", arg=image)
        first = image.get_attribute("src")
        dataset = page.locator(".nnlib-live-explorer select").first
        assert dataset.locator("option").all_inner_texts() == ["circles", "moons", "xor", "spirals"]
        dataset.select_option(label="spirals")
        page.wait_for_function("([img, old]) => img.src !== old", arg=[image, first], timeout=30_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, errors.all_inner_texts()
    finally:
        page.close()
