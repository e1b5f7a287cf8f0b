"""GGMTL (Alesiani et al., ECML-PKDD 2020): the graph terms, the CVXPY
lower level against an independent closed form, the sparse and IRLS fast
paths against the reference (relative objective gap <= 1e-8 squared,
<= 1e-6 not squared), the Theorem 1 hypergradient against central finite
differences (relative error <= 1e-6) and CVXPY's implicit gradient, Theorem
2, the estimator's documented behaviour, the fuzzy graph measures on
hand-made graphs, and the Line/Tree/Star generators."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

import mtlcvx as mc
from mtlcvx import reference
from mtlcvx.bilevel import GGMTLHypergradient, central_differences, ggmtl_hypergradient, theorem2_edges
from mtlcvx.bilevel.ggmtl import edge_regularizer, edges_from_solution
from mtlcvx.datasets import make_ggmtl_synthetic
from mtlcvx.metrics import fuzzy_graph_scores, fuzzy_xor
from mtlcvx.models.ggmtl import knn_task_graph
from mtlcvx.solvers import GraphLeastSquares, dispatch
from mtlcvx.terms import DirichletEnergy, NetworkLasso, edges_to_adjacency, incidence_matrix, task_edges


def _tasks(T=8, d=4, n=10, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, 1)) + spread * rng.normal(size=(d, T))

    def draw(n):
        Xs = [rng.normal(size=(n, d)) for _ in range(T)]
        return mc.MultiTaskData(Xs, [X @ W[:, t] + 0.5 * rng.normal(size=n) for t, X in enumerate(Xs)])

    return draw(n), draw(n)


def _random_edges(T, p, seed):
    rng = np.random.default_rng(seed)
    edges = [(i, j) for i in range(T) for j in range(i + 1, T) if rng.random() < p]
    order = rng.permutation(len(edges))
    # reversed orientation and shuffled order: both must be respected
    return [edges[k][::-1] if k % 2 else edges[k] for k in order]


@pytest.fixture(scope="module")
def split():
    return _tasks()


# -- edges and terms ------------------------------------------------------------
def test_task_edges_keep_the_order_given():
    np.testing.assert_array_equal(task_edges([(2, 0), (1, 3)], 4), [[2, 0], [1, 3]])
    A = np.zeros((4, 4))
    A[0, 3] = A[3, 0] = A[1, 2] = A[2, 1] = 0.5
    np.testing.assert_array_equal(task_edges(A, 4), [[0, 3], [1, 2]])
    np.testing.assert_array_equal(task_edges(sp.csr_matrix(A), 4), [[0, 3], [1, 2]])
    assert task_edges([], 4).shape == (0, 2)


@pytest.mark.parametrize("edges, match", [
    ([(0, 4)], "outside"), ([(1, 1)], "self-loops"), ([(0, 1), (1, 0)], "repeat"),
    (np.triu(np.ones((4, 4))), "symmetric"), ([0.5, 1.5], "list of"),
])
def test_task_edges_errors(edges, match):
    with pytest.raises(ValueError, match=match):
        task_edges(edges, 4)


def test_incidence_and_adjacency():
    E = incidence_matrix([(0, 2), (1, 2)], 3).toarray()
    np.testing.assert_array_equal(E, [[1, 0, -1], [0, 1, -1]])
    A = edges_to_adjacency([(0, 2), (1, 2)], [0.3, 0.7], 3).toarray()
    np.testing.assert_allclose(A, [[0, 0, 0.3], [0, 0, 0.7], [0.3, 0.7, 0]])


@pytest.mark.parametrize("cls", [DirichletEnergy, NetworkLasso])
def test_graph_terms_numpy_equals_cvxpy(cls):
    import cvxpy as cp

    rng = np.random.default_rng(1)
    edges = _random_edges(6, 0.6, 1)
    c = rng.uniform(0.1, 2, len(edges))
    W = rng.normal(size=(3, 6))
    term = cls(task_edges(edges, 6), 6)
    assert term.value(W, weights=c) == pytest.approx(float(term.expr(cp.Constant(W), weights=c).value), rel=1e-12)
    assert "graph" in term.capabilities


def test_dirichlet_energy_gradient_and_laplacian():
    rng = np.random.default_rng(2)
    edges = task_edges(_random_edges(5, 0.7, 2), 5)
    c = rng.uniform(0.1, 2, len(edges))
    term = DirichletEnergy(edges, 5)
    W = rng.normal(size=(3, 5))
    L = term.laplacian(c).toarray()
    assert 0.5 * np.trace(W @ L @ W.T) == pytest.approx(term.value(W, weights=c), rel=1e-12)
    fd = central_differences(lambda V: term.value(V, weights=c), W)
    np.testing.assert_allclose(term.grad(W, weights=c), fd, rtol=1e-6, atol=1e-8)
    assert term.lipschitz(weights=c) >= np.linalg.eigvalsh(L)[-1] - 1e-12
    assert "grad" not in NetworkLasso(edges, 5).capabilities


# -- the lower level: reference and fast paths ----------------------------------------
def test_reference_equals_the_linear_system_of_eq12(split):
    train, _ = split
    T, d = train.n_tasks, train.n_features
    edges = _random_edges(T, 0.5, 3)
    e = np.random.default_rng(3).uniform(0.1, 1, len(edges))
    lam = 2.5
    model = reference.ggmtl_lower(train, edges)
    result = model.solve(edge_weights=e, lam=lam)
    E = incidence_matrix(task_edges(edges, T), T).toarray()
    A = sp.block_diag([X.T @ X for X in train.Xs]).toarray() + lam * np.kron(E.T @ np.diag(e) @ E, np.eye(d))
    V = np.linalg.solve(A, np.concatenate([X.T @ y for X, y in train]))
    np.testing.assert_allclose(result.W, V.reshape(T, d).T, rtol=1e-7, atol=1e-8)
    assert model.objective_at(V.reshape(T, d).T, e=e, lam=lam) == pytest.approx(result.objective, rel=1e-9)
    model.solve(edge_weights=0.5, lam=1.0)
    assert model.n_builds == 1


def test_reference_needs_every_parameter(split):
    model = reference.ggmtl_lower(split[0], [(0, 1)])
    with pytest.raises(ValueError, match="lam"):
        model.solve(edge_weights=[1.0])
    with pytest.raises(ValueError, match="once"):
        model.solve(edge_weights=[1.0], e=[1.0], lam=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        model.solve(edge_weights=[-1.0], lam=1.0)


@pytest.mark.parametrize("method", ["direct", "cg"])
def test_fast_squared_matches_reference(split, method):
    train, _ = split
    edges = _random_edges(train.n_tasks, 0.5, 4)
    e = np.random.default_rng(4).uniform(0.1, 1, len(edges))
    model = reference.ggmtl_lower(train, edges)
    ref = model.solve(edge_weights=e, lam=3.0)
    W, _ = GraphLeastSquares(train.Xs, train.ys, task_edges(edges, train.n_tasks), method=method).solve_squared(3 * e)
    gap = (model.objective_at(W, edge_weights=e, lam=3.0) - ref.objective) / abs(ref.objective)
    assert abs(gap) <= 1e-8


@pytest.mark.parametrize("lam", [0.5, 50.0])  # 50: most tasks fuse
def test_fast_non_squared_matches_reference(split, lam):
    train, _ = split
    edges = _random_edges(train.n_tasks, 0.5, 5)
    e = np.random.default_rng(5).uniform(0.1, 1, len(edges))
    model = reference.ggmtl_lower(train, edges, squared=False)
    ref = model.solve(edge_weights=e, lam=lam)
    objective = model.numeric(edge_weights=e, lam=lam)
    variables, info = dispatch.solve(objective, tol=1e-10, max_iter=5000)
    assert info.solver == "graph least squares"
    gap = (objective.value(variables) - ref.objective) / abs(ref.objective)
    assert gap <= 1e-6 and gap >= -1e-6


def test_cg_and_direct_agree_on_a_larger_knn_system():
    train, _ = _tasks(T=120, d=10, n=8, seed=6)
    edges = knn_task_graph(np.column_stack([np.linalg.lstsq(X, y, rcond=None)[0] for X, y in train]), 5)
    c = np.full(len(edges), 2.0)
    W_direct, _ = GraphLeastSquares(train.Xs, train.ys, edges, method="direct").solve_squared(c)
    W_cg, _ = GraphLeastSquares(train.Xs, train.ys, edges, method="cg").solve_squared(c)
    np.testing.assert_allclose(W_cg, W_direct, rtol=1e-7, atol=1e-9)


def test_isolated_task_with_fewer_samples_than_features_falls_back_to_cg():
    rng = np.random.default_rng(7)
    Xs = [rng.normal(size=(2, 4)) for _ in range(3)]
    ys = [rng.normal(size=2) for _ in range(3)]
    lower = GraphLeastSquares(Xs, ys, np.array([[0, 1]]), method="direct")
    W, system = lower.solve_squared(np.array([1.0]))
    assert system.method == "cg"
    # a minimiser: the isolated task interpolates its two samples
    np.testing.assert_allclose(Xs[2] @ W[:, 2], ys[2], atol=1e-8)


def test_no_edges_is_independent_least_squares():
    rng = np.random.default_rng(8)
    data = mc.MultiTaskData([rng.normal(size=(6, 3)) for _ in range(3)], [rng.normal(size=6) for _ in range(3)])
    result = reference.ggmtl_lower(data, []).solve(edge_weights=np.zeros(0), lam=1.0)
    expected = np.column_stack([np.linalg.lstsq(X, y, rcond=None)[0] for X, y in data])
    np.testing.assert_allclose(result.W, expected, atol=1e-6)
    W, _ = GraphLeastSquares(data.Xs, data.ys, np.zeros((0, 2), dtype=int)).solve_squared(np.zeros(0))
    np.testing.assert_allclose(W, expected, atol=1e-10)


# -- the hypergradient ------------------------------------------------------------------
@pytest.mark.parametrize("squared", [True, False])
def test_hypergradient_against_finite_differences(split, squared):
    train, val = split
    edges = _random_edges(train.n_tasks, 0.6, 9)
    assert len(edges) >= 10
    e = np.random.default_rng(9).uniform(0.2, 0.9, len(edges))
    lam = 0.7
    value, grad = ggmtl_hypergradient(train, val, edges, e, lam, squared=squared)
    fd = central_differences(lambda x: GGMTLHypergradient(train, val, edges, squared).value(x, lam), e, 1e-5)
    assert np.linalg.norm(grad - fd) <= 1e-6 * np.linalg.norm(fd)
    assert value == pytest.approx(GGMTLHypergradient(train, val, edges, squared).value(e, lam), rel=1e-12)


@pytest.mark.parametrize("squared", [True, False])
def test_hypergradient_against_cvxpy_implicit(split, squared):
    pytest.importorskip("diffcp")
    train, val = split
    edges = _random_edges(train.n_tasks, 0.6, 10)
    e = np.random.default_rng(10).uniform(0.2, 0.9, len(edges))
    value, grad = ggmtl_hypergradient(train, val, edges, e, 0.7, squared=squared)
    value_i, grad_i = ggmtl_hypergradient(train, val, edges, e, 0.7, squared=squared, method="implicit")
    assert value_i == pytest.approx(value, rel=1e-6)
    assert np.linalg.norm(grad - grad_i) <= 1e-4 * np.linalg.norm(grad)


def test_hypergradient_is_the_theorem1_formula(split):
    """``dC/de_k = -lam (z_i - z_j)^T (w_i - w_j)``, ``z = A^{-1} grad C``,
    with a dense solve written out here."""
    train, val = split
    T, d = train.n_tasks, train.n_features
    edges = task_edges(_random_edges(T, 0.5, 11), T)
    e, lam = np.full(len(edges), 0.6), 1.3
    E = incidence_matrix(edges, T).toarray()
    A = sp.block_diag([X.T @ X for X in train.Xs]).toarray() + lam * np.kron(E.T @ np.diag(e) @ E, np.eye(d))
    V = np.linalg.solve(A, np.concatenate([X.T @ y for X, y in train])).reshape(T, d)
    C = np.concatenate([X.T @ (X @ V[t] - y) for t, (X, y) in enumerate(val)])
    Z = np.linalg.solve(A, C).reshape(T, d)
    expected = -lam * np.einsum("kj,kj->k", Z[edges[:, 0]] - Z[edges[:, 1]], V[edges[:, 0]] - V[edges[:, 1]])
    np.testing.assert_allclose(ggmtl_hypergradient(train, val, edges, e, lam)[1], expected, rtol=1e-8, atol=1e-10)


def test_hypergradient_errors(split):
    train, val = split
    with pytest.raises(ValueError, match="one entry per edge"):
        ggmtl_hypergradient(train, val, [(0, 1), (1, 2)], [0.5], 1.0)
    with pytest.raises(ValueError, match="method"):
        ggmtl_hypergradient(train, val, [(0, 1)], [0.5], 1.0, method="reverse")
    with pytest.raises(ValueError, match="lam"):
        ggmtl_hypergradient(train, val, [(0, 1)], [0.5], -1.0)


def test_edge_regularizer_gradient():
    e = np.array([0.2, 0.5, 0.9])
    value, grad = edge_regularizer(e, xi=0.3, eta=0.2, gamma=0.7)
    fd = central_differences(lambda x: edge_regularizer(x, 0.3, 0.2, 0.7)[0], e)
    np.testing.assert_allclose(grad, fd, rtol=1e-7)
    assert np.isinf(edge_regularizer(np.array([0.0, 0.5]), gamma=1.0)[1][0])


def _projected_gradient(hyper, e, lam, eta, iters=3000):
    step, F = 1.0, lambda x: hyper.value(x, lam) + eta * x.sum()
    for _ in range(iters):
        value, g = hyper(e, lam)
        g = g + eta
        while True:
            new = np.clip(e - step * g, 0, 1)
            if F(new) <= value + eta * e.sum() + g @ (new - e) + np.sum((new - e) ** 2) / (2 * step):
                break
            step /= 2
        if np.linalg.norm(new - e) < 1e-13:
            return new
        e, step = new, step * 1.5
    return e


def test_theorem2_closed_form_edges_match_projected_gradient():
    """With xi = gamma = 0, the edges at the projected-gradient optimum are
    read back in closed form from the lower-level solution there
    (:func:`edges_from_solution`), and the interior edges satisfy the
    stationarity Theorem 2 starts from, ``dC/de_k = -eta``.  Theorem 2 as
    printed (``u = M^+ 1``) does not give them back."""
    rng = np.random.default_rng(3)
    T, d = 6, 3
    W0 = rng.normal(size=(d, T))
    W0[:, 3:] = W0[:, :3] + 0.1 * rng.normal(size=(d, 3))

    def draw():
        Xs = [rng.normal(size=(12, d)) for _ in range(T)]
        return mc.MultiTaskData(Xs, [X @ W0[:, t] + rng.normal(size=12) for t, X in enumerate(Xs)])

    train, val = draw(), draw()
    edges = [(0, 3), (1, 4), (2, 5), (0, 1), (3, 4), (1, 2)]
    lam, eta = 5.0, 0.5
    hyper = GGMTLHypergradient(train, val, edges)
    e = _projected_gradient(hyper, np.full(len(edges), 0.5), lam, eta)
    interior = (e > 1e-9) & (e < 1 - 1e-9)
    assert interior.sum() >= 2
    W, _ = hyper.solve(e, lam)
    np.testing.assert_allclose(edges_from_solution(train, edges, W, lam), e, atol=1e-6)
    np.testing.assert_allclose(hyper(e, lam)[1][interior], -eta, rtol=1e-5)
    printed = theorem2_edges(train, val, edges, W, lam, eta)
    assert np.max(np.abs(printed - e)) > 0.1


# -- the estimator -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def line():
    return make_ggmtl_synthetic("line", n_samples=(20, 100), random_state=0)


def test_ggmtl_fit_attributes_and_monotone_outer_objective(line):
    (train, _), _, _ = line
    est = mc.GGMTL(lam=10.0, gamma=0.5, random_state=0).fit(train)
    T = train.n_tasks
    assert est.coef_.shape == (train.n_features, T)
    knn = {tuple(edge) for edge in est.knn_edges_}
    assert set(est.edges_) <= knn and len(est.edges_) < len(knn)
    assert len(est.edge_weights_) == len(est.edges_)
    assert np.all((est.edge_weights_ > 0) & (est.edge_weights_ <= 1))
    A = est.graph_.toarray()
    np.testing.assert_array_equal(A, A.T)
    assert np.count_nonzero(A) == 2 * len(est.edges_)
    path = np.array(est.objective_path_)
    assert np.all(np.diff(path) <= 1e-10 * np.abs(path[:-1]))
    assert est.adjacency().max() == pytest.approx(1.0)


@pytest.mark.parametrize("squared", [True, False])
def test_ggmtl_refit_is_certified_by_the_reference(line, squared):
    (train, _), _, _ = line
    est = mc.GGMTL(lam=5.0, squared=squared, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est.fit(train)
    model, params = est.reference_model(train)
    report = mc.verify(est.coef_, model, **params)
    assert report.objective_gap <= (1e-8 if squared else 1e-6)
    assert est.objective(train) == pytest.approx(model.objective_at(est.coef_, **params), rel=1e-12)


def test_ggmtl_without_learning_is_the_uniform_knn_graph(line):
    (train, _), _, _ = line
    est = mc.GGMTL(lam=5.0, learn_edges=False, k=4, edge_init=0.5).fit(train)
    assert len(est.edges_) == len(est.knn_edges_)
    np.testing.assert_allclose(est.edge_weights_, 0.5)
    assert est.objective_path_ == [] and est.n_iter_ == 0


def test_knn_task_graph_is_symmetric_and_each_task_has_k_neighbours():
    rng = np.random.default_rng(12)
    W = rng.normal(size=(5, 30))
    edges = knn_task_graph(W, 4)
    assert np.all(edges[:, 0] < edges[:, 1])
    degree = np.bincount(edges.ravel(), minlength=30)
    assert degree.min() >= 4
    assert len(knn_task_graph(W[:, :3], 10)) == 3  # k capped at T - 1


def test_ggmtl_learns_a_better_graph_than_knn(line):
    """On the Line set, with lam and gamma tuned on the training data only
    (a small grid, as the reproduction does), GGMTL's graph has a higher
    fuzzy accuracy and precision than the k-NN graph it starts from."""
    (train, test), _, A = line
    knn = mc.GGMTL(lam=10.0, learn_edges=False).fit(train)
    est = mc.GGMTL(lam=10.0, gamma=0.5, random_state=0).fit(train)
    ours, theirs = fuzzy_graph_scores(A, est.adjacency()), fuzzy_graph_scores(A, knn.adjacency())
    assert ours["accuracy"] > theirs["accuracy"]
    assert ours["precision"] > theirs["precision"]


def test_ggmtl_clone_inputs_unchanged_and_errors(line):
    (train, _), _, _ = line
    est = mc.GGMTL(lam=2.0, k=3, max_iter=3)
    assert clone(est).get_params() == est.get_params()
    Xs = [X.copy() for X in train.Xs]
    ys = [y.copy() for y in train.ys]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est.fit(Xs, ys)
    for a, b in zip(Xs, train.Xs):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="k"):
        mc.GGMTL(k=0).fit(train)
    with pytest.raises(ValueError, match="edge_init"):
        mc.GGMTL(edge_init=0.0).fit(train)
    with pytest.raises(ValueError, match="at least 2 tasks"):
        mc.GGMTL().fit([train.Xs[0]], [train.ys[0]])
    with pytest.raises(ValueError, match="fit the estimator first"):
        mc.GGMTL().reference_model(train)


def test_ggmtl_same_random_state_same_graph(line):
    (train, _), _, _ = line
    a = mc.GGMTL(lam=5.0, max_iter=10, random_state=3)
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        a.fit(train)
        b.fit(train)
    assert a.edges_ == b.edges_
    np.testing.assert_array_equal(a.edge_weights_, b.edge_weights_)


# -- fuzzy graph measures ---------------------------------------------------------------
def test_fuzzy_measures_reduce_to_crisp_ones():
    A_true = np.zeros((4, 4))
    for i, j in [(0, 1), (1, 2), (2, 3)]:
        A_true[i, j] = A_true[j, i] = 1
    A_pred = np.zeros((4, 4))
    for i, j in [(0, 1), (0, 2)]:
        A_pred[i, j] = A_pred[j, i] = 1
    scores = fuzzy_graph_scores(A_true, A_pred)
    # 2 of 6 true entries found; 2 of 4 predicted entries right; 4 of 16 entries wrong
    assert scores["recall"] == pytest.approx(2 / 6)
    assert scores["precision"] == pytest.approx(2 / 4)
    assert scores["f1"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    assert scores["accuracy"] == pytest.approx(1 - 6 / 16)
    np.testing.assert_array_equal(fuzzy_xor(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), [0, 1, 1, 0])


def test_fuzzy_measures_on_weighted_graphs():
    A_true = np.array([[0, 1], [1, 0]], dtype=float)
    A_pred = np.array([[0, 0.75], [0.75, 0]])
    scores = fuzzy_graph_scores(A_true, A_pred)
    # T(1, 0.75) = 0.75: recall 1.5 / 2, precision 1.5 / 1.5; XOR(1, 0.75) = 0.25
    assert scores["recall"] == pytest.approx(0.75)
    assert scores["precision"] == pytest.approx(1.0)
    assert scores["accuracy"] == pytest.approx(1 - 0.5 / 4)
    with pytest.raises(ValueError, match="truth values"):
        fuzzy_graph_scores(A_true, 2 * A_pred)
    with pytest.raises(ValueError, match="square"):
        fuzzy_graph_scores(A_true, np.zeros((2, 3)))


# -- data --------------------------------------------------------------------------------
@pytest.mark.parametrize("structure, T, d, n_edges", [("line", 20, 30, 19), ("tree", 31, 30, 30), ("star", 11, 20, 10)])
def test_ggmtl_synthetic_sets(structure, T, d, n_edges):
    (train, test), W, A = make_ggmtl_synthetic(structure, n_samples=(15, 5), random_state=1)
    assert (train.n_tasks, train.n_features) == (T, d) and test.n_samples[0] == 5
    assert W.shape == (d, T) and A.shape == (T, T)
    assert np.count_nonzero(np.triu(A)) == n_edges
    again = make_ggmtl_synthetic(structure, n_samples=(15, 5), random_state=1)
    np.testing.assert_array_equal(again[1], W)
    if structure == "line":
        step = np.diff(W, axis=1)
        assert np.all(step >= 0) and np.all(step <= 0.1)
    if structure == "star":
        np.testing.assert_array_equal(W[2:4, 0], W[2:4, 2])
    with pytest.raises(ValueError, match="structure"):
        make_ggmtl_synthetic("ring")
