"""Reference models of the convex baselines.

Each builder declares the loss plus hyperparameter-weighted penalties, the
hyperparameters as DPP parameters:

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

from .._validation import check_bool, check_loss, check_scalar_param
from ..data import as_multitask_data
from ..terms import L1, L21, ClusteredPenalty, EqualColumns, NuclearNorm, SquaredFrobenius
from .base import Derived, Entry, Parameter, ReferenceModel

__all__ = ["PenalizedModel", "ClusteredModel", "ridge", "elastic_net", "group_lasso", "trace_norm", "clustered"]


class PenalizedModel(ReferenceModel):
    """``min_W L(W) + sum_k lam_k Omega_k(W)``: one nonnegative DPP
    parameter per penalty, named by the keys of ``penalties``.

    Parameters
    ----------
    data : MultiTaskData
    penalties : dict
        ``{parameter name: Penalty}``.
    loss : {"squared", "logistic"} or a loss term
    scaling : {"sum", "mean"}
        Loss scaling, see :class:`mtlcvx.terms.SquaredLoss`.
    pooled : bool
        Fit one weight vector shared by every task (``W = w 1^T``): the
        variable ``W`` is constrained to equal columns and each penalty sees
        ``w``, through the weight ``lam_k / T`` on ``Omega_k(W) = T
        Omega_k(w)`` (the penalties here are sums over columns).  At a
        ``W`` whose columns differ, :meth:`objective_at` returns ``inf``.
    """

    def __init__(self, data, penalties, loss="squared", scaling="sum", pooled=False):
        data = as_multitask_data(data)
        check_loss(loss, scaling)
        # a string such as "no" is truthy: it would build the pooled model
        pooled = check_bool(pooled, "pooled")
        self.penalties = dict(penalties)
        self.pooled = pooled
        T = data.n_tasks
        parameters = [Parameter(name, doc=f"weight of {term!r}") for name, term in self.penalties.items()]
        if pooled:
            derived = [Derived(f"{name}_per_task", _divide_by(name, T), (name,), vjp=_divide_by_vjp(name, T))
                       for name in self.penalties]
            terms = [(f"{name}_per_task", term, "W") for name, term in self.penalties.items()]
            constraints = [(EqualColumns(), "W")]
        else:
            derived, constraints = [], []
            terms = [(name, term, "W") for name, term in self.penalties.items()]
        super().__init__(data, ["W"], loss, terms=terms, parameters=parameters, derived=derived,
                         constraints=constraints, scaling=scaling)


def _divide_by(name, T):
    return lambda values: values[name] / T


def _divide_by_vjp(name, T):
    return lambda values, cotangent: {name: float(cotangent) / T}


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

    Parameters ``rho1 > 0`` and ``rho2 > 0``; ``result["M"]`` holds the
    optimal ``M``.  The declaration is ``c * ClusteredPenalty(k)(W;
    eta)`` with ``c = rho1 eta (1 + eta)``, what ``objective_at`` evaluates
    (the penalty's closed form).

    DPP: ``c * matrix_frac(W^T, eta I + M)`` multiplies a parameter by a
    parameter-dependent expression, which is not DPP.  The CVXPY build
    (:meth:`_entry_cvx`) therefore optimises over ``Mt = M / c``, using ``c
    tr(W (eta I + M)^{-1} W^T) = tr(W (a I + Mt)^{-1} W^T)`` with ``a = eta
    / c = 1 / (rho1 + rho2)`` and the constraints ``tr Mt = k b``, ``0 <= Mt
    <= b I``, ``b = 1 / c = rho1 / (rho2 (rho1 + rho2))``: every parameter
    enters affinely.
    """

    def __init__(self, data, n_clusters, loss="squared", scaling="sum"):
        data = as_multitask_data(data)
        check_loss(loss, scaling)
        # the convex relaxation takes any real k in (0, T] (tr M = k)
        check_scalar_param(n_clusters, "n_clusters", low=0, high=data.n_tasks, low_inclusive=False)
        self.n_clusters = n_clusters
        rhos = ("rho1", "rho2")
        super().__init__(
            data, ["W"], loss,
            terms=[Entry("c", ClusteredPenalty(n_clusters), "W", {"eta": "eta"})],
            parameters=[Parameter("rho1", positive=True), Parameter("rho2", positive=True)],
            derived=[
                Derived("c", lambda v: ClusteredPenalty.weights(v["rho1"], v["rho2"])[0], rhos, positive=True),
                Derived("eta", lambda v: v["rho2"] / v["rho1"], rhos, positive=True),
                Derived("a", lambda v: 1.0 / (v["rho1"] + v["rho2"]), rhos, positive=True, vjp=_a_vjp),
                Derived("b", lambda v: v["rho1"] / (v["rho2"] * (v["rho1"] + v["rho2"])), rhos, positive=True,
                        vjp=_b_vjp),
            ],
            scaling=scaling,
        )

    def _entry_cvx(self, entry, W, factor=1.0):
        # the scaling factor f folds into a and b: f tr(W (a I + Mt)^{-1}
        # W^T) = tr(W (a/f I + Mt/f)^{-1} W^T), over Mt/f; the semidefinite
        # block stays of unit size when the weights are extreme
        T = W.shape[1]
        a, b = self.cp_parameter("a") / factor, self.cp_parameter("b") / factor
        self._b = b
        self._Mt = cp.Variable((T, T), symmetric=True, name="Mt")
        constraints = [cp.trace(self._Mt) == self.n_clusters * b, self._Mt >> 0, b * np.eye(T) - self._Mt >> 0]
        return cp.matrix_frac(W.T, a * np.eye(T) + self._Mt), constraints

    @property
    def uses_sdp(self):
        return True

    def _fill_result(self, result):
        super()._fill_result(result)
        result.variables["M"] = np.array(self._Mt.value, dtype=float) / self._b.value


def _a_vjp(values, cotangent):
    # a = 1 / (rho1 + rho2)
    g = -float(cotangent) / (values["rho1"] + values["rho2"]) ** 2
    return {"rho1": g, "rho2": g}


def _b_vjp(values, cotangent):
    # b = rho1 / (rho2 (rho1 + rho2))
    r1, r2 = values["rho1"], values["rho2"]
    denominator = (r2 * (r1 + r2)) ** 2
    return {"rho1": float(cotangent) * r2**2 / denominator,
            "rho2": -float(cotangent) * r1 * (r1 + 2.0 * r2) / denominator}


def clustered(data, n_clusters, loss="squared", scaling="sum"):
    """Clustered MTL (convex relaxation); parameters ``rho1``, ``rho2``.
    See :class:`ClusteredModel`."""
    return ClusteredModel(data, n_clusters, loss, scaling)
