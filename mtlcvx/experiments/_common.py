"""Pieces every experiment uses: the validation protocols (through
:mod:`mtlcvx.model_selection`), table formatting and the progress printer."""

import contextlib
import contextvars
import math
import numbers
import sys
import warnings

from sklearn.base import clone

from .._errors import ConvergenceWarning
from ..model_selection import GridSearch, PredefinedTaskSplit, TaskShuffleSplit
from ..plotting import save_figure

__all__ = ["GRID_VERBOSE", "validation_search", "fixed_validation_search", "count_convergence_warnings", "format_table",
           "stderr_progress", "write_figure"]


#: ``verbose`` of the experiments' grid searches: :func:`mtlcvx.experiments.run`
#: sets it for the run (the CLI: on, unless ``--silent``), so that every
#: grid shows a progress bar without each experiment passing it down.
GRID_VERBOSE = contextvars.ContextVar("grid_verbose", default=0)


def validation_search(estimator, grid, train, validation_size=0.25, random_state=0, scoring="neg_mse",
                      n_jobs=None):
    """The protocol most experiments share: every point of ``grid`` fitted on
    ``1 - validation_size`` of each task's samples of ``train`` and scored
    on the rest, the best refitted on all of ``train``.  A fitted
    :class:`~mtlcvx.model_selection.GridSearch` (``best_estimator_``,
    ``best_params_``, ``refit_time_``)."""
    return GridSearch(estimator, grid, cv=TaskShuffleSplit(1, validation_size, random_state), scoring=scoring,
                      n_jobs=n_jobs, verbose=GRID_VERBOSE.get()).fit(train)


def fixed_validation_search(estimator, grid, train, val, scoring="neg_mse", n_jobs=None):
    """Every point of ``grid`` fitted on ``train`` and scored on the separate
    ``val`` (the GenGL and SRML protocols); the chosen parameters fitted on
    ``train`` again, so the returned estimator is the one that was scored.

    Returns
    -------
    fitted : estimator
    best : dict
    """
    data, cv = PredefinedTaskSplit.from_parts(train, val)
    search = GridSearch(estimator, grid, cv=cv, scoring=scoring, n_jobs=n_jobs, refit=False,
                        verbose=GRID_VERBOSE.get()).fit(data)
    return clone(estimator).set_params(**search.best_params_).fit(train), search.best_params_


@contextlib.contextmanager
def count_convergence_warnings(counter):
    """Append to ``counter`` the number of ConvergenceWarnings raised inside,
    printing none: the configurations cap iterations on purpose, and the
    tables report the count (the grid searches issue a worker's warnings
    again in the parent, so the count does not depend on ``n_jobs``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    counter.append(sum(issubclass(w.category, ConvergenceWarning) for w in caught))


def stderr_progress(message):
    """The progress printer of the CLI and of :func:`mtlcvx.experiments.run`:
    stderr, so that the tables on stdout stay clean to redirect, flushed so
    that each line shows while the next step runs."""
    print(message, file=sys.stderr, flush=True)


def write_figure(fig, path, progress, tag):
    """Save ``fig`` to ``path`` and report it: drawing is an experiment's
    last phase, and without a line it looks hung."""
    save_figure(fig, path)
    progress(f"[{tag}] wrote {path}")
    return str(path)


#: Significant digits of the smallest non-zero number of a float column.
_DIGITS = 3
#: More decimals than this and a column switches to scientific notation.
_MAX_DECIMALS = 6
_MISSING = "-"


def _is_missing(value):
    # bench fills its own missing cells with "-" before calling us
    return value is None or (isinstance(value, str) and value == _MISSING)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _float_format(values):
    """One format for a column of floats: fixed decimals, as many as give the
    smallest non-zero entry ``_DIGITS`` significant digits, so that the
    decimal points line up; scientific when that would take more than
    ``_MAX_DECIMALS`` decimals (gaps of 1e-9) or the entries are huge."""
    sizes = [abs(v) for v in values if math.isfinite(v) and v != 0]
    if not sizes:
        return f".{_DIGITS - 1}f"
    decimals = max(0, _DIGITS - 1 - math.floor(math.log10(min(sizes))))
    if decimals > _MAX_DECIMALS or max(sizes) >= 1e6:
        return f".{_DIGITS - 1}e"
    return f".{decimals}f"


def _column_cells(values):
    """Cells of one column and whether it is numeric (right-aligned)."""
    present = [v for v in values if not _is_missing(v)]
    if not present or not all(_is_number(v) for v in present):
        return [_MISSING if _is_missing(v) else str(v) for v in values], False
    if all(isinstance(v, numbers.Integral) for v in present):
        spec = "d"
    else:
        spec = _float_format([float(v) for v in present])
    return [_MISSING if _is_missing(v) else format(v, spec) for v in values], True


def format_table(rows, columns=None, title=None):
    """Plain-text table of a list of dicts.

    Numbers are right-aligned, one format per column (fixed decimals, or
    scientific notation when the column spans tiny values); text is
    left-aligned; ``None`` (and a cell that already is ``"-"``) shows as
    ``-``.
    """
    if not rows:
        return "(empty table)"
    columns = columns or list(rows[0])
    body, numeric = zip(*(_column_cells([row.get(c) for row in rows]) for c in columns))
    widths = [max(len(c), *map(len, cells)) for c, cells in zip(columns, body)]

    def line(cells):
        return "  ".join(cell.rjust(w) if right else cell.ljust(w)
                         for cell, w, right in zip(cells, widths, numeric)).rstrip()

    lines = [title] if title else []
    lines.append(line(columns))
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(cells) for cells in zip(*body)]
    return "\n".join(lines)
