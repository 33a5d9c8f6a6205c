"""Open every page of the built site in a headless chromium and check what a reader gets.

Pages are served from a local http.server thread on 127.0.0.1. Each page is
loaded once (``visit``); the tests below each assert one thing about it:

* no console error or uncaught exception, no failed request;
* no request to any host but the local one (such requests are recorded and
  aborted, so nothing ever leaves the machine);
* every <img> loaded and has a non-empty alt text;
* math was rendered by MathJax (every ``.math`` element holds MathJax output);
* every static explorer (``.nnlib-explorer``) changes its image and alt text
  when each of its controls moves;
* the page and everything it loads weigh less than 5 MB;
* axe reports no serious or critical accessibility violation.

Chromium is Debian's (``apt-get install chromium``); Playwright only drives it
(never ``playwright install``). Without chromium or Playwright these tests
skip, or fail when ``NNLIB_STRICT=1`` (as on CI). A few fixture pages, written
to a temporary directory, check the checks: a hand-written explorer in the
shape nnlib.widgets emits, nnlib's own static explorer, and a page with every
kind of fault, which each check must catch.
"""

import base64
import functools
import io
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from conftest import SITE, site_pages, skip_or_fail

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_PAGE_BYTES = 5 * 1024 * 1024
BLOCKING_IMPACTS = ("serious", "critical")


def find_chromium():
    """Debian's chromium (or $NNLIB_CHROMIUM)."""
    for candidate in [os.environ.get("NNLIB_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"]:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# --------------------------------------------------------------------------
# A local web server and a browser
# --------------------------------------------------------------------------
class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".woff": "font/woff",
                      ".woff2": "font/woff2", ".svg": "image/svg+xml", ".webp": "image/webp"}

    def log_message(self, format, *args):  # keep test output clean
        pass


class LocalServer:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self, directory):
        handler = functools.partial(QuietHandler, directory=str(directory))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# Module scope: Playwright's sync API runs an asyncio loop while it is started, which
# other tests (live widgets that debounce on the running loop) must not inherit.
@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install -r requirements.txt)")
    executable = find_chromium()
    if executable is None:
        skip_or_fail("chromium is not installed (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
    except Error as error:
        playwright.stop()
        skip_or_fail(f"chromium at {executable} did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="module")
def site_server(site):
    server = LocalServer(site)
    yield server
    server.close()


# --------------------------------------------------------------------------
# One visit per page
# --------------------------------------------------------------------------
@dataclass
class Visit:
    """Everything the tests check about one page, gathered in one load."""

    url: str
    console_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    foreign_requests: list = field(default_factory=list)
    total_bytes: int = 0
    image_problems: list = field(default_factory=list)
    math_problems: list = field(default_factory=list)
    math_elements: int = 0
    explorers: int = 0
    explorer_problems: list = field(default_factory=list)
    axe_violations: list = field(default_factory=list)


WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
  }
  return true;
}"""

MATH_STATE = """() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const unrendered = math.filter(e => !e.querySelector('mjx-container'))
                         .map(e => e.textContent.trim().slice(0, 60));
  return {count: math.length, unrendered: unrendered,
          errors: Array.from(document.querySelectorAll('mjx-merror'))
                       .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80))};
}"""

IMAGES = """() => Array.from(document.images).map(i => ({
  src: (i.currentSrc || i.src || '').slice(0, 80), complete: i.complete,
  width: i.naturalWidth, alt: i.getAttribute('alt')}))"""


def _wait_for_src(image, ok, timeout=5.0):
    """Wait (briefly) until the explorer's image source satisfies ``ok``: frames are fetched on demand."""
    deadline = time.monotonic() + timeout
    while not ok(image.get_attribute("src")) and time.monotonic() < deadline:
        time.sleep(0.05)


def check_explorers(page, visit):
    explorers = page.locator(".nnlib-explorer").all()
    visit.explorers = len(explorers)
    for n, explorer in enumerate(explorers):
        name = explorer.get_attribute("data-explorer") or f"explorer {n}"
        image = explorer.locator("img.nnlib-frame")
        if image.count() != 1:
            visit.explorer_problems.append(f"{name}: expected one img.nnlib-frame, found {image.count()}")
            continue
        controls = explorer.locator("[data-control]").all()
        if not controls:
            visit.explorer_problems.append(f"{name}: has no controls ([data-control])")
        for control in controls:
            key = control.get_attribute("data-control")
            control_id = control.get_attribute("id")
            if not control_id or explorer.locator(f"label[for='{control_id}']").count() != 1:
                visit.explorer_problems.append(f"{name}: control {key!r} has no <label for=...>")
            before = (image.get_attribute("src"), image.get_attribute("alt"))
            tag = control.evaluate("e => e.tagName.toLowerCase()")
            original = control.input_value()
            if tag == "select":
                options = control.evaluate("e => Array.from(e.options).filter(o => !o.disabled).map(o => o.value)")
                others = [o for o in options if o != original]
                if not others:
                    visit.explorer_problems.append(f"{name}: control {key!r} has a single option")
                    continue
                control.select_option(index=int(others[0]))  # by index: Playwright's value= also matches labels ("2")
            elif control.get_attribute("type") == "range":
                if control.get_attribute("max") == control.get_attribute("min"):
                    visit.explorer_problems.append(f"{name}: control {key!r} has a single value")
                    continue
                at_max = float(original) >= float(control.get_attribute("max"))
                control.focus()
                control.press("ArrowLeft" if at_max else "ArrowRight")
            else:
                visit.explorer_problems.append(f"{name}: control {key!r} is a <{tag}>, not a range or select")
                continue
            _wait_for_src(image, lambda src: src != before[0])
            after = (image.get_attribute("src"), image.get_attribute("alt"))
            if after[0] == before[0]:
                visit.explorer_problems.append(f"{name}: moving {key!r} did not change the image")
            if after[1] == before[1]:
                visit.explorer_problems.append(f"{name}: moving {key!r} did not change the alt text")
            # Put it back, so each control is moved from the defaults.
            if tag == "select":
                control.select_option(index=int(original))
            else:
                control.press("ArrowRight" if at_max else "ArrowLeft")
            _wait_for_src(image, lambda src: src == before[0])
            if image.get_attribute("src") != before[0]:
                visit.explorer_problems.append(f"{name}: moving {key!r} back did not restore the image")


def settle(page, attempts=10):
    """Wait until the page (after any redirect, like the site's index.html) has loaded and typeset its math."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            page.wait_for_load_state("load")
            page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
            page.evaluate(WAIT_FOR_MATHJAX)
            page.wait_for_load_state("networkidle")
            return
        except Error as error:  # a redirect replaced the page under us: wait for the new one
            if "context was destroyed" not in str(error) or attempt == attempts - 1:
                raise
            page.wait_for_timeout(300)  # let the navigation commit before looking again


def visit_page(browser, url, *, run_axe=True):
    """Load ``url`` once and gather everything the tests check."""
    from axe_playwright_python.sync_playwright import Axe

    visit = Visit(url)
    local_host = urlsplit(url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    responses = []

    recording = [True]  # what axe itself fetches (it re-resolves CSS @imports) is not the page's doing

    def route(route):
        target = urlsplit(route.request.url)
        if target.scheme in ("http", "https", "ws", "wss") and target.netloc != local_host:
            visit.foreign_requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def on_request_failed(request):
        # An explorer frame whose fetch the page itself cancelled (the reader moved on before it
        # arrived, or a preload was superseded) is not a failure of the site.
        cancelled_frame = "/_static/frames/" in request.url and request.failure == "net::ERR_ABORTED"
        if recording[0] and request.url not in visit.foreign_requests and not cancelled_frame:
            visit.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response):
        if not recording[0]:
            return
        responses.append(response)
        if response.status >= 400:
            visit.failed_requests.append(f"{response.url}: HTTP {response.status}")

    try:
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: visit.console_errors.append(m.text)
                if m.type == "error" and recording[0] else None)
        page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        page.goto(url, wait_until="load")
        settle(page)

        math = page.evaluate(MATH_STATE)
        visit.math_elements = math["count"]
        if math["unrendered"]:
            visit.math_problems.append(f"{len(math['unrendered'])} of {math['count']} math elements not rendered, "
                                       f"e.g. {math['unrendered'][:3]}")
        if math["errors"]:
            visit.math_problems.append(f"MathJax errors: {math['errors'][:3]}")

        for image in page.evaluate(IMAGES):
            if not image["complete"] or image["width"] == 0:
                visit.image_problems.append(f"image did not load: {image['src']}")
            if not (image["alt"] or "").strip():
                visit.image_problems.append(f"image without alt text: {image['src']}")

        check_explorers(page, visit)

        for response in responses:
            try:
                visit.total_bytes += len(response.body())
            except Exception:  # redirects and aborted requests have no body
                pass
        recording[0] = False
        if run_axe:
            results = Axe().run(page)
            for violation in results.response.get("violations", []):
                if violation.get("impact") in BLOCKING_IMPACTS:
                    targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"][:3]]
                    visit.axe_violations.append(f"{violation['id']} ({violation['impact']}): {violation['help']}; "
                                                f"{len(violation['nodes'])} element(s), e.g. {targets}")
    finally:
        context.close()
    return visit


PAGES = site_pages()
PAGE_IDS = [p.relative_to(SITE).as_posix() for p in PAGES]
_visits = {}


@pytest.fixture
def visit(request, browser, site_server):
    page = request.param
    if page is None:
        skip_or_fail("no built site in _build/html; run `make book` first")
    if page not in _visits:
        _visits[page] = visit_page(browser, site_server.base + page.relative_to(SITE).as_posix())
    return _visits[page]


every_page = pytest.mark.parametrize("visit", PAGES or [None], ids=PAGE_IDS or ["no-site-built"], indirect=True)
pytestmark = pytest.mark.browser


@every_page
def test_no_console_errors(visit):
    assert not visit.console_errors, f"{visit.url}: console errors:\n  " + "\n  ".join(visit.console_errors)


@every_page
def test_no_failed_requests(visit):
    assert not visit.failed_requests, f"{visit.url}: failed requests:\n  " + "\n  ".join(visit.failed_requests)


@every_page
def test_no_requests_to_other_hosts(visit):
    assert not visit.foreign_requests, \
        f"{visit.url}: requests to other hosts (blocked):\n  " + "\n  ".join(visit.foreign_requests)


@every_page
def test_images_load_and_have_alt_text(visit):
    assert not visit.image_problems, f"{visit.url}:\n  " + "\n  ".join(visit.image_problems)


@every_page
def test_math_is_rendered(visit):
    assert not visit.math_problems, f"{visit.url}:\n  " + "\n  ".join(visit.math_problems)


@every_page
def test_explorers_respond_to_every_control(visit):
    assert not visit.explorer_problems, f"{visit.url}:\n  " + "\n  ".join(visit.explorer_problems)


@every_page
def test_page_weighs_under_5_mb(visit):
    assert visit.total_bytes < MAX_PAGE_BYTES, \
        f"{visit.url}: {visit.total_bytes / 2**20:.2f} MB loaded (limit {MAX_PAGE_BYTES / 2**20:.0f} MB)"


@every_page
def test_no_serious_accessibility_violations(visit):
    assert not visit.axe_violations, f"{visit.url}: axe found\n  " + "\n  ".join(visit.axe_violations)


def test_notation_page_math_is_found_and_rendered(browser, site_server, site):
    """The notation page is full of math, so the math check above is not vacuous."""
    page = site / "book" / "notation.html"
    if page not in _visits:
        _visits[page] = visit_page(browser, site_server.base + "book/notation.html")
    assert _visits[page].math_elements > 10
    assert not _visits[page].math_problems


# --------------------------------------------------------------------------
# Checking the checks, on fixture pages
# --------------------------------------------------------------------------
def png(color):
    """A tiny PNG of one colour, as a data URL."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), color).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def page_html(title, body):
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="icon" href="data:,"></head><body><main><h1>{title}</h1>{body}</main></body></html>')


def handwritten_explorer(swap=True):
    """An explorer in the HTML shape nnlib.widgets emits (see the book infrastructure contract)."""
    frames = {"0,0": [0, "Loss curve; learning rate = 0.01, momentum = off"],
              "1,0": [1, "Loss curve; learning rate = 0.1, momentum = off"],
              "2,0": [2, "Loss curve; learning rate = 1, momentum = off"],
              "1,1": [3, "Loss curve; learning rate = 0.1, momentum = on"]}
    images = [png("red"), png("green"), png("blue"), png("orange")]
    data = {"images": images, "frames": frames, "defaults": [1, 0]}
    script = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.nnlib-data").textContent);
  var controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var img = root.querySelector("img.nnlib-frame");
  function update(moved) {
    var idx = controls.map(function (c) { return parseInt(c.value, 10); });
    var key = idx.join(",");
    if (!(key in data.frames)) {
      idx = data.defaults.slice(); idx[moved] = parseInt(controls[moved].value, 10);
      controls.forEach(function (c, i) { c.value = idx[i]; }); key = idx.join(",");
    }
    var frame = data.frames[key];
    %s
    root.querySelector("output").textContent = ["0.01", "0.1", "1"][idx[0]];
  }
  controls.forEach(function (c, i) {
    c.addEventListener("input", function () { update(i); });
    c.addEventListener("change", function () { update(i); });
  });
})();""" % ('img.src = data.images[frame[0]]; img.alt = frame[1];' if swap else "")
    return (
        '<div class="nnlib-explorer" data-explorer="fixture.learning_rate">'
        '<form class="nnlib-controls">'
        '<label for="fx-lr">learning rate</label>'
        '<input type="range" id="fx-lr" data-control="lr" min="0" max="2" step="1" value="1">'
        '<output for="fx-lr">0.1</output>'
        '<label for="fx-m">momentum</label>'
        '<select id="fx-m" data-control="momentum"><option value="0" selected>off</option>'
        '<option value="1">on</option></select>'
        '</form>'
        f'<img class="nnlib-frame" src="{images[1]}" alt="{frames["1,0"][1]}">'
        f'<script type="application/json" class="nnlib-data">{json.dumps(data)}</script>'
        f'<script>{script}</script></div>')


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fixture-site")
    (directory / "explorer.html").write_text(
        page_html("A hand-written explorer", "<p>Move the controls.</p>" + handwritten_explorer()), encoding="utf-8")
    (directory / "faults.html").write_text(page_html("Every fault", (
        "<p>A page with one of each fault the checks must catch.</p>"
        + handwritten_explorer(swap=False)
        + f'<img src="{png("gray")}">'
        + '<img src="missing.png" alt="a missing image">'
        + '<img src="http://example.invalid/remote.png" alt="a remote image">'
        + '<span class="math">\\(x^2\\)</span>'
        + '<script>console.error("fixture error");</script>'
        + '<p style="color:#eee;background:#fff">low contrast text</p>'
    )), encoding="utf-8")
    (directory / "nnlib.html").write_text(page_html("nnlib's static explorer", nnlib_explorer_html(directory)),
                                          encoding="utf-8")
    server = LocalServer(directory)
    yield server
    server.close()


def nnlib_explorer_html(directory):
    """nnlib.widgets' own static explorer for a tiny explorer function, its frames in ``directory/frames``.

    The placeholders the book build resolves (frames folder, download bundle) are resolved here the same way.
    """
    try:
        from matplotlib.figure import Figure

        from nnlib import widgets
    except ImportError:
        return ""
    if not all(hasattr(widgets, name) for name in ("explorer", "Slider", "Choice", "StaticExplorer", "REGISTRY")):
        return ""

    def line(slope=1.0, style="solid"):
        fig = Figure(figsize=(2, 1.5), dpi=50)
        ax = fig.subplots()
        ax.plot([0, 1], [0, slope], linestyle=style)
        ax.set_ylim(-3, 3)
        return fig

    name = "tests.browser_fixture"
    try:
        fn = widgets.explorer(name, alt="A line",
                              slope=widgets.Slider([-2.0, 1.0, 2.0], default=1.0, label="slope"),
                              style=widgets.Choice(["solid", "dashed"], label="line style"))(line)
        page = widgets.StaticExplorer(fn, directory=directory / "frames", workers=1)
        (directory / "bundle.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip, so the link resolves
        return (page._repr_html_().replace(widgets.FRAMES_TOKEN, "frames")
                .replace(widgets.BUNDLE_TOKEN, "bundle.zip"))
    finally:
        widgets.REGISTRY.pop(name, None)


def test_handwritten_explorer_passes_every_check(browser, fixture_server):
    visit = visit_page(browser, fixture_server.base + "explorer.html")
    assert visit.explorers == 1
    assert not visit.explorer_problems
    assert not visit.image_problems
    assert not visit.console_errors and not visit.failed_requests and not visit.foreign_requests
    assert not visit.axe_violations, visit.axe_violations


def test_nnlib_static_explorer_passes_every_check(browser, fixture_server):
    visit = visit_page(browser, fixture_server.base + "nnlib.html")
    if visit.explorers == 0:
        skip_or_fail("nnlib.widgets has no StaticExplorer yet")
    assert not visit.explorer_problems, visit.explorer_problems
    assert not visit.image_problems, visit.image_problems
    assert not visit.console_errors, visit.console_errors
    assert not visit.axe_violations, visit.axe_violations


def test_every_check_catches_its_fault(browser, fixture_server):
    visit = visit_page(browser, fixture_server.base + "faults.html")
    assert any("did not change the image" in p for p in visit.explorer_problems), visit.explorer_problems
    assert any("without alt text" in p for p in visit.image_problems), visit.image_problems
    assert any("did not load" in p and "missing.png" in p for p in visit.image_problems), visit.image_problems
    assert any("missing.png" in r for r in visit.failed_requests), visit.failed_requests
    assert visit.foreign_requests == ["http://example.invalid/remote.png"]
    assert any("not rendered" in p for p in visit.math_problems), visit.math_problems
    assert any("fixture error" in e for e in visit.console_errors), visit.console_errors
    assert any(v.startswith("color-contrast") for v in visit.axe_violations), visit.axe_violations
