"""Primal-dual splitting (Condat 2013, Vu 2013) for a smooth loss of a sum
of components plus group norms of linear maps of each component:

    min_{x_1..x_h}  f(x_1 + ... + x_h) + sum_i gamma_i sum_g ||(D_i x_{l(i)})_g||_2

with ``D_i`` sparse and its rows in consecutive groups of equal size (the
GenGL problem, eq. 10 of the SSMTL paper, for any operators).  Every step is
a gradient of ``f``, products with ``D_i`` and ``D_i^T``, and projections
onto l2 balls of radius ``gamma_i`` (the prox of the conjugate of ``gamma
||.||_2``): exact for any ``D``, no linear system.

Iteration (Condat's algorithm, relaxation 1)::

    x+ = x - tau (grad F(x) + sum_i D_i^T y_i)
    y_i+ = proj_{||.||_g <= gamma_i}(y_i + sigma D_i (2 x+ - x))

with ``1/tau - sigma ||K||^2 >= L/2`` (``K`` the stacked ``D_i``).  Stopped
on the relative primal and dual residuals of the saddle-point system,
which vanish exactly at a solution (operators of weight 0 are dropped;
with none left the squared loss is solved in closed form, see
:func:`~mtlcvx.solvers.least_squares.least_squares_components`):

    r_primal = (x - x+)/tau - K^T (y - y+),   r_dual = (y - y+)/sigma - K (x - x+)
"""

import numpy as np
import scipy.sparse.linalg as spla

from ._common import SolverInfo, not_converged
from .least_squares import check_operator_weights, least_squares_components

__all__ = ["primal_dual_group_norms", "operator_norm_squared", "ComponentLoss"]

NAME = "primal-dual splitting (Condat-Vu)"


class ComponentLoss:
    """``F(x_1, ..., x_h) = f(sum_l W_l)`` on the stacked vectors ``x_l =
    vec(W_l)`` (column-major): every component sees the gradient of the
    loss at the sum; ``F`` is ``h L``-Lipschitz when ``f`` is
    ``L``-Lipschitz."""

    def __init__(self, datafit, n_components):
        self.datafit = datafit
        self.h = n_components
        self.d, self.T = datafit.shape

    def to_components(self, X):
        """``(h, d*T)`` stack -> ``(h, d, T)`` matrices."""
        return X.reshape(self.h, self.T, self.d).transpose(0, 2, 1)

    def grad(self, X):
        G = self.datafit.grad(self.to_components(X).sum(axis=0))
        return np.tile(G.T.ravel(), (self.h, 1))

    def lipschitz(self):
        return self.h * self.datafit.lipschitz()


def operator_norm_squared(penalties, n_components):
    """``||K||^2`` for ``K`` block-diagonal over components, the operators of
    a component stacked: the largest eigenvalue of ``sum_i D_i^T D_i`` over
    the components (ARPACK, then 1 % of margin for its tolerance)."""
    top = 0.0
    for l in range(n_components):
        mats = [op.D for op, component in penalties if component == l]
        if not mats:
            continue
        A = sum(D.T @ D for D in mats)
        if A.shape[0] <= 200:
            value = float(np.linalg.eigvalsh(A.toarray())[-1])
        else:
            value = float(spla.eigsh(A, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0])
        top = max(top, value)
    return 1.01 * top


def primal_dual_group_norms(datafit, n_components, penalties, x0=None, tol=1e-8, max_iter=50_000, check_every=20,
                            warn=True):
    """Solve the problem of the module docstring.

    Parameters
    ----------
    datafit : the loss bound to data (``grad``, ``lipschitz``)
    n_components : int
        ``h``.
    penalties : list of ``(operator, component)``
        Bound :class:`~mtlcvx.terms.GenGLOperator`, weight ``gamma_i``.
    x0 : ndarray (h, d*T), optional

    Returns
    -------
    X : ndarray (h, d*T)
    info : SolverInfo
    """
    penalties = check_operator_weights(penalties)
    F = ComponentLoss(datafit, n_components)
    if not penalties and getattr(datafit, "kind", None) == "squared":
        # every weight 0: least squares on the sum, in closed form (gradient steps on it stall on badly
        # scaled features)
        components = least_squares_components(datafit, n_components)
        return components.transpose(0, 2, 1).reshape(n_components, -1), SolverInfo(1, True, 0.0, "closed form", NAME)
    size = F.d * F.T
    X = np.zeros((n_components, size)) if x0 is None else np.array(x0, dtype=float, copy=True)
    K2 = operator_norm_squared(penalties, n_components)
    L = max(F.lipschitz(), 1e-12)
    tau = 1.0 / L
    sigma = (1.0 / tau - L / 2.0) / max(K2, 1e-300)
    Y = [np.zeros(op.D.shape[0]) for op, _ in penalties]

    def KT(Ys):
        out = np.zeros_like(X)
        for (op, l), y in zip(penalties, Ys):
            out[l] += op.D.T @ y
        return out

    KTY = KT(Y)
    criterion = np.inf
    name = "relative primal-dual residual"
    for it in range(1, max_iter + 1):
        X_new = X - tau * (F.grad(X) + KTY)
        extrapolated = 2.0 * X_new - X
        Y_new = [op.project_dual(y + sigma * (op.D @ extrapolated[l]), op.weight) for (op, l), y in zip(penalties, Y)]
        KTY_new = KT(Y_new)
        if it % check_every == 0 or it == max_iter:
            r_primal = (X - X_new) / tau - (KTY - KTY_new)
            r_dual = np.concatenate([
                (y - yn) / sigma - op.D @ (X[l] - X_new[l]) for (op, l), y, yn in zip(penalties, Y, Y_new)
            ]) if penalties else np.zeros(1)
            scale_p = max(np.linalg.norm(F.grad(X_new)), np.linalg.norm(KTY_new), 1e-12)
            scale_d = max(np.linalg.norm(np.concatenate(Y_new)) if penalties else 0.0, 1e-12)
            criterion = max(np.linalg.norm(r_primal) / scale_p, np.linalg.norm(r_dual) / scale_d / np.sqrt(K2 + 1e-300))
        X, Y, KTY = X_new, Y_new, KTY_new
        if criterion <= tol:
            return X, SolverInfo(it, True, float(criterion), name, NAME)
    return X, not_converged(NAME, max_iter, name, criterion, tol, warn)
