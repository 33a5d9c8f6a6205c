"""Chapter 1's page: its links resolve, its opening box agrees with its computed verdicts, its outputs fit.

These read the committed notebook (outputs are kept only in the cells nbval
checks, and those hold the verdicts), so they run in a fraction of a second.
"""

import re
from pathlib import Path

import nbformat
import pytest

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "01_linear_regression.ipynb"
WIDTH = 80  # characters: a printed line wider than this overflows the book's column


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(LESSON, as_version=4)


def _targets(nb):
    """Labels defined with MyST's ``(label)=`` line, and figure names from cell metadata."""
    labels = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            labels.update(re.findall(r"^\(([\w-]+)\)=\s*$", cell.source, flags=re.M))
        name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        if name:
            labels.add(name)
    return labels


def _opening_box(nb):
    match = re.search(r"```\{admonition\} In this chapter\n(.*?)\n```", nb.cells[0].source, flags=re.S)
    assert match, "the title cell must hold an 'In this chapter' admonition"
    return match.group(1)


def _verdict_after(nb, label):
    """The first computed verdict (a stored text/markdown output) after the target ``(label)=``."""
    seen = False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(rf"^\({re.escape(label)}\)=", cell.source, flags=re.M):
            seen = True
        if seen and cell.cell_type == "code":
            for out in cell.get("outputs", []):
                text = out.get("data", {}).get("text/markdown", "")
                match = re.match(r"\*\*Verdict: (holds when|holds|does not hold)\*\*", text)
                if match:
                    return match.group(1)
    return None


def test_every_internal_link_has_a_target(nb):
    """Links in Markdown cells and in computed prose (stored text/markdown outputs) resolve in the lesson."""
    targets = _targets(nb)
    for n, cell in enumerate(nb.cells):
        texts = [cell.source] if cell.cell_type == "markdown" else [
            out.get("data", {}).get("text/markdown", "") for out in cell.get("outputs", [])]
        for text in texts:
            for label in re.findall(r"\]\(#([\w-]+)\)", text):
                assert label in targets, f"cell {n}: the link #{label} has no (label)= target in the lesson"
            for label in re.findall(r"\{numref\}`([\w-]+)`", text):
                assert label in targets, f"cell {n}: {{numref}} {label} names no figure of the lesson"


def test_computed_prose_uses_no_roles(nb):
    """Computed prose is rendered by JupyterLab's Markdown output renderer too: no MyST roles in it."""
    for n, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")
            assert not re.search(r"\{[a-z:]+\}`", text), f"cell {n}: a MyST role in computed prose: {text[:80]!r}"


def test_opening_box_links_every_section_it_names(nb):
    box = _opening_box(nb)
    links = re.findall(r"\]\(#([\w-]+)\)", box)
    assert len(links) >= 8, f"the opening box should link the chapter's sections, found {links}"
    assert not re.search(r"\d", re.sub(r"\(#[^)]*\)", "", box)), "the opening box must not type numbers"


def test_opening_box_verdicts_match_the_computed_ones(nb):
    """Each verdict word the box links (``[holds when](#label)``) is the verdict computed in that section."""
    box = _opening_box(nb)
    claimed = re.findall(r"\[(holds when|holds|does not hold)\]\(#([\w-]+)\)", box)
    assert len(claimed) == 2, f"the box should give the chapter's two verdicts, found {claimed}"
    for word, label in claimed:
        computed = _verdict_after(nb, label)
        assert computed == word, f"the box says '{word}' for #{label}; the lesson computes '{computed}'"


def test_checked_outputs_fit_the_column(nb):
    for n, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if "text/markdown" in out.get("data", {}):
                continue  # rendered as wrapped prose
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            for line in text.splitlines():
                assert len(line) <= WIDTH, f"cell {n}: a printed line of {len(line)} characters: {line!r}"


def test_intercept_is_b_not_d(nb):
    """Notation (book/notation.md): d counts features, so the intercept is b, and the parameters are θ."""
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert not re.search(r"\+\s*d\s*[,$.]", cell.source), f"cell {n}: the intercept written as d"
            assert "[a, b, c, d]" not in cell.source, f"cell {n}: the parameters written as [a, b, c, d]"
