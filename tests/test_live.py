"""The explorers live, as a reader runs them: a real Jupyter server, kernel and browser.

A JupyterLab 4 server (which also serves Notebook 7's interface) runs a one-cell
notebook that shows chapter 2's playground. Headless chromium opens the
notebook in each interface, runs the cell, waits for the ipywidgets controls
and the image, then picks another data set and checks that the kernel
retrained and the image changed. Skipped without chromium, failed instead
when ``NNLIB_STRICT=1`` (as on CI).

The same server also holds copies of the six lessons. Each is opened in
JupyterLab (and the first in Notebook 7) the way a reader opens it, and the
test reads every rendered Markdown cell: jupyterlab-myst must have turned all
MyST into text, boxes, math and links (no ``{admonition}``, ``{cite:p}``,
``{term}``, fences or ``(label)=`` lines left over, no red error), and every
cell the site hides (``metadata.jupyter.source_hidden``, as exercise solutions
are) must be folded. Cells are not run. Citations show their key marked
"Citation Not Found" in JupyterLab (jupyterlab-myst reads no BibTeX file);
they are counted and printed, not failed.
"""

import json
import os
import re
import shutil
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

from conftest import CHAPTERS, ROOT, skip_or_fail
from test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

CELL = "from nnlib.widgets import show\nfrom nnlib.explorers import ch2_networks as ch2\nshow(ch2.playground)"
INTERFACES = {"jupyterlab": "lab/tree/live.ipynb", "notebook7": "notebooks/live.ipynb"}
_LESSON_COPIES = {}
#: The notebook on show (JupyterLab keeps other tabs' notebooks in the page, hidden).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


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
    for name in CHAPTERS:  # copies: the lessons may change while the tests run; these are what the browser reads
        _LESSON_COPIES[name] = root / f"{name}.ipynb"
        shutil.copy(ROOT / "lessons" / f"{name}.ipynb", _LESSON_COPIES[name])
    # Every cell in the page at once (JupyterLab 4 otherwise only attaches the cells in view), so the
    # whole lesson can be read; in a settings folder of this test's own, not the user's.
    settings = tmp_path_factory.mktemp("lab-settings")
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "NNLIB_BUILD"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
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
    prompt = page.locator(PANEL + " .jp-Cell .jp-InputPrompt").first
    for _ in range(4):
        page.locator(PANEL + " .jp-Cell .jp-InputArea-editor").first.click()
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
    prompt = page.locator(PANEL + " .jp-Cell .jp-InputPrompt").first.inner_text()
    outputs = page.locator(PANEL + " .jp-Cell .jp-OutputArea").first.inner_text()
    return f"prompt {prompt!r}; outputs {outputs[:1500]!r}"


@pytest.mark.parametrize("interface", list(INTERFACES))
def test_live_explorer_retrains_when_a_control_moves(browser, jupyter, interface):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(jupyter + INTERFACES[interface])
        page.wait_for_selector(PANEL + " .jp-Cell .jp-InputArea-editor", timeout=60_000)
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


# --------------------------------------------------------------------------
# The lessons read like the book: MyST rendered, hidden cells folded
# --------------------------------------------------------------------------

#: What a Markdown cell's text may not show once rendered (math removed first): MyST left raw.
RAW_MYST = {
    "a role": re.compile(r"\{(?:[a-z]+:)?[a-z]+(?::[a-z]+)?\}`?"),
    "a code fence": re.compile(r"```|~~~"),
    "a colon fence": re.compile(r"^\s*:::", re.M),
    "a directive option": re.compile(r"^\s*:[a-z][a-z-]*:\s", re.M),
    "a label line": re.compile(r"^\s*\([\w-]+\)=\s*$", re.M),
    "raw math": re.compile(r"\$\$|\\begin\{|\\frac|\\mathbf"),
}

#: Each rendered Markdown cell, in order: its text without the math (rendered math keeps its TeX in a hidden
#: MathML annotation), its count of unresolved citations and of red (error) nodes, and whether math rendered.
READ_MARKDOWN = """() => {
  const MATH = '.katex, mjx-container, .MathJax, math, script, style';
  const BLOCKS = 'p, li, h1, h2, h3, h4, h5, h6, pre, td, th, dt, dd, figcaption, summary, .myst-admonition-header-text';
  const textOf = el => {  // the element's own text, math left out
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let text = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.closest(MATH)) text += node.textContent;
    }
    return text;
  };
  return Array.from(document.querySelectorAll('@PANEL .jp-Cell')).map((cell, index) => {
    if (!cell.classList.contains('jp-MarkdownCell')) return null;
    const roots = Array.from(cell.querySelectorAll('.myst')).filter(e => !e.parentElement.closest('.myst'));
    if (!roots.length) return {index, rendered: false, text: '', citations_not_found: 0, red: [], math: 0};
    const blocks = roots.flatMap(r => Array.from(r.querySelectorAll(BLOCKS)))
                        .filter(b => !b.parentElement.closest(BLOCKS) && !b.closest(MATH));
    const red = roots.flatMap(r => Array.from(r.querySelectorAll('[class]'))).filter(
        e => /(^|\\s)(text|border|bg)-red-\\d+/.test(e.getAttribute('class') || ''));
    return {index, rendered: true, text: blocks.map(textOf).join('\\n'),
            citations_not_found: roots.reduce((n, r) => n + r.querySelectorAll('[title="Citation Not Found"]').length, 0),
            red: red.map(e => e.innerText.trim().slice(0, 80)),
            math: roots.reduce((n, r) => n + r.querySelectorAll('.katex, mjx-container').length, 0)};
  });
}""".replace("@PANEL", PANEL)

#: For each cell (in order), whether its input and its outputs are folded (a placeholder shown instead).
READ_FOLDS = """() => Array.from(document.querySelectorAll('@PANEL .jp-Cell')).map(cell => {
  const visible = e => !!e && e.offsetParent !== null && e.getBoundingClientRect().height > 0;
  return {input_folded: visible(cell.querySelector('.jp-InputPlaceholder'))
                        && !visible(cell.querySelector('.jp-InputArea-editor')),
          output_folded: visible(cell.querySelector('.jp-OutputPlaceholder'))};
})""".replace("@PANEL", PANEL)


def _open_lesson(browser, base, url, name):  # noqa: F811
    """Open a lesson; wait until every Markdown cell is rendered by jupyterlab-myst and the DOM is steady."""
    notebook = nbformat.read(_LESSON_COPIES[name], as_version=4)
    markdown = sum(c.cell_type == "markdown" for c in notebook.cells)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base + url)
    try:
        page.wait_for_function(f"() => document.querySelectorAll('{PANEL} .jp-Cell').length === "
                               f"{len(notebook.cells)}", timeout=90_000)
    except PlaywrightTimeout:
        count = page.evaluate(f"() => document.querySelectorAll('{PANEL} .jp-Cell').length")
        page.close()
        raise AssertionError(f"{name}: the page shows {count} of the notebook's {len(notebook.cells)} cells") from None
    try:
        page.wait_for_function(f"() => document.querySelectorAll('{PANEL} .jp-MarkdownCell .myst').length >= {markdown}",
                               timeout=60_000)
    except PlaywrightTimeout:
        count = page.evaluate(f"() => document.querySelectorAll('{PANEL} .jp-MarkdownCell .myst').length")
        page.close()
        raise AssertionError(f"{name}: jupyterlab-myst rendered {count} of {markdown} Markdown cells "
                             "(is jupyterlab-myst installed and enabled?)") from None
    page.wait_for_timeout(1500)  # math and cross-references settle after the first render
    return page, notebook


def _myst_problems(cells):
    problems, not_found = [], 0
    for cell in cells:
        if cell is None:
            continue
        where = f"cell {cell['index']}"
        if not cell["rendered"]:
            problems.append(f"{where}: not rendered by jupyterlab-myst")
            continue
        not_found += cell["citations_not_found"]
        for what, pattern in RAW_MYST.items():
            match = pattern.search(cell["text"])
            if match:
                start = max(0, match.start() - 40)
                problems.append(f"{where}: {what} shows raw: ...{cell['text'][start:match.end() + 40]!r}...")
        if cell["red"]:
            problems.append(f"{where}: error node(s) {cell['red'][:3]}")
    return problems, not_found


def _fold_problems(notebook, folds):
    problems = []
    for n, (cell, fold) in enumerate(zip(notebook.cells, folds)):
        jupyter = cell.metadata.get("jupyter", {})
        tags = cell.metadata.get("tags", [])
        if jupyter.get("source_hidden") and not fold["input_folded"]:
            problems.append(f"cell {n} ({', '.join(tags) or 'no tags'}): source_hidden, but its code shows")
        if jupyter.get("outputs_hidden") and cell.get("outputs") and not fold["output_folded"]:
            problems.append(f"cell {n} ({', '.join(tags) or 'no tags'}): outputs_hidden, but its outputs show")
    return problems


LESSON_VIEWS = [(name, "jupyterlab") for name in CHAPTERS] + [(CHAPTERS[0], "notebook7")]


@pytest.mark.parametrize("name, interface", LESSON_VIEWS, ids=[f"{n}-{i}" for n, i in LESSON_VIEWS])
def test_lesson_reads_like_the_book(browser, jupyter, name, interface):  # noqa: F811
    # a workspace of its own, reset: only this notebook open (JupyterLab restores earlier tabs otherwise)
    url = f"lab/workspaces/{name}/tree/{name}.ipynb?reset" if interface == "jupyterlab" else f"notebooks/{name}.ipynb"
    page, notebook = _open_lesson(browser, jupyter, url, name)
    try:
        cells = page.evaluate(READ_MARKDOWN)
        folds = page.evaluate(READ_FOLDS)
    finally:
        page.close()
    raw, not_found = _myst_problems(cells)
    folded = _fold_problems(notebook, folds)
    hidden = sum(bool(c.metadata.get("jupyter", {}).get("source_hidden")) for c in notebook.cells)
    math = sum(c["math"] for c in cells if c)
    print(f"\n{name} in {interface}: {sum(c is not None for c in cells)} Markdown cells, {math} rendered formulas, "
          f"{hidden} hidden cells, {len(raw)} MyST problems, {len(folded)} unfolded, "
          f"{not_found} citations shown as 'Citation Not Found'")
    assert not raw, f"{name} in {interface}: MyST not rendered:\n  " + "\n  ".join(raw)
    assert not folded, f"{name} in {interface}: hidden cells not folded:\n  " + "\n  ".join(folded)


def test_the_lesson_check_catches_raw_myst_and_unfolded_cells():
    """The checks above on made-up input: raw MyST and an open hidden cell are reported; clean input passes."""
    cells = [None, {"index": 1, "rendered": True, "citations_not_found": 0, "red": [], "math": 0,
                    "text": "See {cite:p}bishop2006 and\n(sec-x)=\n:class: tip\n```{admonition} Box"},
             {"index": 2, "rendered": True, "citations_not_found": 2, "red": [], "math": 3,
              "text": "A clean paragraph, with braces {like this} spaced."}]
    problems, not_found = _myst_problems(cells)
    assert not_found == 2
    kinds = " ".join(problems)
    for what in ("a role", "a label line", "a directive option", "a code fence"):
        assert what in kinds, (what, problems)
    assert all(p.startswith("cell 1") for p in problems)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y")])
    notebook.cells[0].metadata["jupyter"] = {"source_hidden": True}
    assert _fold_problems(notebook, [{"input_folded": False, "output_folded": False}] * 2)
    assert not _fold_problems(notebook, [{"input_folded": True, "output_folded": False}] * 2)
