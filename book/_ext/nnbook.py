"""Sphinx glue for the book, loaded from _config.yml (``sphinx.local_extensions``).

It keeps the promises the build makes:

* **Build mode.** Notebooks executed by the build see ``NNLIB_BUILD=1``, so
  ``nnlib.widgets.show`` emits static HTML explorers instead of live widgets,
  however the build was started (``make book`` sets it too).
* **No CDN.** MathJax 3 is served from the site itself: the files come from
  the ``django-static-mathjax`` wheel (it ships MathJax's ``es5`` build and
  needs no Django) and are copied to ``_static/mathjax/`` in the output.
  ``mathjax_path`` in _config.yml points there; a remote one is an error.
* **No stale outputs.** Sphinx rebuilds a page only when its own source
  changes, but a lesson's outputs depend on nnlib too. When any file under
  ``nnlib/`` (or requirements.txt) changes, every notebook is re-executed.
* **Complete bibliography.** The bibliography page is rewritten whenever a
  page is re-read, so works newly cited by an incremental build appear there.
* **Light, accessible pages.** Two rewrites of the theme's HTML (see
  ``REWRITES``) drop FontAwesome's 1.5 MB script, which only redraws icons
  that the theme's stylesheet already draws with the same web font, and give
  bibliography entries the ARIA role their list requires.
* **Notebook hygiene.** ``python book/_ext/nnbook.py clear-counts FILES``
  completes nbstripout (see .pre-commit-config.yaml): cells tagged
  keep_output keep an execution count, which nbval needs; no other cell does.
* **Explorer frames as files.** A static explorer (``nnlib.widgets.StaticExplorer``)
  renders its frames into a cache next to the output, ``_build/.explorer-frames``
  (``NNLIB_FRAMES_DIR``, set here for every kernel), keyed by what produced
  each frame, so a rebuild with nnlib unchanged renders none. Its HTML names
  the frames folder and the page's download bundle with placeholder tokens;
  after the build, each page's tokens become relative links, the frames the
  pages use are copied to ``_static/frames/`` (and frames no page uses are
  removed), and ``make book`` prints how many frames were rendered and reused.
* **Run it live.** Each page with an explorer links a download bundle,
  ``_static/bundles/<lesson>.zip``: the lesson notebook, nnlib as a wheel
  (built here from ``nnlib/`` and ``pyproject.toml``), a requirements file
  and a three-line README. CI installs one into a fresh virtual environment
  and runs nbval on it (.ci/run).
* **Timings.** Each notebook's execution time is written to
  ``_build/exec-times.json``; ``make book`` prints it with the total build
  time (``python book/_ext/nnbook.py report ...``), and the book's
  "Execution times" page shows it through myst-nb's ``nb-exec-table``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import time
import tomllib
import zipfile
from pathlib import Path

__all__ = ["setup", "mathjax_source", "report", "clear_counts", "REWRITES", "build_wheel", "build_bundle",
           "publish_explorers", "FRAMES_TARGET", "BUNDLES_TARGET"]

#: Where MathJax lives in the built site, relative to the output directory.
MATHJAX_TARGET = Path("_static") / "mathjax"
#: The name of the JSON file, next to the output directory, holding notebook timings.
TIMINGS_FILE = "exec-times.json"
#: Where explorer frames and download bundles live in the built site, relative to the output directory.
FRAMES_TARGET = Path("_static") / "frames"
BUNDLES_TARGET = Path("_static") / "bundles"
#: The frame cache, next to the output directory (nnlib.widgets.frames_dir reads NNLIB_FRAMES_DIR).
FRAMES_CACHE = ".explorer-frames"
# The placeholders nnlib.widgets.StaticExplorer writes (kept in step with nnlib.widgets; tests/test_widgets.py checks).
FRAMES_TOKEN = "@@NNLIB_FRAMES@@"
BUNDLE_TOKEN = "@@NNLIB_BUNDLE@@"
_FRAME_NAME = re.compile(r"\b[0-9a-f]{24}\.webp\b")
_ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed timestamps: an unchanged bundle is byte-for-byte the same


# --------------------------------------------------------------------------
# Download bundles: the lesson, nnlib as a wheel, requirements, README
# --------------------------------------------------------------------------
def _zip_write(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def build_wheel(srcdir: Path) -> tuple[str, bytes]:
    """nnlib as a pure-Python wheel, built from ``nnlib/`` and ``pyproject.toml``: ``(file name, bytes)``.

    Written directly (a wheel is a zip with a ``.dist-info`` folder), so the
    build needs no network, no build isolation and leaves nothing in the tree.
    """
    project = tomllib.loads((srcdir / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    metadata = [f"Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"Summary: {project.get('description', '')}",
                f"Requires-Python: {project.get('requires-python', '>=3')}"]
    metadata += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    files = {}
    for path in sorted((srcdir / name).rglob("*.py")):
        files[path.relative_to(srcdir).as_posix()] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: nnbook\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist_info}/top_level.txt"] = f"{name}\n".encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for file, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([file, f"sha256={digest}", len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    files[f"{dist_info}/RECORD"] = record.getvalue().encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file, data in files.items():
            _zip_write(archive, file, data)
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def build_bundle(notebook: Path, wheel: tuple[str, bytes], target: Path) -> Path:
    """Write ``target`` (a zip): the notebook, the wheel, requirements.txt and a three-line README, in one folder."""
    stem = notebook.stem
    wheel_name, wheel_data = wheel
    requirements = ("# Run this chapter live: nnlib (the wheel in this folder) and JupyterLab.\n"
                    f"./{wheel_name}\n"
                    "jupyterlab>=4.1,<5\n")
    readme = (f"# {stem}: run this chapter's explorers live (Python 3.11 or newer)\n"
              "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt\n"
              f".venv/bin/jupyter lab {notebook.name}\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _zip_write(archive, f"{stem}/{notebook.name}", notebook.read_bytes())
        _zip_write(archive, f"{stem}/{wheel_name}", wheel_data)
        _zip_write(archive, f"{stem}/requirements.txt", requirements)
        _zip_write(archive, f"{stem}/README.md", readme)
    data = buffer.getvalue()
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target


def _relative(page: Path, outdir: Path, target: Path) -> str:
    return Path(os.path.relpath(outdir / target, page.parent)).as_posix()


def publish_explorers(app_srcdir: Path, outdir: Path, cache: Path) -> dict:
    """Resolve every page's explorer tokens, copy the frames pages use, build their bundles.

    Returns ``{"frames": n, "bytes": b, "bundles": k}`` for the site.
    """
    frames_dir = outdir / FRAMES_TARGET
    used, wheel, bundles = set(), None, 0
    for page in outdir.rglob("*.html"):
        if page.relative_to(outdir).parts[0] in ("_static", "_sources"):
            continue
        text = page.read_text(encoding="utf-8")
        if "nnlib-explorer" not in text:
            continue
        used.update(_FRAME_NAME.findall(text))
        if FRAMES_TOKEN not in text and BUNDLE_TOKEN not in text:
            continue
        docname = page.relative_to(outdir).with_suffix("")
        notebook = app_srcdir / docname.with_suffix(".ipynb")
        bundle = BUNDLES_TARGET / f"{docname.name}.zip"
        if notebook.is_file():
            wheel = wheel or build_wheel(app_srcdir)
            build_bundle(notebook, wheel, outdir / bundle)
            bundles += 1
        text = text.replace(FRAMES_TOKEN, _relative(page, outdir, FRAMES_TARGET))
        text = text.replace(BUNDLE_TOKEN, _relative(page, outdir, bundle))
        page.write_text(text, encoding="utf-8")
    frames_dir.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in sorted(used):
        target = frames_dir / name
        if not target.is_file():
            source = cache / name
            if not source.is_file():
                missing.append(name)
                continue
            shutil.copyfile(source, target)
    for stale in frames_dir.glob("*.webp"):
        if stale.name not in used:
            stale.unlink()
    if missing:
        raise RuntimeError(f"nnbook: {len(missing)} explorer frame(s) the pages use are not in the cache {cache}, "
                           f"e.g. {missing[:3]}; rebuild from scratch (make clean && make book)")
    return {"frames": len(used), "bytes": sum((frames_dir / n).stat().st_size for n in used), "bundles": bundles}


def mathjax_source() -> Path:
    """The directory holding MathJax 3's browser build (``es5``) from django-static-mathjax."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or spec.origin is None:
        raise RuntimeError("nnbook: the 'mathjax' package (pip install django-static-mathjax) is not installed; "
                           "the book serves MathJax itself and never loads it from a CDN")
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"nnbook: expected MathJax's es5 build in the 'mathjax' package, "
                           f"found no tex-mml-chtml.js under {es5.parent.name}/es5")
    return es5


#: (pattern, replacement, reason) applied to every built HTML page.
REWRITES = [
    (re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>'), "",
     "FontAwesome's JavaScript (1.5 MB per page) only swaps <i class='fa-...'> icons for inline SVG; "
     "pydata-sphinx-theme's stylesheet already draws them with FontAwesome's web font"),
    (re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"'), r'\1 role="listitem"',
     "docutils puts role=doc-biblioentry items in a role=list container; ARIA requires listitem "
     "children (axe: aria-required-children)"),
]


def _rewrite_pages(outdir: Path) -> None:
    for page in outdir.rglob("*.html"):
        if page.relative_to(outdir).parts[0] in ("_static", "_sources"):
            continue
        text = original = page.read_text(encoding="utf-8")
        for pattern, replacement, _reason in REWRITES:
            text = pattern.sub(replacement, text)
        if text != original:
            page.write_text(text, encoding="utf-8")


def _digest(srcdir: Path) -> str:
    """A hash of everything besides a notebook itself that its outputs depend on."""
    h = hashlib.sha256()
    files = sorted((srcdir / "nnlib").rglob("*.py")) + [srcdir / "requirements.txt"]
    for path in files:
        if path.is_file():
            h.update(path.relative_to(srcdir).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _check_config(app, config):
    path = str(config.mathjax_path or "")
    if "://" in path or path.startswith("//"):
        from sphinx.errors import ConfigError
        raise ConfigError(f"nnbook: mathjax_path must be local (the site loads nothing from other hosts), "
                          f"got {path!r}")
    mathjax_source()  # fail early, before any notebook runs


def _start(app):
    app.nnbook_started = time.perf_counter()
    app.nnbook_read = set()


def _outdated(app, env, added, changed, removed):
    digest = _digest(Path(app.srcdir))
    previous = getattr(env, "nnbook_digest", None)
    env.nnbook_digest = digest
    if previous is None or previous == digest:
        return []
    notebooks = sorted(d for d in env.found_docs if str(env.doc2path(d)).endswith(".ipynb"))
    from sphinx.util import logging
    logging.getLogger(__name__).info(
        f"nnlib or requirements.txt changed: re-executing {len(notebooks)} notebook(s) [nnbook]")
    return notebooks


def _before_read(app, env, docnames):
    app.nnbook_read.update(docnames)
    if any(str(env.doc2path(d)).endswith(".ipynb") for d in docnames):
        _precompute_frames(app)


def _precompute_frames(app):
    """Render the frames of every book explorer before any lesson runs (``nnlib.widgets.precompute``).

    In a separate process, in parallel across the cores; frames already in the
    cache are reused, so a lesson's explorer cell only reads files. Without
    this, each explorer cell would render its own frames and could pass the
    per-cell time limit (``execute.timeout``) on a busy machine.
    """
    import subprocess

    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("NNLIB_BUILD", None)  # rendering frames needs no build mode; the frames are the same
    command = [sys.executable, "-c", "import sys, nnlib.widgets as w; sys.exit(w._main(sys.argv[1:]))", "precompute"]
    done = subprocess.run(command, cwd=app.srcdir, env=env, capture_output=True, text=True)
    if done.returncode != 0 or done.stderr.strip():
        raise ExtensionError(f"nnbook: rendering the explorer frames failed (exit {done.returncode}):\n"
                             f"{done.stdout}{done.stderr}")
    logging.getLogger(__name__).info(done.stdout.strip() + " [nnbook]")


def _bibliographies(app, env):
    """Rewrite the bibliography page whenever any page was re-read.

    sphinxcontrib-bibtex recomputes which works are cited after every read, so
    a page that cites a new work links to its entry; but it never marks the
    bibliography page for rewriting, so an incremental build would leave that
    entry out and the link dangling (tests/test_book.py checks every anchor).
    """
    if not app.nnbook_read:
        return []
    domain = env.get_domain("cite")
    return sorted({key.docname for key in getattr(domain, "bibliographies", {})} - app.nnbook_read)


def _copy_mathjax(outdir: Path) -> None:
    source = mathjax_source()
    target = outdir / MATHJAX_TARGET
    stamp = target / ".nnbook-source"
    marker = f"{source.stat().st_mtime_ns} {sum(1 for _ in source.rglob('*'))}"
    if stamp.is_file() and stamp.read_text() == marker:
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    stamp.write_text(marker)


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    _copy_mathjax(outdir)
    _rewrite_pages(outdir)
    site = publish_explorers(Path(app.srcdir), outdir, outdir.parent / FRAMES_CACHE)
    from myst_nb.sphinx_ import NbMetadataCollector

    rows = []
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        exec_data = data.get("exec_data")
        if not exec_data:
            continue
        rows.append({"document": docname,
                     "seconds": exec_data.get("runtime"),
                     "succeeded": bool(exec_data.get("succeeded")),
                     "executed_in_this_build": docname in app.nnbook_read})
    timings = {"notebooks": rows, "sphinx_seconds": time.perf_counter() - app.nnbook_started, "explorers": site}
    (outdir.parent / TIMINGS_FILE).write_text(json.dumps(timings, indent=2) + "\n")


def setup(app):
    # Build mode for every kernel this process starts (see nnlib.widgets.build_mode),
    # and where their static explorers cache frames (nnlib.widgets.frames_dir).
    os.environ.setdefault("NNLIB_BUILD", "1")
    os.environ.setdefault("NNLIB_FRAMES_DIR", str(Path(app.outdir).parent / FRAMES_CACHE))
    app.connect("config-inited", _check_config)
    app.connect("builder-inited", _start)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("env-updated", _bibliographies)
    app.connect("build-finished", _finish)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}


# --------------------------------------------------------------------------
# `make book`'s closing summary
# --------------------------------------------------------------------------
def report(timings_file: Path, total_seconds: float, site: Path, limit: float = 15.0) -> int:
    """Print each notebook's execution time and the total build time; return an exit status."""
    data = json.loads(timings_file.read_text()) if timings_file.is_file() else {"notebooks": []}
    rows = data["notebooks"]
    print()
    print("Notebook execution times" + (f" (target: at most {limit:g} s each)" if rows else ": no notebooks"))
    width = max([len(r["document"]) for r in rows] + [8])
    slow = []
    for r in rows:
        seconds = r["seconds"]
        shown = "   -  " if seconds is None else f"{seconds:6.1f}"
        note = "" if r["executed_in_this_build"] else "  (unchanged; time from an earlier build)"
        flag = ""
        if seconds is not None and seconds > limit:
            flag = "  SLOWER THAN TARGET"
            slow.append(r["document"])
        if not r["succeeded"]:
            flag += "  FAILED"
        print(f"  {r['document']:<{width}}  {shown} s{flag}{note}")
    executed = [r["seconds"] for r in rows if r["executed_in_this_build"] and r["seconds"] is not None]
    if executed:
        print(f"  {'(executed now)':<{width}}  {sum(executed):6.1f} s in {len(executed)} notebook(s)")
    frames = _frame_counts(timings_file.parent / FRAMES_CACHE / "log.jsonl", total_seconds)
    summary = {"seconds": round(total_seconds, 1), "computed": frames and frames["computed"],
               "reused": frames and frames["reused"]}
    if timings_file.parent.is_dir():  # for bench/site.py
        (timings_file.parent / "build-summary.json").write_text(json.dumps(summary) + "\n")
    if frames is not None:
        print(f"Explorer frames: {frames['computed']} computed, {frames['reused']} reused from the cache "
              f"({frames['explorers']} explorers; {frames['shown']} shown on pages)")
    published = data.get("explorers")
    if published:
        print(f"  in the site: {published['frames']} frames, {published['bytes'] / 2**20:.1f} MB; "
              f"{published['bundles']} download bundle(s) written")
    print(f"Total build time: {total_seconds:.1f} s")
    print(f"The site is in {site}/ (open {site}/index.html, or run `make serve`)")
    return 0


def _frame_counts(log: Path, total_seconds: float):
    """Frames the static explorers computed and reused during this build (the last ``total_seconds``)."""
    if not log.is_file():
        return None
    since = time.time() - total_seconds
    entries = [e for e in map(json.loads, log.read_text(encoding="utf-8").splitlines()) if e["time"] >= since]
    if not entries:
        return None
    # Frames precomputed before the lessons ran; a lesson's explorer then renders only what is still missing.
    first = [e for e in entries if e.get("stage") == "precompute"] or [e for e in entries if e.get("stage") != "precompute"]
    pages = [e for e in entries if e.get("stage") != "precompute"]
    return {"computed": sum(e["computed"] for e in entries),
            "reused": sum(e["reused"] for e in first),
            "explorers": len({e["explorer"] for e in entries}),
            "shown": len(pages)}


# --------------------------------------------------------------------------
# Notebook hygiene (the pre-commit hook after nbstripout, and `make strip`)
# --------------------------------------------------------------------------
def clear_counts(paths) -> int:
    """Number the cells tagged keep_output 1, 2, ... and clear every other execution count.

    nbstripout keeps the outputs of cells tagged keep_output, but it keeps
    execution counts either everywhere (``--keep-count``) or nowhere, and nbval
    refuses a cell that has outputs and no count ("Unrun reference cell has
    outputs"). Run after ``nbstripout --keep-count``. Returns how many files changed.
    """
    import nbformat

    changed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        before = nbformat.writes(nb)
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if "keep_output" in cell.metadata.get("tags", []) and cell.outputs:
                count += 1
                cell.execution_count = count
                for output in cell.outputs:
                    if "execution_count" in output:
                        output.execution_count = count
            else:
                cell.execution_count = None
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
            changed += 1
            print(f"clear-counts: fixed {path}")
    return changed


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="print notebook execution times and the total build time")
    rep.add_argument("build_dir", type=Path, help="the book's build directory (_build)")
    rep.add_argument("--started", type=float, required=True, help="the build's start, in seconds since the epoch")
    counts = sub.add_parser("clear-counts", help=clear_counts.__doc__.splitlines()[0])
    counts.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "clear-counts":
        return 1 if clear_counts(args.notebooks) else 0  # non-zero tells pre-commit that files changed
    return report(args.build_dir / TIMINGS_FILE, time.time() - args.started, args.build_dir / "html")


if __name__ == "__main__":
    sys.exit(_main())
