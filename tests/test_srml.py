"""SRML and SSML (Bai et al., SDM 2023): the pair terms, the exact
projection of SSML against brute force, the u-step's closed form against
its CVXPY halves and a grid, the w-step's fast path against its reference
(relative objective gap <= 1e-6), and the estimators' documented
behaviour (c = 0 is ridge, violations vanish as c grows, SSML is exactly
feasible, fewer wrong signs than ridge)."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.base import clone

import mtlcvx as mc
from mtlcvx import reference
from mtlcvx.datasets import make_srml_synthetic
from mtlcvx.metrics import sign_agreement, sign_error_rate
from mtlcvx.models.srml import srml_objective
from mtlcvx.solvers import dispatch
from mtlcvx.solvers.srml import sign_coordinate_minimizer, sign_ustep, srml_admm, task_colouring
from mtlcvx.terms import SignConsistent, SignDisagreement, project_sign_consistent, task_pairs


def _shape_only(d, T):
    return mc.MultiTaskData([np.zeros((2, d))] * T, [np.zeros(2)] * T)


@pytest.fixture(scope="module")
def few_samples():
    """Tasks sharing every sign, fewer samples than features: ridge gets
    about a fifth of the signs wrong."""
    return make_srml_synthetic(n_tasks=8, n_features=10, n_samples=(6, 200), flip=0.0, alpha_w=1.0, noise=0.1,
                               random_state=0)


# -- pairs and terms ----------------------------------------------------------
def test_task_pairs_forms():
    np.testing.assert_array_equal(task_pairs("chain", 4), [[0, 1], [1, 2], [2, 3]])
    assert len(task_pairs("all", 5)) == 10
    np.testing.assert_array_equal(task_pairs([(2, 0), (0, 2), (1, 3)], 4), [[0, 2], [1, 3]])
    A = np.zeros((4, 4))
    A[0, 3] = A[3, 0] = 1
    np.testing.assert_array_equal(task_pairs(A, 4), [[0, 3]])

    class Graph:
        def edges(self):
            return [(1, 2), (3, 0)]

    np.testing.assert_array_equal(task_pairs(Graph(), 4), [[0, 3], [1, 2]])


@pytest.mark.parametrize("pairs, match", [
    ("ring", "pairs must be one of"), ([(0, 4)], "outside"), ([(1, 1)], "two different"),
    (np.triu(np.ones((4, 4))), "symmetric"), ([0.5, 1.5], "list of"),
])
def test_task_pairs_errors(pairs, match):
    with pytest.raises(ValueError, match=match):
        task_pairs(pairs, 4)


def test_sign_disagreement_value_and_count():
    W = np.array([[1.0, -2.0, 3.0], [0.0, 1.0, -1.0]])
    term = SignDisagreement(task_pairs("chain", 3))
    # pairs (0,1), (1,2): row 0 gives relu(2) + relu(6), row 1 relu(0) + relu(1)
    assert term.value(W) == pytest.approx(9.0)
    assert term.violations(W) == 3
    assert SignDisagreement(task_pairs("all", 3)).value(W) == pytest.approx(9.0 + 0.0)


def _brute_projection(V, pairs):
    out = np.empty_like(V)
    for j, v in enumerate(V):
        best = None
        for zeroed in itertools.product([False, True], repeat=len(v)):
            x = np.where(zeroed, 0.0, v)
            if all(x[a] * x[b] >= 0 for a, b in pairs):
                cost = np.sum((x - v) ** 2)
                if best is None or cost < best[0]:
                    best = (cost, x)
        out[j] = best[1]
    return out


@pytest.mark.parametrize("graph", ["chain", "all", "random"])
def test_projection_is_exact_and_feasible(graph):
    rng = np.random.default_rng(3)
    for _ in range(40):
        T = int(rng.integers(2, 8))
        # magnitudes over 10 decades: the LP path must not zero tiny entries needlessly
        V = rng.standard_normal((5, T)) * np.exp(rng.uniform(-10, 2, (5, T)))
        if graph == "random" and T > 2:
            A = np.triu(rng.random((T, T)) < 0.5, 1)
            pairs = task_pairs((A | A.T).astype(int), T)
        else:
            pairs = task_pairs("chain" if graph == "chain" else "all", T)
        before = V.copy()
        X = project_sign_consistent(V, pairs)
        np.testing.assert_array_equal(V, before)
        assert SignConsistent(pairs).violation(X) == 0.0
        best = _brute_projection(V, pairs)
        assert np.sum((X - V) ** 2) <= np.sum((best - V) ** 2) * (1 + 1e-12) + 1e-300


def test_sign_consistent_has_no_cvxpy_form():
    with pytest.raises(TypeError, match="not convex"):
        SignConsistent(task_pairs("chain", 3)).expr(None)


# -- u-step ---------------------------------------------------------------
def _ustep_instance(rng, d=6, T=5):
    V = rng.standard_normal((d, T))
    s_plus = np.abs(rng.standard_normal((d, T))) * (rng.random((d, T)) < 0.6)
    s_minus = np.abs(rng.standard_normal((d, T))) * (rng.random((d, T)) < 0.6)
    V[0, :] = 0.0                       # v = 0: both halves give 0
    s_plus[1, :] = s_minus[1, :] = 0.0  # no neighbour mass: x = v
    c, rho = 1.7, 2.3
    # exactly at the threshold: x+ = 0 ties with x- = 0
    V[2, 0] = c * s_minus[2, 0] / rho
    return V, s_plus, s_minus, c, rho


def test_coordinate_minimizer_matches_the_cvxpy_halves():
    V, s_plus, s_minus, c, rho = _ustep_instance(np.random.default_rng(0))
    data = _shape_only(*V.shape)
    pos = reference.srml_ustep(data, "nonneg").solve(v=V, C=c * s_minus, rho=rho)
    neg = reference.srml_ustep(data, "nonpos").solve(v=V, C=-c * s_plus, rho=rho)
    assert pos.status == neg.status == "optimal"
    h_pos = 0.5 * rho * (pos["u"] - V) ** 2 + c * s_minus * pos["u"]
    h_neg = 0.5 * rho * (neg["u"] - V) ** 2 - c * s_plus * neg["u"]
    best = np.where(h_pos <= h_neg, pos["u"], neg["u"])
    x, h = sign_coordinate_minimizer(V, s_plus, s_minus, c, rho)
    np.testing.assert_allclose(x, best, atol=1e-7)
    np.testing.assert_allclose(h, np.minimum(h_pos, h_neg), atol=1e-7)
    # each half's objective_at is the same function, in numpy
    assert pos.objective == pytest.approx(
        reference.srml_ustep(data, "nonneg").objective_at(pos["u"], v=V, C=c * s_minus, rho=rho), abs=1e-9)


def test_coordinate_minimizer_matches_a_grid_and_handles_zeros():
    rng = np.random.default_rng(1)
    V, s_plus, s_minus, c, rho = _ustep_instance(rng, d=8, T=6)
    grid = np.linspace(-5, 5, 200_001)
    x, _ = sign_coordinate_minimizer(V, s_plus, s_minus, c, rho)
    for v, sp, sm, xi in zip(V.ravel(), s_plus.ravel(), s_minus.ravel(), x.ravel()):
        h = 0.5 * rho * (grid - v) ** 2 + c * (sm * np.maximum(grid, 0) + sp * np.maximum(-grid, 0))
        assert abs(xi - grid[np.argmin(h)]) <= 1e-4
    assert np.all(x[0] == 0.0)
    np.testing.assert_array_equal(x[1], V[1])
    assert x[2, 0] == 0.0


def test_gauss_seidel_sweep_is_exact_coordinatewise_and_never_increases():
    rng = np.random.default_rng(2)
    d, T, c, rho = 7, 6, 0.8, 1.5
    pairs = task_pairs("all", T)
    V, U0 = rng.standard_normal((d, T)), rng.standard_normal((d, T))
    classes, adjacency = task_colouring(pairs, T)
    assert [len(k) for k in classes] == [1] * T
    penalty = SignDisagreement(pairs)

    def g(U):
        return c * penalty.value(U) + 0.5 * rho * np.sum((U - V) ** 2)

    U = sign_ustep(V, U0, classes, adjacency, c, rho)
    assert g(U) <= g(U0)
    # the same sweep done task by task, each coordinate by brute force
    W = U0.copy()
    grid = np.linspace(-6, 6, 120_001)
    for t in np.concatenate(classes):
        for j in range(d):
            others = W[j, adjacency[t] > 0]
            h = 0.5 * rho * (grid - V[j, t]) ** 2 + c * np.maximum(-grid[:, None] * others, 0).sum(axis=1)
            W[j, t] = grid[np.argmin(h)]
    np.testing.assert_allclose(U, W, atol=2e-4)


def test_chain_needs_two_colours():
    classes, _ = task_colouring(task_pairs("chain", 7), 7)
    assert [k.tolist() for k in classes] == [[0, 2, 4, 6], [1, 3, 5]]


# -- w-step ----------------------------------------------------------------------
@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_wstep_fast_matches_reference(penalty, loss):
    rng = np.random.default_rng(4)
    Xs = [rng.standard_normal((25, 6)) for _ in range(4)]
    ys = [X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(25) for X in Xs]
    if loss == "logistic":
        ys = [np.sign(y) for y in ys]
    model = reference.srml_wstep(mc.MultiTaskData(Xs, ys), penalty=penalty, loss=loss)
    params = dict(u=rng.standard_normal((6, 4)), y=rng.standard_normal((6, 4)), rho=3.0, lam=0.5)
    ref = model.solve(**params)
    fast, info = dispatch.solve(model.numeric(**params), tol=1e-10)
    if (penalty, loss) == ("l2", "squared"):
        assert info.solver == "closed-form ridge"
    gap = (model.objective_at(fast["W"], **params) - ref.objective) / max(1.0, abs(ref.objective))
    assert gap <= 1e-6
    assert ref.objective == pytest.approx(model.objective_at(ref.W, **params), rel=1e-6)


def test_wstep_closed_form_is_the_normal_equations():
    rng = np.random.default_rng(5)
    Xs = [rng.standard_normal((8, 5)) for _ in range(3)]
    ys = [rng.standard_normal(8) for _ in range(3)]
    model = reference.srml_wstep(mc.MultiTaskData(Xs, ys))
    u, y, rho, lam = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), 2.0, 0.3
    W = dispatch.solve(model.numeric(u=u, y=y, rho=rho, lam=lam))[0]["W"]
    for t, X in enumerate(Xs):
        # gradient of 1/2||y - Xw||^2 + lam||w||^2 + <y, w - u> + rho/2||w - u||^2
        grad = X.T @ (X @ W[:, t] - ys[t]) + 2 * lam * W[:, t] + y[:, t] + rho * (W[:, t] - u[:, t])
        np.testing.assert_allclose(grad, 0.0, atol=1e-10)


def test_wstep_gradients_match_finite_differences():
    pytest.importorskip("diffcp")
    rng = np.random.default_rng(6)
    Xs = [rng.standard_normal((10, 3)) for _ in range(2)]
    ys = [rng.standard_normal(10) for _ in range(2)]
    model = reference.srml_wstep(mc.MultiTaskData(Xs, ys))
    params = dict(u=rng.standard_normal((3, 2)), y=rng.standard_normal((3, 2)), rho=1.5, lam=0.2)
    G = rng.standard_normal((3, 2))
    grads = model.solve(requires_grad=True, **params).backward(W=G)

    def f(**changed):
        # the w-step is a linear system: the exact solution by the fast path
        return float(np.sum(G * dispatch.solve(model.numeric(**{**params, **changed}))[0]["W"]))

    h = 1e-6
    for name in ("rho", "lam"):
        fd = (f(**{name: params[name] + h}) - f(**{name: params[name] - h})) / (2 * h)
        assert grads[name] == pytest.approx(fd, rel=1e-3, abs=1e-6)
    E = np.zeros((3, 2))
    E[1, 0] = 1.0
    for name in ("u", "y"):
        fd = (f(**{name: params[name] + h * E}) - f(**{name: params[name] - h * E})) / (2 * h)
        assert grads[name][1, 0] == pytest.approx(fd, rel=1e-3, abs=1e-6)


def test_reference_models_are_dpp_and_compiled_once():
    data = _shape_only(4, 3)
    model = reference.srml_ustep(data, "nonpos")
    rng = np.random.default_rng(7)
    for _ in range(3):
        result = model.solve(v=rng.standard_normal((4, 3)), C=-rng.random((4, 3)), rho=1.0)
        assert np.all(result["u"] <= 1e-8)
        np.testing.assert_allclose(result.W, result["u"])
    assert model.n_builds == 1
    with pytest.raises(ValueError, match="half"):
        reference.srml_ustep(data, "positive")
    with pytest.raises(ValueError, match="penalty"):
        reference.srml_wstep(make_srml_synthetic(n_tasks=2, n_features=3, n_samples=4, random_state=0)[0], "l0")


# -- estimators -------------------------------------------------------------------
def test_c_zero_is_independent_ridge(few_samples):
    (train, _), _ = few_samples
    srml = mc.SRML(lam=0.1, c=0.0).fit(train)
    ridge = mc.STL(lam=0.1).fit(train)
    np.testing.assert_allclose(srml.coef_, ridge.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(srml.intercept_, ridge.intercept_, rtol=1e-8, atol=1e-10)
    assert srml.n_iter_ == 1 and srml.converged_


def test_c_zero_with_l1_is_the_lasso(few_samples):
    (train, _), _ = few_samples
    srml = mc.SRML(lam=0.5, c=0.0, penalty="l1").fit(train)
    lasso = mc.STL(lam=0.5, penalty="elasticnet", l1_ratio=1.0).fit(train)
    np.testing.assert_allclose(srml.coef_, lasso.coef_, atol=1e-6)


def test_violations_vanish_as_c_grows():
    (train, _), W = make_srml_synthetic(n_tasks=6, n_features=8, n_samples=(6, 10), flip=0.2, alpha_w=1.0,
                                        random_state=1)
    counts = [mc.SRML(lam=0.1, c=c).fit(train).sign_violations_ for c in (0.0, 0.3, 100.0)]
    assert counts[0] > 0
    assert counts[-1] == 0
    assert counts[1] <= counts[0]


def test_fewer_wrong_signs_and_better_predictions_than_ridge(few_samples):
    (train, test), W = few_samples
    ridge = mc.STL(lam=0.1).fit(train)
    srml = mc.SRML(lam=0.1, c=1.0, pairs="all").fit(train)

    def wrong(B):
        return sign_error_rate(W, B)

    def mse(est):
        return np.mean(np.concatenate([(p - y) ** 2 for p, y in zip(est.predict(test), test.ys)]))

    # measured: 24 % wrong signs for ridge, 5 % for SRML; test MSE 7.6 vs 5.4
    assert wrong(srml.coef_) < 0.5 * wrong(ridge.coef_)
    assert mse(srml) < 0.85 * mse(ridge)
    # the penalty zeroes disputed signs rather than flipping them
    assert np.mean(srml.coef_ == 0) > 0
    assert sign_agreement(W, srml.coef_) < 1 - wrong(srml.coef_)


@pytest.mark.parametrize("pairs", ["chain", "all", [(0, 3), (1, 2), (2, 4)]])
def test_ssml_is_exactly_feasible(pairs):
    (train, _), _ = make_srml_synthetic(n_tasks=5, n_features=6, n_samples=(8, 2), alpha_w=1.0, random_state=2)
    est = mc.SSML(lam=0.1, pairs=pairs).fit(train)
    P = task_pairs(pairs, 5)
    assert np.all(est.coef_[:, P[:, 0]] * est.coef_[:, P[:, 1]] >= 0.0)
    assert est.sign_violations_ == 0
    assert np.isfinite(est.objective(train))
    assert est.converged_


def test_admm_history_and_theorem_report(few_samples):
    (train, _), _ = few_samples
    est = mc.SRML(lam=0.1, c=1.0, pairs="all").fit(train)
    assert est.rho_satisfies_theorem_ and est.rho_ == pytest.approx(2.2 * est.H_)
    assert len(est.objective_path_) == est.n_iter_ == est.residuals_.shape[0]
    assert est.residuals_[-1, 0] <= 1e-5 * np.linalg.norm(est.coef_)
    path = np.array(est.objective_path_)
    assert path[-1] < path[0]
    assert est.objective(train) == pytest.approx(path[-1], rel=1e-9)
    with pytest.warns(mc.ConvergenceWarning):
        small = mc.SRML(lam=0.1, c=1.0, rho=0.5 * est.H_, max_iter=5).fit(train)
    assert not small.rho_satisfies_theorem_


def test_objective_is_eq_4_3(few_samples):
    (train, _), _ = few_samples
    est = mc.SRML(lam=0.3, c=2.0, fit_intercept=False).fit(train)
    W = est.coef_
    loss = sum(0.5 * np.sum((y - X @ W[:, t]) ** 2) for t, (X, y) in enumerate(train))
    sign = sum(np.maximum(-W[:, t] * W[:, t + 1], 0).sum() for t in range(train.n_tasks - 1))
    assert est.objective(train) == pytest.approx(loss + 0.3 * np.sum(W ** 2) + 2.0 * sign, rel=1e-12)
    objective = srml_objective(train, 0.3, 2.0, task_pairs("chain", train.n_tasks), strict=True)
    assert objective.value({"W": np.ones_like(W)}) < np.inf
    assert objective.value({"W": np.where(np.arange(train.n_tasks) == 0, -1.0, 1.0) * np.ones_like(W)}) == np.inf


def test_last_wstep_is_certified_by_verify(few_samples):
    (train, _), _ = few_samples
    est = mc.SRML(lam=0.1, c=1.0, pairs="all").fit(train)
    model, params = est.reference_model(train)
    assert set(params) == {"u", "y", "rho", "lam"}
    report = mc.verify(est, model, **params)
    assert report.passed, str(report)


def test_reference_wstep_path_gives_the_same_fit():
    (train, _), _ = make_srml_synthetic(n_tasks=3, n_features=4, n_samples=(8, 2), alpha_w=1.0, random_state=3)
    fast = mc.SRML(lam=0.2, c=0.5, max_iter=30, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        a = clone(fast).fit(train)
        b = clone(fast).set_params(solver="reference").fit(train)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5 * np.abs(a.coef_).max())


def test_logistic_srml_predicts_labels_in_the_given_convention():
    (train, test), W = make_srml_synthetic(n_tasks=4, n_features=5, n_samples=(40, 100), kind="classification",
                                           alpha_w=1.0, random_state=4)
    zero_one = mc.MultiTaskData(list(train.Xs), [(y > 0).astype(float) for y in train.ys])
    est = mc.SRML(lam=0.1, c=0.5, loss="logistic", fit_intercept=False).fit(zero_one)
    pred = est.predict(test)
    assert set(np.unique(np.concatenate(pred))) <= {0.0, 1.0}
    proba = est.predict_proba(test)
    assert all(np.all((p >= 0) & (p <= 1)) for p in proba)
    labels = mc.MultiTaskData(list(test.Xs), [(y > 0).astype(float) for y in test.ys])
    assert est.score(labels) > 0.8
    model, params = est.reference_model(zero_one)
    assert mc.verify(est, model, **params).passed


def test_random_init_is_reproducible(few_samples):
    (train, _), _ = few_samples
    a = mc.SRML(lam=0.1, c=1.0, init="random", random_state=5).fit(train)
    b = mc.SRML(lam=0.1, c=1.0, init="random", random_state=5).fit(train)
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("params, exc, match", [
    (dict(rho=0.0), ValueError, "rho"), (dict(rho="big"), TypeError, "rho"), (dict(c=-1.0), ValueError, "c"),
    (dict(pairs="ring"), ValueError, "pairs"), (dict(penalty="l0"), ValueError, "penalty"),
    (dict(loss="logistic"), ValueError, "fit_intercept"), (dict(init="zeros"), ValueError, "init"),
])
def test_bad_hyperparameters_are_named(params, exc, match):
    (train, _), _ = make_srml_synthetic(n_tasks=3, n_features=4, n_samples=(5, 2), random_state=0)
    with pytest.raises(exc, match=match):
        mc.SRML(**params).fit(train)


def test_sklearn_conventions_and_inputs_untouched():
    (train, _), _ = make_srml_synthetic(n_tasks=3, n_features=4, n_samples=(6, 2), alpha_w=1.0, random_state=1)
    Xs, ys = [X.copy() for X in train.Xs], [y.copy() for y in train.ys]
    for est in (mc.SRML(lam=0.5, c=0.2), mc.SSML(lam=0.5)):
        cloned = clone(est)
        assert cloned.get_params() == est.get_params()
        fitted = cloned.fit(Xs, ys)
        assert fitted is cloned and fitted.coef_.shape == (4, 3)
        fitted.predict(Xs)
        fitted.score(Xs, ys)
        fitted.objective(Xs, ys)
    for a, b in zip(Xs + ys, list(train.Xs) + list(train.ys)):
        np.testing.assert_array_equal(a, b)
    assert "c" not in mc.SSML().get_params()


def test_admm_stops_at_max_iter_with_a_scikit_learn_warning(few_samples):
    (train, _), _ = few_samples
    with pytest.warns(mc.ConvergenceWarning, match="ADMM"):
        est = mc.SRML(lam=0.1, c=1.0, max_iter=3).fit(train)
    assert not est.converged_ and est.n_iter_ == 3


def test_admm_runs_with_any_u_step():
    # the solver is generic: with the identity u-step it is the proximal point method on f
    rng = np.random.default_rng(8)
    target = rng.standard_normal((3, 2))
    W, U, Y, info, history = srml_admm(lambda V, U: V, lambda U, Y, W: (U * 2.0 - Y + 2 * target) / 4.0,
                                       lambda U: 0.0, 2.0, np.zeros((3, 2)), np.zeros((3, 2)), tol=1e-10)
    # w-step of f = ||W - target||^2 with rho = 2: (2 target - Y + rho U) / (2 + rho)
    assert info.converged
    np.testing.assert_allclose(W, target, atol=1e-8)


@pytest.mark.parametrize("cls", [mc.SRML, mc.SSML], ids=lambda c: c.__name__)
@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_every_variant_runs_and_its_last_wstep_is_optimal(cls, penalty, loss):
    """The paper's variants (l2 of eq. 4.4, l1 of section 5.1; squared and
    logistic losses), strict or not: each converges here, and the convex
    step it ends on is certified by the CVXPY reference."""
    kind = "classification" if loss == "logistic" else "regression"
    (train, _), _ = make_srml_synthetic(n_tasks=4, n_features=5, n_samples=(30, 2), kind=kind, alpha_w=1.0,
                                        random_state=6)
    extra = {} if cls is mc.SSML else {"c": 0.5}
    est = cls(lam=0.5, penalty=penalty, loss=loss, pairs="all", fit_intercept=False, **extra).fit(train)
    assert est.converged_
    model, params = est.reference_model(train)
    report = mc.verify(est, model, **params)
    assert report.passed, str(report)
    assert np.isfinite(est.objective(train))
