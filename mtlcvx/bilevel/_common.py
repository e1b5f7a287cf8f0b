"""What the bilevel methods share: the validation error, finite
differences, the projections onto the outer feasible sets."""

import numbers

import numpy as np

from .._validation import check_scalar_param
from ..data import _as_numeric_array, as_multitask_data
from ..solvers import project_columns_to_simplex

__all__ = ["validation_error", "central_differences", "project_rows_to_simplex", "project_to_box"]


def validation_error(W, val):
    """``C(W) = 1/2 sum_t ||y_t - X_t w_t||^2`` on ``val`` and its gradient
    ``X_t^T (X_t w_t - y_t)`` (column ``t``)."""
    # shape only: an outer loop's diverged iterate should give a NaN value,
    # not an error about an argument the caller never passed
    W = np.asarray(W, dtype=float)
    if W.shape != (val.n_features, val.n_tasks):
        raise ValueError(f"W must have shape (n_features, n_tasks) = {(val.n_features, val.n_tasks)}, got {W.shape}")
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
    ``strict``), else a ``ValueError`` (``TypeError`` for a non-number)
    naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    bad = value <= 0 if strict else value < 0
    if not np.isfinite(value) or bad:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} 0, got {value!r}")
    return float(value)


def check_n_groups(n_groups, n_tasks):
    """``L``, an integer in ``[1, n_tasks]`` (``int`` would turn 2.5 into 2)."""
    return int(check_scalar_param(n_groups, "n_groups", low=1, high=n_tasks, integer=True))


def check_weights(W, data, name="W"):
    """A candidate ``W`` of shape ``(n_features, n_tasks)``, finite."""
    W = _as_numeric_array(W, name, copy=False)
    expected = (data.n_features, data.n_tasks)
    if W.shape != expected:
        hint = " (transposed?)" if W.shape == expected[::-1] else ""
        raise ValueError(f"{name} must have shape (n_features, n_tasks) = {expected}, got {W.shape}{hint}")
    return W


def check_split(train, val):
    """``(train, val)`` as :class:`~mtlcvx.MultiTaskData`, with the same
    tasks and features."""
    train, val = as_multitask_data(train, name="train"), as_multitask_data(val, name="val")
    if (train.n_tasks, train.n_features) != (val.n_tasks, val.n_features):
        raise ValueError(f"train has {train.n_tasks} tasks and {train.n_features} features but val "
                         f"has {val.n_tasks} and {val.n_features}: they must match")
    return train, val
