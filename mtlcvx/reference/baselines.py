"""Reference models of the convex baselines.

Each builder returns a model whose objective is the loss plus
hyperparameter-weighted penalties, with the hyperparameters as DPP
parameters:

=================  ==========================================================
builder            objective (``L`` = loss term, see :mod:`mtlcvx.terms`)
=================  ==========================================================
``ridge``          ``L(W) + lam ||W||_F^2`` (per task; ``pooled=True``: one
                   column ``w`` shared by all tasks, ``W = w 1^T``)
``elastic_net``    ``L(W) + lam1 ||W||_1 + lam2 ||W||_F^2``
``group_lasso``    ``L(W) + lam ||W||_{2,1}``
``trace_norm``     ``L(W) + lam ||W||_*``
``clustered``      ``L(W) + rho1 eta (1 + eta) Omega_k(W)``, ``eta = rho2/rho1``
=================  ==========================================================
"""

import cvxpy as cp
import numpy as np

from ..terms import L1, L21, ClusteredPenalty, NuclearNorm, SquaredFrobenius, make_loss
from ..data import as_multitask_data
from .base import ReferenceModel

__all__ = ["PenalizedModel", "ClusteredModel", "ridge", "elastic_net", "group_lasso", "trace_norm", "clustered"]


class PenalizedModel(ReferenceModel):
    """``min_W L(W) + sum_k lam_k Omega_k(W)``: one nonnegative DPP
    parameter per penalty.

    Parameters
    ----------
    data : MultiTaskData
    penalties : dict
        ``{parameter name: Penalty}``.
    loss : {"squared", "logistic"} or a loss term
    scaling : {"sum", "mean"}
        Loss scaling, see :class:`mtlcvx.terms.SquaredLoss`.
    pooled : bool
        Fit one weight vector shared by every task (``W = w 1^T``).  At a
        ``W`` whose columns differ, :meth:`objective_at` returns ``inf``
        (the candidate is infeasible).
    """

    def __init__(self, data, penalties, loss="squared", scaling="sum", pooled=False):
        self.loss = make_loss(loss, scaling)
        self.penalties = dict(penalties)
        self.pooled = pooled
        super().__init__(data)
        self.uses_sdp = any(isinstance(p, NuclearNorm) for p in self.penalties.values())

    def _build(self):
        d, T = self.data.n_features, self.data.n_tasks
        if self.pooled:
            w = cp.Variable((d, 1), name="w")
            self.W_var = w @ np.ones((1, T))
            variable = w
        else:
            self.W_var = variable = cp.Variable((d, T), name="W")
        objective = self.loss.expr(self.W_var, self.data)
        constraints = []
        for name, penalty in self.penalties.items():
            lam = self._parameter(name, doc=f"weight of {penalty!r}")
            expression, extra = penalty.cvx(variable)
            objective = objective + lam * expression
            constraints += extra
        return objective, constraints

    def _objective_numpy(self, W, params):
        if self.pooled:
            if not np.allclose(W, W[:, :1], rtol=0, atol=1e-12 * max(1.0, np.abs(W).max())):
                return np.inf
            variable = W[:, :1]
        else:
            variable = W
        value = self.loss.value(W, self.data)
        for name, penalty in self.penalties.items():
            value += params[name] * penalty.value(variable)
        return value


def ridge(data, loss="squared", scaling="sum", pooled=False):
    """Ridge: ``L(W) + lam ||W||_F^2``; parameter ``lam``.

    With ``pooled=True`` all tasks share one ``w`` (the AllTasks baseline),
    and the penalty is ``lam ||w||_2^2``."""
    return PenalizedModel(data, {"lam": SquaredFrobenius()}, loss, scaling, pooled)


def elastic_net(data, loss="squared", scaling="sum", pooled=False):
    """Elastic net: ``L(W) + lam1 ||W||_1 + lam2 ||W||_F^2``; parameters
    ``lam1``, ``lam2``."""
    return PenalizedModel(data, {"lam1": L1(), "lam2": SquaredFrobenius()}, loss, scaling, pooled)


def group_lasso(data, loss="squared", scaling="sum"):
    """L21 group lasso: ``L(W) + lam sum_j ||W_j||_2`` (rows = features
    across tasks); parameter ``lam``."""
    return PenalizedModel(data, {"lam": L21()}, loss, scaling)


def trace_norm(data, loss="squared", scaling="sum"):
    """Trace-norm MTL: ``L(W) + lam ||W||_*``; parameter ``lam``.
    Semidefinite: the default solver is SCS."""
    return PenalizedModel(data, {"lam": NuclearNorm()}, loss, scaling)


class ClusteredModel(ReferenceModel):
    r"""Convex clustered MTL (Jacob, Bach, Vert 2009; MALSAR ``CMTL``):

    .. math::

        \min_{W, M} L(W) + \rho_1 \eta (1 + \eta)
        \operatorname{tr}\big(W (\eta I + M)^{-1} W^T\big)
        \ \text{s.t.}\ \operatorname{tr} M = k,\ 0 \preceq M \preceq I,
        \qquad \eta = \rho_2 / \rho_1.

    Parameters ``rho1 > 0`` and ``rho2 > 0``; ``result.variables["M"]``
    holds the optimal ``M``.

    DPP: ``c * matrix_frac(W^T, eta I + M)`` with ``c = rho1 eta (1+eta)``
    multiplies a parameter by a parameter-dependent expression, which is
    not DPP.  The model therefore optimises over ``Mt = M / c``, using
    ``c tr(W (eta I + M)^{-1} W^T) = tr(W (a I + Mt)^{-1} W^T)`` with
    ``a = eta / c`` and the constraints ``tr Mt = k b``, ``0 <= Mt <= b I``,
    ``b = 1 / c``: every parameter now enters affinely.  ``a`` and ``b`` are
    set from ``rho1``, ``rho2`` at each solve.
    """

    uses_sdp = True

    def __init__(self, data, n_clusters, loss="squared", scaling="sum"):
        self.loss = make_loss(loss, scaling)
        ClusteredPenalty(n_clusters, 1.0)._check_tasks(as_multitask_data(data).n_tasks)
        self.n_clusters = n_clusters
        super().__init__(data)

    def _build(self):
        d, T = self.data.n_features, self.data.n_tasks
        self._parameter("rho1", positive=True, direct=False)
        self._parameter("rho2", positive=True, direct=False)
        self._a = cp.Parameter(pos=True, name="a")
        self._b = cp.Parameter(pos=True, name="b")
        self.W_var = cp.Variable((d, T), name="W")
        self._Mt = cp.Variable((T, T), symmetric=True, name="Mt")
        constraints = [
            cp.trace(self._Mt) == self.n_clusters * self._b,
            self._Mt >> 0,
            self._b * np.eye(T) - self._Mt >> 0,
        ]
        penalty = cp.matrix_frac(self.W_var.T, self._a * np.eye(T) + self._Mt)
        return self.loss.expr(self.W_var, self.data) + penalty, constraints

    def _bind(self, params):
        c, eta = ClusteredPenalty.weights(params["rho1"], params["rho2"])
        self._a.value, self._b.value = eta / c, 1.0 / c

    def _objective_numpy(self, W, params):
        c, eta = ClusteredPenalty.weights(params["rho1"], params["rho2"])
        return self.loss.value(W, self.data) + c * ClusteredPenalty(self.n_clusters, eta).value(W)

    def _result(self, **fields):
        result = super()._result(**fields)
        result.variables["M"] = np.array(self._Mt.value, dtype=float) / self._b.value
        return result


def clustered(data, n_clusters, loss="squared", scaling="sum"):
    """Clustered MTL (convex relaxation); parameters ``rho1``, ``rho2``.
    See :class:`ClusteredModel`."""
    return ClusteredModel(data, n_clusters, loss, scaling)
