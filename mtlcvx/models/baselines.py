"""Convex baselines: STL, AllTasks, GroupLasso (L21), TraceNorm, ClusMTL.

Every estimator minimises ``L(W) + penalty`` with the squared loss
``L(W) = sum_t s_t/2 ||y_t - X_t w_t||^2`` (``s_t = 1`` for
``scaling="sum"``, the papers' and MALSAR's convention; ``s_t = 1/n_t``
for ``scaling="mean"``, scikit-learn's); STL, GroupLasso and TraceNorm
also take ``loss="logistic"`` (``sum_t s_t sum_i log(1 + exp(-y_ti
x_ti^T w_t))``, labels in ``{-1, +1}`` or ``{0, 1}``; then ``predict``
gives labels, ``score`` the accuracy, and ``fit_intercept`` must be
False).  The estimator declares nothing
but its reference model: the fast path (the default) is the solver the
dispatcher picks from that model's terms; ``solver="reference"`` solves
the same objective with CVXPY.
"""

import numpy as np

from .. import reference
from .._validation import Integer, Options, Real
from ..data import MultiTaskData
from ..solvers import dispatch, separating_direction
from ..terms import ClusteredPenalty, make_loss
from .base import LinearMultiTaskModel

__all__ = ["STL", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "TwoStageClusMTL", "refuse_separable"]


def refuse_separable(estimator, data, weight="lam"):
    """Raise when an unpenalised logistic loss has no minimiser: a task
    whose labels some direction separates (or quasi-separates, see
    :mod:`mtlcvx.solvers.separation`).  Called with ``weight`` = 0 only."""
    loss = make_loss("logistic")
    for t, (X, y) in enumerate(data):
        if separating_direction(X, loss.signed_labels(y, t)) is not None:
            raise ValueError(
                f"{type(estimator).__name__}: the labels ys[{t}] are separable by a linear function of Xs[{t}], so "
                f"with {weight}=0 the logistic loss has no minimiser (it decreases without bound along the "
                f"separating direction); use {weight} > 0")


class _SquaredLossEstimator(LinearMultiTaskModel):
    _supports_coef_init = True

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if self._logistic and getattr(self, "lam", None) == 0:
            refuse_separable(self, data)

    _hyperparameters = {
        "tol": Real(low=0, low_inclusive=False),
        "max_iter": Integer(low=1),
    }

    def __init__(self, scaling="sum", fit_intercept=True, solver="fast", tol=1e-9, max_iter=20_000):
        self.scaling = scaling
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter


class _RidgeOrElasticNet(_SquaredLossEstimator):
    """Shared by STL and AllTasks: ``lam ||W||_F^2`` or the elastic net
    ``lam (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_F^2)``."""

    pooled = False
    _hyperparameters = {"lam": Real(low=0), "penalty": Options("l2", "elasticnet"), "l1_ratio": Real(0, 1)}

    def __init__(self, lam=1.0, penalty="l2", l1_ratio=0.5, scaling="sum", fit_intercept=True,
                 solver="fast", tol=1e-9, max_iter=20_000):
        self.lam = lam
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _reference_model(self, data):
        return self._penalized(data, self.pooled, self.scaling)

    def _penalized(self, data, pooled, scaling):
        build = reference.ridge if self.penalty == "l2" else reference.elastic_net
        return build(data, loss=getattr(self, "loss", "squared"), scaling=scaling, pooled=pooled)

    def _reference_params(self):
        if self.penalty == "l2":
            return {"lam": float(self.lam)}
        return {"lam1": float(self.lam * self.l1_ratio), "lam2": float(self.lam * (1.0 - self.l1_ratio))}


class STL(_RidgeOrElasticNet):
    """Single-task learning: each task on its own.

    Objective (``penalty="l2"``)::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam ||W||_F^2

    and (``penalty="elasticnet"``, the STL baseline of the SG-MTL paper)::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_F^2)

    Fast path: ridge in closed form, per task; elastic net by working sets
    and accelerated proximal gradient stopped on the duality gap.

    Parameters
    ----------
    lam : float >= 0, default=1.0
        At 0, least squares (minimum norm where ``n < d``); with
        ``loss="logistic"``, labels that a linear function separates (no
        minimiser) are refused.
    penalty : {"l2", "elasticnet"}
    l1_ratio : float in [0, 1], default=0.5
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=True
    solver : {"fast", "reference"}
    tol : float, default=1e-9
        Relative duality gap at which the elastic-net solver stops (the
        relative gradient-mapping norm with the logistic loss).
    max_iter : int, default=20000
    loss : {"squared", "logistic"}, default="squared"
        ``penalty="elasticnet", l1_ratio=1`` with the logistic loss is the
        l1-penalised logistic regression of each task.
    """

    _hyperparameters = {"loss": Options("squared", "logistic")}

    def __init__(self, lam=1.0, penalty="l2", l1_ratio=0.5, scaling="sum", fit_intercept=True, solver="fast",
                 tol=1e-9, max_iter=20_000, loss="squared"):
        super().__init__(lam, penalty, l1_ratio, scaling, fit_intercept, solver, tol, max_iter)
        self.loss = loss


class AllTasks(_RidgeOrElasticNet):
    """One model for all tasks: ``W = w 1^T``.

    Objective (``penalty="l2"``)::

        sum_t s_t/2 ||y_t - X_t w||^2 + lam ||w||_2^2

    and the elastic net as in :class:`STL`, on the single shared ``w``.
    ``coef_`` still has one (identical) column per task; with
    ``fit_intercept=True`` each task keeps its own intercept.  The reference
    constrains ``W`` to equal columns; the fast path solves the pooled
    single-task problem.
    """

    pooled = True
    # the pooled single-task problem has one column, not W
    _supports_coef_init = False

    def _fit_weights(self, data):
        if self.solver == "reference":
            return super()._fit_weights(data)
        # Pooling with per-task weights s_t = scaling each task's rows by
        # sqrt(s_t) and solving one unweighted single-task problem.
        s = make_loss("squared", self.scaling).task_weights(data)
        X = np.vstack([np.sqrt(s_t) * X for s_t, X in zip(s, data.Xs)])
        y = np.concatenate([np.sqrt(s_t) * y for s_t, y in zip(s, data.ys)])
        pooled = self._penalized(MultiTaskData([X], [y]), pooled=False, scaling="sum")
        variables, info = dispatch.solve(pooled.numeric(**self._reference_params()), **self._solver_options())
        self.n_iter_, self.solver_info_ = info.n_iter, info
        return np.repeat(variables["W"], data.n_tasks, axis=1)


class _NormPenalized(_SquaredLossEstimator):
    """``L(W) + lam Omega(W)`` for the norm of the reference ``builder``."""

    builder = None
    _hyperparameters = {"lam": Real(low=0), "loss": Options("squared", "logistic")}

    def __init__(self, lam=1.0, scaling="sum", fit_intercept=True, solver="fast", tol=1e-9, max_iter=20_000,
                 loss="squared"):
        self.lam = lam
        self.loss = loss
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _reference_model(self, data):
        return type(self).builder(data, loss=self.loss, scaling=self.scaling)

    def _reference_params(self):
        return {"lam": float(self.lam)}


class GroupLasso(_NormPenalized):
    """Multi-task group lasso (L21; Obozinski et al. 2010, MALSAR
    ``Least_L21``): features selected jointly across tasks.

    Objective::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam sum_j ||W_j||_2

    (``W_j`` the j-th row).  With ``scaling="mean"`` and one shared ``X`` this
    is scikit-learn's ``MultiTaskLasso(alpha=lam)`` objective.

    Fast path (squared loss): block coordinate descent on working sets
    (:mod:`mtlcvx.solvers.block_cd`): each row of ``W`` minimised exactly
    with the others fixed (per-task curvatures, so any feature scaling),
    Gap Safe screening, Anderson extrapolation, compiled sweeps; stopped
    when the relative duality gap of the whole problem, from the rescaled
    residual as in scikit-learn's multi-task coordinate descent, is below
    ``tol``.  Features whose curvatures spread over more than 1e6 go to
    accelerated proximal gradient on working sets in the Jacobi row metric
    (:mod:`mtlcvx.solvers.composite`), whose duality gap has the dual point
    such features need.  ``lam = 0`` is least squares in closed form
    (minimum norm where ``n < d``).  A shared ``X`` (``[X] * T``) is
    detected by identity and stored once; per-task designs are read in
    place, without padding.  The logistic loss goes to accelerated
    proximal gradient.

    Parameters
    ----------
    lam : float >= 0, default=1.0
        As :class:`STL`'s at 0.
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=True
    solver : {"fast", "reference"}
    tol : float, default=1e-9
        Relative duality gap (squared loss) or relative gradient-mapping
        norm (logistic loss) at which the solver stops.
    max_iter : int, default=20000
    loss : {"squared", "logistic"}, default="squared"
    """

    builder = staticmethod(reference.group_lasso)


class TraceNorm(_NormPenalized):
    """Trace-norm regularised MTL (low-rank ``W``; MALSAR ``Least_Trace``).

    Objective::

        sum_t s_t/2 ||y_t - X_t w_t||^2 + lam ||W||_*

    Fast path: accelerated proximal gradient with singular-value
    thresholding, stopped on the relative duality gap (dual point: the
    residual rescaled so that the spectral norm of ``[X_t^T theta_t]_t`` is at
    most ``lam``).  No diagonal scaling leaves the trace norm invariant, so
    on badly scaled features (curvatures spread over more than
    :data:`~mtlcvx.solvers.composite.ADMM_SPREAD`) the ADMM of
    :func:`~mtlcvx.solvers.admm_scaled_group_norms` runs instead, its exact
    per-task solves absorbing the scales.

    Parameters as :class:`GroupLasso`.
    """

    builder = staticmethod(reference.trace_norm)


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
    accelerated gradient with restart runs on it in the Jacobi row metric
    (the loss's curvature per feature plus the penalty's ``2c / eta``, so
    badly scaled features do not stall it), stopped when the gradient norm
    relative to ``||grad L(0)||`` (scale-free) is below ``tol``.
    ``M_`` holds ``M*(coef_)``.

    Parameters
    ----------
    n_clusters : int, default=2
        ``k``, between 1 and the number of tasks.
    rho1, rho2 : float > 0, default=1.0
    scaling, fit_intercept, solver, tol, max_iter : as :class:`GroupLasso`
    """

    _hyperparameters = {
        "n_clusters": Integer(low=1, high="n_tasks"),
        "rho1": Real(low=0, low_inclusive=False),
        "rho2": Real(low=0, low_inclusive=False),
    }

    def __init__(self, n_clusters=2, rho1=1.0, rho2=1.0, scaling="sum", fit_intercept=True,
                 solver="fast", tol=1e-9, max_iter=20_000):
        self.n_clusters = n_clusters
        self.rho1 = rho1
        self.rho2 = rho2
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    def _reference_model(self, data):
        return reference.clustered(data, self.n_clusters, scaling=self.scaling)

    def _reference_params(self):
        return {"rho1": float(self.rho1), "rho2": float(self.rho2)}

    def _fit_weights(self, data):
        W = super()._fit_weights(data)
        if self.solver == "reference":
            self.M_ = self.reference_result_["M"]
        else:
            _, eta = ClusteredPenalty.weights(self.rho1, self.rho2)
            Q, lam, _ = ClusteredPenalty(self.n_clusters, eta).optimal_M_spectrum(W)
            self.M_ = (Q * lam) @ Q.T
        return W


class TwoStageClusMTL(LinearMultiTaskModel):
    """The "ClusMTL" baseline of the SG-MTL paper (Section 5): a two-stage
    heuristic, not an optimisation problem.

    1. single-task elastic net (:class:`STL` with ``penalty="elasticnet"``,
       weights ``stl_lam``, ``l1_ratio``);
    2. k-means (scikit-learn, ``n_init=10``) on the task weight vectors
       (columns of ``W``) into ``n_clusters`` clusters;
    3. a multi-task lasso (:class:`GroupLasso`, weight ``lam``) on each
       cluster.

    ``labels_`` holds the clusters.  There is no joint objective, so
    ``objective`` and the reference model are not available.
    """

    _hyperparameters = {
        "n_clusters": Integer(low=1, high="n_tasks"),
        "lam": Real(low=0),
        "stl_lam": Real(low=0),
        "l1_ratio": Real(0, 1),
    }

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

    def _reference_model(self, data):
        raise NotImplementedError("TwoStageClusMTL is a heuristic with no joint objective, hence no reference model")

    def objective(self, Xs, ys=None):
        raise NotImplementedError("TwoStageClusMTL is a heuristic with no joint objective")
