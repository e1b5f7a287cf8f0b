"""Proximal operators and projections in numpy, each written once.

The penalties' ``prox`` methods and the fast solvers (through the terms)
all use these; a group here is a slice along the **last** axis, with any
number of leading axes (rows of ``W``, groups of ``D x``, batches of
groups).
"""

import numpy as np

__all__ = [
    "soft_threshold",
    "group_norms",
    "group_soft_threshold",
    "project_groups_to_balls",
    "squared_group_threshold",
    "singular_value_threshold",
    "group_subdiff_distance",
]


def soft_threshold(V, threshold):
    """``sign(V) max(|V| - threshold, 0)``: the prox of ``threshold ||.||_1``."""
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)


def group_norms(V):
    """l2 norm of every group (last axis)."""
    return np.sqrt(np.einsum("...k,...k->...", V, V))


def group_soft_threshold(V, threshold):
    """``V_g max(0, 1 - threshold / ||V_g||)`` for every group ``V_g``
    (last axis): the prox of ``threshold sum_g ||V_g||_2``.  ``threshold``
    is a scalar or broadcasts against the group norms."""
    norms = group_norms(V)
    # a zero group is divided by 1, not by a floor (which overflowed for
    # thresholds above ~4): its scale does not matter, it multiplies zeros
    scale = 1.0 - threshold / np.where(norms > 0, norms, 1.0)
    return V * np.maximum(scale, 0.0)[..., None]


def project_groups_to_balls(V, radius):
    """Each group (last axis) projected onto the l2 ball of ``radius``: the
    prox of the conjugate of ``radius sum_g ||.||_2`` (Moreau: ``V`` minus
    :func:`group_soft_threshold`)."""
    norms = group_norms(V)
    scale = np.minimum(1.0, radius / np.where(norms > 0, norms, 1.0))
    return V * scale[..., None]


def squared_group_threshold(norms, step):
    """``theta >= 0`` solving ``theta = 2 step sum_k (n_k - theta)_+`` over
    the last axis of ``norms`` (batched over leading axes).

    The prox of ``step (sum_j ||Z_j||)^2`` is the group soft-thresholding
    at this ``theta`` (derived for mtlcvx, checked against CVXPY in the
    tests): the optimality conditions give ``Z_j = V_j (1 - theta /
    ||V_j||)_+`` with ``theta = 2 step sum_k ||Z_k||``, and the right-hand
    side decreases in ``theta``, so sorting the norms finds the fixed point
    exactly: with the ``k`` largest active, ``theta = 2 step S_k / (1 + 2
    step k)``, valid while the ``k``-th largest norm stays above it.
    """
    n = -np.sort(-np.asarray(norms, dtype=float), axis=-1)
    k = np.arange(1, n.shape[-1] + 1)
    candidates = 2.0 * step * np.cumsum(n, axis=-1) / (1.0 + 2.0 * step * k)
    valid = candidates < n
    last = n.shape[-1] - 1 - np.argmax(valid[..., ::-1], axis=-1)
    theta = np.take_along_axis(candidates, last[..., None], axis=-1)[..., 0]
    return np.where(valid.any(axis=-1), theta, 0.0)


def singular_value_threshold(V, threshold):
    """Soft-thresholding of the singular values: the prox of
    ``threshold ||V||_*``.

    For a tall or wide ``V`` (one side at least twice the other) the
    singular pairs come from the eigendecomposition of the small Gram
    matrix, several times cheaper than an SVD.  Squaring the spectrum loses
    relative accuracy only on singular values far below the largest, so
    this route is taken only when every value it keeps is at least
    ``1e-4 sigma_max`` (``threshold >= 1e-4 sigma_max``); otherwise, and for
    square-ish ``V``, a full SVD.  A stack ``(..., d, T)`` is thresholded
    matrix by matrix with one batched SVD.
    """
    if V.ndim > 2:
        U, s, Vt = np.linalg.svd(V, full_matrices=False)
        return (U * np.maximum(s - threshold, 0.0)[..., None, :]) @ Vt
    d, T = V.shape
    if max(d, T) >= 2 * min(d, T):
        wide = d < T
        gram = V @ V.T if wide else V.T @ V
        eigenvalues, Q = np.linalg.eigh(gram)
        s = np.sqrt(np.maximum(eigenvalues, 0.0))
        if threshold >= 1e-4 * s[-1]:
            keep = s > threshold
            factor = np.zeros_like(s)
            factor[keep] = 1.0 - threshold / s[keep]
            Qk = Q[:, keep]
            return (Qk * factor[keep]) @ (Qk.T @ V) if wide else (V @ Qk) * factor[keep] @ Qk.T
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    s = np.maximum(s - threshold, 0.0)
    keep = s > 0
    return (U[:, keep] * s[keep]) @ Vt[keep]


def group_subdiff_distance(Z, G, zero_tol=0.0):
    """Distance of ``-G`` to the subdifferential of ``sum_g ||Z_g||_2`` at
    ``Z`` (groups along the last axis), Frobenius over all groups.

    A group with ``||Z_g|| > zero_tol`` has the gradient ``Z_g / ||Z_g||``:
    distance ``||-G_g - Z_g/||Z_g|| ||``; a zero group has the unit ball:
    distance ``max(0, ||G_g|| - 1)``.  (skglm's ``subdiff_distance``,
    group-wise.)
    """
    norms = group_norms(Z)
    active = norms > zero_tol
    unit = Z / np.where(active, norms, 1.0)[..., None]
    on = group_norms(-G - unit)
    off = np.maximum(group_norms(G) - 1.0, 0.0)
    per_group = np.where(active, on, off)
    return float(np.sqrt(np.sum(per_group**2)))
