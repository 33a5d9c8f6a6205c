"""Chapter 5's lesson: the opening box agrees with the computed verdicts, checked outputs fit the page, and the
fact behind the corrected rate measurement (x alone can land on 0 while the momentum buffer carries it on)."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib.core import Parameter
from nnlib.optim import SGD
from test_lesson_ch4 import WIDTH, box_verdicts, computed_verdicts, is_subsequence, printed_lines

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "05_momentum.ipynb"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(LESSON, as_version=4)


def test_box_verdicts_match_the_computed_ones(nb):
    box, computed = box_verdicts(nb), computed_verdicts(nb)
    assert box and computed
    assert is_subsequence(box, computed), f"box says {box}, the lesson computed {computed} (in this order)"


def test_checked_outputs_fit_the_column(nb):
    lines = list(printed_lines(nb))
    assert len(lines) > 20, "too few checked lines found: the test would prove nothing"
    wide = [(n, len(line)) for n, line in lines if len(line) > WIDTH]
    assert not wide, f"printed lines wider than {WIDTH} characters (cell, width): {wide}"


def test_position_passes_through_zero_while_the_buffer_carries_on():
    """At lr·λ = 2.5, β = 0.9: x₂ = 0 exactly, the buffer is −0.6, and x₃ = 1.35: x alone is not the state."""
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=2.5, momentum=0.9)
    xs, bs = [], []
    for _ in range(3):
        p.grad[:] = p.data  # f(x) = x²/2, curvature 1
        opt.step()
        xs.append(float(p.data[0]))
        bs.append(float(opt.state[p]["momentum_buffer"][0]))
    assert xs[1] == 0.0
    assert bs[1] == pytest.approx(-0.6)
    assert xs[2] == pytest.approx(1.35)


def test_the_notes_attribution_is_not_claimed_for_nesterov(nb):
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert 'Claim check: "Nesterov improves on it."' not in text
    assert "not from the notes" in text
