"""The reader's page, measured: every page of the built site at 1280 px (a laptop) and 390 px (a phone).

Each page is opened once per width in headless chromium (the fixtures of
tests/test_browser.py) and measured in the page itself:

* **overflow**: visible blocks of the article (paragraphs, code, outputs,
  tables, display equations, images, explorers) that stick out of the text
  column, are cut off, or hold content wider than themselves behind a scroll
  bar. At 1280 px there must be none of any kind. At 390 px a wide table,
  output or equation may scroll inside itself, but nothing may stick out, be
  cut off or make the page body scroll sideways;
* **doubled heading numbers**: a heading the book numbers ("2.1.") whose text
  starts with a typed number too ("2.1. 2.1 Why ..." or "4.1. 1. One step");
* **math errors**: MathJax error nodes (``mjx-merror``), red math (an undefined
  macro, like ``^\\*``), and TeX left raw in the text;
* **test markers** visible in a cell (``NBVAL``, ``nbval``, ``keep_output``);
* **the smallest text in figures**, in CSS px as shown: nnlib.plots records
  in each PNG or SVG the smallest font it drew (points) and the figure's width
  (inches), so the text shows at ``points / 72 * shown width / inches`` CSS px;
  static explorers carry ``data-text-px`` (their smallest text at the frame's
  CSS size, from nnlib.widgets), scaled by the width they are shown at.
  Figures must show text of at least 11 CSS px at 1280 px; at 390 px figures
  shrink with the column (a reader zooms), so that number is printed only;
* **page heights** at both widths (printed).

The first test prints a table of these numbers per page (and writes it to
``_build/page-layout.txt``); the others assert. ``NNLIB_PAGE_SITE=dir`` measures
another build (for before/after comparisons). Chromium is Debian's; without
it (or without a built site) these tests skip, or fail under ``NNLIB_STRICT=1``.
"""

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, SITE, skip_or_fail
from test_browser import LocalServer, browser, settle  # noqa: F401  (browser: the shared chromium fixture)

pytestmark = pytest.mark.browser

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
MIN_FIGURE_TEXT_PX = 11
TABLE_FILE = ROOT / "_build" / "page-layout.txt"


def site_root():
    """The site measured: $NNLIB_PAGE_SITE, else _build/html."""
    return Path(os.environ.get("NNLIB_PAGE_SITE") or SITE)


def pages(root):
    """The site's pages (not the theme's fragments, not search/genindex, which hold no content)."""
    if not (root / "index.html").is_file():
        return []
    return sorted(p for p in root.rglob("*.html")
                  if p.relative_to(root).parts[0] not in ("_static", "_sources", "_images", "reports")
                  and p.name not in ("search.html", "genindex.html", "index.html"))


MEASURE = r"""() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const style = getComputedStyle(article);
  const box = article.getBoundingClientRect();
  const colLeft = box.left + parseFloat(style.paddingLeft), colRight = box.right - parseFloat(style.paddingRight);
  const scrolls = v => v === 'auto' || v === 'scroll';
  const clips = v => v === 'hidden' || v === 'clip';
  const shown = e => { const r = e.getBoundingClientRect();
                       return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const section = e => { const s = e.closest('section'); const h = s && s.querySelector('h1, h2, h3, h4');
                         return h ? h.textContent.replace(/[#¶]/g, '').trim().slice(0, 60) : ''; };
  const kind = e => e.closest('.nnlib-explorer') ? 'explorer' : e.closest('.cell_input') ? 'code'
      : e.closest('.nnlib-table') ? 'result table' : e.closest('.cell_output') ? 'output'
      : e.closest('mjx-container, div.math') ? 'equation' : e.closest('table') ? 'table'
      : e.closest('pre') ? 'code' : e.tagName === 'IMG' ? 'image' : 'text';
  const name = e => e.tagName.toLowerCase() + Array.from(e.classList).slice(0, 2).map(c => '.' + c).join('');
  const BLOCKS = 'p, li, dt, dd, h1, h2, h3, h4, h5, h6, pre, table, div.math, mjx-container[display="true"], ' +
                 'img, figure, .nnlib-explorer, .nnlib-table, .output, div.highlight, blockquote, .admonition, ' +
                 'details, iframe, video, canvas, .cell_output > *';
  const found = [], scrollers = new Set(), seen = new Set();
  const check = e => {
    if (seen.has(e)) return;
    seen.add(e);
    const r = e.getBoundingClientRect();
    let scroller = null;  // the nearest ancestor inside the article that scrolls or clips sideways
    for (let a = e.parentElement; a && a !== article; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (scrolls(o) || clips(o)) { scroller = a; break; }
    }
    if (scroller) scrollers.add(scroller);
    let how = null, px = 0;
    if (!scroller && (r.right > colRight + 1 || r.left < colLeft - 1)) {
      how = 'sticks out'; px = Math.round(Math.max(r.right - colRight, colLeft - r.left));
    } else if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) {
      const o = getComputedStyle(e).overflowX;
      px = e.scrollWidth - e.clientWidth;
      if (scrolls(o)) how = 'scrolls inside';
      else if (clips(o)) how = 'cut off';
      else if (!scroller && r.left + e.scrollWidth > colRight + 1) how = 'sticks out';
    }
    if (how) found.push({el: e, how, px, kind: kind(e), where: section(e),
                         what: name(e) + ': ' + (e.innerText || e.getAttribute('alt') || '').trim()
                               .replace(/\s+/g, ' ').slice(0, 60)});
  };
  for (const e of article.querySelectorAll(BLOCKS)) {
    if (!shown(e)) continue;
    if (e.tagName !== 'MJX-CONTAINER' && e.closest('mjx-container')) continue;
    check(e);
  }
  // every container that scrolls or clips one of those blocks (a table's wrapper, say), and theirs in turn
  for (const e of scrollers) if (shown(e)) check(e);
  // one entry per block: drop those inside another flagged block
  const overflow = found.filter(f => !found.some(g => g !== f && g.el.contains(f.el)))
                        .map(({el, ...rest}) => rest);

  const doubled = [];
  for (const h of article.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const number = h.querySelector('.section-number');
    if (!number) continue;
    const rest = h.textContent.replace(number.textContent, '').replace(/[#¶]/g, '').trim();
    if (/^(\d+(\.\d+)*\.?|§\s*\d+(\.\d+)*)(\s|$)/.test(rest)) doubled.push(h.textContent.replace(/[#¶]/g, '').trim().slice(0, 70));
  }

  const mathErrors = Array.from(article.querySelectorAll('mjx-merror')).map(
      e => 'error: ' + (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 60));
  for (const e of article.querySelectorAll('mjx-container [style*="color"], mjx-container [mathcolor]')) {
    const red = el => getComputedStyle(el).color === 'rgb(255, 0, 0)';
    if (red(e) && !red(e.parentElement) && e.textContent.trim()) mathErrors.push('red: ' + e.textContent.slice(0, 40) + ' in ' + section(e));
  }
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const RAW = /\$\$|\\(begin|end|frac|mathbf|theta|eta|lambda|sum|cdot|hat|partial)\b/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (p.closest('pre, code, script, style, mjx-container, .cell_input, textarea')) continue;
    if (RAW.test(n.textContent) && shown(p)) mathErrors.push('raw TeX: ' + n.textContent.trim().slice(0, 60));
  }

  const markers = [];
  for (const cell of article.querySelectorAll('.cell')) {
    const m = cell.textContent.match(/.{0,30}(NBVAL|nbval|keep_output).{0,30}/);
    if (m) markers.push(section(cell) + ': ' + m[0].trim());
  }
  const prose = article.innerText.match(/.{0,30}NBVAL_.{0,30}/g) || [];
  prose.forEach(m => markers.push('text: ' + m.trim()));

  const images = Array.from(article.querySelectorAll('img')).filter(shown).map(i => ({
    src: i.currentSrc || i.src, shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
    explorer_text_px: i.closest('.nnlib-explorer') ? parseFloat(i.getAttribute('data-text-px') || 'NaN') : null,
    scale: parseFloat(i.getAttribute('data-scale') || '1'), where: section(i),
    alt: (i.getAttribute('alt') || '').slice(0, 50)}));

  const scroller = document.scrollingElement;
  return {overflow, doubled, mathErrors, markers: [...new Set(markers)], images,
          height: scroller.scrollHeight, bodyScrollX: Math.max(0, scroller.scrollWidth - window.innerWidth),
          column: Math.round(colRight - colLeft)};
}"""


def figure_text(root, page_url, image):
    """The smallest text of one shown image, in CSS px (None when the image does not say)."""
    if image["explorer_text_px"] is not None:
        if image["explorer_text_px"] != image["explorer_text_px"] or not image["natural"]:  # NaN: not recorded
            return None
        return image["explorer_text_px"] * image["shown"] / (image["natural"] / image["scale"])
    from nnlib.plots import image_text_info

    path = urlsplit(image["src"]).path
    base = urlsplit(page_url).path
    if not path.startswith("/") or path == base:
        return None
    file = root / unquote(path.lstrip("/"))
    if not file.is_file():
        return None
    info = image_text_info(file.read_bytes())
    if not info or info.get("text_pt") is None:
        return None
    return info["text_pt"] / 72 * image["shown"] / info["width_in"]


def _clean(value):
    """Strings from the page with any lone surrogate (a character cut in half by a JS slice) replaced."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def measure(browser, server, root, page):  # noqa: F811
    """Open ``page`` at each width and measure it; returns {width: numbers}."""
    url = server.base + page.relative_to(root).as_posix()
    result = {}
    for label, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, service_workers="block")
        try:
            # nothing leaves the machine (the browser test checks this; here it would only slow a page down)
            context.route("**/*", lambda route: route.abort() if urlsplit(route.request.url).netloc
                          not in (urlsplit(server.base).netloc, "") else route.continue_())
            tab = context.new_page()
            tab.goto(url, wait_until="load")
            settle(tab)
            tab.wait_for_timeout(300)
            numbers = tab.evaluate(MEASURE)
        finally:
            context.close()
        numbers = _clean(numbers)
        sizes = [(figure_text(root, url, image), image) for image in numbers["images"]]
        numbers["figure_text"] = [(px, image) for px, image in sizes if px is not None]
        numbers["unmeasured_figures"] = [image for px, image in sizes if px is None]
        result[label] = numbers
    return result


_measured = {}
ROOT_MEASURED = site_root()
PAGES = pages(ROOT_MEASURED)
PAGE_IDS = [p.relative_to(ROOT_MEASURED).as_posix() for p in PAGES]


@pytest.fixture(scope="module")
def page_server():
    root = site_root()
    if not (root / "index.html").is_file():
        skip_or_fail(f"no built site in {root}; run `make book` first")
    server = LocalServer(root)
    yield server
    server.close()


@pytest.fixture
def measured(request, browser, page_server):  # noqa: F811
    page = request.param
    if page is None:
        skip_or_fail(f"no built site in {ROOT_MEASURED}; run `make book` first")
    if page not in _measured:
        _measured[page] = measure(browser, page_server, ROOT_MEASURED, page)
    return page.relative_to(ROOT_MEASURED).as_posix(), _measured[page]


every_page = pytest.mark.parametrize("measured", PAGES or [None], ids=PAGE_IDS or ["no-site-built"], indirect=True)


def smallest(numbers):
    sizes = [px for px, _ in numbers["figure_text"]]
    return min(sizes) if sizes else None


def table(rows):
    """The per-page numbers as a fixed-width table (and the blocks behind each count)."""
    head = ("page", "height 1280", "height 390", "over 1280", "stick out 390", "scroll in 390", "body x 390",
            "doubled #", "math err", "markers", "fig text 1280", "fig text 390", "figs (unmeasured)")
    lines = [head]
    totals = [0] * 7
    for name, m in rows:
        a, b = m["1280"], m["390"]
        bad390 = [o for o in b["overflow"] if o["how"] != "scrolls inside"]
        inner390 = [o for o in b["overflow"] if o["how"] == "scrolls inside"]
        counts = [len(a["overflow"]), len(bad390), len(inner390), b["bodyScrollX"], len(a["doubled"]),
                  len(a["mathErrors"]), len(a["markers"])]
        totals = [t + c for t, c in zip(totals, counts)]
        fig1280, fig390 = smallest(a), smallest(b)
        lines.append((name, str(a["height"]), str(b["height"]), *map(str, counts),
                      "—" if fig1280 is None else f"{fig1280:.1f}", "—" if fig390 is None else f"{fig390:.1f}",
                      f"{len(a['figure_text']) + len(a['unmeasured_figures'])} ({len(a['unmeasured_figures'])})"))
    lines.append(("total", "", "", *map(str, totals), "", "", ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
            for line in lines]
    text.append("")
    text.append("over 1280: blocks sticking out of the column, cut off, or scrolling inside themselves at 1280 px; "
                "stick out 390: blocks sticking out or cut off at 390 px; scroll in 390: blocks scrolling inside "
                "themselves at 390 px (allowed); body x 390: px the page body scrolls sideways; fig text: the "
                "smallest text in any figure, CSS px as shown.")
    for name, m in rows:
        details = []
        for label in WIDTHS:
            for o in m[label]["overflow"]:
                if label == "390" and o["how"] == "scrolls inside":
                    continue
                details.append(f"  [{label}] {o['how']} by {o['px']} px: {o['kind']} in '{o['where']}': {o['what']}")
        details += [f"  doubled: {d}" for d in m["1280"]["doubled"]]
        details += [f"  math: {e}" for e in m["1280"]["mathErrors"]]
        details += [f"  marker: {e}" for e in m["1280"]["markers"]]
        details += [f"  figure text {px:.1f} px at 1280: '{img['alt']}' in '{img['where']}'"
                    for px, img in m["1280"]["figure_text"] if px < MIN_FIGURE_TEXT_PX]
        details += [f"  figure without a text record: {img['src'].rsplit('/', 1)[-1][:40]} in '{img['where']}'"
                    for img in m["1280"]["unmeasured_figures"]]
        if details:
            text.append(f"{name}:")
            text.extend(details)
    return "\n".join(text)


def test_print_the_page_table(browser, page_server):  # noqa: F811
    """Measure every page (cached for the tests below) and print the table; fails only if there is no page."""
    if not PAGES:
        skip_or_fail(f"no built site in {ROOT_MEASURED}; run `make book` first")
    rows = []
    for page in PAGES:
        if page not in _measured:
            _measured[page] = measure(browser, page_server, ROOT_MEASURED, page)
        rows.append((page.relative_to(ROOT_MEASURED).as_posix(), _measured[page]))
    if os.environ.get("NNLIB_PAGE_JSON"):  # every number, for a closing note
        Path(os.environ["NNLIB_PAGE_JSON"]).write_text(json.dumps(dict(rows), default=str))
    text = table(rows)
    print("\n" + text)
    if ROOT_MEASURED == SITE:
        TABLE_FILE.write_text(text + "\n")
    assert rows


@every_page
def test_no_block_overflows_at_1280(measured):
    name, m = measured
    found = m["1280"]["overflow"]
    assert not found, f"{name}: {len(found)} blocks wider than the column at 1280 px:\n  " + "\n  ".join(
        f"{o['how']} by {o['px']} px: {o['kind']} in '{o['where']}': {o['what']}" for o in found)


@every_page
def test_page_never_scrolls_sideways_at_390(measured):
    name, m = measured
    bad = [o for o in m["390"]["overflow"] if o["how"] != "scrolls inside"]
    assert m["390"]["bodyScrollX"] == 0 and not bad, (
        f"{name} at 390 px: the body scrolls {m['390']['bodyScrollX']} px sideways; {len(bad)} blocks stick out "
        "or are cut off:\n  " + "\n  ".join(f"{o['how']} by {o['px']} px: {o['kind']} in '{o['where']}': "
                                            f"{o['what']}" for o in bad))


@every_page
def test_headings_are_numbered_once(measured):
    name, m = measured
    assert not m["1280"]["doubled"], f"{name}: headings numbered twice: {m['1280']['doubled']}"


@every_page
def test_math_renders_without_errors(measured):
    name, m = measured
    assert not m["1280"]["mathErrors"], f"{name}: math problems:\n  " + "\n  ".join(m["1280"]["mathErrors"])


@every_page
def test_no_test_markers_on_the_page(measured):
    name, m = measured
    assert not m["1280"]["markers"], f"{name}: test markers visible: {m['1280']['markers']}"


@every_page
def test_figure_text_is_legible_at_1280(measured):
    name, m = measured
    small = [(px, img) for px, img in m["1280"]["figure_text"] if px < MIN_FIGURE_TEXT_PX]
    unknown = [img for img in m["1280"]["unmeasured_figures"] if "/_static/" not in img["src"]]
    assert not small and not unknown, (
        f"{name}: " + "; ".join(f"figure text {px:.1f} CSS px (< {MIN_FIGURE_TEXT_PX}): '{img['alt']}' in "
                                f"'{img['where']}'" for px, img in small)
        + "; ".join(f"figure with no text record (not drawn through nnlib.plots?): {img['src'][-60:]} in "
                    f"'{img['where']}'" for img in unknown))


# --------------------------------------------------------------------------
# Checking the checks, on a fixture page with one of each fault
# --------------------------------------------------------------------------
FAULTS = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Faults</title>
<style>body{margin:0} article.bd-article{width:600px;padding:0 20px;box-sizing:border-box}
.scroll{overflow-x:auto} .math{overflow-x:auto}</style></head><body><main><article class="bd-article">
<section><h2><span class="section-number">2.1. </span>2.1 A doubled number</h2>
<pre style="width:900px">a code block wider than the column</pre>
<div class="scroll"><table><tr><td style="min-width:1000px">a wide table that scrolls inside</td></tr></table></div>
<p>Text with raw TeX: $$\\frac{a}{b}$$</p>
<div class="cell"><div class="cell_input"><pre># NBVAL_CHECK_OUTPUT
print(1)</pre></div></div>
<h3><span class="section-number">2.2. </span>A heading numbered once</h3>
<p>A clean paragraph.</p>
</section></article></main></body></html>"""


def test_the_checks_catch_each_fault(browser, tmp_path):  # noqa: F811
    (tmp_path / "faults.html").write_text(FAULTS)
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>x</title>")
    server = LocalServer(tmp_path)
    try:
        m = measure(browser, server, tmp_path, tmp_path / "faults.html")
    finally:
        server.close()
    a = m["1280"]
    hows = sorted(o["how"] for o in a["overflow"])
    assert hows == ["scrolls inside", "sticks out"], a["overflow"]
    assert a["doubled"] == ["2.1. 2.1 A doubled number"]
    assert any(e.startswith("raw TeX") for e in a["mathErrors"]), a["mathErrors"]
    assert any("NBVAL" in e for e in a["markers"]), a["markers"]
    assert re.search(r"total", table([("faults.html", m)]))
