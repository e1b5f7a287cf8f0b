"""BiGMTL's hypergradient: Algorithm 1 (reverse mode through the dual
solver), implicit differentiation of the CVXPY reference, and of the
ADMM's fixed point."""

import numpy as np

from ..solvers.admm import admm_scaled_group_norms, column_scaled_fixed_point_vjp
from ..solvers.bregman import TraceGroupsDual
from ..terms import SquaredLoss
from .._validation import check_loss, check_option, check_scalar_param
from ..data import _as_numeric_array
from ._common import _positive, check_n_groups, check_split, validation_error

__all__ = ["BiGMTLHypergradient", "bigmtl_hypergradient"]

METHODS = ("reverse", "implicit", "fixed-point")


class BiGMTLHypergradient:
    """The BiGMTL upper objective and its hypergradient on a fixed split:
    training data for the lower level (3)-(4), validation data for the
    error (2).  Keeps what does not change with ``theta`` (the per-task
    systems of the dual solver, the compiled reference model), so an outer
    loop calls it repeatedly at little cost.

    Parameters
    ----------
    train, val : MultiTaskData
        The same tasks and features.
    n_groups : int
        ``L``.
    eps : float > 0
        The lower level's ridge (eq. 4).
    scaling : {"sum", "mean"}
        The lower level's loss scaling (the paper's is ``"sum"``); the
        validation error is always the sum (eq. 2).
    """

    def __init__(self, train, val, n_groups, eps=1e-3, scaling="sum"):
        self.train, self.val = check_split(train, val)
        self.n_groups = check_n_groups(n_groups, self.train.n_tasks)
        self.eps = _positive(eps, "eps")
        check_loss("squared", scaling)
        self.scaling = scaling
        self.lower = TraceGroupsDual(self.train.Xs, self.train.ys, self.eps,
                                     SquaredLoss(scaling).task_weights(self.train))
        self._reference = None
        self._last_W = None

    def check_theta(self, theta):
        theta = _as_numeric_array(theta, "theta", copy=False)
        expected = (self.train.n_tasks, self.n_groups)
        if theta.shape != expected:
            raise ValueError(f"theta must have shape (n_tasks, n_groups) = {expected}, got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite")
        # the dual step eps / (2 lam) converges for ||A_theta||^2 < 2, and on
        # Theta ||A_theta||^2 = max_t sum_l theta_tl^2 <= 1
        if np.max(np.sum(theta**2, axis=1)) >= 2.0:
            raise ValueError("theta's rows must have sum of squares < 2 (on Theta, rows on the simplex, it is "
                             "at most 1): the dual solver's step assumes it")
        return theta

    @staticmethod
    def _check_n_inner(n_inner):
        return int(check_scalar_param(n_inner, "n_inner", low=0, integer=True))

    def _check_U0(self, U0):
        if U0 is None:
            return None
        U0 = _as_numeric_array(U0, "U0", copy=False)
        expected = (self.n_groups, self.train.n_features, self.train.n_tasks)
        if U0.shape != expected:
            raise ValueError(f"U0 must have shape (n_groups, n_features, n_tasks) = {expected}, got {U0.shape}")
        return U0

    def reverse(self, theta, lam, n_inner, U0=None):
        """``(value, gradient, U^Q)`` by Algorithm 1 through ``n_inner``
        iterations from ``U0`` (zero by default; a warm restart otherwise)."""
        theta, lam = self.check_theta(theta), _positive(lam, "lam")
        n_inner = self._check_n_inner(n_inner)
        W, U, tape = self.lower.forward(theta, lam, n_inner, U0=self._check_U0(U0), record=True)
        value, G = validation_error(W, self.val)
        return value, self.lower.reverse(tape, theta, lam, G), U

    def implicit(self, theta, lam, solver_opts=None):
        """``(value, gradient)`` by implicit differentiation of the CVXPY
        reference at its optimum."""
        theta, lam = self.check_theta(theta), _positive(lam, "lam")
        if np.any(theta < 0):
            raise ValueError("theta must be >= 0 for the reference model")
        result = self._declaration().solve(theta=theta, lam=lam, eps=self.eps, requires_grad=True,
                                       solver_opts=solver_opts)
        value, G = validation_error(result.W, self.val)
        return value, result.backward(W=G)["theta"]

    def _declaration(self):
        from ..reference import bigmtl_lower

        if self._reference is None:
            self._reference = bigmtl_lower(self.train, self.n_groups, self.scaling)
        return self._reference

    def solve(self, theta, lam, tol=1e-10, keep_state=False):
        """The lower-level optimum by the ADMM (exact, certified by a
        relative duality gap ``tol``), warm-started at the previous call's
        solution, with its final state on request."""
        theta, lam = self.check_theta(theta), _positive(lam, "lam")
        if np.any(theta < 0):
            raise ValueError("theta must be >= 0 for the exact lower-level solver")
        objective = self._declaration().numeric(theta=theta, lam=lam, eps=self.eps)
        (ridge, _), (penalty, _) = objective.penalties
        start = np.zeros(self.lower.shape) if self._last_W is None else self._last_W
        W, info = admm_scaled_group_norms(objective.datafit, penalty, start, ridge=ridge.weight,
                                          tol=tol, max_iter=100_000, keep_state=keep_state)
        self._last_W = W
        return W, info, penalty, ridge.weight

    def fixed_point(self, theta, lam, tol=1e-10, max_products=20_000, warn=True):
        """``(value, gradient)`` by implicit differentiation of the ADMM's
        fixed point at the exact lower-level optimum, in numpy
        (:func:`mtlcvx.solvers.admm.column_scaled_fixed_point_vjp`): the
        lower level solved to a relative gap ``tol``, the adjoint system
        until the gradient changes by less than ``10 tol``.

        Where an entry ``theta_tl`` is 0 and the group ``l`` holds other
        tasks, the solution map is not differentiable in that entry (its
        one-sided derivatives differ: measured), and no method's value
        there is a gradient; on the entries > 0 it is (tested against
        finite differences)."""
        W, info, penalty, ridge = self.solve(theta, lam, tol, keep_state=True)
        value, G = validation_error(W, self.val)
        P_bar, _ = column_scaled_fixed_point_vjp(self._declaration().datafit, penalty, ridge, info.state, G,
                                                 tol=10 * tol, max_iter=max_products, warn=warn)
        # P = lam theta^T
        return value, lam * P_bar.T

    def value(self, theta, lam, n_inner, U0=None):
        """The unrolled objective ``U^(Q)(theta) = C(W^(Q)(theta))``."""
        theta, lam = self.check_theta(theta), _positive(lam, "lam")
        W, _, _ = self.lower.forward(theta, lam, self._check_n_inner(n_inner), U0=self._check_U0(U0))
        return validation_error(W, self.val)[0]


def bigmtl_hypergradient(train, val, theta, lam, eps=1e-3, n_inner=500, method="reverse", U0=None,
                         solver_opts=None):
    """The BiGMTL validation error and its gradient with respect to ``theta``.

    Parameters
    ----------
    train, val : MultiTaskData
    theta : ndarray (n_tasks, n_groups)
        The group structure (rows on the simplex for Theta).
    lam : float > 0
    eps : float > 0
    n_inner : int
        ``Q``, iterations of the dual solver (``method="reverse"``).
    method : {"reverse", "implicit", "fixed-point"}
        Algorithm 1 (the exact gradient of the unrolled objective, which
        tends to the true hypergradient as ``Q`` grows); implicit
        differentiation of the CVXPY reference (needs ``diffcp``); or
        implicit differentiation of the ADMM's fixed point in numpy (the
        true hypergradient, to ``1e-10``, and the fastest).
    U0 : ndarray (n_groups, n_features, n_tasks), optional
        Warm start of the dual solver (reverse only).

    Returns
    -------
    value : float
        ``C(W)`` at the lower-level solution (``W^(Q)`` for reverse).
    gradient : ndarray of theta's shape
    """
    check_option(method, "method", METHODS)
    theta = _as_numeric_array(theta, "theta", copy=False)
    if theta.ndim != 2:
        # its columns are the groups: n_groups is read from it
        raise ValueError(f"theta must be 2-D (n_tasks, n_groups), got shape {theta.shape}")
    hyper = BiGMTLHypergradient(train, val, theta.shape[1], eps)
    if method == "implicit":
        return hyper.implicit(theta, lam, solver_opts)
    if method == "fixed-point":
        return hyper.fixed_point(theta, lam)
    value, gradient, _ = hyper.reverse(theta, lam, n_inner, U0)
    return value, gradient
