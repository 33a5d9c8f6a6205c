"""Checks of the book's sources and of the built site, without a browser.

The sources: every chapter is in the table of contents, lessons are committed
without outputs (except cells tagged ``keep_output``), the bibliography has
the keys the chapters rely on, the glossary has the notes' terms.

The built site (_build/html, from ``make book``): every relative link and
``#anchor`` resolves, no page loads anything from another host, MathJax is
served locally, and no lesson output shows a traceback, a warning, a widget's
repr or a local path. tests/test_browser.py opens the same pages in chromium.
"""

import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml

from conftest import CHAPTERS, ROOT, SITE, site_pages

LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))

# Attributes through which a page loads something (as opposed to linking to it).
LOADING_ATTRIBUTES = {
    "script": ["src"],
    "link": ["href"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "frame": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "track": ["src"],
    "input": ["src"],
}
LINK_ATTRIBUTES = {"a": ["href"], "area": ["href"]}

# Text that must never appear in a lesson's outputs on a page.
BAD_OUTPUT_TEXT = [
    "Traceback",
    "RuntimeWarning",
    "DeprecationWarning",
    "FutureWarning",
    "UserWarning",
    "interactive(children=",
    "VBox(children=",
    "HBox(children=",
    "Output(",
    "<Figure size",
    "<matplotlib.",
    "<nnlib.",
    "object at 0x",
]
# Text that must never appear anywhere in a page: paths of the machine that built it.
LOCAL_PATHS = ["/work/", "/root/", "/tmp/", "/home/", "site-packages", "file://", str(ROOT)]

REQUIRED_BIB_KEYS = """goodfellow2016 nielsen2015 zhang2023d2l saito2016 cs231n goh2017momentum kingma2015adam
duchi2011adagrad tieleman2012rmsprop polyak1964 nesterov1983 sutskever2013 srivastava2014dropout smith2017cyclical
loshchilov2017sgdr rumelhart1986 glorot2010 he2015delving maas2013rectifier prechelt1998early krogh1992weightdecay
caruana1997multitask lecun1998efficient bishop2006 tibshirani1996lasso simard2003 yosinski2014transferable
smilkov2017playground boyd2004 hinton2012dropout bridle1990softmax""".split()

NOTES_TERMS = """线性回归 梯度下降 激活函数 激励函数 学习率 动量 过拟合 正则化 丢弃法 微调 数据增强 损失函数 交叉熵 池化
反向传播 前向传播 神经元 隐藏层 权重 偏置 批量 轮次 周期 学习率衰减 自适应学习率 早停 多任务学习 特征缩放 鞍点 梯度消失""".split()


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------
def toc_files():
    """Every file named in _toc.yml (without suffix), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return files


def test_every_chapter_is_in_the_toc_in_order():
    chapters = [f.removeprefix("lessons/") for f in toc_files() if f.startswith("lessons/")]
    assert chapters == CHAPTERS


def test_every_toc_entry_exists():
    for entry in toc_files():
        matches = [p for p in ROOT.glob(entry + ".*") if p.suffix in (".md", ".ipynb")]
        assert matches, f"_toc.yml names {entry!r}, but there is no {entry}.md or {entry}.ipynb"


def test_only_toc_files_are_built():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["only_build_toc_files"] is True
    for folder in [".venv", "_build", "tests", "bench"]:
        assert folder in config["exclude_patterns"], f"_config.yml should exclude {folder}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_a_lesson(chapter):
    assert (ROOT / "lessons" / f"{chapter}.ipynb").is_file()


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lessons_are_committed_without_outputs(path):
    """Outputs are stripped (nbstripout, see .pre-commit-config.yaml) except in the cells nbval checks.

    A checked cell carries nbval's tag ``nbval-check-output`` (nothing shows on
    the page) and ``keep_output`` (nbstripout keeps its outputs); it has stored
    outputs and an execution count, without which nbval ignores them.
    """
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernel must be python3"
    assert "widgets" not in nb.metadata, f"{path.name}: stored widget state; run nbstripout on it"
    checked = 0
    for n, cell in enumerate(nb.cells):
        where = f"{path.name}, cell {n}"
        assert "NBVAL" not in cell.source, \
            f"{where}: test machinery in the source; tag the cell nbval-check-output instead of a # NBVAL comment"
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        keep = "keep_output" in tags
        if "nbval-check-output" in tags:
            checked += 1
            assert keep, f"{where}: a cell tagged nbval-check-output must also carry keep_output (nbstripout)"
            assert cell.outputs, f"{where}: a cell tagged nbval-check-output must have stored outputs for nbval"
            assert cell.execution_count is not None, \
                f"{where}: nbval skips a stored output without an execution count; run `make strip`"
        else:
            assert not keep, f"{where}: keep_output without nbval-check-output keeps an output nobody checks"
        if not keep:
            assert cell.outputs == [], f"{where}: committed with outputs; run `make strip`"
            assert cell.execution_count is None, f"{where}: committed with an execution count; run `make strip`"
    assert checked, f"{path.name}: no cell is checked by nbval; the lesson's verdicts must be"


# A number typed into prose: a decimal, a percentage, a ratio of counts, a "±" spread, or any digit at all
# outside math, code, roles and section references. Verdicts and summaries must be computed (nnlib.report).
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)
_NOT_NUMBERS = re.compile(r"`[^`]*`|\{[a-z:]+\}`[^`]*`|§\s?\d+(\.\d+)*|\(#[^)]*\)|\]\([^)]*\)|[Cc]hapter \d+")
_DECIMAL_IN_MATH = re.compile(r"\d\.\d|\d\s*\\?%|\\pm")


def _typed_numbers(text):
    """The numbers a paragraph types by hand (in math: decimals, percentages and spreads only)."""
    found = [m.group(0) for math in _MATH.findall(text) for m in _DECIMAL_IN_MATH.finditer(math)]
    prose = _NOT_NUMBERS.sub(" ", _MATH.sub(" ", text))
    found += [m.strip() for m in re.findall(r"\d+(?:[.,/]\d+)*\s*%?|±", prose)]
    return found


def _summary_cells(nb):
    """The markdown cells of the lesson's "## Summary" section."""
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    inside = line.strip().lower().startswith("## summary")
            if inside:
                yield cell


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_verdicts_and_summaries_are_computed(path):
    """No verdict or summary paragraph types an experimental number: it is computed (nnlib.report).

    A verdict is shown by ``nnlib.report.verdict`` from a cell whose input is
    hidden, so no markdown cell may state one; the Summary section's markdown
    may not contain numbers outside math and section references (and no
    decimal, percentage or ± even in math): cite results from a computed
    ``Prose`` cell.
    """
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert not re.search(r"\*\*\s*Verdict", cell.source), \
                f"{path.name}, cell {n}: a typed verdict; compute it with nnlib.report.verdict in a hidden-input cell"
    for cell in _summary_cells(nb):
        typed = _typed_numbers(cell.source)
        assert not typed, (f"{path.name}: the summary types the numbers {typed}; show them from the computation "
                           f"(nnlib.report.Prose in a hidden-input cell)")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_hidden_cells_are_hidden_in_jupyterlab_too(path):
    """Cells hidden on the site (hide-input, hide-cell) are collapsed in JupyterLab and Notebook 7 as well."""
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        jupyter = cell.metadata.get("jupyter", {})
        if "hide-input" in tags or "hide-cell" in tags:
            assert jupyter.get("source_hidden") is True, \
                f"{path.name}, cell {n}: tagged hide-input/hide-cell but its source shows in JupyterLab"
        if "hide-cell" in tags and cell.get("outputs") is not None:
            assert jupyter.get("outputs_hidden") is True, \
                f"{path.name}, cell {n}: a hidden solution's outputs show in JupyterLab"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_stored_output_line_is_wider_than_the_column(path):
    """Printed text and plain-text results fit the page's column (80 characters); tables and prose render as
    HTML and Markdown, which wrap or scroll inside themselves. A wider line is evidence cut off at the edge."""
    nb = nbformat.read(path, as_version=4)
    for n, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data or "text/markdown" in data:
                continue
            text = out.get("text", "") if out.get("output_type") == "stream" else data.get("text/plain", "")
            for line in text.splitlines():
                assert len(line) <= 80, f"{path.name}, cell {n}: output line of {len(line)} characters: {line!r}"


def test_typed_number_detector():
    """The detector behind test_verdicts_and_summaries_are_computed finds typed numbers and spares the rest."""
    assert _typed_numbers("the floor rose from 19% to 37%") == ["19%", "37%"]
    assert _typed_numbers("loss $0.16 \\pm 0.01$") == ["0.1", "\\pm", "0.0"]
    assert _typed_numbers("it diverged in 4/5 runs") == ["4/5"]
    assert _typed_numbers("see §2.3 and chapter 5, where $\\eta < 2/L$ and {cite:p}`kingma2015`") == []
    assert _typed_numbers("a [link](#sec-4-2) and `lr=0.1`") == []


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lessons_have_a_title_first(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), \
        f"{path.name}: the first cell must be a markdown cell starting with a '# Title'"


def bib_keys():
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    return re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE)


def test_bibliography_has_the_required_keys():
    keys = bib_keys()
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"duplicate keys in book/references.bib: {duplicates}"
    missing = sorted(set(REQUIRED_BIB_KEYS) - set(keys))
    assert not missing, f"book/references.bib lacks {missing}"


def test_glossary_has_the_notes_terms():
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    missing = [term for term in NOTES_TERMS if term not in text]
    assert not missing, f"the glossary lacks {missing}"
    # In the glossary directive, each entry is its term lines then an indented definition.
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    entries = [line for line in body.splitlines() if line.startswith("  ") and line.strip()]
    assert len(entries) >= 60, f"expected a thorough glossary (60+ entries), found {len(entries)}"


# --------------------------------------------------------------------------
# The built site
# --------------------------------------------------------------------------
class Page(HTMLParser):
    """What the tests need from one HTML page: ids, references, and the text of lesson outputs."""

    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.ids = set()
        self.loads = []  # (tag, attribute, value)
        self.links = []  # (tag, attribute, value)
        self.output_text = []
        self.has_math = False
        self.stderr_blocks = 0
        self.images_without_alt = []
        self._stack = []  # True for each open element that is (inside) a lesson output
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        classes = (attrs.get("class") or "").split()
        if tag == "img" and not (attrs.get("alt") or "").strip():
            self.images_without_alt.append((attrs.get("src") or "")[:60])
        if "math" in classes:
            self.has_math = True
        if "stderr" in classes:
            self.stderr_blocks += 1
        for attribute in LOADING_ATTRIBUTES.get(tag, []):
            if attrs.get(attribute):
                self.loads.append((tag, attribute, attrs[attribute]))
        for attribute in LINK_ATTRIBUTES.get(tag, []):
            if attrs.get(attribute) is not None:
                self.links.append((tag, attribute, attrs[attribute]))
        if tag in ("br", "img", "input", "meta", "link", "hr", "source", "track", "wbr", "area", "col", "embed"):
            return
        inside = bool(self._stack and self._stack[-1]) or "cell_output" in classes
        self._stack.append(inside)

    def handle_endtag(self, tag):
        if tag in ("br", "img", "input", "meta", "link", "hr", "source", "track", "wbr", "area", "col", "embed"):
            return
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._stack and self._stack[-1]:
            self.output_text.append(data)


PAGES = site_pages()
PAGE_IDS = [p.relative_to(SITE).as_posix() for p in PAGES] if PAGES else []
_parsed = {}


def parsed(path):
    if path not in _parsed:
        _parsed[path] = Page(path)
    return _parsed[path]


def pages_or_missing():
    """Parametrize over the built pages; with no build, one entry that skips (or fails when strict)."""
    return pytest.mark.parametrize("page", PAGES or [None], ids=PAGE_IDS or ["no-site-built"])


def test_every_toc_entry_was_built(site):
    for entry in toc_files():
        assert (site / f"{entry}.html").is_file(), f"{entry} is in _toc.yml but {entry}.html was not built"


def is_external(value):
    parts = urlsplit(value)
    return bool(parts.scheme) or value.startswith("//")


@pages_or_missing()
def test_internal_links_and_anchors_resolve(site, page):
    problems = []
    current = parsed(page)
    for tag, attribute, value in current.loads + current.links:
        value = value.strip()
        if attribute == "srcset" or not value or is_external(value):
            continue
        parts = urlsplit(value)
        if not parts.path:  # "#anchor" on this page ("#" alone is a script hook)
            if parts.fragment and unquote(parts.fragment) not in current.ids:
                problems.append(f"<{tag} {attribute}={value!r}>: no id {parts.fragment!r} on this page")
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        if value.endswith("/"):
            target = target / "index.html"
        if site.resolve() not in target.parents and target != site.resolve():
            problems.append(f"<{tag} {attribute}={value!r}>: points outside the site")
            continue
        if not target.is_file():
            problems.append(f"<{tag} {attribute}={value!r}>: {target.relative_to(site.resolve())} does not exist")
            continue
        if parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in parsed(target).ids:
                problems.append(f"<{tag} {attribute}={value!r}>: no id {parts.fragment!r} in "
                                f"{target.relative_to(site.resolve())}")
    assert not problems, f"{page.relative_to(site)}:\n  " + "\n  ".join(problems)


@pages_or_missing()
def test_page_loads_nothing_from_other_hosts(site, page):
    current = parsed(page)
    remote = [f"<{tag} {attribute}={value!r}>" for tag, attribute, value in current.loads
              if any(is_external(part.split()[0]) and not part.strip().startswith("data:")
                     for part in value.split(",") if part.strip())]
    assert not remote, f"{page.relative_to(site)} loads from other hosts:\n  " + "\n  ".join(remote)
    inline = re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)|@import\s+['\"](?:https?:)?//[^'\"]*['\"]",
                        page.read_text(encoding="utf-8"))
    assert not inline, f"{page.relative_to(site)} has remote CSS: {inline}"


def test_stylesheets_load_nothing_from_other_hosts(site):
    bad = {}
    for css in (site / "_static").rglob("*.css"):
        if "mathjax" in css.relative_to(site).parts:
            continue
        found = re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)|@import\s+(?:url\()?['\"]?(?:https?:)?//[^;]*",
                           css.read_text(encoding="utf-8", errors="replace"))
        if found:
            bad[css.relative_to(site).as_posix()] = found[:3]
    assert not bad, f"stylesheets that load from other hosts: {bad}"


@pages_or_missing()
def test_lesson_outputs_show_no_errors_warnings_or_reprs(site, page):
    current = parsed(page)
    text = "".join(current.output_text)
    found = [bad for bad in BAD_OUTPUT_TEXT if bad in text]
    assert not found, f"{page.relative_to(site)}: lesson output contains {found}"
    assert current.stderr_blocks == 0, f"{page.relative_to(site)}: shows stderr output"


@pages_or_missing()
def test_every_image_has_alt_text(site, page):
    """Also checked in the browser (tests/test_browser.py); this runs where chromium does not."""
    missing = parsed(page).images_without_alt
    assert not missing, f"{page.relative_to(site)}: images without alt text: {missing}"


@pages_or_missing()
def test_page_shows_no_local_paths(site, page):
    html = page.read_text(encoding="utf-8")
    found = [path for path in LOCAL_PATHS if path in html]
    assert not found, f"{page.relative_to(site)} contains local paths {found}"


def test_mathjax_is_served_by_the_site(site):
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    pages_with_math = [p for p in PAGES if parsed(p).has_math]
    assert pages_with_math, "no page has math; the notation page should"
    for page in pages_with_math:
        scripts = [value for tag, _, value in parsed(page).loads if tag == "script"]
        assert any(urlsplit(s).path.endswith("_static/mathjax/tex-mml-chtml.js") for s in scripts), \
            f"{page.relative_to(site)} has math but does not load the local MathJax"


def test_execution_table_lists_every_lesson_as_succeeded(site):
    html = (site / "book" / "execution_times.html").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        assert f"lessons/{chapter}.html" in html, f"the execution table does not list {chapter}"
    assert "❌" not in html, "the execution table reports a failed lesson"
    timings = json.loads((site.parent / "exec-times.json").read_text(encoding="utf-8"))
    assert {row["document"] for row in timings["notebooks"]} >= {f"lessons/{c}" for c in CHAPTERS}
    assert all(row["succeeded"] for row in timings["notebooks"])


def test_bibliography_page_lists_cited_works(site):
    html = (site / "book" / "bibliography.html").read_text(encoding="utf-8")
    for author in ["Goodfellow", "Nielsen", "Saito"]:  # cited from the front matter
        assert author in html, f"the bibliography page does not list {author}"
