"""Convex baselines: STL, AllTasks, GroupLasso (L21), TraceNorm, ClusMTL.

Every estimator minimises ``L(W) + penalty`` with the squared loss
``L(W) = sum_t s_t/2 ||y_t - X_t w_t||^2`` (``s_t = 1`` for
``scaling="sum"``, the papers' and MALSAR's convention; ``s_t = 1/n_t``
for ``scaling="mean"``, scikit-learn's).  The fast path is the default;
``solver="reference"`` solves the same objective with CVXPY.
"""

import numpy as np

from .. import reference
from ..solvers import (
    BlockLeastSquares,
    accelerated_proximal_gradient,
    ridge_closed_form,
    solve_norm_penalized,
    solve_row_separable,
)
from ..solvers.apg import SolverInfo
from ..terms import L1, L21, ClusteredPenalty, NuclearNorm, make_loss
from .base import MultiTaskEstimator, check_scalar_param

__all__ = ["STL", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "TwoStageClusMTL"]

_PENALTIES = ("l2", "elasticnet")


class _SquaredLossEstimator(MultiTaskEstimator):
    def __init__(self, scaling="sum", fit_intercept=True, solver="fast", tol=1e-9, max_iter=20_000):
        self.scaling = scaling
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def _loss(self):
        return make_loss("squared", self.scaling)

    def _least_squares(self, data):
        return BlockLeastSquares(data.Xs, data.ys, self._loss().task_weights(data))

    def _check_solver_controls(self):
        check_scalar_param(self.tol, "tol", low=0, low_inclusive=False)
        check_scalar_param(self.max_iter, "max_iter", low=1, integer=True)
        if self.scaling not in ("sum", "mean"):
            raise ValueError(f"scaling must be 'sum' or 'mean', got {self.scaling!r}")


class _RidgeOrElasticNet(_SquaredLossEstimator):
    """Shared by STL and AllTasks: ``lam ||W||_F^2`` or the elastic net
    ``lam (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_F^2)``."""

    pooled = False

    def __init__(self, lam=1.0, penalty="l2", l1_ratio=0.5, scaling="sum", fit_intercept=True,
                 solver="fast", tol=1e-9, max_iter=20_000):
        self.lam = lam
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _validate_params(self, data):
        check_scalar_param(self.lam, "lam", low=0)
        if self.penalty not in _PENALTIES:
            raise ValueError(f"penalty must be one of {_PENALTIES}, got {self.penalty!r}")
        if self.penalty == "elasticnet":
            check_scalar_param(self.l1_ratio, "l1_ratio", low=0, high=1)
        self._check_solver_controls()

    def _weights(self):
        if self.penalty == "l2":
            return 0.0, float(self.lam)
        return float(self.lam * self.l1_ratio), float(self.lam * (1.0 - self.l1_ratio))

    def _reference_model(self, data):
        if self.penalty == "l2":
            return reference.ridge(data, scaling=self.scaling, pooled=self.pooled)
        return reference.elastic_net(data, scaling=self.scaling, pooled=self.pooled)

    def _reference_params(self):
        lam1, lam2 = self._weights()
        return {"lam": lam2} if self.penalty == "l2" else {"lam1": lam1, "lam2": lam2}

    def _solve(self, Xs, ys, s):
        """Solve ``sum_t s_t/2 ||y_t - X_t w_t||^2`` plus the penalty."""
        lam1, lam2 = self._weights()
        if self.penalty == "l2":
            W = np.column_stack([ridge_closed_form(X, y, lam2, s_t) for X, y, s_t in zip(Xs, ys, s)])
            return W, SolverInfo(1, True, 0.0, "closed form")
        ls = BlockLeastSquares(Xs, ys, s)
        return solve_row_separable(
            ls, lam1, L1().prox, L1().value, L1.row_dual_norms, np.zeros(ls.shape), lam2=lam2,
            tol=self.tol, max_iter=self.max_iter,
        )


class STL(_RidgeOrElasticNet):
    """Single-task learning: each task on its own.

    Objective (``penalty="l2"``)::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam ||W||_F^2

    and (``penalty="elasticnet"``, the STL baseline of the SG-MTL paper)::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_F^2)

    Fast path: ridge in closed form, per task; elastic net by accelerated
    proximal gradient stopped on the duality gap.

    Parameters
    ----------
    lam : float, default=1.0
    penalty : {"l2", "elasticnet"}
    l1_ratio : float in [0, 1], default=0.5
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=True
    solver : {"fast", "reference"}
    tol : float, default=1e-9
        Relative duality gap at which the elastic-net solver stops.
    max_iter : int, default=20000
    """

    def _fit_fast(self, data):
        return self._solve(data.Xs, data.ys, self._loss().task_weights(data))


class AllTasks(_RidgeOrElasticNet):
    """One model for all tasks: ``W = w 1^T``.

    Objective (``penalty="l2"``)::

        sum_t s_t/2 ||y_t - X_t w||^2 + lam ||w||_2^2

    and the elastic net as in :class:`STL`, on the single shared ``w``.
    ``coef_`` still has one (identical) column per task; with
    ``fit_intercept=True`` each task keeps its own intercept.
    """

    pooled = True

    def _fit_fast(self, data):
        # Pooling with per-task weights s_t = scaling each task's rows by
        # sqrt(s_t) and solving one unweighted single-task problem.
        s = self._loss().task_weights(data)
        X = np.vstack([np.sqrt(s_t) * X for s_t, X in zip(s, data.Xs)])
        y = np.concatenate([np.sqrt(s_t) * y for s_t, y in zip(s, data.ys)])
        w, info = self._solve([X], [y], np.ones(1))
        return np.repeat(w, data.n_tasks, axis=1), info


class _NormPenalized(_SquaredLossEstimator):
    """``L(W) + lam Omega(W)`` for a norm ``Omega`` (class attribute)."""

    norm = None

    def __init__(self, lam=1.0, scaling="sum", fit_intercept=True, solver="fast", tol=1e-9, max_iter=20_000):
        self.lam = lam
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _validate_params(self, data):
        check_scalar_param(self.lam, "lam", low=0)
        self._check_solver_controls()

    def _reference_params(self):
        return {"lam": float(self.lam)}

    def _fit_fast(self, data):
        ls = self._least_squares(data)
        norm = self.norm
        W0 = np.zeros((data.n_features, data.n_tasks))
        if hasattr(norm, "row_dual_norms"):
            return solve_row_separable(
                ls, float(self.lam), norm.prox, norm.value, norm.row_dual_norms, W0,
                tol=self.tol, max_iter=self.max_iter,
            )
        return solve_norm_penalized(
            ls, float(self.lam), norm.prox, norm.value, norm.dual_norm, W0,
            tol=self.tol, max_iter=self.max_iter,
        )


class GroupLasso(_NormPenalized):
    """Multi-task group lasso (L21; Obozinski et al. 2010, MALSAR
    ``Least_L21``): features selected jointly across tasks.

    Objective::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam sum_j ||W_j||_2

    (``W_j`` the j-th row).  With ``scaling="mean"`` and one shared ``X`` this
    is scikit-learn's ``MultiTaskLasso(alpha=lam)`` objective.

    Fast path: accelerated proximal gradient with restart (block
    soft-thresholding of rows), stopped when the relative duality gap, from
    the rescaled residual as in scikit-learn's multi-task coordinate
    descent, is below ``tol``.  A shared ``X`` is detected and used once
    (its Gram matrix when ``n >= d``).

    Parameters
    ----------
    lam : float, default=1.0
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=True
    solver : {"fast", "reference"}
    tol : float, default=1e-9
    max_iter : int, default=20000
    """

    norm = L21()

    def _reference_model(self, data):
        return reference.group_lasso(data, scaling=self.scaling)


class TraceNorm(_NormPenalized):
    """Trace-norm regularised MTL (low-rank ``W``; MALSAR ``Least_Trace``).

    Objective::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam ||W||_*

    Fast path: accelerated proximal gradient with singular-value
    thresholding, stopped on the relative duality gap (dual point: the
    residual rescaled so that the spectral norm of ``[X_t^T theta_t]_t`` is at
    most ``lam``).

    Parameters as :class:`GroupLasso`.
    """

    norm = NuclearNorm()

    def _reference_model(self, data):
        return reference.trace_norm(data, scaling=self.scaling)


class ClusMTL(_SquaredLossEstimator):
    r"""Clustered multi-task learning, convex relaxation (Jacob, Bach and
    Vert, NIPS 2009; MALSAR ``CMTL``).

    Objective::

        min_{W, M} sum_t s_t/2 ||y_t - X_t w_t||^2 + rho1 eta (1 + eta) tr(W (eta I + M)^{-1} W^T)
        s.t. tr(M) = k, 0 <= M <= I,        eta = rho2 / rho1

    (``k = n_clusters``).  Note: the SG-MTL paper's "ClusMTL" baseline is a
    different, two-stage heuristic (k-means on STL weights, then a
    multi-task lasso per cluster); this is the convex method of Jacob et al.

    Fast path: the alternating scheme, accelerated.  For fixed ``W`` the
    best ``M`` has a closed form (:class:`~mtlcvx.terms.ClusteredPenalty`:
    eigenvectors of ``W^T W``, eigenvalues by a capped-simplex water
    filling); with ``M`` eliminated the objective is smooth in ``W`` with
    gradient ``grad L(W) + 2 c W (eta I + M*(W))^{-1}`` (Danskin), and
    accelerated gradient with restart runs on it, stopped when the
    gradient norm relative to ``max(1, ||grad(0)||)`` is below ``tol``.
    ``M_`` holds ``M*(coef_)``.

    Parameters
    ----------
    n_clusters : int, default=2
        ``k``, between 1 and the number of tasks.
    rho1, rho2 : float > 0, default=1.0
    scaling, fit_intercept, solver, tol, max_iter : as :class:`GroupLasso`
    """

    def __init__(self, n_clusters=2, rho1=1.0, rho2=1.0, scaling="sum", fit_intercept=True,
                 solver="fast", tol=1e-9, max_iter=20_000):
        self.n_clusters = n_clusters
        self.rho1 = rho1
        self.rho2 = rho2
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _validate_params(self, data):
        check_scalar_param(self.n_clusters, "n_clusters", low=1, high=data.n_tasks, integer=True)
        check_scalar_param(self.rho1, "rho1", low=0, low_inclusive=False)
        check_scalar_param(self.rho2, "rho2", low=0, low_inclusive=False)
        self._check_solver_controls()

    def _reference_model(self, data):
        return reference.clustered(data, self.n_clusters, scaling=self.scaling)

    def _reference_params(self):
        return {"rho1": float(self.rho1), "rho2": float(self.rho2)}

    def _fit_fast(self, data):
        ls = self._least_squares(data)
        c, eta = ClusteredPenalty.weights(self.rho1, self.rho2)
        penalty = ClusteredPenalty(self.n_clusters, eta)

        def grad(W):
            return ls.grad(W) + c * penalty.grad(W)

        W, info = accelerated_proximal_gradient(
            grad, lambda V, step: V, np.zeros((data.n_features, data.n_tasks)),
            ls.lipschitz + c * penalty.lipschitz(), tol=self.tol, max_iter=self.max_iter,
        )
        Q, lam, _ = penalty.optimal_M_spectrum(W)
        self.M_ = (Q * lam) @ Q.T
        return W, info

    def _fit_weights(self, data):
        W = super()._fit_weights(data)
        if self.solver == "reference":
            self.M_ = self.reference_result_.variables["M"]
        return W


class TwoStageClusMTL(MultiTaskEstimator):
    """The "ClusMTL" baseline of the SG-MTL paper (Section 5): a two-stage
    heuristic, not an optimisation problem.

    1. single-task elastic net (:class:`STL` with ``penalty="elasticnet"``,
       weights ``stl_lam``, ``l1_ratio``);
    2. k-means (scikit-learn, ``n_init=10``) on the task weight vectors
       (columns of ``W``) into ``n_clusters`` clusters;
    3. a multi-task lasso (:class:`GroupLasso`, weight ``lam``) on each
       cluster.

    ``labels_`` holds the clusters.  There is no joint objective, so
    ``objective`` and ``solver="reference"`` are not available.
    """

    def __init__(self, n_clusters=2, lam=1.0, stl_lam=1.0, l1_ratio=0.5, scaling="sum", fit_intercept=True,
                 solver="fast", random_state=None):
        self.n_clusters = n_clusters
        self.lam = lam
        self.stl_lam = stl_lam
        self.l1_ratio = l1_ratio
        self.scaling = scaling
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.random_state = random_state

    def _validate_params(self, data):
        check_scalar_param(self.n_clusters, "n_clusters", low=1, high=data.n_tasks, integer=True)
        check_scalar_param(self.lam, "lam", low=0)
        check_scalar_param(self.stl_lam, "stl_lam", low=0)
        check_scalar_param(self.l1_ratio, "l1_ratio", low=0, high=1)

    def _fit_weights(self, data):
        from sklearn.cluster import KMeans

        stl = STL(lam=self.stl_lam, penalty="elasticnet", l1_ratio=self.l1_ratio, scaling=self.scaling,
                  fit_intercept=False, solver=self.solver).fit(data)
        km = KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.random_state)
        self.labels_ = km.fit_predict(stl.coef_.T)
        W = np.zeros((data.n_features, data.n_tasks))
        for k in np.unique(self.labels_):
            tasks = np.flatnonzero(self.labels_ == k)
            cluster = GroupLasso(lam=self.lam, scaling=self.scaling, fit_intercept=False, solver=self.solver)
            W[:, tasks] = cluster.fit([data.Xs[t] for t in tasks], [data.ys[t] for t in tasks]).coef_
        return W

    def objective(self, Xs, ys=None):
        raise NotImplementedError("TwoStageClusMTL is a heuristic with no joint objective")
