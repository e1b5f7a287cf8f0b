"""Least-squares pieces the solvers share: the duality gap of a norm
penalty, ridge in closed form, and the per-task linear systems of the
ADMMs.

The datafit ``ls`` is the squared loss bound to data
(:class:`mtlcvx.terms.LeastSquares`): ``f(W) = sum_t s_t/2 ||y_t - X_t
w_t||^2``, with ``stats(W)`` giving the gradient and the residual
statistics a duality gap needs, and ``padded()`` the zero-padded task
stack.
"""

import numpy as np
import scipy.linalg

__all__ = ["norm_penalized_gap", "ridge_stats", "ridge_closed_form", "TaskSystems"]


def ridge_stats(ls, W, ridge=0.0):
    """``ls.stats(W)`` of ``f + ridge ||W||_F^2``: the ridge folded into the
    loss by the augmentation ``X_t -> [X_t; sqrt(2 ridge / s_t) I]``, ``y_t
    -> [y_t; 0]``, which adds ``2 ridge W`` to the gradient and ``2 ridge
    ||w_t||^2 / s_t`` to each squared residual norm (``<r_t, y_t>`` does not
    change)."""
    grad, rr, ry = ls.stats(W)
    if ridge:
        grad = grad + 2.0 * ridge * W
        rr = rr + 2.0 * ridge * np.einsum("dt,dt->t", W, W) / ls.s
    return grad, rr, ry


def norm_penalized_gap(ls, W, norm, ridge=0.0, return_grad=False):
    """Duality gap of ``P(W) = f(W) + ridge ||W||_F^2 + Omega(W)``.

    ``norm`` is ``Omega``, a weighted norm (a bound penalty with ``value``
    and ``dual_norm``).  The ridge part is folded into the loss
    (:func:`ridge_stats`).  The dual point is the scaled residual ``theta_t = alpha s_t
    r_t`` with ``alpha = min(1, 1 / Omega^*(-grad))``, feasible by
    construction (the choice of scikit-learn's multi-task coordinate
    descent), and

    ``D(theta) = sum_t alpha s_t <r_t, y_t> - alpha^2 s_t ||r_t||^2 / 2``.

    Returns
    -------
    primal : float
        ``P(W)``.
    gap : float
        ``P(W) - D(theta) >= 0`` (an upper bound on ``P(W) - P*``).
    grad : ndarray, only with ``return_grad=True``
        Gradient of the smooth part ``f + ridge ||.||_F^2`` at ``W``.
    """
    grad, rr, ry = ridge_stats(ls, W, ridge)
    primal = 0.5 * ls.s @ rr + norm.value(W)
    corr = norm.dual_norm(grad)
    alpha = 1.0 if corr <= 1.0 else 1.0 / corr
    dual = alpha * (ls.s @ ry) - 0.5 * alpha * alpha * (ls.s @ rr)
    out = float(primal), float(max(primal - dual, 0.0))
    return out + (grad,) if return_grad else out


def ridge_closed_form(X, y, lam, s=1.0):
    """``argmin_w s/2 ||y - X w||^2 + lam ||w||^2``.

    Solves the ``d x d`` system ``(s X^T X + 2 lam I) w = s X^T y`` when
    ``n >= d`` and the ``n x n`` dual system ``w = X^T a``, ``(X X^T + (2
    lam / s) I) a = y`` otherwise.  With ``lam = 0`` and a singular system,
    the minimum-norm least-squares solution.
    """
    n, d = X.shape
    if lam == 0:
        return scipy.linalg.lstsq(X, y)[0]
    if n >= d:
        A = s * (X.T @ X)
        A[np.diag_indices(d)] += 2.0 * lam
        return scipy.linalg.solve(A, s * (X.T @ y), assume_a="pos")
    K = X @ X.T
    K[np.diag_indices(n)] += 2.0 * lam / s
    return X.T @ scipy.linalg.solve(K, y, assume_a="pos")


class TaskSystems:
    """``(s_t X_t^T X_t + a_t I)^{-1} b_t`` for all tasks at once.

    With ``n >= d`` the ``d x d`` matrices are inverted; with ``n < d`` the
    Woodbury identity ``(s X^T X + a I)^{-1} b = (b - X^T (X X^T + (a/s)
    I)^{-1} X b) / a`` needs only ``n x n`` inverses.  The inverses depend on
    ``a``: they are recomputed (batched) only when it changes.  The tasks
    come zero-padded to a common ``n`` (zero rows change nothing, and the
    padded diagonal ``a/s`` keeps the small systems invertible).
    """

    def __init__(self, ls):
        self.X, _ = ls.padded()
        self.s = ls.s
        n, d = self.X.shape[1:]
        self.woodbury = n < d
        Xt = self.X.transpose(0, 2, 1)
        self.gram = self.X @ Xt if self.woodbury else self.s[:, None, None] * (Xt @ self.X)
        self.b0 = -ls.grad(np.zeros(ls.shape))  # s_t X_t^T y_t
        self._a = None

    def curvature(self):
        """The mean eigenvalue of ``s_t X_t^T X_t`` over the ``d`` directions
        and the tasks (a scale for the ADMM's initial ``rho``)."""
        return float(np.mean(self.s * np.einsum("tnd,tnd->t", self.X, self.X)) / self.X.shape[-1])

    def _factor(self, a):
        size = self.gram.shape[-1]
        shift = a / self.s if self.woodbury else a
        self.inverse = np.linalg.inv(self.gram + shift[:, None, None] * np.eye(size))
        self._a = a.copy()

    def solve(self, B, a):
        if np.any(a <= 0):
            return self._solve_with_unpenalised(B, a)
        if self._a is None or not np.array_equal(a, self._a):
            self._factor(a)
        Bt = B.T[:, :, None]
        if not self.woodbury:
            return (self.inverse @ Bt)[..., 0].T
        alpha = self.inverse @ (self.X @ Bt)
        return ((Bt - self.X.transpose(0, 2, 1) @ alpha)[..., 0] / a[:, None]).T

    def _solve_with_unpenalised(self, B, a):
        """Tasks with ``a_t = 0`` have no penalty: the minimum-norm least
        squares solution ``pinv(s X^T X) b`` (rare; computed directly)."""
        out = np.empty_like(B)
        for t in range(B.shape[1]):
            H = self.s[t] * (self.X[t].T @ self.X[t])
            H[np.diag_indices_from(H)] += a[t]
            out[:, t] = np.linalg.pinv(H, hermitian=True) @ B[:, t]
        return out
