"""Reference layer: DPP, build once, certificates, numpy objective equal
to the CVXPY optimum, errors; each baseline builder checked against an
independent formulation."""

import warnings

import cvxpy as cp
import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx import reference

from conftest import make_data, rel

BUILDERS = {
    "ridge": (lambda d: reference.ridge(d), {"lam": 0.7}),
    "ridge_pooled": (lambda d: reference.ridge(d, pooled=True), {"lam": 0.7}),
    "elastic_net": (lambda d: reference.elastic_net(d), {"lam1": 0.5, "lam2": 0.3}),
    "group_lasso": (lambda d: reference.group_lasso(d), {"lam": 2.0}),
    "group_lasso_mean": (lambda d: reference.group_lasso(d, scaling="mean"), {"lam": 0.1}),
    "trace_norm": (lambda d: reference.trace_norm(d), {"lam": 3.0}),
    "clustered": (lambda d: reference.clustered(d, 2), {"rho1": 0.5, "rho2": 2.0}),
}


@pytest.fixture(scope="module")
def data():
    return make_data(d=10, T=4, n=14, seed=3, ragged=True)


@pytest.mark.parametrize("name", BUILDERS)
def test_builder_is_dpp_and_built_once(name, data):
    build, params = BUILDERS[name]
    model = build(data)
    assert model.problem.is_dpp()
    first = model.solve(**params)
    scaled = {k: 2.0 * v for k, v in params.items()}
    second = model.solve(**scaled)
    assert model.n_builds == 1
    assert second.compile_time <= max(first.compile_time, 0.05)
    assert first.objective != second.objective
    assert second.parameters == {k: float(v) for k, v in scaled.items()}


@pytest.mark.parametrize("solver", ["CLARABEL", "SCS"])
@pytest.mark.parametrize("name", BUILDERS)
def test_objective_at_equals_solver_optimum_and_certificate_is_small(name, solver, data):
    build, params = BUILDERS[name]
    model = build(data)
    if model.uses_sdp and solver == "CLARABEL":
        pytest.skip("Clarabel on the semidefinite models is slow; SCS is their default")
    result = model.solve(solver=solver, **params)
    assert result.status == "optimal"
    assert result.solver == solver
    assert rel(model.objective_at(result.W, **params), result.objective) <= 1e-6
    assert 0 <= result.gap <= 1e-6
    assert result.W.shape == (data.n_features, data.n_tasks)


def test_no_parameter_is_remembered_between_calls(data):
    """Every call uses exactly the parameters it is given: after a solve at
    lam=1.5, a call without lam is an error naming it."""
    model = reference.group_lasso(data)
    a = model.solve(lam=1.5)
    for call in (lambda: model.solve(), lambda: model.objective_at(a.W), lambda: mc.verify(a.W, model),
                 lambda: model.numeric()):
        with pytest.raises(ValueError, match=r"needs a value for parameter\(s\) \['lam'\]"):
            call()
    assert model.objective_at(a.W, lam=1.5) != model.objective_at(a.W, lam=3.0)


def test_model_is_built_lazily_once_and_objective_at_builds_nothing(data):
    model = reference.group_lasso(data)
    model.objective_at(np.zeros((data.n_features, data.n_tasks)), lam=1.0)
    assert model.n_builds == 0
    model.solve(lam=1.0)
    model.solve(lam=2.0)
    assert model.n_builds == 1


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"lam": 1.0, "mu": 2.0}, ["unknown", "mu", "lam"]),
        ({"lam": -1.0}, ["lam", ">= 0"]),
        ({"lam": [1.0, 2.0]}, ["lam", "shape"]),
        ({"lam": np.nan}, ["lam", "finite"]),
        ({}, ["needs a value", "lam"]),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, words, data):
    model = reference.group_lasso(data)
    with pytest.raises(ValueError) as info:
        model.solve(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_clustered_needs_positive_rhos(data):
    with pytest.raises(ValueError, match="rho1.*> 0"):
        reference.clustered(data, 2).solve(rho1=0.0, rho2=1.0)
    with pytest.raises(ValueError, match="n_clusters"):
        reference.clustered(data, 9)


def test_objective_at_checks_shape_and_suggests_transpose(data):
    model = reference.group_lasso(data)
    with pytest.raises(ValueError, match="transpose"):
        model.objective_at(np.zeros((data.n_tasks, data.n_features)), lam=1.0)


def test_solver_failure_raises_solver_error_with_status(data):
    model = reference.group_lasso(data)
    with pytest.raises(mc.SolverError) as info:
        model.solve(lam=1.0, solver="CLARABEL", solver_opts={"max_iter": 1})
    assert info.value.status == "user_limit"
    assert info.value.solver == "CLARABEL"


def test_inaccurate_solution_warns(data):
    model = reference.group_lasso(data)
    with pytest.warns(mc.InaccurateSolutionWarning):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            result = model.solve(lam=1.0, solver="SCS", solver_opts={"max_iters": 5})
    assert result.status == "optimal_inaccurate"


def test_clarabel_split_path_matches_plain_cvxpy_solve(data):
    """The split API path (get_problem_data / solve_via_data /
    unpack_results) touches CVXPY internals: hold it to problem.solve."""
    model = reference.group_lasso(data)
    ours = model.solve(lam=2.0, solver="CLARABEL")
    model.problem.solve(solver=cp.CLARABEL)
    # the problem is built on data scaled to unit size (objective / s_y**2)
    assert rel(ours.objective, model.problem.value * model.scales[1] ** 2) <= 1e-9
    assert np.isfinite(ours.gap)


def test_other_installed_solver_gives_no_certificate(data):
    result = reference.ridge(data).solve(lam=1.0, solver="OSQP", solver_opts={"eps_abs": 1e-10, "eps_rel": 1e-10})
    assert np.isnan(result.gap)


def test_default_solver_choice():
    small = make_data(d=10, T=3, n=10)
    assert reference.group_lasso(small).default_solver() == "CLARABEL"
    assert reference.trace_norm(small).default_solver() == "SCS"
    assert reference.clustered(small, 2).default_solver() == "SCS"
    big = make_data(d=101, T=2, n=1000)
    assert reference.group_lasso(big).default_solver() == "SCS"


# ---- independent formulations ------------------------------------------------


def _per_task_loss(W, data):
    return sum(0.5 * cp.sum_squares(y - X @ W[:, t]) for t, (X, y) in enumerate(data))


def test_ridge_equals_normal_equations(data):
    lam = 0.7
    W = reference.ridge(data).solve(lam=lam).W
    for t, (X, y) in enumerate(data):
        w = np.linalg.solve(X.T @ X + 2 * lam * np.eye(data.n_features), X.T @ y)
        np.testing.assert_allclose(W[:, t], w, rtol=1e-6, atol=1e-8)


def test_pooled_ridge_equals_stacked_normal_equations(data):
    lam = 0.7
    W = reference.ridge(data, pooled=True).solve(lam=lam).W
    X, y, _ = data.stacked()
    w = np.linalg.solve(X.T @ X + 2 * lam * np.eye(data.n_features), X.T @ y)
    for t in range(data.n_tasks):
        np.testing.assert_allclose(W[:, t], w, rtol=1e-6, atol=1e-8)


def test_elastic_net_equals_split_sign_formulation(data):
    lam1, lam2 = 0.5, 0.3
    ours = reference.elastic_net(data).solve(lam1=lam1, lam2=lam2)
    P = cp.Variable((data.n_features, data.n_tasks), nonneg=True)
    N = cp.Variable((data.n_features, data.n_tasks), nonneg=True)
    W = P - N
    problem = cp.Problem(cp.Minimize(_per_task_loss(W, data) + lam1 * cp.sum(P + N) + lam2 * cp.sum_squares(W)))
    problem.solve(solver=cp.CLARABEL)
    assert rel(ours.objective, problem.value) <= 1e-6


def test_group_lasso_equals_epigraph_formulation(data):
    lam = 2.0
    ours = reference.group_lasso(data).solve(lam=lam)
    W = cp.Variable((data.n_features, data.n_tasks))
    s = cp.Variable(data.n_features)
    constraints = [cp.SOC(s[j], W[j, :]) for j in range(data.n_features)]
    problem = cp.Problem(cp.Minimize(_per_task_loss(W, data) + lam * cp.sum(s)), constraints)
    problem.solve(solver=cp.CLARABEL)
    assert rel(ours.objective, problem.value) <= 1e-6


def test_trace_norm_equals_sdp_formulation(data):
    """||W||_* = min (tr A + tr B)/2 s.t. [[A, W], [W^T, B]] >= 0."""
    lam = 3.0
    ours = reference.trace_norm(data).solve(lam=lam)
    d, T = data.n_features, data.n_tasks
    W = cp.Variable((d, T))
    A = cp.Variable((d, d), symmetric=True)
    B = cp.Variable((T, T), symmetric=True)
    problem = cp.Problem(
        cp.Minimize(_per_task_loss(W, data) + lam * 0.5 * (cp.trace(A) + cp.trace(B))),
        [cp.bmat([[A, W], [W.T, B]]) >> 0],
    )
    problem.solve(solver=cp.SCS, eps_abs=1e-10, eps_rel=1e-10, max_iters=200_000)
    assert rel(ours.objective, problem.value) <= 1e-6


def test_clustered_equals_unscaled_formulation(data):
    """Our model optimises over M/c to stay DPP; here the plain form with
    numeric constants, as MALSAR writes it."""
    rho1, rho2, k = 0.5, 2.0, 2
    ours = reference.clustered(data, k).solve(rho1=rho1, rho2=rho2)
    eta = rho2 / rho1
    c = rho1 * eta * (1 + eta)
    T = data.n_tasks
    W = cp.Variable((data.n_features, T))
    M = cp.Variable((T, T), symmetric=True)
    problem = cp.Problem(
        cp.Minimize(_per_task_loss(W, data) + c * cp.matrix_frac(W.T, eta * np.eye(T) + M)),
        [cp.trace(M) == k, M >> 0, np.eye(T) - M >> 0],
    )
    problem.solve(solver=cp.SCS, eps_abs=1e-10, eps_rel=1e-10, max_iters=200_000)
    assert rel(ours.objective, problem.value) <= 1e-6
    M_ours = ours.variables["M"]
    assert abs(np.trace(M_ours) - k) <= 1e-6
    eig = np.linalg.eigvalsh(M_ours)
    assert eig.min() >= -1e-6 and eig.max() <= 1 + 1e-6


def test_pooled_objective_is_infinite_at_unequal_columns(data):
    model = reference.ridge(data, pooled=True)
    W = np.random.default_rng(0).normal(size=(data.n_features, data.n_tasks))
    assert model.objective_at(W, lam=1.0) == np.inf


def test_cvxpy_solver_failure_becomes_our_solver_error(data, monkeypatch):
    """A failure inside CVXPY (its own SolverError) reaches the user as
    mtlcvx.SolverError with status "solver_error"."""
    import cvxpy.reductions.solvers.conic_solvers.clarabel_conif as conif

    model = reference.group_lasso(data)

    def broken(self, *args, **kwargs):
        raise cp.error.SolverError("simulated failure")

    monkeypatch.setattr(conif.CLARABEL, "invert", broken)
    with pytest.raises(mc.SolverError) as info:
        model.solve(lam=1.0, solver="CLARABEL")
    assert info.value.status == "solver_error"


# ---- declarations: named variables, constraints, results by name -------------


def test_results_and_candidates_by_variable_name(data):
    penalty, weights = mc.terms.gengl_preset("rmtfl", data.n_features, data.n_tasks)
    model = reference.gengl(data, penalty)
    assert model.variable_names == ("W1", "W2")
    gamma = weights(2.0, 1.0)
    result = model.solve(gamma=gamma)
    np.testing.assert_allclose(result["W1"] + result["W2"], result.W)
    np.testing.assert_array_equal(result.components[1], result["W2"])
    by_name = model.objective_at(W1=result["W1"], W2=result["W2"], gamma=gamma)
    assert rel(by_name, model.objective_at(result.components, gamma=gamma)) <= 1e-14
    assert rel(by_name, model.objective_at({"W1": result["W1"], "W2": result["W2"]}, gamma=gamma)) <= 1e-14
    with pytest.raises(ValueError, match=r"variable\(s\) \['W2'\]"):
        model.objective_at(W1=result["W1"], gamma=gamma)
    with pytest.raises(ValueError, match="W2 must have shape"):
        model.objective_at(W1=result["W1"], W2=result["W2"].T, gamma=gamma)
    with pytest.raises(KeyError, match="no variable 'u'"):
        result["u"]


def test_a_declared_model_with_two_variables_and_a_constraint():
    """u and v, the loss on u + v, an L1 penalty on u and a ridge on v, v
    constrained to equal columns: checked against the same problem written
    directly in CVXPY."""
    data = make_data(d=5, T=3, n=12, seed=9)
    model = reference.ReferenceModel(
        data, ["u", "v"], "squared",
        terms=[("a", mc.terms.L1(), "u"), ("b", mc.terms.SquaredFrobenius(), "v")],
        constraints=[(mc.terms.EqualColumns(), "v")],
    )
    result = model.solve(a=2.0, b=0.5)
    u, v = cp.Variable((5, 3)), cp.Variable((5, 3))
    loss = sum(0.5 * cp.sum_squares(y - X @ (u[:, t] + v[:, t])) for t, (X, y) in enumerate(data))
    direct = cp.Problem(cp.Minimize(loss + 2.0 * cp.sum(cp.abs(u)) + 0.5 * cp.sum_squares(v)),
                        [v[:, 1:] == v[:, :1] @ np.ones((1, 2))])
    direct.solve(solver=cp.CLARABEL)
    assert rel(result.objective, direct.value) <= 1e-6
    np.testing.assert_allclose(result["v"], np.repeat(result["v"][:, :1], 3, axis=1))
    assert rel(model.objective_at(u=result["u"], v=result["v"], a=2.0, b=0.5), result.objective) <= 1e-6
    assert model.objective_at(u=result["u"], v=result["u"], a=2.0, b=0.5) == np.inf


@pytest.mark.parametrize("declaration, message", [
    (dict(variables=["W"], terms=[("lam", mc.terms.L21(), "V")]), "undeclared variable"),
    (dict(variables=["W"], terms=[(None, mc.terms.ScaledGroupNorms(power=2), "W", {"P": "P"})]), "'P' is not declared"),
    (dict(variables=["W"], terms=[("W", mc.terms.L21(), "W")]), "both for a variable and a parameter"),
    (dict(variables=["W"], terms=[("lam", mc.terms.L21())]), "term entry"),
])
def test_bad_declarations_are_refused(declaration, message, data):
    with pytest.raises((ValueError, TypeError), match=message):
        reference.ReferenceModel(data, loss="squared", **declaration)


# ---- differentiable solves ------------------------------------------------------


def test_ridge_gradient_equals_the_closed_form_derivative(data):
    """w(lam) = (X^T X + 2 lam I)^{-1} X^T y per task, so for L = <C, W>:
    dL/dlam = sum_t <c_t, -(X_t^T X_t + 2 lam I)^{-1} 2 w_t>.  SCS at eps
    1e-10: rel 1e-5."""
    lam = 0.7
    C = np.random.default_rng(0).normal(size=(data.n_features, data.n_tasks))
    result = reference.ridge(data).solve(lam=lam, requires_grad=True, solver_opts={"eps_abs": 1e-10, "eps_rel": 1e-10})
    grads = result.backward(W=C)
    exact = 0.0
    for t, (X, y) in enumerate(data):
        A = X.T @ X + 2 * lam * np.eye(data.n_features)
        w = np.linalg.solve(A, X.T @ y)
        exact += C[:, t] @ np.linalg.solve(A, -2 * w)
    assert set(grads) == {"lam"}
    assert rel(grads["lam"], exact) <= 1e-5 * max(1.0, abs(exact))


def test_group_lasso_gradient_equals_central_finite_differences(data):
    """dL/dlam for L = <C, W*(lam)>, against central differences of
    Clarabel solves (h = 1e-4 lam, where the support does not change):
    rel 1e-4."""
    lam, h = 2.0, 2e-4
    model = reference.group_lasso(data)
    C = np.random.default_rng(1).normal(size=(data.n_features, data.n_tasks))
    result = model.solve(lam=lam, requires_grad=True, solver_opts={"eps_abs": 1e-10, "eps_rel": 1e-10})
    grad = result.backward(W=C)["lam"]
    plus = np.vdot(C, model.solve(lam=lam + h, solver="CLARABEL").W)
    minus = np.vdot(C, model.solve(lam=lam - h, solver="CLARABEL").W)
    fd = (plus - minus) / (2 * h)
    assert abs(grad - fd) <= 1e-4 * max(1.0, abs(fd))


def test_gradients_through_derived_parameters_use_their_chain_rule(data):
    """The pooled ridge folds lam into lam / T, and clustered MTL rho1, rho2
    into a = 1/(rho1+rho2), b = rho1/(rho2 (rho1+rho2)): the gradients by
    user parameter against central finite differences (rel 1e-3, SCS)."""
    C = np.random.default_rng(2).normal(size=(data.n_features, data.n_tasks))
    tight = {"eps_abs": 1e-10, "eps_rel": 1e-10}
    pooled = reference.ridge(data, pooled=True)
    grad = pooled.solve(lam=0.7, requires_grad=True, solver_opts=tight).backward(W=C)["lam"]
    fd = (np.vdot(C, pooled.solve(lam=0.7 + 1e-4).W) - np.vdot(C, pooled.solve(lam=0.7 - 1e-4).W)) / 2e-4
    assert abs(grad - fd) <= 1e-3 * max(1.0, abs(fd))
    model = reference.clustered(data, 2)
    grads = model.solve(rho1=0.5, rho2=2.0, requires_grad=True, solver_opts=tight).backward(W=C)
    for name, point in (("rho1", 0.5), ("rho2", 2.0)):
        h = 1e-4 * point
        values = [np.vdot(C, model.solve(**{"rho1": 0.5, "rho2": 2.0, name: point + sign * h},
                                         solver_opts=tight).W) for sign in (1, -1)]
        fd = (values[0] - values[1]) / (2 * h)
        assert abs(grads[name] - fd) <= 1e-3 * max(1.0, abs(fd)), name


def test_backward_needs_a_fresh_differentiable_solve(data):
    model = reference.group_lasso(data)
    plain = model.solve(lam=1.0)
    with pytest.raises(ValueError, match="requires_grad=True"):
        plain.backward(W=np.ones((data.n_features, data.n_tasks)))
    first = model.solve(lam=1.0, requires_grad=True)
    model.solve(lam=2.0, requires_grad=True)
    with pytest.raises(ValueError, match="latest solve"):
        first.backward(W=np.ones((data.n_features, data.n_tasks)))
    with pytest.raises(ValueError, match="SCS only"):
        model.solve(lam=1.0, requires_grad=True, solver="CLARABEL")


def test_a_derived_parameter_without_derivative_says_so():
    data = make_data(d=5, T=4, n=10)
    model = reference.sgmtl_wstep(data, 2)
    U = np.full((2, 4), 0.5)
    result = model.solve(U=U, lam=1.0, requires_grad=True)
    with pytest.raises(TypeError, match="'P' has no derivative.*'U', 'lam'"):
        result.backward(W=np.ones((5, 4)))
