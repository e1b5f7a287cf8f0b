"""GGMTL's hypergradient (Theorem 1), its outer objective, and the edges
of Theorem 2.

Lower level (:mod:`mtlcvx.reference.ggmtl`, with the reading documented
there): ``W(e) = argmin 1/2 sum_t ||X_t w_t - y_t||^2 + Omega_{lam e}(W)``,
squared (``lam/2 sum_k e_k ||w_i - w_j||^2``) or not (``lam sum_k e_k
||w_i - w_j||``).  Upper level (eq. 4a): ``F(e) = C(W(e)) + xi ||e||^2 +
eta ||e||_1 + gamma H(e)`` on ``[0, 1]^m``, ``C`` the validation error
``1/2 sum_t ||X_t^val w_t - y_t^val||^2`` and ``H(e) = -sum_k (e_k ln e_k
- e_k)``.

**Theorem 1, derived.**  The squared lower level's stationarity is ``A v =
b`` with ``A = blockdiag(X_t^T X_t) + lam L_e kron I_d`` (eq. 12).
Differentiating in ``e_k``: ``A dv/de_k = -lam (B_k kron I_d) v``, ``B_k =
b_k b_k^T`` the Laplacian of edge ``k`` alone.  With ``z = A^{-1} grad_V
C`` (one adjoint solve, ``A`` symmetric):

    dC/de_k = -lam z^T (B_k kron I_d) v = -lam (z_i - z_j)^T (w_i - w_j).

One adjoint solve for all ``m`` edges: the paper's ``(V^T kron I_m)(B^T
kron I_d) A^{-T} X^val,T (X^val V - Y^val)`` is this vector, written with
Kronecker products.  For the non-squared version the same argument on
the (Huber-safeguarded, see :mod:`mtlcvx.solvers.graph`) stationarity
gives ``dC/de_k = -lam (z_i - z_j)^T (w_i - w_j) / ||w_i - w_j||`` with
``z`` solving the Hessian ``blockdiag(X_t^T X_t) + lam sum_k e_k/||d_k||
B_k kron (I - u_k u_k^T)``, ``u_k = d_k / ||d_k||``: the derivative of
the reweighted fixed point (8)-(9), whose Jacobian is this Hessian.

**The regulariser's gradient**: ``2 xi e + eta - gamma ln e`` for ``e >
0``.  The paper prints ``xi e`` (the derivative of ``xi/2 ||e||^2``, not of
its ``xi ||e||^2``) and writes the update (6) as ``e + nu d_e F``, an
ascent step; we descend, ``[e - nu grad F]`` projected on ``[0, 1]``.
"""

import numpy as np

from .._validation import check_bool, check_finite_graph, check_loss, check_option
from ..data import _as_numeric_array, as_multitask_data
from ..solvers.graph import GraphLeastSquares
from ..terms import SquaredLoss
from ..terms.graph import task_edges
from ._common import _positive, check_split, check_weights, validation_error

__all__ = ["GGMTLHypergradient", "ggmtl_hypergradient", "edge_regularizer", "theorem2_edges",
           "edges_from_solution"]

METHODS = ("closed-form", "implicit")


def _check_edges(edges, n_tasks):
    if edges is None:
        raise TypeError("edges must be a list of (i, j) task index pairs, an adjacency matrix or a graph, got None")
    return task_edges(check_finite_graph(edges, "edges"), n_tasks)


def edge_regularizer(e, xi=0.0, eta=0.0, gamma=0.0):
    """``(R(e), grad R(e))`` for ``R = xi ||e||^2 + eta ||e||_1 + gamma
    H(e)``, ``H(e) = -sum (e ln e - e)`` (``0 ln 0 = 0``), on ``e >= 0``.

    ``grad H = -ln e`` is ``+inf`` at ``e = 0`` (with ``gamma > 0``): an edge
    that reached 0 cannot come back, the pruning of Algorithm 1."""
    e = np.asarray(e, dtype=float)
    if np.any(e < 0):
        raise ValueError("edge weights must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.where(e > 0, np.log(np.where(e > 0, e, 1.0)), -np.inf)
        entropy = -np.sum(np.where(e > 0, e * log, 0.0) - e)
        grad_h = np.where(e > 0, -log, np.inf)
    value = xi * float(e @ e) + eta * float(e.sum()) + (gamma * entropy if gamma else 0.0)
    grad = 2 * xi * e + eta + (gamma * grad_h if gamma else 0.0)
    return float(value), grad


class GGMTLHypergradient:
    """The GGMTL validation error and its hypergradient on a fixed split,
    keeping what does not change with the edge weights (the per-task Gram
    matrices, the incidence matrix, the compiled reference) and warm
    starts, so that an outer loop calls it repeatedly at little cost.

    Parameters
    ----------
    train, val : MultiTaskData
        The same tasks and features.
    edges : list of (i, j), adjacency matrix or graph
        Gradient entries follow this order.
    squared : bool
        Eq. (2b) or eq. (7).
    scaling : {"sum", "mean"}
        The lower level's loss scaling (the paper's is ``"sum"``); the
        validation error is always the sum (eq. 2a).
    method : {"auto", "direct", "cg"}
        How the sparse systems are solved
        (:class:`mtlcvx.solvers.GraphLeastSquares`).
    """

    def __init__(self, train, val, edges, squared=True, scaling="sum", method="auto"):
        self.train, self.val = check_split(train, val)
        self.edges = _check_edges(edges, self.train.n_tasks)
        self.squared = check_bool(squared, "squared")
        check_loss("squared", scaling)
        self.scaling = scaling
        self.lower = GraphLeastSquares(self.train.Xs, self.train.ys, self.edges,
                                       SquaredLoss(scaling).task_weights(self.train), method=method)
        self._reference = None
        self._W = None
        self._z = None
        self._last = None  # (e, lam, tol, W, system) of the latest solve
        self.delta = None

    @property
    def n_edges(self):
        return len(self.edges)

    def check_edge_weights(self, edge_weights):
        e = _as_numeric_array(edge_weights, "edge_weights")
        if e.ndim == 0:
            e = np.full(self.n_edges, float(e))
        if e.shape != (self.n_edges,):
            raise ValueError(f"edge_weights must have one entry per edge ({self.n_edges}), got shape {e.shape}")
        if not np.all(np.isfinite(e)) or np.any(e < 0):
            raise ValueError("edge_weights must be finite and >= 0")
        return e

    def solve(self, edge_weights, lam, tol=1e-10):
        """The lower-level solution ``W`` (``d x T``), warm-started at the
        previous call's, and the system its adjoint reuses.  A call at the
        point of the previous one returns its solution: an outer loop's
        line search evaluates the point its gradient is then taken at."""
        e, lam = self.check_edge_weights(edge_weights), _positive(lam, "lam", strict=False)
        last = self._last
        if last is not None and last[1] == lam and last[2] == tol and np.array_equal(last[0], e):
            return last[3], last[4]
        if self.squared:
            W, system = self.lower.solve_squared(lam * e, W0=self._W)
        else:
            W, _, self.delta = self.lower.solve_norm(lam * e, W0=self._W, delta=self.delta, tol=tol)
            system = None
        self._W = W
        self._last = (e.copy(), lam, tol, W, system)
        return W, system

    def __call__(self, edge_weights, lam):
        """``(value, gradient)`` by Theorem 1 (closed form, numpy)."""
        e, lam = self.check_edge_weights(edge_weights), _positive(lam, "lam", strict=False)
        W, system = self.solve(e, lam)
        value, G = validation_error(W, self.val)
        dc, self._z = self.lower.edge_gradient(W, G, lam * e, self.squared, self.delta, system=system, z0=self._z)
        return value, lam * dc

    def implicit(self, edge_weights, lam, solver_opts=None):
        """``(value, gradient)`` by implicit differentiation of the CVXPY
        reference at its optimum (needs diffcp)."""
        e, lam = self.check_edge_weights(edge_weights), _positive(lam, "lam")
        result = self.reference.solve(edge_weights=e, lam=lam, requires_grad=True, solver_opts=solver_opts)
        value, G = validation_error(result.W, self.val)
        return value, np.asarray(result.backward(W=G)["edge_weights"], dtype=float)

    def value(self, edge_weights, lam):
        """``C(W(e))``, the validation error at the lower-level solution."""
        return validation_error(self.solve(edge_weights, lam)[0], self.val)[0]

    @property
    def reference(self):
        """The CVXPY lower level (:func:`mtlcvx.reference.ggmtl_lower`),
        compiled once."""
        if self._reference is None:
            from ..reference import ggmtl_lower

            self._reference = ggmtl_lower(self.train, self.edges, self.squared, self.scaling)
        return self._reference


def ggmtl_hypergradient(train, val, edges, edge_weights, lam, squared=True, method="closed-form", solver_opts=None):
    """The GGMTL validation error and its gradient with respect to the edge
    weights (Theorem 1).

    Parameters
    ----------
    train, val : MultiTaskData
    edges : list of (i, j), adjacency matrix or graph
    edge_weights : array-like (m,) or float
        ``e >= 0``, one per edge, in the order of ``edges``.
    lam : float >= 0
    squared : bool
        The squared lower level (eq. 2b) or the non-squared one (eq. 7).
    method : {"closed-form", "implicit"}
        Theorem 1 in numpy (sparse solves), or CVXPY's implicit
        differentiation of the reference (needs ``diffcp``; a check).

    Returns
    -------
    value : float
        ``C(W) = 1/2 sum_t ||X_t^val w_t - y_t^val||^2`` at the lower-level
        solution.
    gradient : ndarray (m,)
        ``dC/de``, one entry per edge.
    """
    check_option(method, "method", METHODS)
    hyper = GGMTLHypergradient(train, val, edges, squared)
    if method == "implicit":
        return hyper.implicit(edge_weights, lam, solver_opts)
    return hyper(edge_weights, lam)


def _edge_columns(lower, V):
    """``[(B_k kron I_d) v]_k`` as an ``(m, T d)`` array: row ``k`` holds
    ``w_i - w_j`` in block ``i`` and its opposite in block ``j`` (the
    paper's ``M``)."""
    T, d = lower.T, lower.d
    D = lower.E @ V
    M = np.zeros((len(lower.edges), T, d))
    k = np.arange(len(lower.edges))
    M[k, lower.edges[:, 0]] = D
    M[k, lower.edges[:, 1]] = -D
    return M.reshape(len(k), T * d)


def edges_from_solution(train, edges, W, lam):
    """The edge weights ``e`` for which ``W`` solves the squared lower
    level, read off its stationarity ``lam sum_k e_k (B_k kron I) v = b -
    blockdiag(X^T X) v``, linear in ``e`` (least squares; unique when the
    ``m`` columns are independent, which needs ``m <= T d``).  Given the
    lower-level solution at the optimum, this closed form recovers the
    optimal edges: the correct reading of Theorem 2 (see the docs)."""
    train = as_multitask_data(train, name="train")
    edges = _check_edges(edges, train.n_tasks)
    lam = _positive(lam, "lam")
    lower = GraphLeastSquares(train.Xs, train.ys, edges)
    V = check_weights(W, train).T
    rhs = (lower.b - np.einsum("tij,tj->ti", lower.G, V)).ravel()
    M = _edge_columns(lower, V)
    e, *_ = np.linalg.lstsq(lam * M.T, rhs, rcond=None)
    return e


def theorem2_edges(train, val, edges, W, lam, eta):
    """Theorem 2 **as printed** (``xi = gamma = 0``): ``u = M^+ 1_m``
    (least norm), then ``e`` from ``(E diag(e) E^T kron I_d) u = v``, ``v =
    C/eta - X^T X u / lam``, by least squares.

    It assumes that ``z = A^{-1} grad C`` is ``(eta/lam) M^+ 1``, i.e. that
    the adjoint lies in the row space of ``M``; it does not in general
    (``M`` has ``m`` rows and ``T d`` columns), and the edges it returns
    are then not the optimum (measured in the docs and the tests).  Kept to
    show the difference; :func:`edges_from_solution` is the closed form
    that holds."""
    train, val = check_split(train, val)
    edges = _check_edges(edges, train.n_tasks)
    lam, eta = _positive(lam, "lam"), _positive(eta, "eta")
    lower = GraphLeastSquares(train.Xs, train.ys, edges)
    W = check_weights(W, train)
    V = W.T
    _, G = validation_error(W, val)
    M = _edge_columns(lower, V)
    u = np.linalg.pinv(M) @ np.ones(len(edges))
    U = u.reshape(lower.T, lower.d)
    v = G.T.ravel() / eta - np.einsum("tij,tj->ti", lower.G, U).ravel() / lam
    columns = _edge_columns(lower, U)  # row k: (B_k kron I) u
    e, *_ = np.linalg.lstsq(columns.T, v, rcond=None)
    return e
