"""Results on the page: tables that fit the column, and prose computed from the numbers.

A lesson's evidence reaches the reader in two forms, and both come from
the computation, never from typing:

* ``Table(rows, columns)`` shows experiment results as a real HTML table
  (key columns first) that fits the book's column and scrolls inside itself
  on a narrow screen; its plain-text form, which nbval also compares, is a
  tidy fixed-width table.
* ``Prose(text)`` and ``verdict(label, text)`` show a Markdown paragraph
  built with an f-string from the numbers just computed. Shown from a cell
  whose input is hidden (tag ``hide-input`` for the site, and
  ``metadata.jupyter.source_hidden`` for JupyterLab), it reads as prose in
  both worlds: myst-nb renders the ``text/markdown`` output on the site, and
  JupyterLab and Notebook 7 render it as Markdown, math included.

Checked outputs must hold on any machine (other CPUs, other BLAS kernels),
so the formatting helpers round: ``fmt(x, 2)`` keeps two significant
digits, ``mean_sd`` rounds a mean to the precision of its spread, and
``frac`` prints a count. Print the trailing digits of a chaotic quantity (the
loss of a nearly divergent run) with none of them: print "diverged", a rank,
a bound or a coarse value instead.

Nothing here imports matplotlib or ipywidgets.
"""

import html
import math
from numbers import Integral, Real

import numpy as np

__all__ = ["Table", "Prose", "verdict", "fmt", "mean_sd", "frac", "pct", "and_list", "VERDICTS"]

#: The verdicts a claim check may reach.
VERDICTS = ("holds", "holds when", "does not hold")


def fmt(x, digits=2):
    """``x`` with ``digits`` significant digits, as a short string (``0.0031``, ``12``, ``4.5e5``).

    Integers print whole; ``inf`` prints ``∞``; NaN prints ``—``.
    """
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, Integral):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def _decimals(sd, digits):
    """How many decimals show ``digits`` significant digits of ``sd`` (at least 0)."""
    if not np.isfinite(sd) or sd <= 0:
        return None
    return max(0, digits - 1 - int(math.floor(math.log10(sd))))


def mean_sd(values, digits=1, *, decimals=None):
    """``"mean ± sd"`` of ``values``, both rounded to the same decimal place.

    ``sd`` is the sample standard deviation (``n − 1`` in the denominator),
    the usual estimate of the spread between seeds; a single value has none
    (``± 0``). By default the place is that of the spread's first ``digits``
    significant digits, so the printed mean carries no digit that the spread
    between seeds makes meaningless (and so none that a different CPU can
    change). ``decimals`` fixes the place instead. Non-finite values are left
    out and counted: ``"0.16 ± 0.01 (1 diverged)"``.
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("mean_sd: values must not be empty, got an empty sequence")
    finite = values[np.isfinite(values)]
    note = f" ({values.size - finite.size} diverged)" if finite.size < values.size else ""
    if finite.size == 0:
        return f"diverged{'' if values.size == 1 else ' (all ' + str(values.size) + ')'}"
    mean, sd = float(finite.mean()), float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    if decimals is None:
        decimals = _decimals(sd, digits)
        if decimals is None:  # no spread: fall back to three significant digits of the mean
            return fmt(mean, 3) + " ± 0" + note
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}".replace("-", "−") + note


def frac(k, n):
    """A count out of a total: ``"4/5"``."""
    return f"{int(k)}/{int(n)}"


def and_list(items):
    """Items joined for a sentence: ``"a"``, ``"a and b"``, ``"a, b and c"``; ``""`` for none."""
    items = [str(item) for item in items]
    return f"{', '.join(items[:-1])} and {items[-1]}" if len(items) > 1 else "".join(items)


def pct(x, decimals=0):
    """A fraction as a percentage: ``pct(0.183) == "18%"``."""
    return f"{100 * float(x):.{decimals}f}%"


def _cell_text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (Real, np.number, np.bool_)):
        return fmt(value)
    return str(value)


class Table:
    """Rows of results under named columns, shown as an HTML table that fits the column.

    ``rows`` is a sequence of sequences (one entry per column); strings are
    shown as they are, numbers with ``fmt`` (two significant digits), so
    format the numbers you want shown otherwise yourself. ``title`` becomes
    the table's caption. The first column is the row label (left-aligned);
    the others are right-aligned, with tabular figures.
    """

    def __init__(self, rows, columns, *, title=None):
        columns = [str(c) for c in columns]
        if not columns:
            raise ValueError("Table: columns must not be empty, got []")
        rows = [[_cell_text(v) for v in row] for row in rows]
        for i, row in enumerate(rows):
            if len(row) != len(columns):
                raise ValueError(f"Table: rows[{i}] must have {len(columns)} entries (one per column), "
                                 f"got {len(row)}")
        self.columns = columns
        self.rows = rows
        self.title = title

    def _repr_html_(self):
        head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in self.columns)
        body = "".join(
            "<tr>" + "".join((f'<th scope="row">{html.escape(v)}</th>' if j == 0 else f"<td>{html.escape(v)}</td>")
                             for j, v in enumerate(row)) + "</tr>"
            for row in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (f'<div class="nnlib-table"><table>{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")

    def __repr__(self):
        widths = [max(len(self.columns[j]), *(len(r[j]) for r in self.rows)) for j in range(len(self.columns))]

        def line(cells):
            return "  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

        lines = ([self.title] if self.title else []) + [line(self.columns)] + [line(r) for r in self.rows]
        return "\n".join(s.rstrip() for s in lines)


class Prose:
    """A Markdown paragraph computed from results; shown as Markdown on the site and in Jupyter."""

    def __init__(self, text):
        if not isinstance(text, str):
            raise TypeError(f"Prose: text must be a str, got {type(text).__name__}")
        self.text = text.strip()

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return self.text


def verdict(label, text=""):
    """A claim check's verdict as a Markdown paragraph: ``**Verdict: holds when** …``.

    ``label`` is one of ``VERDICTS`` ("holds", "holds when", "does not hold");
    compute it from the printed numbers, then pass the sentence that cites
    them as ``text``.
    """
    if label not in VERDICTS:
        raise ValueError(f"verdict: label must be one of {VERDICTS}, got {label!r}")
    return Prose(f"**Verdict: {label}**{' ' + text.strip() if text else '.'}")
