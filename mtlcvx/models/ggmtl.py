"""GGMTL: bilevel learning of a sparse, interpretable task graph (Alesiani,
Yu, Shaker, Yin, "Towards Interpretable Multi-Task Learning Using Bilevel
Programming", ECML-PKDD 2020).

Bilevel problem (2), with the reading of :mod:`mtlcvx.reference.ggmtl`::

    min_{e in [0, 1]^m}  1/2 sum_t ||X_t^val w_t(e) - y_t^val||^2 + xi ||e||^2 + eta ||e||_1 + gamma H(e)
    W(e) = argmin_W 1/2 sum_t ||X_t w_t - y_t||^2 + lam/2 sum_k e_k ||w_i - w_j||^2     (squared, eq. 2b)
                 or 1/2 sum_t ||X_t w_t - y_t||^2 + lam   sum_k e_k ||w_i - w_j||       (eq. 7)

Algorithm 1, as implemented:

1. per-task ridge models (``init_alpha``; least squares when it is 0);
2. the symmetric k-nearest-neighbour graph on them (scikit-learn's
   ``kneighbors_graph``, Euclidean, an edge when either task is among the
   other's ``k`` nearest);
3. a train/validation split of every task's samples (``val_fraction``);
4. projected gradient on ``e`` over ``[0, 1]^m`` with the hypergradient of
   Theorem 1 (:class:`mtlcvx.bilevel.GGMTLHypergradient`), from ``e =
   edge_init``; the step backtracks until the descent-lemma condition holds,
   so the outer objective never increases (tested), and grows by 2 after
   each accepted step; an edge that reaches 0 is **pruned** (removed for
   good: with ``gamma > 0`` the entropy's gradient ``-gamma ln e`` is
   infinite there anyway);
5. the weights refitted on all the data with the learned edges (the
   paper's last step).

``learn_edges=False`` skips 3-4: the k-NN graph with uniform weights
``edge_init`` and the same lower level, the CCMTL-style baseline the paper
compares with (He, Alesiani, Shaker, AAAI 2019, whose own solver and
non-squared penalty differ).
"""

import warnings

import numpy as np
from sklearn.neighbors import kneighbors_graph
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import reference
from .._errors import ConvergenceWarning
from .._validation import Boolean, Integer, Real
from ..bilevel import GGMTLHypergradient, project_to_box
from ..bilevel.ggmtl import edge_regularizer
from ..terms.graph import edges_to_adjacency
from .base import LinearMultiTaskModel

__all__ = ["GGMTL", "knn_task_graph"]


def knn_task_graph(W, k=10):
    """The symmetric ``k``-nearest-neighbour graph of the tasks' weight
    vectors (the columns of ``W``, ``d x T``), as edges ``(i, j)``, ``i <
    j``: scikit-learn's ``kneighbors_graph`` (Euclidean), symmetrised by
    "either is a neighbour of the other".  ``k`` is capped at ``T - 1``."""
    W = np.asarray(W, dtype=float)
    T = W.shape[1]
    if T < 2:
        return np.zeros((0, 2), dtype=int)
    A = kneighbors_graph(W.T, n_neighbors=min(int(k), T - 1), mode="connectivity", include_self=False)
    A = A.maximum(A.T).tocoo()
    keep = A.row < A.col
    return np.column_stack([A.row[keep], A.col[keep]]).astype(int)


class GGMTL(LinearMultiTaskModel):
    """Graph-guided multi-task learning (GGMTL); see the module docstring.

    Parameters
    ----------
    lam : float > 0, default=1.0
        ``lambda``, strength of the graph smoothing.
    xi, eta, gamma : float >= 0, default=0.0, 0.0, 1.0
        Weights of ``||e||^2``, ``||e||_1`` and the entropy ``H(e) = -sum
        (e ln e - e)`` in the outer objective (eq. 4a).
    k : int, default=10
        Neighbours of the initial graph.
    squared : bool, default=True
        The squared smoothing (l2^2-GGMTL) or the non-squared one
        (l2-GGMTL).
    learn_edges : bool, default=True
        False: the k-NN graph with uniform weights (CCMTL-style).
    edge_init : float in (0, 1], default=1.0
        The initial (and, without learning, the final) edge weight.
    val_fraction : float in (0, 1), default=0.3
        Share of every task's samples held out for the outer objective.
    init_alpha : float >= 0, default=1e-3
        Ridge of the per-task models the k-NN graph is built on.
    max_iter : int, default=100
        Outer iterations.
    tol : float, default=1e-5
        Stop when an outer step lowers the objective by less than ``tol``
        relatively.
    step : float > 0, optional
        Initial outer step; default ``0.5 / max|grad F(e_0)|``.
    fit_intercept : bool, default=True
    scaling : {"sum", "mean"}
    solver : {"fast", "reference"}
        The final refit: the sparse solver (IRLS when not squared) or CVXPY.
    random_state : int, RandomState or None
        The train/validation split.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
    intercept_ : ndarray (n_tasks,)
    edges_ : list of (i, j)
        The edges kept (weight > 0), ``i < j``.
    edge_weights_ : ndarray (n_edges,)
        Their weights ``e``, in the order of ``edges_``.
    graph_ : scipy.sparse.csr_matrix (n_tasks, n_tasks)
        The learned weighted adjacency matrix (symmetric).
    knn_edges_ : ndarray (m, 2)
        The initial k-NN graph.
    objective_path_ : list of float
        The outer objective after each outer iteration (its initial value
        first).
    n_iter_ : int
        Outer iterations run.
    """

    _hyperparameters = {
        "lam": Real(low=0, low_inclusive=False),
        "xi": Real(low=0),
        "eta": Real(low=0),
        "gamma": Real(low=0),
        "k": Integer(low=1),
        "squared": Boolean(),
        "learn_edges": Boolean(),
        "edge_init": Real(0, 1, low_inclusive=False),
        "val_fraction": Real(0, 1, low_inclusive=False, high_inclusive=False),
        "init_alpha": Real(low=0),
        "max_iter": Integer(low=1),
        "tol": Real(low=0),
    }

    def __init__(self, lam=1.0, xi=0.0, eta=0.0, gamma=1.0, k=10, squared=True, learn_edges=True, edge_init=1.0,
                 val_fraction=0.3, init_alpha=1e-3, max_iter=100, tol=1e-5, step=None, fit_intercept=True,
                 scaling="sum", solver="fast", random_state=None):
        self.lam = lam
        self.xi = xi
        self.eta = eta
        self.gamma = gamma
        self.k = k
        self.squared = squared
        self.learn_edges = learn_edges
        self.edge_init = edge_init
        self.val_fraction = val_fraction
        self.init_alpha = init_alpha
        self.max_iter = max_iter
        self.tol = tol
        self.step = step
        self.fit_intercept = fit_intercept
        self.scaling = scaling
        self.solver = solver
        self.random_state = random_state

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if self.step is not None:
            Real(low=0, low_inclusive=False).check("step", self.step, self, data)
        if self.learn_edges and min(data.n_samples) < 2:
            raise ValueError("every task needs at least 2 samples to split into training and validation parts")
        if data.n_tasks < 2:
            raise ValueError(f"GGMTL learns a graph between tasks: it needs at least 2 tasks, got {data.n_tasks}")

    # -- the reference of the final refit -------------------------------------
    def _reference_model(self, data):
        if not hasattr(self, "edges_"):
            raise ValueError("GGMTL's lower level depends on the learned graph: fit the estimator first")
        return reference.ggmtl_lower(data, self._edge_array(), squared=self.squared, scaling=self.scaling)

    def _edge_array(self):
        return np.asarray(self.edges_, dtype=int).reshape(-1, 2)

    def _reference_params(self):
        return {"lam": float(self.lam)}

    def _fitted_reference_params(self):
        return {"edge_weights": self.edge_weights_} if hasattr(self, "edge_weights_") else {}

    def _solver_options(self):
        return dict(tol=1e-10, max_iter=5000)

    # -- Algorithm 1 -------------------------------------------------------------
    def _initial_models(self, data):
        """Per-task ridge (least squares at ``init_alpha = 0``, minimum norm)."""
        W = np.zeros((data.n_features, data.n_tasks))
        for t, (X, y) in enumerate(data):
            if self.init_alpha > 0:
                W[:, t] = np.linalg.solve(X.T @ X + self.init_alpha * np.eye(data.n_features), X.T @ y)
            else:
                W[:, t] = np.linalg.lstsq(X, y, rcond=None)[0]
        return W

    def _outer(self, hyper, e, active):
        """``(F(e), grad F(e))`` on the active edges (the others are 0 and
        stay there)."""
        value, grad = hyper(e, self.lam)
        reg, reg_grad = edge_regularizer(e[active], self.xi, self.eta, self.gamma)
        full = np.zeros_like(e)
        full[active] = grad[active] + reg_grad
        return value + reg, full

    def _objective_value(self, hyper, e, active):
        reg, _ = edge_regularizer(e[active], self.xi, self.eta, self.gamma)
        return hyper.value(e, self.lam) + reg

    def _descend(self, hyper, e):
        active = e > 0
        F, g = self._outer(hyper, e, active)
        path = [F]
        step = self.step if self.step is not None else 0.5 / max(float(np.max(np.abs(g), initial=0.0)), 1e-12)
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            accepted = False
            for _ in range(60):
                new = e.copy()
                new[active] = project_to_box(e[active] - step * g[active])
                move = new - e
                F_new = self._objective_value(hyper, new, active & (new > 0))
                if F_new <= F + float(g @ move) + float(move @ move) / (2 * step):
                    accepted = True
                    break
                step /= 2.0
            if not accepted or not np.any(move):
                converged = True
                break
            active &= new > 0  # pruning: an edge at 0 leaves the graph
            e = np.where(active, new, 0.0)
            decrease = F - F_new
            F = F_new
            path.append(F)
            if decrease <= self.tol * max(1.0, abs(F)):
                converged = True
                break
            step *= 2.0
            _, g = self._outer(hyper, e, active)
        return e, path, n_iter, converged

    def _fit_weights(self, data):
        rng = check_random_state(self.random_state)
        edges = knn_task_graph(self._initial_models(data), self.k)
        self.knn_edges_ = edges
        e = np.full(len(edges), float(self.edge_init))
        path, n_iter = [], 0
        if self.learn_edges and len(edges):
            train, val = data.split(test_size=self.val_fraction, random_state=rng)
            hyper = GGMTLHypergradient(train, val, edges, squared=self.squared, scaling=self.scaling)
            e, path, n_iter, converged = self._descend(hyper, e)
            if not converged:
                warnings.warn(f"GGMTL: the outer loop stopped at max_iter={self.max_iter} before the relative "
                              f"decrease of the objective fell below tol={self.tol:.1e}", ConvergenceWarning,
                              stacklevel=3)
        keep = e > 0
        self.edges_ = [(int(i), int(j)) for i, j in edges[keep]]
        self.edge_weights_ = e[keep]
        self.graph_ = edges_to_adjacency(edges[keep], e[keep], data.n_tasks)
        self.objective_path_ = path
        W = super()._fit_weights(data)
        self.n_iter_ = n_iter
        return W

    def adjacency(self, normalize=True):
        """The learned graph as a dense ``T x T`` array, divided by its
        largest weight when ``normalize`` (what the fuzzy graph measures
        take)."""
        check_is_fitted(self, "graph_")
        A = self.graph_.toarray()
        top = A.max(initial=0.0)
        return A / top if normalize and top > 0 else A
