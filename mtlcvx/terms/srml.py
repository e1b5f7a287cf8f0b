"""The terms of sign-regularized MTL (Bai, Torres, Wang, Zhao, Abad, Vaca,
SDM 2023): task pairs, the sign-disagreement penalty of eq. (4.3), and the
pieces its ADMM subproblems are declared with.

The penalty ``sum_{(t,t') in pairs} sum_j relu(-w_tj w_t'j)`` is not convex
(it has no CVXPY expression); the ADMM splits it off on a copy ``u`` of
``W``, and the subproblems are convex or, for the u-step, convex on each
sign half of a coordinate."""


import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .base import Constraint, Penalty, _cvxpy

__all__ = ["task_pairs", "SignDisagreement", "SignConsistent", "project_sign_consistent", "ProximalQuadratic",
           "LinearTerm", "NonNegative", "NonPositive", "PAIRINGS"]

PAIRINGS = ("chain", "all")


def task_pairs(pairs, n_tasks):
    """The pairs of tasks whose signs are regularised, as an array ``(K, 2)``
    with ``t < t'``.

    ``pairs``: ``"chain"`` (``(t, t+1)``, the paper's), ``"all"``, a list of
    ``(t, t')``, a symmetric ``T x T`` adjacency matrix, or a graph object
    with ``.edges()`` (networkx's, for one)."""
    if isinstance(pairs, str):
        if pairs not in PAIRINGS:
            raise ValueError(f"pairs must be one of {PAIRINGS}, a list of (t, t') pairs, an adjacency matrix or a "
                             f"graph, got {pairs!r}")
        if pairs == "chain":
            out = np.column_stack([np.arange(n_tasks - 1), np.arange(1, n_tasks)])
        else:
            out = np.column_stack(np.triu_indices(n_tasks, k=1))
    else:
        if hasattr(pairs, "edges"):
            pairs = list(pairs.edges())
        arr = np.asarray(pairs)
        if arr.ndim == 2 and arr.shape == (n_tasks, n_tasks) and arr.dtype.kind in "biuf" and n_tasks != 2:
            if not np.array_equal(arr != 0, (arr != 0).T):
                raise ValueError("pairs as an adjacency matrix must be symmetric")
            out = np.column_stack(np.nonzero(np.triu(arr != 0, k=1)))
        else:
            if arr.ndim != 2 or arr.shape[1] != 2 or (arr.size and arr.dtype.kind not in "iu"):
                raise ValueError(f"pairs must be a list of (t, t') task index pairs, got {pairs!r}")
            if arr.size and (arr.min() < 0 or arr.max() >= n_tasks):
                raise ValueError(f"pairs refer to tasks outside 0..{n_tasks - 1}")
            if np.any(arr[:, 0] == arr[:, 1]):
                raise ValueError("pairs must join two different tasks")
            out = np.unique(np.sort(arr, axis=1), axis=0)
    return out.reshape(-1, 2).astype(int)


class _OnPairs:
    """A term on the pairs of tasks ``pairs`` (``(K, 2)``, from
    :func:`task_pairs`)."""

    def __init__(self, pairs):
        self.pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)

    def __repr__(self):
        return f"{type(self).__name__}({len(self.pairs)} pairs)"

    def products(self, W):
        """``W_jt W_jt'`` for every pair (columns) and feature (rows)."""
        W = np.asarray(W)
        return W[:, self.pairs[:, 0]] * W[:, self.pairs[:, 1]]


class SignDisagreement(_OnPairs, Penalty):
    """``sum_{(t,t') in pairs} sum_j relu(-W_jt W_jt')``: how much the tasks
    of each pair disagree in sign, feature by feature (eq. 4.3's slack
    penalty).  Not convex, hence numpy only: it defines no CVXPY
    expression.

    Parameters
    ----------
    pairs : ndarray (K, 2)
        From :func:`task_pairs`.
    """

    def value(self, W):
        return float(np.maximum(-self.products(W), 0.0).sum())

    def violations(self, W):
        """The number of (pair, feature) entries whose signs disagree."""
        return int(np.sum(self.products(W) < 0))


class ProximalQuadratic(Penalty):
    """``rho/2 ||X||_F^2 - <shift, X> + constant``: a proximity term
    ``rho/2 ||X - V||^2`` (plus a linear term) written expanded, with
    ``shift = rho V`` and ``constant = rho/2 ||V||^2`` derived by the model,
    so that ``rho`` and ``V`` as CVXPY parameters stay DPP (``rho ||X -
    V||^2`` would multiply two parameters).  Its parameters are ``rho``,
    ``shift`` and ``constant``; flag ``quadratic`` (a closed-form solver
    reads ``rho`` and ``shift``)."""

    parameters = ("rho", "shift", "constant")
    quadratic = True

    def value(self, X, rho=None, shift=None, constant=None):
        rho, shift, constant = self._values(rho, shift, constant)
        return float(0.5 * rho * np.sum(X * X) - np.sum(shift * X) + constant)

    def expr(self, X, rho=None, shift=None, constant=None):
        cp = _cvxpy()
        rho, shift, constant = (self._param(n, v) for n, v in (("rho", rho), ("shift", shift),
                                                                ("constant", constant)))
        return 0.5 * rho * cp.sum_squares(X) - cp.sum(cp.multiply(shift, X)) + constant

    def grad(self, X, rho=None, shift=None, constant=None):
        rho, shift, _ = self._values(rho, shift, constant)
        return rho * X - shift

    def lipschitz(self, rho=None, shift=None, constant=None):
        return float(self._param("rho", rho))

    def _values(self, rho, shift, constant):
        return (float(self._param("rho", rho)), np.asarray(self._param("shift", shift), dtype=float),
                float(self._param("constant", constant)))


class LinearTerm(Penalty):
    """``<C, X>``, with ``C`` the term's parameter."""

    degree = 1
    parameters = ("C",)

    def value(self, X, C=None):
        return float(np.sum(np.asarray(self._param("C", C), dtype=float) * X))

    def expr(self, X, C=None):
        cp = _cvxpy()
        return cp.sum(cp.multiply(self._param("C", C), X))

    def grad(self, X, C=None):
        return np.broadcast_to(np.asarray(self._param("C", C), dtype=float), X.shape).copy()

    def lipschitz(self, C=None):
        return 0.0


class NonNegative(Constraint):
    """Every entry ``>= 0``."""

    cone = True

    def expr(self, X):
        return [X >= 0]

    def violation(self, X):
        return float(np.maximum(-np.asarray(X), 0.0).max(initial=0.0))

    def project(self, X):
        return np.maximum(X, 0.0)


class NonPositive(Constraint):
    """Every entry ``<= 0``."""

    cone = True

    def expr(self, X):
        return [X <= 0]

    def violation(self, X):
        return float(np.maximum(np.asarray(X), 0.0).max(initial=0.0))

    def project(self, X):
        return np.minimum(X, 0.0)




class SignConsistent(_OnPairs, Constraint):
    """SSML's hard constraint ``W_jt W_jt' >= 0`` for every pair and
    feature: no pair has strictly opposite signs (a zero agrees with
    anything).  Not convex (the union of two orthants per pair), hence
    numpy only; :meth:`project` is the exact Euclidean projection
    (:func:`project_sign_consistent`).

    Parameters
    ----------
    pairs : ndarray (K, 2)
        From :func:`task_pairs`.
    """

    cone = True

    def expr(self, X):
        raise TypeError("SignConsistent is not convex: it has no CVXPY form (SSML's ADMM projects onto it)")

    def violation(self, X):
        return float(np.sqrt(np.maximum(-self.products(X), 0.0).max(initial=0.0)))

    def project(self, X):
        return project_sign_consistent(X, self.pairs)


def project_sign_consistent(V, pairs):
    """The nearest ``X`` (Frobenius) to ``V`` with ``X_jt X_jt' >= 0`` for
    every pair ``(t, t')`` and feature ``j``: exact, for any pair graph.

    Why it is combinatorial and still exact: an optimal ``X`` keeps each
    entry (``X_jt = V_jt``) or zeroes it (moving to the other sign is never
    closer than 0, and 0 is compatible with every neighbour), so per
    feature the zeroed entries form a minimum-weight vertex cover, weights
    ``V_jt^2``, of the *conflict graph*: the pairs whose ``V`` signs are
    strictly opposite.  That graph is bipartite (positive entries against
    negative ones), so the cover's linear relaxation has an integral
    optimum (its constraint matrix is totally unimodular).

    * pairs forming the chain ``(t, t+1)``: dynamic programming over the
      tasks, all features at once, ``O(T d)``;
    * all pairs: zero, per feature, all positive or all negative entries,
      whichever weighs less;
    * any other graph: the relaxation solved by HiGHS' dual simplex (a
      vertex, hence integral), all features in one program.

    Among several optimal covers the one keeping more entries in task
    order is returned (chain and all pairs; the LP's vertex otherwise).
    """
    V = np.asarray(V, dtype=float)
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    d, T = V.shape
    if len(pairs) == 0:
        return V.copy()
    keys = set(map(tuple, np.sort(pairs, axis=1).tolist()))
    if keys == {(t, t + 1) for t in range(T - 1)}:
        return _project_chain(V)
    if len(keys) == T * (T - 1) // 2:
        positive_mass = np.sum(np.where(V > 0, V * V, 0.0), axis=1)
        negative_mass = np.sum(np.where(V < 0, V * V, 0.0), axis=1)
        zero_positive = positive_mass < negative_mass
        return np.where(zero_positive[:, None] & (V > 0) | ~zero_positive[:, None] & (V < 0), 0.0, V)
    return _project_lp(V, pairs)


def _project_chain(V):
    d, T = V.shape
    cost_zero = V * V
    # best[s][:, t]: least cost of tasks 0..t with task t kept (s=0) or zeroed (s=1)
    keep, zero = np.zeros(d), cost_zero[:, 0].copy()
    keep_from_keep = np.zeros((d, T), dtype=bool)   # kept t reached from kept t-1
    zero_from_keep = np.zeros((d, T), dtype=bool)   # zeroed t reached from kept t-1
    for t in range(1, T):
        compatible = V[:, t - 1] * V[:, t] >= 0
        via_keep = np.where(compatible, keep, np.inf)
        keep_from_keep[:, t] = via_keep <= zero
        zero_from_keep[:, t] = keep <= zero
        keep, zero = np.minimum(via_keep, zero), np.minimum(keep, zero) + cost_zero[:, t]
    kept = np.zeros((d, T), dtype=bool)
    state = keep <= zero
    for t in range(T - 1, -1, -1):
        kept[:, t] = state
        if t:
            state = np.where(state, keep_from_keep[:, t], zero_from_keep[:, t])
    return np.where(kept, V, 0.0)


def _project_lp(V, pairs):
    d, T = V.shape
    a, b = pairs[:, 0], pairs[:, 1]
    conflict = V[:, a] * V[:, b] < 0
    rows_j, rows_k = np.nonzero(conflict)
    if rows_j.size == 0:
        return V.copy()
    # one LP variable per entry (j, t): 1 = zeroed
    index = lambda j, t: j * T + t  # noqa: E731
    left, right = index(rows_j, a[rows_k]), index(rows_j, b[rows_k])
    m = rows_j.size
    A = sp.csr_matrix((np.ones(2 * m), (np.repeat(np.arange(m), 2), np.column_stack([left, right]).ravel())),
                      shape=(m, d * T))
    cost = V * V
    cost = cost / max(float(cost.max()), np.finfo(float).tiny)
    result = scipy.optimize.linprog(cost.ravel(), A_ub=-A, b_ub=-np.ones(m), bounds=(0, 1), method="highs-ds",
                                    options={"primal_feasibility_tolerance": 1e-10,
                                             "dual_feasibility_tolerance": 1e-10})
    if result.status != 0:
        raise RuntimeError(f"the sign-consistency projection LP failed: {result.message}")
    zeroed = result.x.reshape(d, T) > 0.5
    # the simplex is optimal to its tolerance: an entry below it may be
    # zeroed needlessly; restore every entry that no kept neighbour opposes
    adjacency = [[] for _ in range(T)]
    for s, t in pairs:
        adjacency[s].append(t)
        adjacency[t].append(s)
    for j, t in sorted(zip(*np.nonzero(zeroed)), key=lambda jt: -cost[jt]):
        if all(zeroed[j, s] or V[j, s] * V[j, t] >= 0 for s in adjacency[t]):
            zeroed[j, t] = False
    return np.where(zeroed, 0.0, V)
