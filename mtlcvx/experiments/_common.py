"""Pieces every experiment uses: validation-based model choice and table
formatting."""

import itertools
import time

import numpy as np
from sklearn.base import clone

from ..metrics import mse

__all__ = ["param_grid", "select_and_fit", "format_table"]


def param_grid(**values):
    """All combinations: ``param_grid(a=[1, 2], b=[3])`` -> ``[{a:1,b:3}, {a:2,b:3}]``."""
    keys = list(values)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(values[k] for k in keys))]


def select_and_fit(estimator, grid, train, validation_size=0.25, random_state=0):
    """Choose hyperparameters on a validation split of ``train`` (per task,
    ``validation_size`` of each task's samples), then refit on all of
    ``train``.

    Returns
    -------
    fitted : estimator
    best : dict
        The chosen parameters.
    seconds : float
        Time of the final fit.
    """
    fit_part, val_part = train.split(validation_size, random_state=random_state)
    scores = []
    for params in grid:
        est = clone(estimator).set_params(**params).fit(fit_part)
        scores.append(mse(val_part.ys, est.predict(val_part)))
    best = grid[int(np.argmin(scores))]
    start = time.perf_counter()
    fitted = clone(estimator).set_params(**best).fit(train)
    return fitted, best, time.perf_counter() - start


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(rows, columns=None, title=None):
    """Plain-text table of a list of dicts."""
    if not rows:
        return "(empty table)"
    columns = columns or list(rows[0])
    cells = [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
