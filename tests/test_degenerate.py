"""Degenerate but valid data, and the reliability fixes of issue 12: every
case here has an answer, and the test says what it is.

* badly scaled features (a column at 1e-6 next to one at 1e6): the fast
  paths converge, held to checks that do not share their code (an
  equivalent CVXPY problem on equilibrated columns, a duality gap written
  here, an independent quasi-Newton run, the CVXPY reference);
* valid input that used to raise or return NaN: ``lam = 0`` (least
  squares), all-zero ``X`` or one sample per task with an intercept
  (``W = 0``, the intercept the mean target), SSMTL with every weight 0;
  invalid operator weights refused before any iteration;
* the hang of SSMTL on tasks of 1 and 5,000 samples (per-task linear
  systems in their smaller form);
* one task, one feature, ``d >> n``, duplicated tasks, constant features,
  all-zero targets, separable labels for the logistic loss, 1 vs 10,000
  samples, data at 1e-8 and 1e8, ``lam = 0`` and ``lam = 1e12``.

Each test is fast (small sizes); the one that is not is marked ``slow``.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import minimize

import mtlcvx as mc
from mtlcvx.solvers import dispatch
from mtlcvx.solvers.least_squares import WOODBURY_MAX_RATIO, TaskSystems

from conftest import make_data

# -- helpers --------------------------------------------------------------------------------------------------------


def fit_quietly(est, *data):
    """Fit with every ConvergenceWarning (and numpy RuntimeWarning) an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", mc.ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        return est.fit(*data)


def per_task_least_squares(data):
    """Each task's minimum-norm least-squares solution on centred data."""
    return np.column_stack([np.linalg.lstsq(X - X.mean(axis=0), y - y.mean(), rcond=None)[0] for X, y in data])


def badly_scaled(d=8, T=4, n=20, seed=0, low=1e-6, high=1e6):
    """``make_data`` with column 0 of every ``X_t`` times ``low`` and column
    1 times ``high`` (centred: the estimators below fit no intercept)."""
    data = make_data(d=d, T=T, n=n, seed=seed)
    scale = np.ones(d)
    scale[0], scale[1] = low, high
    centred, _, _ = mc.MultiTaskData([X * scale for X in data.Xs], list(data.ys)).centered()
    return centred


def equilibrated_objective(data, penalty):
    """The same problem in CVXPY on ``V = S W`` (``S`` the features' largest
    column norms): unit-size columns, and the penalty written for ``V``."""
    s = np.max([np.linalg.norm(X, axis=0) for X in data.Xs], axis=0)
    V = cp.Variable((data.n_features, data.n_tasks))
    loss = sum(0.5 * cp.sum_squares(y - (X / s) @ V[:, t]) for t, (X, y) in enumerate(data))
    problem = cp.Problem(cp.Minimize(loss + penalty(V, s)))
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == "optimal"
    return problem.value


def residual_dual_gap(data, W, lam, dual_norm, norm):
    """Relative duality gap of ``sum_t 1/2 ||y_t - X_t w_t||^2 + lam Omega(W)``
    at ``W`` from the rescaled residual (scikit-learn's dual point),
    written here, independent of the solvers."""
    R = [y - X @ W[:, t] for t, (X, y) in enumerate(data)]
    G = np.column_stack([X.T @ r for X, r in zip(data.Xs, R)])
    alpha = min(1.0, lam / dual_norm(G))
    primal = sum(0.5 * r @ r for r in R) + lam * norm(W)
    dual = sum(alpha * r @ y - 0.5 * alpha**2 * r @ r for r, y in zip(R, data.ys))
    return (primal - dual) / primal


def verified(est, data, rtol=1e-6):
    """``mc.verify`` of a fitted estimator against its reference."""
    model, params = est.reference_model(data)
    report = mc.verify(est, model, rtol=rtol, **params)
    assert report.passed, str(report)
    return report


# Estimators cheap enough to fit in every degenerate case.  n_clusters / n_groups = 1 so that one task is valid.
FAST = {
    "STL": lambda: mc.STL(lam=0.5),
    "STL-elasticnet": lambda: mc.STL(lam=0.5, penalty="elasticnet"),
    "AllTasks": lambda: mc.AllTasks(lam=0.5),
    "GroupLasso": lambda: mc.GroupLasso(lam=1.0),
    "TraceNorm": lambda: mc.TraceNorm(lam=1.0),
    "ClusMTL": lambda: mc.ClusMTL(n_clusters=1),
    "TwoStageClusMTL": lambda: mc.TwoStageClusMTL(n_clusters=1, random_state=0),
    "SGMTL": lambda: mc.SGMTL(n_groups=1, n_init=1, random_state=0),
    "SSMTL": lambda: mc.SSMTL(),
}
# convex, one optimum: held to their CVXPY reference
CONVEX = ["STL", "STL-elasticnet", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "SSMTL"]
# the norm-penalised ones: W = 0 exactly from a finite weight on
NORMS = {
    "STL-elasticnet": lambda w: mc.STL(lam=w, penalty="elasticnet", l1_ratio=1.0),
    "GroupLasso": lambda w: mc.GroupLasso(lam=w),
    "TraceNorm": lambda w: mc.TraceNorm(lam=w),
    "SSMTL": lambda w: mc.SSMTL(gamma1=w, gamma2=w),
    "SGMTL-l1": lambda w: mc.SGMTL(n_groups=1, n_init=1, lam=w, regularizer="l1", random_state=0),
}


# -- 1. badly scaled features -----------------------------------------------------------------------------------------


def test_group_lasso_on_badly_scaled_features_matches_the_equilibrated_problem():
    """Was: 20,000 iterations, relative gap 0.98 (the step 1/L is set by the
    1e6 column).  Now: preconditioned, certified, and equal to the same
    problem solved by Clarabel on unit-size columns."""
    data = badly_scaled()
    est = fit_quietly(mc.GroupLasso(lam=1.0, fit_intercept=False), data)
    assert est.solver_info_.converged and est.solver_info_.n_iter < 1000
    expected = equilibrated_objective(data, lambda V, s: cp.sum(cp.multiply(1 / s, cp.norm(V, 2, axis=1))))
    assert est.objective(data) == pytest.approx(expected, rel=1e-8)


def test_elastic_net_on_badly_scaled_features_matches_the_equilibrated_problem():
    """The elastic net's gap used to stall at 5e-9 (the rounding of the stiff
    feature's weight, amplified by the uniform rescaling of the dual point)."""
    data = badly_scaled()
    est = fit_quietly(mc.STL(lam=0.5, penalty="elasticnet", fit_intercept=False), data)

    def penalty(V, s):
        return 0.25 * cp.sum(cp.multiply((1 / s)[:, None], cp.abs(V))) + 0.25 * cp.sum(
            cp.multiply((1 / s**2)[:, None], cp.square(V)))

    assert est.objective(data) == pytest.approx(equilibrated_objective(data, penalty), rel=1e-8)


def test_trace_norm_on_badly_scaled_features_is_certified_by_an_independent_gap():
    """Trace norm: no diagonal scaling keeps it, so badly scaled features go
    to the ADMM (exact, equilibrated task solves).  Was: 20,000 iterations
    at a gap of 0.98."""
    data = badly_scaled()
    est = fit_quietly(mc.TraceNorm(lam=1.0, fit_intercept=False), data)
    assert est.solver_info_.algorithm == "ADMM (badly scaled features)"
    gap = residual_dual_gap(data, est.coef_, 1.0, lambda G: np.linalg.norm(G, 2),
                            lambda W: np.linalg.svd(W, compute_uv=False).sum())
    assert gap <= 1e-8


def test_clustered_mtl_on_badly_scaled_features_matches_an_independent_quasi_newton_run():
    """ClusMTL is smooth once ``M`` is eliminated: L-BFGS (scipy) on
    variables scaled by each feature's curvature (data plus the penalty's
    bound, 2 c / eta = 4 here) reaches the same value.  Was: 20,000
    iterations and a ConvergenceWarning."""
    data = badly_scaled(d=4, T=3, n=10)
    est = fit_quietly(mc.ClusMTL(n_clusters=1, fit_intercept=False), data)
    model, params = est.reference_model(data)
    objective = model.numeric(**params)
    s = np.sqrt(np.max([np.sum(X**2, axis=0) for X in data.Xs], axis=0) + 4.0)[:, None]
    shape = est.coef_.shape

    def f(v):
        return objective.value({"W": v.reshape(shape) / s})

    def grad(v):
        return (objective.smooth_gradient({"W": v.reshape(shape) / s})["W"] / s).ravel()

    run = minimize(f, np.zeros(est.coef_.size), jac=grad, method="L-BFGS-B",
                   options=dict(maxiter=1000, ftol=1e-15, gtol=1e-11))
    assert est.objective(data) == pytest.approx(run.fun, rel=1e-9)
    assert est.objective(data) <= run.fun * (1 + 1e-12)


@pytest.mark.parametrize("low, high", [(1e-2, 1e2), (1e-6, 1e6)])
def test_ssmtl_on_badly_scaled_features_is_finite_and_no_worse_than_the_reference(low, high):
    """Was: NaN coefficients (the Woodbury solve lost every digit).  At 1e-2 /
    1e2 the reference is accurate and agrees; at 1e-6 / 1e6 it is not, and
    the fast answer must at least not be worse than its point."""
    data = badly_scaled(low=low, high=high)
    est = fit_quietly(mc.SSMTL(fit_intercept=False), data)
    assert np.all(np.isfinite(est.coef_))
    model, params = est.reference_model(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.InaccurateSolutionWarning)
        ref = model.solve(**params)
    reference_value = model.objective_at(ref.components, **params)
    assert est.objective(data) <= reference_value + 1e-8 * abs(reference_value)
    if ref.status == "optimal" and ref.gap <= 1e-7:
        assert est.objective(data) == pytest.approx(reference_value, rel=1e-6)


# -- 2. valid input that used to fail ------------------------------------------------------------------------------


def test_sgmtl_at_lam_zero_is_least_squares():
    """Was: ZeroDivisionError (no group penalised: the ADMM had no residuals
    to balance and drove rho to 0)."""
    data = make_data(d=5, T=3, n=12, seed=1)
    est = fit_quietly(mc.SGMTL(lam=0.0, n_groups=2, random_state=0), data)
    np.testing.assert_allclose(est.coef_, per_task_least_squares(data), rtol=1e-10, atol=1e-12)


def test_sgmtl_with_one_unpenalised_group_certifies_its_w_step():
    """``lam = [0, 1]``: tasks of group 0 are least squares inside the W-step;
    its duality gap used to be infinite unless their gradient was exactly
    0, so the ADMM never stopped."""
    data = make_data(d=5, T=3, n=12, seed=1)
    model = mc.reference.sgmtl_wstep(data, n_groups=2)
    U = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.7]])
    variables, info = mc.solvers.solve(model.numeric(U=U, lam=np.array([0.0, 1.0])), tol=1e-10)
    assert info.converged and info.n_iter < 2000
    report = mc.verify(variables["W"], model, U=U, lam=np.array([0.0, 1.0]))
    assert report.passed, str(report)


@pytest.mark.parametrize("preset", ["ssmtl_m", [[("F2", "C")]]], ids=["admm", "primal-dual"])
@pytest.mark.parametrize("n", [20, 4], ids=["n>d", "n<d"])
def test_ssmtl_with_every_weight_zero_is_minimum_norm_least_squares(preset, n):
    """Was: NaN coefficients.  Every weight 0 leaves least squares on
    ``W = sum_l W_l``: each task's minimum-norm solution, split evenly."""
    data = make_data(d=6, T=3, n=n, seed=2)
    est = fit_quietly(mc.SSMTL(gamma1=0.0, gamma2=0.0, preset=preset), data)
    np.testing.assert_allclose(est.coef_, per_task_least_squares(data), rtol=1e-9, atol=1e-10)
    h = len(est.components_)
    np.testing.assert_allclose(est.components_, np.broadcast_to(est.coef_ / h, est.components_.shape), rtol=1e-12)


def _degenerate_X(kind):
    rng = np.random.default_rng(3)
    if kind == "X all zero":
        return [np.zeros((6, 3)) for _ in range(3)], [rng.normal(size=6) + 2.0 for _ in range(3)]
    # one sample per task: centred, X is all zeros
    return [rng.normal(size=(1, 3)) for _ in range(3)], [rng.normal(size=1) for _ in range(3)]


@pytest.mark.parametrize("kind", ["X all zero", "one sample per task"])
@pytest.mark.parametrize("name", list(FAST))
def test_no_usable_feature_gives_zero_weights_and_the_mean_intercept(name, kind):
    """Was: ``lipschitz must be > 0`` (GroupLasso, TraceNorm, the two ClusMTL)
    and overflow warnings (SSMTL).  The loss does not depend on ``W``: the
    answer is ``W = 0`` and each task's mean target as intercept."""
    Xs, ys = _degenerate_X(kind)
    est = fit_quietly(FAST[name](), Xs, ys)
    np.testing.assert_array_equal(est.coef_, 0.0)
    np.testing.assert_allclose(est.intercept_, [y.mean() for y in ys], rtol=1e-12)


@pytest.mark.parametrize("preset, match", [
    ([[("F", "C", -1.0)]], r"preset\[0\]\[0\] weight must be >= 0"),
    ([[("F", "C", 1.0)], [("C", "F", np.nan)]], r"preset\[1\]\[0\] weight must be finite"),
])
def test_invalid_operator_weight_is_refused_before_any_iteration(preset, match, monkeypatch):
    """Was: 50,000 iterations.  Now a ValueError naming the entry, before the
    solver is called."""
    def never(*args, **kwargs):
        raise AssertionError("the solver ran")

    monkeypatch.setattr(dispatch, "solve", never)
    with pytest.raises(ValueError, match=match):
        mc.SSMTL(preset=preset).fit(make_data(d=4, T=3, n=6))


def test_operator_weights_that_overflow_are_refused_naming_phi():
    with pytest.raises(ValueError, match=r"overflow: phi=1e\+200 with h=3"):
        mc.SSMTL(phi=1e200, h=3).fit(make_data(d=4, T=3, n=6))


@pytest.mark.parametrize("solver", [mc.solvers.admm_task_laplacian, mc.solvers.primal_dual_group_norms])
@pytest.mark.parametrize("weight", [-1.0, np.nan])
def test_the_operator_solvers_refuse_a_negative_or_nan_weight(solver, weight):
    """The solvers' own guard, for a caller that skips the estimator (and the
    reference model, which refuses it too)."""
    datafit = mc.terms.SquaredLoss().bind(make_data(d=4, T=3, n=6))
    operator = mc.terms.gengl_operator(4, 3, "F", "C").bind(weight)
    with pytest.raises(ValueError, match="operator weight"):
        solver(datafit, 1, [(operator, 0)])


# -- 3. the hang: tasks of 1 and 5,000 samples ----------------------------------------------------------------------


def test_task_systems_solve_each_task_in_its_smaller_form():
    """A task with ``n_t >= d`` is solved ``d x d``, one with ``n_t < d`` by
    Woodbury ``n_t x n_t`` (while accurate), and the small systems are
    padded to the largest *small* ``n_t``, never to 5,000."""
    rng = np.random.default_rng(0)
    d = 10
    Xs = [rng.normal(size=(n, d)) for n in (1, 5000, 4)]
    systems = TaskSystems(Xs=Xs, s=np.array([1.0, 0.5, 2.0]))
    a = np.array([0.3, 2.0, 1.0])
    np.testing.assert_array_equal(systems.feature_form(a), [False, True, False])
    B = rng.normal(size=(d, 3))
    W = systems.solve(B, a)
    for t, X in enumerate(Xs):
        A = systems.s[t] * X.T @ X + a[t] * np.eye(d)
        np.testing.assert_allclose(A @ W[:, t], B[:, t], rtol=1e-10, atol=1e-10)
    assert max(stack.shape[1] for stack in systems._padded.values()) == 4
    # an ill-conditioned small task (ratio above WOODBURY_MAX_RATIO) takes the d x d form
    tiny = np.array([systems._top[0] / (10 * WOODBURY_MAX_RATIO), 2.0, 1.0])
    assert systems.feature_form(tiny)[0]


def test_task_systems_are_accurate_on_badly_scaled_features():
    """Equilibrated ``d x d`` solves: with columns at 1e-6 and 1e6 the
    unequilibrated Woodbury form was wrong by 1e16 (relative residual)."""
    rng = np.random.default_rng(1)
    d = 8
    Xs = [rng.normal(size=(n, d)) * np.r_[1e-6, 1e6, np.ones(d - 2)] for n in (3, 30)]
    systems = TaskSystems(Xs=Xs, s=np.ones(2))
    B = rng.normal(size=(d, 2))
    for a in (1e-3, 1.0, 1e3):
        W = systems.solve(B, np.full(2, a))
        for t, X in enumerate(Xs):
            A = X.T @ X + a * np.eye(d)
            scale = np.sqrt(np.diag(A))
            # residual in the equilibrated metric: D^{-1} (A w - b)
            assert np.linalg.norm((A @ W[:, t] - B[:, t]) / scale) <= 1e-9 * np.linalg.norm(B[:, t] / scale)


def test_ssmtl_on_tasks_of_one_and_many_samples_matches_the_reference():
    rng = np.random.default_rng(4)
    d = 5
    Xs = [rng.normal(size=(1, d)), rng.normal(size=(300, d))]
    w = rng.normal(size=d)
    ys = [X @ w + 0.1 * rng.normal(size=len(X)) for X in Xs]
    est = fit_quietly(mc.SSMTL(gamma1=0.5, gamma2=0.5), Xs, ys)
    verified(est, mc.MultiTaskData(Xs, ys))


@pytest.mark.slow
def test_ssmtl_on_tasks_of_one_and_five_thousand_samples_finishes():
    """The case of the issue (d = 10): over 60 s before, 0.3 s here."""
    rng = np.random.default_rng(5)
    d = 10
    Xs = [rng.normal(size=(1, d)), rng.normal(size=(5000, d))]
    w = rng.normal(size=d)
    ys = [X @ w + 0.1 * rng.normal(size=len(X)) for X in Xs]
    est = fit_quietly(mc.SSMTL(), Xs, ys)
    assert est.solver_info_.converged and np.all(np.isfinite(est.coef_))


# -- 4. degenerate data -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FAST))
def test_one_task(name):
    data = make_data(d=5, T=1, n=15, seed=6)
    est = fit_quietly(FAST[name](), data)
    assert est.coef_.shape == (5, 1) and np.all(np.isfinite(est.coef_))
    if name in CONVEX:
        verified(est, data)


@pytest.mark.parametrize("name", list(FAST))
def test_one_feature(name):
    data = make_data(d=1, T=3, n=10, seed=7)
    est = fit_quietly(FAST[name](), data)
    assert est.coef_.shape == (1, 3) and np.all(np.isfinite(est.coef_))
    if name in CONVEX:
        verified(est, data)


@pytest.mark.parametrize("name", ["STL-elasticnet", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "SSMTL"])
def test_many_more_features_than_samples(name):
    """d = 200, n = 10: held to the first-order optimality residual (and
    for the cheap references, to the reference)."""
    data = make_data(d=200, T=3, n=10, seed=8)
    est = fit_quietly(FAST[name](), data)
    model, params = est.reference_model(data)
    if name in ("TraceNorm", "ClusMTL", "SSMTL"):
        # semidefinite or large references at this size: the residual (NaN for GenGL's several operators)
        residual = model.optimality_residual(est._reference_candidate(), **params)
        assert np.isnan(residual) if name == "SSMTL" else residual <= 1e-6
        if name == "SSMTL":
            assert est.solver_info_.converged
    else:
        verified(est, data)


@pytest.mark.parametrize("name", ["STL", "STL-elasticnet", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "SSMTL"])
def test_duplicated_tasks_get_identical_columns(name):
    """Two identical tasks: a model symmetric in the tasks, with one
    optimum, gives them the same weights (to its tolerance)."""
    base = make_data(d=5, T=2, n=12, seed=9)
    data = mc.MultiTaskData([base.Xs[0], base.Xs[0], base.Xs[1]], [base.ys[0], base.ys[0], base.ys[1]])
    est = fit_quietly(FAST[name](), data)
    np.testing.assert_allclose(est.coef_[:, 0], est.coef_[:, 1], rtol=1e-6, atol=1e-8 * np.abs(est.coef_).max())


@pytest.mark.parametrize("name", list(FAST))
def test_constant_features_get_zero_weight_with_an_intercept(name):
    data = make_data(d=4, T=3, n=12, seed=10)
    Xs = [np.column_stack([X[:, :2], np.full(len(X), 3.0), X[:, 2:]]) for X in data.Xs]
    est = fit_quietly(FAST[name](), Xs, list(data.ys))
    np.testing.assert_array_equal(est.coef_[2], 0.0)


@pytest.mark.parametrize("name", list(FAST))
def test_all_zero_targets_give_zero_weights(name):
    data = make_data(d=4, T=3, n=10, seed=11)
    est = fit_quietly(FAST[name](), data.Xs, [np.zeros_like(y) for y in data.ys])
    np.testing.assert_array_equal(est.coef_, 0.0)
    np.testing.assert_array_equal(est.intercept_, 0.0)


SLOW = {
    "BiGMTL": lambda n_groups: mc.BiGMTL(n_groups=n_groups, max_iter=5, random_state=0),
    "SRML": lambda n_groups: mc.SRML(),
    "SSML": lambda n_groups: mc.SSML(),
    "GGMTL": lambda n_groups: mc.GGMTL(max_iter=5),
}


@pytest.mark.parametrize("name", list(SLOW))
def test_all_zero_targets_give_zero_weights_in_the_outer_loop_models(name):
    data = make_data(d=3, T=3, n=6, seed=12)
    est = SLOW[name](2).fit(data.Xs, [np.zeros_like(y) for y in data.ys])
    np.testing.assert_array_equal(est.coef_, 0.0)


@pytest.mark.parametrize("name", [
    "BiGMTL",
    "SRML", "SSML", "GGMTL"])
def test_one_task_in_the_outer_loop_models(name):
    """One task: a model that needs a graph between tasks says so; the others
    fit finite weights."""
    data = make_data(d=3, T=1, n=8, seed=13)
    if name == "GGMTL":
        with pytest.raises(ValueError, match="at least 2 tasks"):
            SLOW[name](1).fit(data)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)  # BiGMTL's outer loop is capped at 5 here
        est = SLOW[name](1).fit(data)
    assert est.coef_.shape == (3, 1) and np.all(np.isfinite(est.coef_))


def _separable(seed=14):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(15, 3)) for _ in range(2)]
    w = rng.normal(size=3)
    return Xs, [np.where(X @ w > 0, 1.0, 0.0) for X in Xs]


LOGISTIC = {
    "STL": lambda lam: mc.STL(lam=lam, loss="logistic", fit_intercept=False),
    "STL-elasticnet": lambda lam: mc.STL(lam=lam, penalty="elasticnet", loss="logistic", fit_intercept=False),
    "GroupLasso": lambda lam: mc.GroupLasso(lam=lam, loss="logistic", fit_intercept=False),
    "TraceNorm": lambda lam: mc.TraceNorm(lam=lam, loss="logistic", fit_intercept=False),
    "SGMTL": lambda lam: mc.SGMTL(n_groups=1, n_init=1, lam=lam, loss="logistic", fit_intercept=False,
                                  random_state=0),
}


@pytest.mark.parametrize("name", list(LOGISTIC))
def test_separable_labels_with_a_penalty_give_a_finite_optimum(name):
    Xs, ys = _separable()
    est = fit_quietly(LOGISTIC[name](0.1), Xs, ys)
    assert np.all(np.isfinite(est.coef_)) and est.score(Xs, ys) >= 0.9
    if name != "SGMTL":
        model, params = est.reference_model(Xs, ys)
        assert model.optimality_residual(est.coef_, **params) <= 1e-6


@pytest.mark.parametrize("name", list(LOGISTIC))
def test_separable_labels_without_a_penalty_are_refused(name):
    """No minimiser exists (the loss decreases along the separating
    direction); it used to run 20,000 iterations and warn."""
    Xs, ys = _separable()
    with pytest.raises(ValueError, match=r"ys\[0\] are separable.*lam=0.*use lam > 0"):
        LOGISTIC[name](0.0).fit(Xs, ys)


def test_non_separable_labels_without_a_penalty_fit():
    Xs, ys = _separable()
    ys = [y.copy() for y in ys]
    for y in ys:
        y[:3] = 1.0 - y[:3]  # a few flipped labels: overlap
    est = fit_quietly(LOGISTIC["GroupLasso"](0.0), Xs, ys)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("name", ["STL-elasticnet", "GroupLasso", "TraceNorm", "ClusMTL", "SSMTL", "SGMTL"])
def test_one_against_ten_thousand_samples(name):
    rng = np.random.default_rng(15)
    d = 4
    Xs = [rng.normal(size=(1, d)), rng.normal(size=(10_000, d))]
    w = rng.normal(size=d)
    ys = [X @ w + 0.1 * rng.normal(size=len(X)) for X in Xs]
    est = fit_quietly(FAST[name](), Xs, ys)
    assert np.all(np.isfinite(est.coef_))
    if name == "SGMTL":
        return  # non-convex; its W-step is held to the reference in test_sgmtl
    if name in ("TraceNorm", "ClusMTL"):
        model, params = est.reference_model(Xs, ys)
        assert model.optimality_residual(est.coef_, **params) <= 1e-8
    else:
        verified(est, mc.MultiTaskData(Xs, ys))


# a: scale of the features, b: of the targets; the weights scale so that the problem is the same one:
# degree-1 penalties (norms) by a * b, degree-2 ones (ridge, clustered) by a^2; then W = (b / a) W_unit
SCALED = {
    "STL": (lambda a, b: mc.STL(lam=0.5 * a * a), 2),
    "STL-elasticnet": (lambda a, b: mc.STL(lam=0.5 * a * b, penalty="elasticnet", l1_ratio=1.0), 1),
    "GroupLasso": (lambda a, b: mc.GroupLasso(lam=2.0 * a * b), 1),
    "TraceNorm": (lambda a, b: mc.TraceNorm(lam=2.0 * a * b), 1),
    "ClusMTL": (lambda a, b: mc.ClusMTL(n_clusters=1, rho1=a * a, rho2=a * a), 2),
    "SSMTL": (lambda a, b: mc.SSMTL(gamma1=a * b, gamma2=a * b), 1),
}


@pytest.mark.parametrize("a, b", [(1e-8, 1e-8), (1e-8, 1e8), (1e8, 1e-8), (1e8, 1e8)])
@pytest.mark.parametrize("name", list(SCALED))
def test_features_and_targets_at_extreme_scales_give_the_rescaled_unit_answer(name, a, b):
    """``X -> a X``, ``y -> b y`` with the weights scaled to match is the same
    problem: ``W -> (b / a) W``.  The unit-scale answer is held to the
    reference; the scaled ones to it, so every stopping rule must be
    scale-free (``max(1, |P|)`` accepted ``W = 0`` at once at 1e-8)."""
    data = make_data(d=5, T=3, n=12, seed=16)
    make, _ = SCALED[name]
    unit = fit_quietly(make(1.0, 1.0), data)
    if name in CONVEX:
        verified(unit, data)
    est = fit_quietly(make(a, b), [a * X for X in data.Xs], [b * y for y in data.ys])
    expected = (b / a) * unit.coef_
    np.testing.assert_allclose(est.coef_, expected, rtol=1e-5, atol=1e-7 * np.abs(expected).max())


def test_sgmtl_at_extreme_scales_certifies_its_last_w_step():
    """SG-MTL is not scale-equivariant (its start is a ridge with lam = 1, as
    in Algorithm 1), but every W-step is convex and must be solved at any
    scale: the reference at the learned groups agrees."""
    data = make_data(d=4, T=3, n=10, seed=17)
    scaled = mc.MultiTaskData([1e-8 * X for X in data.Xs], [1e8 * y for y in data.ys])
    est = fit_quietly(mc.SGMTL(n_groups=2, lam=1e-16, random_state=0), scaled)
    assert np.all(np.isfinite(est.coef_))
    verified(est, scaled)


@pytest.mark.parametrize("name", ["STL", "STL-elasticnet", "AllTasks", "GroupLasso", "TraceNorm"])
@pytest.mark.parametrize("d", [4, 15], ids=["n>d", "n<d"])
def test_lam_zero_is_minimum_norm_least_squares(name, d):
    data = make_data(d=d, T=3, n=10, seed=18)
    est = FAST[name]().set_params(lam=0.0)
    fit_quietly(est, data)
    expected = per_task_least_squares(data)
    if name == "AllTasks":  # one pooled least-squares w
        X = np.vstack([X - X.mean(axis=0) for X in data.Xs])
        y = np.concatenate([y - y.mean() for y in data.ys])
        expected = np.repeat(np.linalg.lstsq(X, y, rcond=None)[0][:, None], 3, axis=1)
    np.testing.assert_allclose(est.coef_, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", list(NORMS))
def test_a_huge_norm_weight_gives_exactly_zero(name):
    data = make_data(d=4, T=3, n=10, seed=19)
    est = fit_quietly(NORMS[name](1e12), data)
    np.testing.assert_array_equal(est.coef_, 0.0)


@pytest.mark.parametrize("name", ["STL", "AllTasks", "ClusMTL", "SGMTL"])
def test_a_huge_smooth_weight_gives_weights_of_order_one_over_it(name):
    """Squared penalties are flat at 0: ``W`` is not 0 but ``O(1/lam)``; for
    the ridge exactly ``X^T y / (2 lam)`` to first order."""
    data = make_data(d=4, T=3, n=10, seed=20)
    lam = 1e12
    est = {"STL": mc.STL(lam=lam), "AllTasks": mc.AllTasks(lam=lam),
           "ClusMTL": mc.ClusMTL(n_clusters=1, rho1=lam, rho2=lam),
           "SGMTL": mc.SGMTL(n_groups=1, n_init=1, lam=lam, random_state=0)}[name]
    fit_quietly(est, data)
    centred, _, _ = data.centered()
    G = np.column_stack([X.T @ y for X, y in centred])  # -grad f(0)
    if name == "STL":
        np.testing.assert_allclose(est.coef_, G / (2 * lam), rtol=1e-6)
    elif name == "AllTasks":
        np.testing.assert_allclose(est.coef_[:, 0], G.sum(axis=1) / (2 * lam), rtol=1e-6)
    else:
        # ||W|| <= (1 + eta) ||grad f(0)|| / (2 c) for ClusMTL (c = rho1 eta (1 + eta), eta = 1), and below
        # ||grad f(0)|| / lam for SG-MTL's squared L21
        bound = np.linalg.norm(G) / lam
        assert 0 < np.linalg.norm(est.coef_) <= bound
