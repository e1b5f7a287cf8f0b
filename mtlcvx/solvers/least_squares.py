"""Multi-task least squares in numpy: ``f(W) = sum_t s_t/2 ||y_t - X_t w_t||^2``.

The data are stored once in whichever layout makes the products cheapest:

* one design matrix shared by every task ("shared X"): ``X W`` is a single
  matrix product, and with ``n >= d`` the Gram matrix ``X^T X`` replaces
  ``X``;
* otherwise the tasks are stacked in a zero-padded ``(T, n_max, d)`` array
  (zero rows add nothing to the loss or its gradient), or in per-task Gram
  matrices ``(T, d, d)`` when ``n_max >= d``.

Also here: the duality gap of ``f(W) + lam2 ||W||_F^2 + lam Omega(W)`` for
any norm ``Omega`` whose dual norm the caller supplies, and ridge in
closed form.
"""

import numpy as np
import scipy.linalg

__all__ = ["BlockLeastSquares", "norm_penalized_gap", "ridge_closed_form"]


class BlockLeastSquares:
    """``f(W) = sum_t s_t/2 ||y_t - X_t w_t||^2`` for ``W`` of shape ``(d, T)``.

    Parameters
    ----------
    Xs : list of ndarray (n_t, d)
    ys : list of ndarray (n_t,)
    weights : ndarray (T,)
        ``s_t`` (1 for the "sum" scaling, ``1/n_t`` for "mean").
    """

    def __init__(self, Xs, ys, weights):
        self.s = np.asarray(weights, dtype=float)
        T = len(Xs)
        d = Xs[0].shape[1]
        self.shape = (d, T)
        X0 = Xs[0]
        self.shared = all(X is X0 or (X.shape == X0.shape and np.array_equal(X, X0)) for X in Xs[1:])
        self.yy = np.array([y @ y for y in ys])
        self._L = None
        if self.shared:
            self.gram = X0.shape[0] >= d
            Y = np.column_stack(ys)
            if self.gram:
                self.H, self.C = X0.T @ X0, X0.T @ Y
            else:
                self.X, self.Y = X0, Y
        else:
            n_max = max(X.shape[0] for X in Xs)
            self.gram = n_max >= d
            if self.gram:
                self.H = np.stack([X.T @ X for X in Xs])
                self.C = np.column_stack([X.T @ y for X, y in zip(Xs, ys)])
            else:
                self.X = np.zeros((T, n_max, d))
                self.Y = np.zeros((T, n_max))
                for t, (X, y) in enumerate(zip(Xs, ys)):
                    self.X[t, : X.shape[0]] = X
                    self.Y[t, : y.shape[0]] = y

    def restrict(self, rows):
        """The same least squares on the features ``rows`` only (a working
        set): ``f(W_rows)`` with the other rows of ``W`` held at zero."""
        sub = object.__new__(BlockLeastSquares)
        sub.s, sub.yy, sub.shared, sub.gram, sub._L = self.s, self.yy, self.shared, self.gram, None
        sub.shape = (len(rows), self.shape[1])
        if self.gram:
            sub.C = self.C[rows]
            sub.H = self.H[np.ix_(rows, rows)] if self.shared else self.H[:, rows][:, :, rows]
        else:
            sub.Y = self.Y
            sub.X = self.X[:, rows] if self.shared else self.X[:, :, rows]
        return sub

    @property
    def lipschitz(self):
        """``max_t s_t ||X_t||_2^2`` (computed on first use, from the smaller
        of the two Gram matrices)."""
        if self._L is None:
            if self.gram:
                top = np.linalg.eigvalsh(self.H)[..., -1]
            else:
                # ||X||_2^2 is the top eigenvalue of X^T X and of X X^T:
                # take the smaller of the two
                Xt = np.swapaxes(self.X, -1, -2)
                small = Xt @ self.X if self.X.shape[-1] < self.X.shape[-2] else self.X @ Xt
                top = np.linalg.eigvalsh(small)[..., -1]
            self._L = float(np.max(self.s * top))
        return self._L

    def _residuals(self, W):
        if self.shared:
            return self.Y - self.X @ W
        return self.Y - (self.X @ W.T[:, :, None])[..., 0]

    def _gram_times(self, W):
        if self.shared:
            return self.H @ W
        return (self.H @ W.T[:, :, None])[..., 0].T

    def grad(self, W):
        """``grad f(W)``, column t equal to ``s_t X_t^T (X_t w_t - y_t)``."""
        if self.gram:
            return (self._gram_times(W) - self.C) * self.s
        R = self._residuals(W)
        if self.shared:
            return -(self.X.T @ (R * self.s))
        return -(self.X.transpose(0, 2, 1) @ (R * self.s[:, None])[:, :, None])[..., 0].T

    def stats(self, W):
        """``(grad, rr, ry)``: the gradient, and per task ``||r_t||^2`` and
        ``<r_t, y_t>`` with ``r_t = y_t - X_t w_t``."""
        if self.gram:
            HW = self._gram_times(W)
            cw = np.einsum("dt,dt->t", self.C, W)
            rr = np.einsum("dt,dt->t", HW, W) - 2.0 * cw + self.yy
            ry = self.yy - cw
            return (HW - self.C) * self.s, np.maximum(rr, 0.0), ry
        R = self._residuals(W)
        if self.shared:
            grad = -(self.X.T @ (R * self.s))
            return grad, np.einsum("nt,nt->t", R, R), np.einsum("nt,nt->t", R, self.Y)
        grad = -(self.X.transpose(0, 2, 1) @ (R * self.s[:, None])[:, :, None])[..., 0].T
        return grad, np.einsum("tn,tn->t", R, R), np.einsum("tn,tn->t", R, self.Y)

    def value(self, W):
        _, rr, _ = self.stats(W)
        return float(0.5 * self.s @ rr)


def norm_penalized_gap(ls, W, lam, penalty_value, dual_norm, lam2=0.0, return_grad=False):
    """Duality gap of ``P(W) = f(W) + lam2 ||W||_F^2 + lam Omega(W)``.

    ``f`` is the least squares of ``ls`` and ``Omega`` a norm with value
    ``penalty_value = Omega(W)`` and dual norm ``dual_norm``.  The ridge
    part is folded into the loss by the usual augmentation
    ``X_t -> [X_t; sqrt(2 lam2 / s_t) I]``, ``y_t -> [y_t; 0]``.  The dual
    point is the scaled residual ``theta_t = alpha s_t r_t`` with ``alpha =
    min(1, lam / Omega^*(-grad))``, feasible by construction (the choice of
    scikit-learn's multi-task coordinate descent), and

    ``D(theta) = sum_t alpha s_t <r_t, y_t> - alpha^2 s_t ||r_t||^2 / 2``.

    Returns
    -------
    primal : float
        ``P(W)``.
    gap : float
        ``P(W) - D(theta) >= 0`` (an upper bound on ``P(W) - P*``).
    grad : ndarray, only with ``return_grad=True``
        Gradient of the smooth part ``f + lam2 ||.||_F^2`` at ``W``.
    """
    grad, rr, ry = ls.stats(W)
    if lam2:
        grad = grad + 2.0 * lam2 * W
        rr = rr + 2.0 * lam2 * np.einsum("dt,dt->t", W, W) / ls.s
    primal = 0.5 * ls.s @ rr + lam * penalty_value
    corr = dual_norm(grad)
    alpha = 1.0 if corr <= lam else lam / corr
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
