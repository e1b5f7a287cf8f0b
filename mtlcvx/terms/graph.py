"""Terms on a graph of tasks: the edges and the graph-smoothing penalty of
GGMTL (Alesiani, Yu, Shaker, Yin, "Towards Interpretable Multi-Task
Learning Using Bilevel Programming", ECML-PKDD 2020).

An edge ``k = (i, j)`` joins tasks ``i`` and ``j``; the incidence matrix
``E`` (``m x T``, the paper's ``E^T``) has ``+1`` at ``i`` and ``-1`` at
``j`` in row ``k``, so that ``W E^T`` holds the differences ``w_i - w_j``
and ``E^T diag(c) E = L_c`` is the Laplacian with edge weights ``c``.
"""

import numpy as np
import scipy.sparse as sp

from .base import Penalty, _cvxpy

__all__ = ["task_edges", "incidence_matrix", "edges_to_adjacency", "DirichletEnergy", "NetworkLasso", "graph_smoothing"]


def task_edges(edges, n_tasks):
    """Edges as an integer array ``(m, 2)``, **in the order given** (edge
    weights and gradients are indexed by it).

    ``edges``: a list of ``(i, j)`` pairs, a ``T x T`` symmetric adjacency
    matrix (its nonzero entries above the diagonal, row by row), or a graph
    with ``.edges()`` (networkx's).  Self-loops and repeated edges (in
    either orientation) are errors."""
    if hasattr(edges, "edges") and not isinstance(edges, np.ndarray):
        edges = list(edges.edges())
    if sp.issparse(edges):
        edges = edges.toarray()
    arr = np.asarray(edges)
    if arr.ndim == 2 and arr.shape == (n_tasks, n_tasks) and n_tasks != 2 and arr.dtype.kind in "biuf":
        if not np.allclose(arr, arr.T):
            raise ValueError("edges as an adjacency matrix must be symmetric")
        return np.column_stack(np.nonzero(np.triu(arr != 0, k=1))).astype(int).reshape(-1, 2)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=int)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise ValueError(f"edges must be a list of (i, j) task index pairs, an adjacency matrix or a graph, "
                         f"got an array of shape {arr.shape} and dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n_tasks:
        raise ValueError(f"edges refer to tasks outside 0..{n_tasks - 1}")
    if np.any(arr[:, 0] == arr[:, 1]):
        raise ValueError("edges must join two different tasks (no self-loops)")
    if len(np.unique(np.sort(arr, axis=1), axis=0)) != len(arr):
        raise ValueError("edges must not repeat an edge (in either orientation)")
    return arr.astype(int)


def incidence_matrix(edges, n_tasks):
    """The sparse incidence matrix ``E`` (``m x T``): row ``k`` is ``d_i -
    d_j`` for edge ``k = (i, j)``."""
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    m = len(edges)
    rows = np.repeat(np.arange(m), 2)
    values = np.tile([1.0, -1.0], m)
    return sp.csr_matrix((values, (rows, edges.ravel())), shape=(m, n_tasks))


def edges_to_adjacency(edges, weights, n_tasks):
    """The symmetric ``T x T`` sparse adjacency matrix with ``weights`` on
    ``edges`` (both orientations)."""
    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    weights = np.broadcast_to(np.asarray(weights, dtype=float), (len(edges),))
    A = sp.coo_matrix((np.concatenate([weights, weights]),
                       (np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]]))),
                      shape=(n_tasks, n_tasks))
    return A.tocsr()


class _GraphTerm(Penalty):
    """A penalty on the differences ``w_i - w_j`` along the edges of a task
    graph, weighted by the parameter ``weights`` (``c``, length ``m``,
    nonnegative).  ``W`` is ``d x T`` (column ``t`` is ``w_t``; the paper
    stacks the ``w_t^T`` as the rows of ``V``).  In CVXPY, ``multiply(c,
    convex)`` with ``c`` a nonnegative parameter keeps a model DPP in the
    edge weights."""

    parameters = ("weights",)
    squared = None
    graph = True
    scale_parameter = ("weights", 1)

    @property
    def degree(self):
        return None if self.squared is None else 2 if self.squared else 1

    def __init__(self, edges, n_tasks, weights=None):
        self.edges = np.asarray(edges, dtype=int).reshape(-1, 2)
        self.n_tasks = int(n_tasks)
        self.weights = weights
        self.E = incidence_matrix(self.edges, self.n_tasks)

    def __repr__(self):
        return f"{type(self).__name__}({len(self.edges)} edges)"

    def _weights(self, weights):
        c = np.asarray(self._param("weights", weights), dtype=float).reshape(-1)
        if c.shape != (len(self.edges),):
            raise ValueError(f"weights must have one entry per edge ({len(self.edges)}), got shape {c.shape}")
        return c

    def differences(self, W):
        """``D`` (``m x d``): row ``k`` is ``w_i - w_j``."""
        return self.E @ np.asarray(W, dtype=float).T

    def laplacian(self, weights=None):
        """``L_c = E^T diag(c) E`` (sparse, ``T x T``)."""
        c = self._weights(weights)
        return (self.E.T @ sp.diags(c) @ self.E).tocsr()

    def _per_edge(self, cp, D):
        raise NotImplementedError

    def expr(self, W, weights=None):
        cp = _cvxpy()
        c = self._param("weights", weights)
        if len(self.edges) == 0:
            return cp.Constant(0.0)
        D = W @ self.E.T.toarray()  # d x m: column k is w_i - w_j
        return cp.sum(cp.multiply(c, self._per_edge(cp, D)))


class DirichletEnergy(_GraphTerm):
    r"""``1/2 sum_k c_k ||w_i - w_j||_2^2 = 1/2 tr(W L_c W^T)``: GGMTL's
    squared smoothing (eqs. 2b and 3, with ``c = lam e``).  Smooth: its
    gradient is ``W L_c``, and ``||L_c||_2`` is at most twice the largest
    weighted degree (Gershgorin)."""

    squared = True

    def value(self, W, weights=None):
        c = self._weights(weights)
        D = self.differences(W)
        return float(0.5 * np.sum(c * np.einsum("kj,kj->k", D, D)))

    def _per_edge(self, cp, D):
        return 0.5 * cp.sum(cp.square(D), axis=0)

    def grad(self, W, weights=None):
        return np.asarray((self.laplacian(weights) @ np.asarray(W, dtype=float).T).T)

    def lipschitz(self, weights=None):
        c = self._weights(weights)
        degree = np.bincount(self.edges.ravel(), weights=np.repeat(c, 2), minlength=self.n_tasks)
        return float(2.0 * degree.max(initial=0.0))


class NetworkLasso(_GraphTerm):
    r"""``sum_k c_k ||w_i - w_j||_2``: GGMTL's non-squared smoothing (eq. 7,
    with ``c = lam e``; the network lasso of Hallac et al.).  A sum of
    norms: tasks joined by a heavy edge fuse (``w_i = w_j`` exactly)."""

    squared = False

    def value(self, W, weights=None):
        c = self._weights(weights)
        return float(np.sum(c * np.linalg.norm(self.differences(W), axis=1)))

    def _per_edge(self, cp, D):
        return cp.norm(D, 2, axis=0)


def graph_smoothing(edges, n_tasks, squared=True, weights=None):
    """:class:`DirichletEnergy` (``squared=True``) or :class:`NetworkLasso`."""
    return (DirichletEnergy if squared else NetworkLasso)(edges, n_tasks, weights)
