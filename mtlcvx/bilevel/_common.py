"""What the bilevel methods share: the validation error, finite
differences, the projections onto the outer feasible sets."""

import numbers

import numpy as np

from ..data import as_multitask_data
from ..solvers import project_columns_to_simplex

__all__ = ["validation_error", "central_differences", "project_rows_to_simplex", "project_to_box"]


def validation_error(W, val):
    """``C(W) = 1/2 sum_t ||y_t - X_t w_t||^2`` on ``val`` and its gradient
    ``X_t^T (X_t w_t - y_t)`` (column ``t``)."""
    residuals = [X @ W[:, t] - y for t, (X, y) in enumerate(val)]
    value = 0.5 * sum(float(r @ r) for r in residuals)
    return value, np.column_stack([X.T @ r for X, r in zip(val.Xs, residuals)])


def central_differences(func, x, step=1e-6):
    """Central finite differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` of a
    scalar function of an array, entry by entry (``2 x.size`` calls)."""
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        grad[index] = (func(x + e) - func(x - e)) / (2.0 * step)
    return grad


def project_rows_to_simplex(theta):
    """Each row of ``theta`` projected onto the probability simplex: the
    projection onto BiGMTL's Theta (rows of a ``T x L`` matrix sum to 1)."""
    return project_columns_to_simplex(np.asarray(theta, dtype=float).T).T


def project_to_box(x, low=0.0, high=1.0):
    """The projection onto ``[low, high]`` entry-wise (GGMTL's edge weights)."""
    return np.clip(np.asarray(x, dtype=float), low, high)


def _positive(value, name, strict=True):
    """``value`` as a float, finite and ``> 0`` (``>= 0`` when not
    ``strict``), else a ``ValueError`` naming it."""
    bad = value <= 0 if strict else value < 0
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or bad:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} 0, got {value!r}")
    return float(value)


def check_split(train, val):
    """``(train, val)`` as :class:`~mtlcvx.MultiTaskData`, with the same
    tasks and features."""
    train, val = as_multitask_data(train), as_multitask_data(val)
    if (train.n_tasks, train.n_features) != (val.n_tasks, val.n_features):
        raise ValueError(f"train has {train.n_tasks} tasks and {train.n_features} features but val "
                         f"has {val.n_tasks} and {val.n_features}: they must match")
    return train, val
