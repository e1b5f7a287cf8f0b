"""Least-squares pieces the solvers share: the duality gap of a norm
penalty and its scale-free relative form, ridge in closed form, the
per-task linear systems of the ADMMs, and the per-feature curvature that
preconditions the gradient methods.

The datafit ``ls`` is the squared loss bound to data
(:class:`mtlcvx.terms.LeastSquares`): ``f(W) = sum_t s_t/2 ||y_t - X_t
w_t||^2``, with ``stats(W)`` giving the gradient and the residual
statistics a duality gap needs, and ``Xs``, ``ys``, ``s`` the tasks.
"""

import weakref

import numpy as np
import scipy.linalg

__all__ = ["norm_penalized_gap", "relative_gap", "ridge_stats", "ridge_closed_form", "feature_curvature",
           "metric_lipschitz", "row_metric", "curvature_spread", "least_squares_components", "check_operator_weights",
           "TaskSystems", "WOODBURY_MAX_RATIO", "GAP_FLOOR"]

#: The sample (Woodbury) form of a task's system is used only while
#: ``s_t ||X_t||_2^2 / a_t`` stays below this: its subtraction ``b - X^T
#: alpha`` cancels in proportion to that ratio (measured on Gaussian data:
#: relative error 1e-15 at ratio 10, 6e-11 at 1e6, 5e-9 at 1e8; with one
#: feature at 1e6 next to unit ones the ratio is 1e13 and the answer was
#: wrong by 1e16 relative).
WOODBURY_MAX_RATIO = 1e6

#: Above this ratio the sample form takes one step of iterative refinement
#: (below it the unrefined error, about ``1e-16`` times the ratio, is
#: negligible).
REFINE_RATIO = 1e2

#: Floor of the denominator of :func:`relative_gap`, as a fraction of
#: ``f(0)``.
GAP_FLOOR = 1e-4

#: :func:`norm_penalized_gap` tries its second dual point only when the
#: features' curvatures spread over more than this: below, the first one's
#: floor was at most 1e-13 (measured on the elastic net and L21 at spreads
#: 1e4 to 8e5; 6e-11 at 1e16, 5e-9 at 1e24), and the second costs a prox and
#: a gradient at every check.
CORRECTION_SPREAD = 1e6


def _layout(ls):
    """The loss's curvature as the datafit stores it (working-set
    restrictions included): ``("gram", H)`` with ``H`` of shape ``(d, d)``
    (one ``X`` shared by the tasks) or ``(T, d, d)``, or ``("design", X)``
    with ``X`` of shape ``(n, d)`` or ``(T, n_max, d)`` (zero-padded), and
    the per-task weights ``s`` to apply (their maximum for a shared ``X``)."""
    s = np.asarray(ls.s, dtype=float)
    if ls.shared:
        s = np.array([s.max()])
    return ("gram", ls.H) if ls.gram else ("design", ls.X), s


def feature_curvature(ls):
    """``max_t s_t ||X_t[:, j]||^2`` for every feature ``j``: the diagonal of
    the loss's Hessian, maximised over the tasks (one value per row of
    ``W``, so that a row-wise metric built on it keeps row-separable
    penalties row-separable)."""
    (kind, A), s = _layout(ls)
    if kind == "gram":
        diag = np.diagonal(A, axis1=-2, axis2=-1)
    else:
        diag = np.einsum("...nd,...nd->...d", A, A)
    return (s[:, None] * np.atleast_2d(diag)).max(axis=0)


def feature_curvature_per_task(ls):
    """``s_t ||X_t[:, j]||^2``, shape ``(d, T)`` (for a shared ``X``, the
    column norms times each ``s_t``)."""
    (kind, A), _ = _layout(ls)
    diag = np.diagonal(A, axis1=-2, axis2=-1) if kind == "gram" else np.einsum("...nd,...nd->...d", A, A)
    diag = np.atleast_2d(diag)
    if diag.shape[0] == 1:
        diag = np.repeat(diag, len(ls.s), axis=0)
    return (np.asarray(ls.s, dtype=float)[:, None] * diag).T


def metric_lipschitz(ls, metric):
    """``max_t s_t ||X_t M^{-1/2}||_2^2`` for the row metric ``M =
    diag(metric)``: the Lipschitz constant of the loss's gradient in that
    metric (what :func:`~mtlcvx.solvers.accelerated_proximal_gradient`
    takes with ``metric``)."""
    (kind, A), s = _layout(ls)
    root = 1.0 / np.sqrt(np.asarray(metric, dtype=float))
    if kind == "gram":
        top = np.linalg.eigvalsh(A * np.multiply.outer(root, root))[..., -1]
    else:
        X = A * root
        Xt = np.swapaxes(X, -1, -2)
        small = Xt @ X if X.shape[-1] < X.shape[-2] else X @ Xt
        top = np.linalg.eigvalsh(small)[..., -1]
    return float(np.max(s * np.atleast_1d(top)))


def row_metric(ls, ridge=0.0):
    """The Jacobi row metric of ``f + ridge ||W||_F^2``:
    :func:`feature_curvature` plus ``2 ridge``, with a feature that no task
    sees (all zeros, no ridge: the loss does not depend on its row) given
    the largest value, any positive one being valid there."""
    m = feature_curvature(ls) + 2.0 * ridge
    positive = m > 0
    return np.where(positive, m, m[positive].max() if positive.any() else 1.0)


#: curvature_spread of the datafits seen by norm_penalized_gap (one per working-set restriction)
_SPREADS = weakref.WeakKeyDictionary()


def _spread(ls):
    if ls not in _SPREADS:
        _SPREADS[ls] = curvature_spread(ls)
    return _SPREADS[ls]


def curvature_spread(ls):
    """``max_j / min_j`` of :func:`feature_curvature` over the features some
    task sees: how far apart the features' scales are (1 for equal
    column norms; 1e24 for one column at 1e6 and one at 1e-6)."""
    m = feature_curvature(ls)
    m = m[m > 0]
    return float(m.max() / m.min()) if m.size else 1.0


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


def relative_gap(ls, primal, gap):
    """``gap / max(|P(W)|, GAP_FLOOR f(0))``, ``f(0) = sum_t s_t ||y_t||^2 / 2``.

    Scale-free: multiplying the targets (and the penalty weights with
    them) by ``c`` leaves it unchanged.  The former denominator ``max(1,
    |P|)`` was an absolute criterion for every problem whose objective is
    below 1, so with targets at 1e-8 it accepted ``W = 0`` at once.  The
    floor keeps the test within reach: the gap is a difference of terms of
    size ``f(0)``, resolved to about ``1e-16 f(0)``, and ``P`` may be far
    smaller than ``f(0)`` (a near-perfect fit)."""
    f0 = 0.5 * float(ls.s @ ls.yy)
    return float(gap) / max(abs(float(primal)), GAP_FLOOR * f0, np.finfo(float).tiny)


def norm_penalized_gap(ls, W, norm, ridge=0.0, return_grad=False):
    """Duality gap of ``P(W) = f(W) + ridge ||W||_F^2 + Omega(W)``.

    ``norm`` is ``Omega``, a weighted norm (a bound penalty with ``value``,
    ``dual_norm`` and ``prox``).  The ridge part is folded into the loss
    (:func:`ridge_stats`).  The dual point is the scaled residual ``theta_t
    = alpha s_t r_t`` with ``alpha = min(1, 1 / Omega^*(-grad))``, feasible by
    construction (the choice of scikit-learn's multi-task coordinate
    descent), and

    ``D(theta) = sum_t alpha s_t <r_t, y_t> - alpha^2 s_t ||r_t||^2 / 2``.

    A second dual point first removes the gradient's excess over the dual
    ball, ``E = prox_Omega(grad, 1)`` (Moreau: ``grad`` minus its projection
    on the ball), coordinate by coordinate: ``r_t + X_t u_t`` with ``u_jt =
    E_jt / (s_t ||X_t[:, j]||^2 + 2 ridge)``, then scales as above; the
    larger of the two dual values is kept (both are lower bounds).  On a
    feature at 1e6 next to unit ones the rounding of ``w`` alone (1e-16
    relative) moves that feature's gradient by 1e-9 of ``lam``, and the
    uniform ``alpha`` turns this into a relative gap of 5e-9 that no
    iterate can go below; removed along the stiff feature, whose column is
    large, the same excess costs the dual value 1e-15.

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
    dual = _scaled_dual(ls, norm, grad, rr, ry)
    if dual < primal and "prox" in norm.capabilities and _spread(ls) > CORRECTION_SPREAD:
        excess = norm.prox(grad, 1.0)
        if np.any(excess):
            b0 = -ls.grad(np.zeros_like(W))  # s_t X_t^T y_t
            curvature = feature_curvature_per_task(ls) + 2.0 * ridge
            # a feature no task sees has no gradient, hence no excess
            u = np.divide(excess, curvature, out=np.zeros_like(excess), where=curvature > 0)
            curved = ls.grad(u) + b0 + 2.0 * ridge * u  # (s_t H_t + 2 ridge) u_t
            ry_c = ry + np.einsum("jt,jt->t", u, b0) / ls.s
            rr_c = rr + (np.einsum("jt,jt->t", u, curved) - 2.0 * np.einsum("jt,jt->t", u, grad)) / ls.s
            dual = max(dual, _scaled_dual(ls, norm, grad - curved, np.maximum(rr_c, 0.0), ry_c))
    out = float(primal), float(max(primal - dual, 0.0))
    return out + (grad,) if return_grad else out


def _scaled_dual(ls, norm, grad, rr, ry):
    """``D(alpha s r)`` for the residual with statistics ``rr``, ``ry`` whose
    dual gradient is ``grad``, ``alpha = min(1, 1 / Omega^*(grad))``."""
    corr = norm.dual_norm(grad)
    alpha = 1.0 if corr <= 1.0 else 1.0 / corr
    return float(alpha * (ls.s @ ry) - 0.5 * alpha * alpha * (ls.s @ rr))


def least_squares_components(ls, n_components):
    """``argmin f(W_1 + ... + W_h)`` of least norm: each task's minimum-norm
    least-squares ``w_t``, split evenly, ``W_l = W / h`` (the split of least
    norm).  What a sum-of-components problem whose penalty weights are all 0
    reduces to; shape ``(h, d, T)``."""
    W = np.column_stack([scipy.linalg.lstsq(X, y)[0] for X, y in zip(ls.Xs, ls.ys)])
    return np.repeat(W[None] / n_components, n_components, axis=0)


def check_operator_weights(penalties):
    """The ``(operator, component)`` pairs of weight ``> 0``, after refusing
    a weight that is negative or not finite (a negative weight made the
    splitting solvers run to ``max_iter``)."""
    for op, _ in penalties:
        if not (np.isfinite(op.weight) and op.weight >= 0):
            raise ValueError(f"every operator weight (gamma) must be finite and >= 0, got {op.weight!r}")
    return [(op, l) for op, l in penalties if op.weight > 0]


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
    """``(s_t X_t^T X_t + a_t I)^{-1} b_t`` for all tasks at once, and the
    products the ADMMs build around it.

    Each task's system is solved in one of two forms:

    * **feature form** (``d x d``), equilibrated: with ``D = diag(s_t
      X_t^T X_t + a_t I)^{1/2}`` the unit-diagonal matrix ``C = D^{-1} (s_t
      X_t^T X_t + a_t I) D^{-1}`` is inverted, and ``D^{-1} C^{-1} D^{-1}
      b`` applied in that order.  Its accuracy depends on the conditioning
      of ``C`` (the features' correlations), not on their scales: a feature
      at 1e6 next to one at 1e-6 makes the system's condition number 1e24
      and leaves ``C``'s near 1.
    * **sample form** (``n_t x n_t``, Woodbury): ``(b - X^T (X X^T + (a/s)
      I)^{-1} X b) / a``, used when ``n_t < d`` and ``s_t ||X_t||_2^2 / a_t
      <= WOODBURY_MAX_RATIO`` (it cancels in proportion to that ratio).

    Tasks in the same form are batched: the feature ones as one ``(T_f, d,
    d)`` stack, the sample ones zero-padded to the largest ``n_t`` among
    *them* (below ``d``; zero rows change nothing, and the padded diagonal
    ``a/s`` keeps the small systems invertible).  No system is ever padded
    to the largest ``n_t`` of all tasks: a task of 5,000 samples next to
    one of a single sample used to make both systems ``5000 x 5000``.
    The factorisations depend on ``a``: they are recomputed only when it
    changes.

    Parameters
    ----------
    ls : the squared loss bound to data, or None with ``Xs`` and ``s``
        With a datafit, ``b0`` holds ``s_t X_t^T y_t`` (the right-hand side
        of the normal equations).
    Xs : list of ndarray (n_t, d)
    s : ndarray (T,)
    """

    def __init__(self, ls=None, Xs=None, s=None):
        if ls is not None:
            Xs, s = ls.Xs, ls.s
            self.b0 = -ls.grad(np.zeros(ls.shape))  # s_t X_t^T y_t
        self.Xs = [np.asarray(X, dtype=float) for X in Xs]
        self.s = np.asarray(s, dtype=float)
        self.d = self.Xs[0].shape[1]
        self.n = np.array([X.shape[0] for X in self.Xs])
        self.small = np.flatnonzero(self.n < self.d)  # the tasks that may take the sample form
        self._large = np.flatnonzero(self.n >= self.d)
        self._large_grams = None
        # s_t ||X_t||_2^2 from the small n_t x n_t Gram's largest eigenvalue:
        # norm(X, 2)'s SVD, per task and per TaskSystems, was 1.7 s of a 24 s
        # quick SG-MTL run; the Frobenius bound, cheaper still, set off
        # refinement where it is not needed and cost more (measured)
        self._top = {t: self.s[t] * float(np.linalg.eigvalsh(self.Xs[t] @ self.Xs[t].T)[-1]) if self.n[t] else 0.0
                     for t in self.small}
        self._grams = {}
        self._padded = {}
        self._a = None

    # -- per-task data ----------------------------------------------------
    def gram(self, t):
        """``s_t X_t^T X_t`` (computed on first use)."""
        if t not in self._grams:
            X = self.Xs[t]
            self._grams[t] = self.s[t] * (X.T @ X)
        return self._grams[t]

    def _stack(self, tasks):
        """The tasks' ``X`` zero-padded to the largest of their ``n_t``."""
        key = tuple(tasks)
        if key not in self._padded:
            m = max(int(self.n[tasks].max()), 1)
            X = np.zeros((len(tasks), m, self.d))
            for i, t in enumerate(tasks):
                X[i, : self.n[t]] = self.Xs[t]
            if len(self._padded) > 4:  # partitions change with a; keep the recent ones
                self._padded.clear()
            self._padded[key] = X
        return self._padded[key]

    def curvature(self):
        """The mean eigenvalue of ``s_t X_t^T X_t`` over the ``d`` directions
        and the tasks (a scale for the ADMM's initial ``rho``)."""
        return float(np.mean([s_t * np.einsum("nd,nd->", X, X) for X, s_t in zip(self.Xs, self.s)]) / self.d)

    def feature_form(self, a):
        """Which tasks solve their system in the ``d x d`` form at shift
        ``a`` (a boolean per task); the others use the sample form."""
        a = np.broadcast_to(np.asarray(a, dtype=float), self.n.shape)
        out = np.ones(len(self.n), dtype=bool)
        for t in self.small:
            out[t] = not (a[t] > 0 and self._top[t] <= WOODBURY_MAX_RATIO * a[t])
        return out

    # -- factorisation ----------------------------------------------------
    def _factor(self, a):
        positive = a > 0
        feature = self.feature_form(a) & positive
        self._feature = np.flatnonzero(feature)
        self._sample = np.flatnonzero(~feature & positive)
        self._unpenalised = np.flatnonzero(~positive)
        if len(self._feature):
            H = self._H = np.stack([self.gram(t) for t in self._feature])
            idx = np.arange(self.d)
            self._D = np.sqrt(H[:, idx, idx] + a[self._feature, None])
            C = H / (self._D[:, :, None] * self._D[:, None, :])
            C[:, idx, idx] = 1.0
            self._C_inv = np.linalg.inv(C)
        if len(self._sample):
            X = self._stack(self._sample)
            K = X @ X.transpose(0, 2, 1)
            m = K.shape[-1]
            K[:, np.arange(m), np.arange(m)] += (a[self._sample] / self.s[self._sample])[:, None]
            self._X = X
            self._Q = np.linalg.inv(K)
            ratios = [self._top[t] / a[t] for t in self._sample]
            self._refine = max(ratios) > REFINE_RATIO
        # factored once per shift, like the others: pinv's SVD at every
        # solve cost 1.7 s of a 24 s quick SG-MTL run (measured)
        self._pinv = {}
        for t in self._unpenalised:
            H = self.gram(t).copy()
            H[np.diag_indices_from(H)] += a[t]
            self._pinv[t] = np.linalg.pinv(H, hermitian=True)
        self._a = a.copy()

    def _ensure(self, a):
        a = np.broadcast_to(np.asarray(a, dtype=float), self.n.shape)
        if self._a is None or not np.array_equal(a, self._a):
            self._factor(a)
        return a

    # -- products -----------------------------------------------------------
    def solve(self, B, a):
        """``(s_t X_t^T X_t + a_t I)^{-1} b_t`` for every column ``b_t`` of
        ``B`` (d, T); a task with ``a_t <= 0`` gets the minimum-norm solution
        ``pinv(s_t X_t^T X_t + a_t I) b_t``."""
        a = self._ensure(a)
        out = np.empty_like(B, dtype=float)
        f, m = self._feature, self._sample
        if len(f):
            scaled = (B[:, f] / self._D.T).T[:, :, None]
            out[:, f] = ((self._C_inv @ scaled)[..., 0] / self._D).T
        if len(m):
            Bt = B[:, m].T[:, :, None]
            Xt = self._X.transpose(0, 2, 1)
            sm, am = self.s[m, None, None], a[m, None, None]

            def woodbury(R):
                return (R - Xt @ (self._Q @ (self._X @ R))) / am

            Wt = woodbury(Bt)
            if self._refine:
                # one step of iterative refinement: the subtraction in woodbury() loses digits in proportion
                # to s ||X||^2 / a, and the ADMMs' duality gaps read the gradient H w, which amplifies the error
                # by the curvature (measured: a trace-norm ADMM with d > n stalled at a gap of 1e-8, 1e-4 with
                # one feature scaled by 30; 1e-13 and 1e-11 with the step)
                Wt = Wt + woodbury(Bt - sm * (Xt @ (self._X @ Wt)) - am * Wt)
            out[:, m] = Wt[..., 0].T
        for t in self._unpenalised:
            out[:, t] = self._pinv[t] @ B[:, t]
        return out

    def gram_times(self, V):
        """``s_t X_t^T X_t v_t`` for every column ``v_t`` of ``V`` (d, T),
        from ``X_t`` where it has fewer rows than columns, else from the
        Gram matrix."""
        out = np.empty_like(V, dtype=float)
        small, large = self.small, self._large
        if len(small):
            X = self._stack(small)
            Vt = V[:, small].T[:, :, None]
            out[:, small] = (self.s[small, None] * (X.transpose(0, 2, 1) @ (X @ Vt))[..., 0]).T
        if len(large):
            if self._large_grams is None:
                self._large_grams = np.stack([self.gram(t) for t in large])
            out[:, large] = (self._large_grams @ V[:, large].T[:, :, None])[..., 0].T
        return out

    def gram_inverse_sum(self, a, weights):
        """``sum_t weights_t (s_t H_t) (s_t H_t + a_t I)^{-1}``, ``H_t = X_t^T
        X_t``: in the sample form ``X_t^T (X_t X_t^T + (a_t/s_t) I)^{-1} X_t``,
        in the feature form ``s_t H_t D^{-1} C^{-1} D^{-1}`` (no cancellation
        in either)."""
        a = self._ensure(a)
        weights = np.asarray(weights, dtype=float)
        total = np.zeros((self.d, self.d))
        f, m = self._feature, self._sample
        if len(f):
            inverse = self._C_inv / (self._D[:, :, None] * self._D[:, None, :])
            total += np.tensordot(weights[f], self._H @ inverse, axes=1)
        if len(m):
            QX = self._Q @ self._X
            total += np.tensordot(weights[m], self._X.transpose(0, 2, 1) @ QX, axes=1)
        for t in self._unpenalised:
            H = self.gram(t).copy()
            H[np.diag_indices_from(H)] += a[t]
            total += weights[t] * self.gram(t) @ np.linalg.pinv(H, hermitian=True)
        return total
