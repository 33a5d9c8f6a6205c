"""Chapter 4's lesson: the opening box agrees with the computed verdicts, and checked outputs fit the page."""

import re
from pathlib import Path

import nbformat
import pytest

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "04_learning_rate.ipynb"
LABELS = r"holds when|does not hold|holds"
WIDTH = 80  # characters: the widest printed line that fits the page's column


def box_verdicts(nb):
    """The verdict words in bold in the chapter's opening "In this chapter" box, in order."""
    first = nb.cells[0].source
    assert "```{admonition} In this chapter" in first, "the chapter must open with an 'In this chapter' box"
    box = first.split("```{admonition} In this chapter", 1)[1].split("```", 1)[0]
    return re.findall(rf"\*\*({LABELS})\*\*", box)


def computed_verdicts(nb):
    """The labels of the verdicts the lesson computed (stored outputs of checked cells), in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "nbval-check-output" in cell.metadata.get("tags", []):
            for out in cell.outputs:
                text = out.get("data", {}).get("text/markdown", "")
                found += re.findall(rf"^\*\*Verdict: ({LABELS})\*\*", text, flags=re.M)
    return found


def is_subsequence(short, long):
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def printed_lines(nb):
    """Every line a checked cell prints or shows as plain text (tables included; Markdown prose excluded)."""
    for n, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "nbval-check-output" not in cell.metadata.get("tags", []):
            continue
        for out in cell.outputs:
            data = out.get("data", {})
            text = out.get("text", "") if out.output_type == "stream" else (
                "" if "text/markdown" in data else data.get("text/plain", ""))
            for line in text.splitlines():
                yield n, line


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(LESSON, as_version=4)


def test_box_verdicts_match_the_computed_ones(nb):
    box, computed = box_verdicts(nb), computed_verdicts(nb)
    assert box, "the opening box names no verdict"
    assert computed, "no computed verdict is stored in a checked cell"
    assert is_subsequence(box, computed), f"box says {box}, the lesson computed {computed} (in this order)"


def test_checked_outputs_fit_the_column(nb):
    lines = list(printed_lines(nb))
    assert len(lines) > 20, "too few checked lines found: the test would prove nothing"
    wide = [(n, len(line)) for n, line in lines if len(line) > WIDTH]
    assert not wide, f"printed lines wider than {WIDTH} characters (cell, width): {wide}"


def test_the_diverged_definition_is_stated_once_and_used(nb):
    """One meaning of "diverged" and a named middle outcome, both defined before the first experiment uses them."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "**diverged**" in text and "**worse than its start**" in text
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert code.count("def outcome(") == 1, "a single outcome() decides diverged / worse than start / improved"


def test_no_red_stars_or_typed_section_numbers(nb):
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert "^\\*" not in cell.source, f"cell {n}: write \\theta^{{*}}, not ^\\*"
            assert not re.search(r"§\s?\d", cell.source.replace("(§9.3)", "")), f"cell {n}: typed § reference"
