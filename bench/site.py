"""Benchmark the built site's static explorers: frames, bytes, page weight, build time.

Reports, for the site in ``_build/html`` (``make book``):

* per explorer: how many frames it has on the site and their bytes (total, largest);
* the site's total size, and the frames' and download bundles' share of it;
* each page's first-load weight: what a browser fetches to show the page
  before any control moves (measured in chromium when it is installed,
  otherwise estimated from the files the HTML references);
* the last ``make book``: its total time and how many frames it rendered and
  reused (``_build/build-summary.json``, written by book/_ext/nnbook.py).

``--builds`` also times a fresh ``make book`` and a cached one (frames kept,
everything else rebuilt, so every lesson runs again) in a temporary copy of
the repository. That takes several minutes.

    .venv/bin/python bench/site.py [--site _build/html] [--builds]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_LOAD_LIMIT = 1.5 * 2**20
FRAME_LIMIT = 100_000


def mb(n):
    return f"{n / 2**20:.2f} MB"


def pages_of(site):
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in ("_static", "_sources"))


def explorer_frames(site):
    """{explorer name: [frame file sizes]} from the pages' explorer data."""
    sizes = {}
    frames_dir = site / "_static" / "frames"
    for page in pages_of(site):
        text = page.read_text(encoding="utf-8")
        for name, payload in re.findall(r'data-explorer="([^"]+)".*?<script type="application/json" '
                                        r'class="nnlib-data">(.*?)</script>', text, re.S):
            files = set(json.loads(payload)["frames"].values())
            sizes[name] = [(frames_dir / f).stat().st_size for f in sorted(files) if (frames_dir / f).is_file()]
    return sizes


def first_load_browser(site, pages):
    """{page: bytes fetched until the network is idle}, measured in chromium; None without chromium/Playwright."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from playwright.sync_api import sync_playwright

        from test_browser import CHROMIUM_ARGS, LocalServer, find_chromium
    except ImportError:
        return None
    executable = find_chromium()
    if executable is None:
        return None
    server = LocalServer(site)
    server.httpd.handle_error = lambda request, address: None  # a page may drop a request (a redirect): not news
    weights = {}
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
            for page_path in pages:
                context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
                responses = []
                page = context.new_page()
                page.on("response", lambda r: responses.append(r))
                page.goto(server.base + page_path.relative_to(site).as_posix(), wait_until="load")
                page.wait_for_load_state("networkidle")
                total = own = 0
                for r in responses:
                    try:
                        size = len(r.body())
                    except Exception:  # redirects have no body
                        continue
                    total += size
                    if r.url.split("?")[0].endswith((".html", ".webp", ".png", ".svg", ".jpg", ".gif")):
                        own += size
                weights[page_path] = (total, own)
                context.close()
            chromium.close()
    finally:
        server.close()
    return weights


def first_load_estimate(site, page):
    """The page plus every stylesheet, script and non-lazy image it references (fonts and fetches not counted)."""
    text = page.read_text(encoding="utf-8")
    total = len(text.encode("utf-8"))
    seen = set()
    for ref in re.findall(r'<(?:link[^>]*href|script[^>]*src|img(?![^>]*loading="lazy")[^>]*src)="([^"#?]+)', text):
        if "://" in ref or ref.startswith("data:") or ref in seen:
            continue
        seen.add(ref)
        target = (page.parent / ref).resolve()
        if target.is_file():
            total += target.stat().st_size
    return total


def tree_size(path):
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def report_site(site):
    sizes = explorer_frames(site)
    print(f"Static explorers in {site}")
    if not sizes:
        print("  no explorers found (build the site with `make book`)")
    width = max([len(n) for n in sizes] + [8])
    print(f"  {'explorer':<{width}}  {'frames':>6}  {'total':>9}  {'mean kB':>7}  {'max kB':>6}")
    for name, frame_sizes in sorted(sizes.items()):
        flag = "  OVER 100 kB" if frame_sizes and max(frame_sizes) > FRAME_LIMIT else ""
        print(f"  {name:<{width}}  {len(frame_sizes):>6}  {mb(sum(frame_sizes)):>9}  "
              f"{sum(frame_sizes) / max(len(frame_sizes), 1) / 1000:7.1f}  "
              f"{max(frame_sizes, default=0) / 1000:6.1f}{flag}")
    all_frames = [s for v in sizes.values() for s in v]
    print(f"  {'all':<{width}}  {len(all_frames):>6}  {mb(sum(all_frames)):>9}")
    total = tree_size(site)
    print(f"Site size: {mb(total)} ({mb(tree_size(site / '_static' / 'frames'))} explorer frames, "
          f"{mb(tree_size(site / '_static' / 'bundles'))} download bundles, "
          f"{mb(tree_size(site / '_static' / 'mathjax'))} MathJax)")

    pages = pages_of(site)
    weights = first_load_browser(site, pages)
    how = "measured in chromium" if weights is not None else "estimated from the files each page references"
    print(f"First-load weight per page ({how}; limit {mb(FIRST_LOAD_LIMIT)}); 'own' is the page's HTML, "
          f"images and explorer frames, without the theme, MathJax and fonts every page shares:")
    print(f"  {'page':<45} {'total':>9} {'own':>9}")
    for page in pages:
        total, own = weights[page] if weights is not None else (first_load_estimate(site, page), None)
        flag = "  OVER LIMIT" if total > FIRST_LOAD_LIMIT else ""
        explorers = page.read_text(encoding="utf-8").count('class="nnlib-explorer"')
        note = f"  ({explorers} explorer{'s' if explorers != 1 else ''})" if explorers else ""
        own_text = mb(own) if own is not None else "-"
        print(f"  {page.relative_to(site).as_posix():<45} {mb(total):>9} {own_text:>9}{flag}{note}")

    summary = site.parent / "build-summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        kind = "fresh" if s.get("reused") == 0 and s.get("computed") else (
            "cached frames" if s.get("computed") == 0 else "partly cached")
        print(f"Last `make book`: {s['seconds']:.1f} s ({kind}: {s.get('computed')} frames rendered, "
              f"{s.get('reused')} reused)")


def time_builds():
    """Time a fresh `make book` and then one with the frame cache kept, in a temporary copy of the repository."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    with tempfile.TemporaryDirectory(prefix="nnbook-bench-") as tmp:
        copy = Path(tmp)
        for name in filter(None, files):
            source = ROOT / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
        (copy / ".venv").symlink_to(ROOT / ".venv")
        env = {**os.environ, "PYTHONPATH": str(copy)}
        env.pop("NNLIB_BUILD", None)
        times = {}
        for kind in ("fresh", "cached"):
            if kind == "cached":  # keep the frame cache, rebuild everything else (every lesson runs again)
                for part in ("html", ".doctrees", "jupyter_execute"):
                    shutil.rmtree(copy / "_build" / part, ignore_errors=True)
            started = time.perf_counter()
            done = subprocess.run(["make", "book"], cwd=copy, env=env, capture_output=True, text=True)
            times[kind] = time.perf_counter() - started
            lines = [l for l in done.stdout.splitlines() if l.startswith(("Explorer frames", "Total build"))]
            print(f"{kind} build: {times[kind]:.1f} s, exit {done.returncode}; " + "; ".join(lines))
            if done.returncode != 0:
                print(done.stdout[-3000:], done.stderr[-3000:])
                return 1
        print(f"cached / fresh: {times['cached'] / times['fresh']:.2f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--builds", action="store_true", help="also time a fresh and a cached `make book` (slow)")
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        print(f"No site in {args.site}: run `make book` first.")
        return 1
    report_site(args.site)
    return time_builds() if args.builds else 0


if __name__ == "__main__":
    sys.exit(main())
