"""Primal-dual splitting (Condat 2013, Vu 2013) for a smooth loss of a sum
of components plus group norms of linear maps of each component:

    min_{x_1..x_h}  F(x_1, ..., x_h) + sum_i gamma_i sum_g ||(D_i x_{l(i)})_g||_2

with ``D_i`` sparse and its rows in consecutive groups of equal size (the
GenGL problem, eq. 10 of the SSMTL paper).  Every step is a gradient of
``F``, products with ``D_i`` and ``D_i^T``, and projections onto l2 balls of
radius ``gamma_i`` (the prox of the conjugate of ``gamma ||.||_2``): exact
for any ``D``, no linear system.

Iteration (Condat's algorithm, relaxation 1)::

    x+ = x - tau (grad F(x) + sum_i D_i^T y_i)
    y_i+ = proj_{||.||_g <= gamma_i}(y_i + sigma D_i (2 x+ - x))

with ``1/tau - sigma ||K||^2 >= L/2`` (``K`` the stacked ``D_i``).  Stopped
on the relative primal and dual residuals of the saddle-point system,
which vanish exactly at a solution:

    r_primal = (x - x+)/tau - K^T (y - y+),   r_dual = (y - y+)/sigma - K (x - x+)
"""

import warnings

import numpy as np
import scipy.sparse.linalg as spla

from .._errors import ConvergenceWarning
from .apg import SolverInfo

__all__ = ["primal_dual_group_norms", "operator_norm_squared"]


def operator_norm_squared(blocks, n_components, size):
    """``||K||^2`` for ``K`` block-diagonal over components, the blocks of a
    component stacked: the largest eigenvalue of ``sum_i D_i^T D_i`` over
    the components (ARPACK, then 1 % of margin for its tolerance)."""
    top = 0.0
    for l in range(n_components):
        mats = [D for comp, D, _, _ in blocks if comp == l]
        if not mats:
            continue
        A = sum(D.T @ D for D in mats)
        if A.shape[0] <= 200:
            value = float(np.linalg.eigvalsh(A.toarray())[-1])
        else:
            value = float(spla.eigsh(A, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0])
        top = max(top, value)
    return 1.01 * top


def _project_groups(y, group_size, radius):
    Y = y.reshape(-1, group_size)
    norms = np.linalg.norm(Y, axis=1, keepdims=True)
    scale = np.minimum(1.0, radius / np.maximum(norms, 1e-300))
    return (Y * scale).ravel()


def primal_dual_group_norms(
    grad, lipschitz, blocks, n_components, size, x0=None, tol=1e-8, max_iter=50_000, check_every=20, warn=True
):
    """Solve the problem of the module docstring.

    Parameters
    ----------
    grad : callable
        ``X -> grad F(X)`` for ``X`` of shape ``(n_components, size)``.
    lipschitz : float
        Lipschitz constant of ``grad``.
    blocks : list of ``(component, D, group_size, gamma)``
    n_components, size : int
        ``h`` and the length of each ``x_l``.
    x0 : ndarray (n_components, size), optional

    Returns
    -------
    X : ndarray (n_components, size)
    info : SolverInfo
    """
    X = np.zeros((n_components, size)) if x0 is None else np.array(x0, dtype=float, copy=True)
    K2 = operator_norm_squared(blocks, n_components, size)
    L = max(lipschitz, 1e-12)
    tau = 1.0 / L
    sigma = (1.0 / tau - L / 2.0) / max(K2, 1e-300)
    Y = [np.zeros(D.shape[0]) for _, D, _, _ in blocks]

    def KT(Ys):
        out = np.zeros_like(X)
        for (l, D, _, _), y in zip(blocks, Ys):
            out[l] += D.T @ y
        return out

    KTY = KT(Y)
    criterion = np.inf
    for it in range(1, max_iter + 1):
        X_new = X - tau * (grad(X) + KTY)
        extrapolated = 2.0 * X_new - X
        Y_new = [
            _project_groups(y + sigma * (D @ extrapolated[l]), g, gamma)
            for (l, D, g, gamma), y in zip(blocks, Y)
        ]
        KTY_new = KT(Y_new)
        if it % check_every == 0 or it == max_iter:
            r_primal = (X - X_new) / tau - (KTY - KTY_new)
            r_dual = np.concatenate([
                (y - yn) / sigma - D @ (X[l] - X_new[l]) for (l, D, _, _), y, yn in zip(blocks, Y, Y_new)
            ]) if blocks else np.zeros(1)
            scale_p = max(np.linalg.norm(grad(X_new)), np.linalg.norm(KTY_new), 1e-12)
            scale_d = max(np.linalg.norm(np.concatenate(Y_new)) if blocks else 0.0, 1e-12)
            criterion = max(np.linalg.norm(r_primal) / scale_p, np.linalg.norm(r_dual) / scale_d / np.sqrt(K2 + 1e-300))
        X, Y, KTY = X_new, Y_new, KTY_new
        if criterion <= tol:
            return X, SolverInfo(it, True, float(criterion), "relative primal-dual residual")
    if warn:
        warnings.warn(
            f"primal-dual splitting stopped at max_iter={max_iter} with residual {criterion:.2e} > tol={tol:.1e}",
            ConvergenceWarning,
            stacklevel=2,
        )
    return X, SolverInfo(max_iter, False, float(criterion), "relative primal-dual residual")
