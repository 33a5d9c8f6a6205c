"""The site's static explorers, driven in a headless chromium as a reader would (issue #13).

For every explorer on every page of the built site:

* random combinations of all its controls are set (each control to a random
  option that is enabled at that moment); afterwards every control still
  holds what was set, and the image and its alt text are those of exactly
  those values (the frame file the page's data names for them, loaded);
* a disabled option comes with a visible aria-live note that says why and
  points to the live notebook;
* each frame is sharp (rendered at >= 2x its displayed width) and its
  smallest text is >= 11 CSS px as displayed;
* a page's own first load (HTML, images, frames) weighs <= 1.5 MB, on load only each
  explorer's first frame is fetched, and a control move fetches its frame
  (<= 100 kB), never the whole set.

The site is _build/html (``make book``), or $NNLIB_SITE. The browser and the
server come from tests/test_browser.py; without chromium these tests skip,
or fail under NNLIB_STRICT=1.
"""

import json
import os
import random
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import SITE, skip_or_fail
from test_browser import LocalServer, browser  # noqa: F401  (the module-scoped chromium fixture)

SITE_DIR = Path(os.environ.get("NNLIB_SITE", SITE))
MAX_FIRST_LOAD = 1.5 * 2**20
MAX_FRAME_BYTES = 100_000
MIN_TEXT_PX = 11
STATES_PER_EXPLORER = 12


def explorer_pages():
    if not SITE_DIR.is_dir():
        return []
    return sorted(p for p in SITE_DIR.rglob("*.html")
                  if p.relative_to(SITE_DIR).parts[0] not in ("_static", "_sources", "_images")
                  and 'class="nnlib-explorer"' in p.read_text(encoding="utf-8"))


PAGES = explorer_pages()
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    if not SITE_DIR.is_dir():
        skip_or_fail(f"no built site in {SITE_DIR}; run `make book` first")
    srv = LocalServer(SITE_DIR)
    yield srv
    srv.close()


def open_page(browser, url):  # noqa: F811
    """A fresh context and page at ``url``, with every response recorded: ``(context, page, responses)``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    responses = []
    page = context.new_page()
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, responses


def body_size(response):
    try:
        return len(response.body())
    except Exception:  # redirects have no body
        return 0


STATE = """root => {
  const data = JSON.parse(root.querySelector('script.nnlib-data').textContent);
  const controls = Array.from(root.querySelectorAll('[data-control]'));
  const img = root.querySelector('img.nnlib-frame');
  const note = root.querySelector('.nnlib-note');
  return {values: controls.map(c => c.value), src: img.getAttribute('src'), alt: img.alt,
          complete: img.complete, natural: img.naturalWidth, shown: img.clientWidth,
          textPx: parseFloat(img.getAttribute('data-text-px')), scale: parseFloat(img.getAttribute('data-scale')),
          note: note.hidden ? '' : note.textContent, live: note.getAttribute('aria-live'),
          frames: data.frames, names: data.names, labels: data.labels, altBase: data.alt,
          options: controls.map(c => c.tagName === 'SELECT'
                                ? Array.from(c.options).map(o => !o.disabled) : null),
          ranges: controls.map(c => c.type === 'range' ? parseInt(c.max, 10) : null)};
}"""


def expected_alt(state):
    values = [int(v) for v in state["values"]]
    return state["altBase"] + "; " + ", ".join(f"{n} = {labels[v]}" for n, labels, v in
                                               zip(state["names"], state["labels"], values))


def set_control(control, tag, value):
    """Set a control as a reader does: a select's option by its value (an index), a range by dragging.

    Playwright's select_option also matches option labels, and labels here are
    numbers too ("2", "4", "8"), so the value is set directly, with the events
    a reader's choice fires.
    """
    control.evaluate("(c, v) => { c.value = v; c.dispatchEvent(new Event('input', {bubbles: true}));"
                     " c.dispatchEvent(new Event('change', {bubbles: true})); }", str(value))
    assert control.input_value() == str(value), f"could not set {control} to {value}"


def wait_for_image(page, explorer):
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=explorer.locator("img.nnlib-frame").element_handle(), timeout=15000)


@pytest.mark.parametrize("path", PAGES or [None], ids=[p.relative_to(SITE_DIR).as_posix() for p in PAGES]
                         or ["no-site-built"])
def test_random_states_hold_and_show_their_own_frame(browser, server, path):  # noqa: F811
    if path is None:
        skip_or_fail(f"no built site with explorers in {SITE_DIR}; run `make book` first")
    rng = random.Random(13)
    url = server.base + path.relative_to(SITE_DIR).as_posix()
    context, page, responses = open_page(browser, url)
    problems = []
    try:
        for explorer in page.locator(".nnlib-explorer").all():
            name = explorer.get_attribute("data-explorer")
            controls = explorer.locator("[data-control]").all()
            tags = [c.evaluate("e => e.tagName.toLowerCase()") for c in controls]
            for trial in range(STATES_PER_EXPLORER):
                wanted = {}
                for i in rng.sample(range(len(controls)), len(controls)):  # every control, in a random order
                    state = explorer.evaluate(STATE)
                    choices = ([v for v, ok in enumerate(state["options"][i]) if ok] if tags[i] == "select"
                               else list(range(state["ranges"][i] + 1)))
                    wanted[i] = rng.choice(choices)
                    set_control(controls[i], tags[i], wanted[i])
                wait_for_image(page, explorer)
                state = explorer.evaluate(STATE)
                held = [int(v) for v in state["values"]]
                for i, value in wanted.items():
                    if held[i] != value:
                        problems.append(f"{name}: control {i} was set to {value} but holds {held[i]}")
                key = ",".join(state["values"])
                if key not in state["frames"]:
                    problems.append(f"{name}: state {key} is not precomputed but could be set")
                    continue
                if not state["src"].endswith("/" + state["frames"][key]):
                    problems.append(f"{name}: state {key} shows {state['src']}, not {state['frames'][key]}")
                if state["alt"] != expected_alt(state):
                    problems.append(f"{name}: state {key} has alt {state['alt']!r}")
                if not state["complete"] or state["natural"] == 0:
                    problems.append(f"{name}: the frame of state {key} did not load")
    finally:
        failed = [f"{r.url}: {r.status}" for r in responses if r.status >= 400]
        context.close()
    assert not failed, failed
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("path", PAGES or [None], ids=[p.relative_to(SITE_DIR).as_posix() for p in PAGES]
                         or ["no-site-built"])
def test_first_load_is_light_and_frames_are_sharp_and_legible(browser, server, path):  # noqa: F811
    if path is None:
        skip_or_fail(f"no built site with explorers in {SITE_DIR}; run `make book` first")
    url = server.base + path.relative_to(SITE_DIR).as_posix()
    context, page, responses = open_page(browser, url)
    try:
        page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        page.wait_for_load_state("networkidle")
        # The page's own first load: its HTML, its images and its explorers' frames. (The theme, MathJax
        # and fonts every page shares come on top: bench/site.py reports the full first load.)
        own = sum(body_size(r) for r in responses if urlsplit(r.url).path.endswith((".html", ".webp", ".png",
                                                                                    ".svg", ".jpg", ".gif")))
        assert own <= MAX_FIRST_LOAD, f"{url}: the page's own first load is {own / 2**20:.2f} MB"
        frames = sum(body_size(r) for r in responses if urlsplit(r.url).path.endswith(".webp"))
        shown = page.locator(".nnlib-explorer").count()
        assert frames <= shown * MAX_FRAME_BYTES, f"{url}: {frames} bytes of frames for {shown} explorers on load"
        for explorer in page.locator(".nnlib-explorer").all():
            explorer.scroll_into_view_if_needed()
            wait_for_image(page, explorer)
            state = explorer.evaluate(STATE)
            name = explorer.get_attribute("data-explorer")
            assert state["natural"] >= 2 * state["shown"] > 0, f"{name}: {state['natural']} px shown at {state['shown']}"
            # data-text-px is the smallest text at the frame's full CSS width (natural / scale)
            text_px = state["textPx"] * state["shown"] / (state["natural"] / state["scale"])
            assert text_px >= MIN_TEXT_PX, f"{name}: smallest text {text_px:.1f} CSS px as shown"
            # a move fetches the new frame (and maybe its neighbours), each <= 100 kB, not the whole set
            before = len(responses)
            control = explorer.locator("[data-control]").first
            tag = control.evaluate("e => e.tagName.toLowerCase()")
            if tag == "select":
                options = control.evaluate("e => Array.from(e.options).filter(o => !o.disabled).map(o => o.value)")
                set_control(control, tag, next(o for o in options if o != control.input_value()))
            else:
                value = int(control.input_value())
                set_control(control, tag, value - 1 if value > 0 else value + 1)
            wait_for_image(page, explorer)
            page.wait_for_load_state("networkidle")
            fetched = [r for r in responses[before:] if urlsplit(r.url).path.endswith(".webp")]
            new_src = explorer.locator("img.nnlib-frame").get_attribute("src").rsplit("/", 1)[-1]
            assert any(r.url.endswith(new_src) for r in fetched), f"{name}: the new frame was not fetched"
            assert len(fetched) <= 1 + 2 * len(state["values"]), f"{name}: a move fetched {len(fetched)} frames"
            for r in fetched:
                assert body_size(r) <= MAX_FRAME_BYTES, f"{r.url}: {body_size(r)} bytes"
    finally:
        context.close()


def test_every_frame_file_of_the_site_is_light():
    frames = sorted((SITE_DIR / "_static" / "frames").glob("*.webp"))
    if not frames:
        skip_or_fail(f"no explorer frames in {SITE_DIR}/_static/frames; run `make book` first")
    heavy = [(f.name, f.stat().st_size) for f in frames if f.stat().st_size > MAX_FRAME_BYTES]
    assert not heavy, heavy[:10]


def test_a_disabled_option_is_announced_and_the_playground_product_is_complete(browser, server):  # noqa: F811
    """Chapter 2: any data set x activation x width x depth can be set; a non-default rate disables the
    other widths and depths, visibly, with an aria-live note naming the live notebook."""
    pages = [p for p in PAGES if 'data-explorer="ch2.playground"' in p.read_text(encoding="utf-8")]
    if not pages:
        skip_or_fail("no page with the chapter 2 playground in the built site")
    context, page, _ = open_page(browser, server.base + pages[0].relative_to(SITE_DIR).as_posix())
    try:
        explorer = page.locator('.nnlib-explorer[data-explorer="ch2.playground"]')
        controls = explorer.locator("[data-control]")
        keys = [controls.nth(i).get_attribute("data-control") for i in range(controls.count())]
        control = {k: controls.nth(i) for i, k in enumerate(keys)}
        # the questions of section 2.5: width 2 on spirals, one layer on spirals, sigmoid at depth 1 and 4
        for dataset, activation, width, depth in [("3", "0", "0", "0"), ("3", "2", "3", "0"), ("1", "0", "2", "3")]:
            for key, value in (("dataset", dataset), ("activation", activation), ("width", width), ("depth", depth)):
                set_control(control[key], "select", value)
            state = explorer.evaluate(STATE)
            assert state["values"][:4] == [dataset, activation, width, depth]
            assert ",".join(state["values"]) in state["frames"]
            # the four controls of the full product never disable anything; only the rate may be greyed out
            assert all(all(state["options"][keys.index(k)]) for k in ("dataset", "activation", "width", "depth"))
            assert state["note"] == "" or state["note"].startswith("Greyed out: learning rate")
        for key, value in (("width", "2"), ("depth", "1")):  # back to width 8, depth 2
            set_control(control[key], "select", value)
        lr_options = explorer.evaluate(STATE)["options"][keys.index("lr")]
        set_control(control["lr"], "select", str(next(i for i, ok in enumerate(lr_options) if ok and i != 3)))
        state = explorer.evaluate(STATE)
        assert state["options"][keys.index("width")] == [False, False, True, False]
        assert state["live"] == "polite" and "not precomputed" in state["note"] and "live notebook" in state["note"]
        assert explorer.locator(".nnlib-note").is_visible()
    finally:
        context.close()


def test_each_explorer_links_a_bundle_that_exists():
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        links = re.findall(r'<p class="nnlib-about">.*?<a href="([^"]+)"', text)
        assert links and "@@" not in text, path
        for link in set(links):
            bundle = (path.parent / link).resolve()
            assert bundle.is_file() and bundle.suffix == ".zip", f"{path}: {link}"


def test_site_frames_match_the_pages_data():
    used = set()
    for path in PAGES:
        for payload in re.findall(r'<script type="application/json" class="nnlib-data">(.*?)</script>',
                                  path.read_text(encoding="utf-8"), re.S):
            used.update(json.loads(payload)["frames"].values())
    if not used:
        skip_or_fail("no explorer pages in the built site")
    present = {f.name for f in (SITE_DIR / "_static" / "frames").glob("*.webp")}
    assert used <= present, sorted(used - present)[:5]
    assert present <= used, f"{len(present - used)} frame files no page uses"
