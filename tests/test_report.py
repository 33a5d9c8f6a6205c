"""nnlib.report: the helpers that put every number on the page (tables, computed prose, rounding)."""

import math

import numpy as np
import pytest

from nnlib.report import VERDICTS, Prose, Table, and_list, fmt, frac, mean_sd, pct, verdict


@pytest.mark.parametrize("x, digits, text", [
    (0.0031416, 2, "0.0031"), (12, 2, "12"), (12.345, 3, "12.3"), (450000.0, 2, "4.5e5"), (1.5e-7, 2, "1.5e-7"),
    (-0.5, 2, "−0.5"), (0.0, 2, "0"), (np.float32(0.25), 2, "0.25"), (np.int64(7), 2, "7"),
    (True, 2, "yes"), (np.bool_(False), 2, "no"), (math.nan, 2, "—"), (math.inf, 2, "∞"), (-math.inf, 2, "−∞"),
])
def test_fmt_keeps_significant_digits(x, digits, text):
    assert fmt(x, digits) == text


def test_mean_sd_rounds_the_mean_to_the_first_digit_of_the_spread():
    values = [0.90, 0.93, 0.87, 0.91, 0.89]           # sd (n − 1) = 0.022
    assert mean_sd(values) == "0.90 ± 0.02"
    assert mean_sd(values, digits=2) == "0.900 ± 0.022"


def test_mean_sd_uses_the_sample_standard_deviation():
    # two seeds at 10 and 14: the sample sd is 2.83 (n − 1 in the denominator), not the population sd 2
    assert mean_sd([10.0, 14.0]) == "12 ± 3"
    values = np.random.default_rng(0).normal(size=5)
    shown = float(mean_sd(values, decimals=6).split(" ± ")[1])
    assert shown == pytest.approx(np.std(values, ddof=1), abs=1e-6)


def test_mean_sd_counts_diverged_runs_instead_of_averaging_them():
    assert mean_sd([1.0, math.nan, 3.0]) == "2 ± 1 (1 diverged)"
    assert mean_sd([1.0, math.inf, 3.0, -math.inf]) == "2 ± 1 (2 diverged)"
    assert mean_sd([math.nan, math.nan]) == "diverged (all 2)"
    assert mean_sd([math.inf]) == "diverged"


def test_mean_sd_without_spread_shows_three_significant_digits():
    assert mean_sd([2.5, 2.5, 2.5]) == "2.5 ± 0"
    assert mean_sd([0.123456]) == "0.123 ± 0"              # one run: no spread to round to
    assert mean_sd([0.123456, math.nan]) == "0.123 ± 0 (1 diverged)"


def test_mean_sd_fixed_decimals_and_the_minus_sign():
    assert mean_sd([1.234, 1.236], decimals=3) == "1.235 ± 0.001"
    assert mean_sd([-2.0, -4.0]) == "−3 ± 1"


def test_mean_sd_accepts_any_shape_and_rejects_nothing_to_average():
    assert mean_sd(np.array([[1.0, 2.0], [3.0, 4.0]])) == "2 ± 1"
    with pytest.raises(ValueError, match="mean_sd: values must not be empty"):
        mean_sd([])


def test_and_list_joins_words_for_a_sentence():
    assert and_list([]) == ""
    assert and_list(["He"]) == "He"
    assert and_list(["He", "large"]) == "He and large"
    assert and_list(("default", "Glorot", "He")) == "default, Glorot and He"
    assert and_list([2, 4]) == "2 and 4"


def test_frac_and_pct():
    assert frac(4, 5) == "4/5"
    assert frac(np.int64(0), 20) == "0/20"
    assert pct(0.183) == "18%"
    assert pct(0.5, 1) == "50.0%"


def test_table_text_aligns_columns_and_the_html_escapes_cells():
    table = Table([["a <b>", 0.5, "x"], ["long label", 12, "—"]], ["φ", "value", "note"], title="T & co")
    assert repr(table).splitlines() == ["T & co",
                                        "φ           value  note",
                                        "a <b>         0.5     x",
                                        "long label     12     —"]
    html = table._repr_html_()
    assert "<caption>T &amp; co</caption>" in html
    assert '<th scope="row">a &lt;b&gt;</th>' in html
    assert "<td>0.5</td>" in html


def test_table_rejects_ragged_rows_and_no_columns():
    with pytest.raises(ValueError, match=r"Table: rows\[1\] must have 2 entries \(one per column\), got 3"):
        Table([[1, 2], [1, 2, 3]], ["a", "b"])
    with pytest.raises(ValueError, match="Table: columns must not be empty"):
        Table([], [])


def test_verdict_and_prose_are_markdown():
    shown = verdict("holds when", " the weights are small. ")
    assert shown._repr_markdown_() == "**Verdict: holds when** the weights are small."
    assert verdict("holds")._repr_markdown_() == "**Verdict: holds**."
    assert set(VERDICTS) == {"holds", "holds when", "does not hold"}
    with pytest.raises(ValueError, match="verdict: label must be one of"):
        verdict("mostly holds", "x")
    with pytest.raises(TypeError, match="Prose: text must be a str, got float"):
        Prose(0.5)
