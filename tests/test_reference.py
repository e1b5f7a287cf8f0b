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


def test_parameters_persist_between_calls(data):
    model = reference.group_lasso(data)
    a = model.solve(lam=1.5)
    b = model.solve()
    assert rel(a.objective, b.objective) <= 1e-9
    assert model.objective_at(a.W) == model.objective_at(a.W, lam=1.5)


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
    assert rel(ours.objective, model.problem.value) <= 1e-9
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
