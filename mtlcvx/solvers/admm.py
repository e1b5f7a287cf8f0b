"""ADMM for a smooth loss plus norms of column-scaled copies of ``W``:

    min_W  f(W) + sum_g h(W diag(p_g)),     h(Z) = (sum_j ||Z_j||_2)^power,

``p_g`` (row g of ``P``, ``N x T``) nonnegative, ``power`` 1 or 2.  The
SG-MTL W-step is this problem (:func:`mtlcvx.terms.sgmtl_weights`); so is
any sum of task-weighted L21 norms or of their squares.

Splitting ``Z_g = W diag(p_g)`` (scaled dual ``Y_g``):

* W-update, squared loss: for each task the system
  ``(s_t X_t^T X_t + rho c_t I) w_t = s_t X_t^T y_t + rho sum_g p_gt (Z_g - Y_g)_t``,
  ``c_t = sum_g p_gt^2``, solved from one thin SVD of ``X_t`` computed up
  front, so ``rho`` can adapt at no cost;  any other smooth loss:
  the linearised update (one gradient step on ``f``, exact in the rest);
* Z-update: the prox of ``h / rho``, closed form
  (:func:`mtlcvx.terms.prox_l12` computes the same; this module keeps its
  own numpy so that it imports no CVXPY);
* ``rho`` by residual balancing.

Stopping, squared loss: the relative duality gap.  The dual point is
``nu_t = -s_t r_t`` (residuals) and ``theta_g = rho Y_g``, corrected along
``p_g`` so that the dual constraint ``X_t^T nu_t + sum_g p_gt theta_gt = 0``
holds exactly, then scaled by the best ``alpha >= 0``:
``D = alpha sum_t s_t <r_t, y_t> - alpha^2 (sum_t s_t ||r_t||^2 / 2 + sum_g
h^*(theta_g))`` with ``h^*(theta) = max_j ||theta_j||^2 / 4`` (power 2), or
the indicator of ``max_j ||theta_j|| <= 1`` (power 1, alpha capped).  Other
losses: relative primal and dual ADMM residuals.
"""

import warnings

import numpy as np

from .._errors import ConvergenceWarning
from .apg import SolverInfo

__all__ = ["admm_scaled_group_norms", "scaled_group_norms_value"]

_TINY = np.finfo(float).tiny


def _row_norms(Z):
    return np.sqrt(np.einsum("...jt,...jt->...j", Z, Z))


def scaled_group_norms_value(W, P, power):
    """``sum_g (sum_j ||(W diag(p_g))_j||)^power``."""
    return float((_row_norms(W[None] * P[:, None, :]).sum(axis=-1) ** power).sum())


def _prox_groups(V, step, power):
    """Prox of ``step * h`` on each ``V[g]`` (``V`` of shape (N, d, T))."""
    norms = _row_norms(V)  # (N, d)
    if power == 1:
        theta = np.full(norms.shape[0], float(step))
    else:
        # theta_g = 2 step sum_k (n_gk - theta_g)_+ : sort and take the
        # largest k for which the k-th norm stays above theta.
        n = -np.sort(-norms, axis=1)
        k = np.arange(1, n.shape[1] + 1)
        cand = 2.0 * step * np.cumsum(n, axis=1) / (1.0 + 2.0 * step * k)
        valid = cand < n
        last = np.where(valid.any(axis=1), n.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1), -1)
        theta = np.where(last >= 0, cand[np.arange(n.shape[0]), np.maximum(last, 0)], 0.0)
    scale = np.maximum(1.0 - theta[:, None] / np.maximum(norms, _TINY), 0.0)
    return V * scale[:, :, None]


class _TaskSystems:
    """``(s_t X_t^T X_t + a_t I)^{-1} b_t`` for all tasks at once.

    With ``n >= d`` the ``d x d`` matrices are inverted; with ``n < d`` the
    Woodbury identity ``(s X^T X + a I)^{-1} b = (b - X^T (X X^T + (a/s)
    I)^{-1} X b) / a`` needs only ``n x n`` inverses.  The inverses depend on
    ``a = rho c``: they are recomputed (batched) only when ``rho`` changes.
    Tasks are zero-padded to a common ``n`` (zero rows change nothing, and
    the padded diagonal ``a/s`` keeps the small systems invertible).
    """

    def __init__(self, Xs, ys, s):
        T, d = len(Xs), Xs[0].shape[1]
        n = max(X.shape[0] for X in Xs)
        self.s = np.asarray(s, dtype=float)
        self.woodbury = n < d
        self.X = np.zeros((T, n, d))
        for t, X in enumerate(Xs):
            self.X[t, : X.shape[0]] = X
        if self.woodbury:
            self.gram = self.X @ self.X.transpose(0, 2, 1)  # (T, n, n)
        else:
            self.gram = self.s[:, None, None] * (self.X.transpose(0, 2, 1) @ self.X)  # (T, d, d)
        self.b0 = np.column_stack([s_t * (X.T @ y) for X, y, s_t in zip(Xs, ys, s)])
        self._a = None

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


def _dual_gap(ls, W, theta, P, power):
    """Relative duality gap at ``W`` with group duals ``theta`` (N, d, T)."""
    grad, rr, ry = ls.stats(W)
    c = np.einsum("gt,gt->t", P, P)
    primal = 0.5 * ls.s @ rr + scaled_group_norms_value(W, P, power)
    # correct theta along p_g: sum_g p_gt theta_g[:, t] = -grad[:, t]
    mismatch = -grad - np.einsum("gt,gjt->jt", P, theta)
    delta = np.divide(mismatch, c, out=np.zeros_like(mismatch), where=c > 0)
    theta = theta + P[:, None, :] * delta[None]
    if np.any(c == 0) and np.abs(grad[:, c == 0]).max(initial=0.0) > 0:
        # an unpenalised task with X^T r != 0: no dual point of this form
        return primal, np.inf
    linear = ls.s @ ry
    quadratic = 0.5 * ls.s @ rr
    dual_norms = _row_norms(theta).max(axis=1)  # (N,)
    if power == 2:
        quadratic += float(np.sum(dual_norms**2) / 4.0)
        alpha = max(0.0, linear / (2.0 * quadratic)) if quadratic > 0 else 1.0
    else:
        top = dual_norms.max(initial=0.0)
        alpha = min(max(0.0, linear / (2.0 * quadratic)) if quadratic > 0 else 1.0,
                    1.0 / top if top > 0 else np.inf)
    dual = alpha * linear - alpha * alpha * quadratic
    return primal, max(primal - dual, 0.0) / max(1.0, abs(primal))


def _sparsest(ls, W, Z, P, power, c):
    """The W-iterate is never exactly sparse; the Z-iterate is.  Return
    ``w_t = sum_g p_gt Z_g[:, t] / c_t`` (zero wherever every ``Z_g`` row is)
    when its objective is not worse than ``W``'s."""
    penalised = c > 0
    W_z = W.copy()
    W_z[:, penalised] = np.einsum("gt,gjt->jt", P[:, penalised], Z[:, :, penalised]) / c[penalised]

    def objective(V):
        return ls.value(V) + scaled_group_norms_value(V, P, power)

    return W_z if objective(W_z) <= objective(W) else W


def admm_scaled_group_norms(
    P,
    power,
    W0,
    ls=None,
    Xs=None,
    ys=None,
    grad=None,
    lipschitz=None,
    tol=1e-9,
    max_iter=20_000,
    rho=None,
    check_every=10,
    warn=True,
):
    """Solve ``min_W f(W) + sum_g h(W diag(p_g))``.

    Parameters
    ----------
    P : ndarray (N, T)
        Nonnegative column scalings.
    power : {1, 2}
    W0 : ndarray (d, T)
    ls : BlockLeastSquares, optional
        For the squared loss (with ``Xs``, ``ys``): exact W-updates and the
        duality-gap stop.
    grad, lipschitz : callable, float, optional
        For any other smooth loss: its gradient and Lipschitz constant
        (linearised W-updates, residual stop).

    Returns
    -------
    W : ndarray
    info : SolverInfo
    """
    P = np.asarray(P, dtype=float)
    active = np.flatnonzero(P.any(axis=1))  # empty groups contribute nothing
    P = P[active]
    W = np.array(W0, dtype=float, copy=True)
    d, T = W.shape
    c = np.einsum("gt,gt->t", P, P)
    exact = ls is not None
    if exact:
        systems = _TaskSystems(Xs, ys, ls.s)
        # mean eigenvalue of s_t X_t^T X_t over the d directions
        curvature = float(np.mean(ls.s * np.einsum("tnd,tnd->t", systems.X, systems.X)) / d)
    else:
        curvature = lipschitz
        step = 1.0 / lipschitz
    if rho is None:
        rho = max(curvature, 1e-12) / max(c.mean(), 1e-12) if c.any() else 1.0
    Z = W[None] * P[:, None, :]
    Y = np.zeros_like(Z)
    criterion = np.inf
    name = "relative duality gap" if exact else "relative ADMM residual"
    for it in range(1, max_iter + 1):
        B = np.einsum("gt,gjt->jt", P, Z - Y)
        if exact:
            W = systems.solve(systems.b0 + rho * B, rho * c)
        else:
            W = (W / step - grad(W) + rho * B) / (1.0 / step + rho * c)
        WP = W[None] * P[:, None, :]
        # over-relaxation (Eckstein and Bertsekas), 1.6 as commonly advised
        WP_relaxed = 1.6 * WP - 0.6 * Z
        Z_old = Z
        Z = _prox_groups(WP_relaxed + Y, 1.0 / rho, power)
        Y += WP_relaxed - Z
        if it % check_every == 0 or it == max_iter:
            r_primal = np.linalg.norm(WP - Z)
            r_dual = rho * np.linalg.norm(np.einsum("gt,gjt->jt", P, Z - Z_old))
            primal_scale = max(np.linalg.norm(WP), np.linalg.norm(Z), 1e-300)
            dual_scale = max(rho * np.linalg.norm(np.einsum("gt,gjt->jt", P, Y)), 1e-300)
            if exact:
                _, criterion = _dual_gap(ls, W, rho * Y, P, power)
            else:
                criterion = max(r_primal / primal_scale, r_dual / dual_scale)
            if criterion <= tol:
                if exact:
                    W = _sparsest(ls, W, Z, P, power, c)
                return W, SolverInfo(it, True, float(criterion), name)
            # residual balancing with OSQP's update rho *= sqrt(ratio of the
            # normalised residuals), only when they are far apart
            ratio = (r_primal / primal_scale) / max(r_dual / dual_scale, 1e-300)
            if ratio > 5.0 or ratio < 0.2:
                factor = float(np.clip(np.sqrt(ratio), 0.01, 100.0))
                rho *= factor
                Y /= factor
    if warn:
        warnings.warn(
            f"ADMM stopped at max_iter={max_iter} with {name} {criterion:.2e} > tol={tol:.1e}",
            ConvergenceWarning,
            stacklevel=2,
        )
    return W, SolverInfo(max_iter, False, float(criterion), name)
