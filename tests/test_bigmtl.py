"""BiGMTL: the generalized matrix functions and their Daleckii-Krein
derivative against central finite differences (rel 1e-6), the lower-level
reference against independent formulations (rel 1e-6), the paper's dual
solver and the ADMM against the reference (relative objective gap <=
1e-6), Algorithm 1 against finite differences of the unrolled objective
(rel 1e-4) and against the implicit gradient of the reference (rel 1e-3)."""

import cvxpy as cp
import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx.bilevel import BiGMTLHypergradient, bigmtl_hypergradient, central_differences
from mtlcvx.solvers.bregman import TraceGroupsDual, hellinger_maps
from mtlcvx.spectral import spectral_point

from conftest import make_data, rel


def _matrix(shape, seed, singular_values=None):
    rng = np.random.default_rng(seed)
    A, _ = np.linalg.qr(rng.normal(size=(shape[0], shape[0])))
    B, _ = np.linalg.qr(rng.normal(size=(shape[1], shape[1])))
    r = min(shape)
    s = rng.uniform(0.1, 0.9, size=r) if singular_values is None else np.asarray(singular_values, dtype=float)
    return (A[:, :r] * s) @ B[:, :r].T


SPECTRA = {
    "distinct": None,
    "repeated": [0.6, 0.6, 0.6, 0.2],
    "zeros": [0.7, 0.3, 0.0, 0.0],
    "all_zero": [0.0, 0.0, 0.0, 0.0],
}


@pytest.mark.parametrize("shape", [(4, 4), (7, 4), (4, 7)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("which", [0, 1], ids=["grad_phi", "grad_phi_conj"])
def test_daleckii_krein_derivative_equals_central_differences(shape, spectrum, which):
    lam = 1.0
    h = hellinger_maps(lam)[which]
    V = _matrix(shape, seed=sum(shape), singular_values=SPECTRA[spectrum])
    E = np.random.default_rng(1).normal(size=shape)
    step = 1e-6
    fd = (spectral_point(V + step * E).apply(h) - spectral_point(V - step * E).apply(h)) / (2 * step)
    got = spectral_point(V).derivative(h, E)
    assert np.linalg.norm(got - fd) <= 1e-6 * max(1.0, np.linalg.norm(fd))


@pytest.mark.parametrize("spectrum", SPECTRA)
def test_the_derivative_of_a_gradient_map_is_self_adjoint(spectrum):
    """grad phi* is the gradient of a spectral function: its derivative is a
    Hessian, so reverse mode may apply it as it is."""
    _, h = hellinger_maps(2.0)
    point = spectral_point(_matrix((6, 4), seed=3, singular_values=SPECTRA[spectrum]))
    E1, E2 = np.random.default_rng(2).normal(size=(2, 6, 4))
    assert abs(np.vdot(E1, point.derivative(h, E2)) - np.vdot(point.derivative(h, E1), E2)) <= 1e-12


def _instance(T=4, P=5, n=8, seed=0, L=2):
    data = make_data(d=P, T=T, n=n, seed=seed)
    val = make_data(d=P, T=T, n=n, seed=seed + 100)
    theta = np.random.default_rng(seed).dirichlet(np.ones(L), size=T)
    return data, val, theta


def test_reference_with_one_group_of_ones_is_trace_norm_ridge_regression():
    data, _, _ = _instance()
    lam, eps = 0.8, 0.1
    ours = mc.reference.bigmtl_lower(data, 1).solve(theta=np.ones((4, 1)), lam=lam, eps=eps)
    W = cp.Variable((5, 4))
    loss = sum(0.5 * cp.sum_squares(y - X @ W[:, t]) for t, (X, y) in enumerate(data))
    direct = cp.Problem(cp.Minimize(loss + eps / 2 * cp.sum_squares(W) + lam * cp.normNuc(W)))
    direct.solve(solver=cp.SCS, eps_abs=1e-10, eps_rel=1e-10, max_iters=200_000)
    assert rel(ours.objective, direct.value) <= 1e-6


def test_reference_with_groups_equals_the_explicit_sum_of_trace_norms():
    data, _, theta = _instance(L=3)
    lam, eps = 0.5, 0.01
    model = mc.reference.bigmtl_lower(data, 3)
    assert model.problem.is_dpp()
    ours = model.solve(theta=theta, lam=lam, eps=eps)
    W = cp.Variable((5, 4))
    loss = sum(0.5 * cp.sum_squares(y - X @ W[:, t]) for t, (X, y) in enumerate(data))
    norms = sum(cp.normNuc(W @ np.diag(theta[:, l])) for l in range(3))
    direct = cp.Problem(cp.Minimize(loss + eps / 2 * cp.sum_squares(W) + lam * norms))
    direct.solve(solver=cp.SCS, eps_abs=1e-10, eps_rel=1e-10, max_iters=200_000)
    assert rel(ours.objective, direct.value) <= 1e-6
    assert rel(model.objective_at(ours.W, theta=theta, lam=lam, eps=eps), ours.objective) <= 1e-6
    second = model.solve(theta=theta[:, ::-1].copy(), lam=2 * lam, eps=eps)
    assert model.n_builds == 1 and second.objective != ours.objective


@pytest.mark.parametrize("eps", [0.1, 1.0])
def test_dual_bregman_solver_reaches_the_reference_optimum(eps):
    """Run long enough, the paper's dual solver certifies a relative gap
    below 1e-6 and its objective is within 1e-6 of the reference's."""
    data, _, theta = _instance(L=2)
    lam = 0.5
    lower = TraceGroupsDual(data.Xs, data.ys, eps)
    W, U, info = lower.solve(theta, lam, tol=1e-7)
    assert info.converged
    model = mc.reference.bigmtl_lower(data, 2)
    ref = model.solve(theta=theta, lam=lam, eps=eps)
    assert (model.objective_at(W, theta=theta, lam=lam, eps=eps) - ref.objective) / max(1, ref.objective) <= 1e-6
    assert np.all(np.linalg.norm(U, ord=2, axis=(1, 2)) < lam)  # dual feasible: inside the spectral balls


def test_admm_solves_the_lower_level_through_the_dispatcher():
    data, _, theta = _instance(L=3, P=7)
    model = mc.reference.bigmtl_lower(data, 3)
    params = dict(theta=theta, lam=0.7, eps=1e-3)
    variables, info = mc.solvers.solve(model.numeric(**params), tol=1e-9)
    assert info.solver == "ADMM, column-scaled group norms" and info.converged
    ref = model.solve(**params)
    assert (model.objective_at(variables["W"], **params) - ref.objective) / max(1, ref.objective) <= 1e-6


THETAS = {
    "soft": lambda T, L, rng: rng.dirichlet(np.ones(L), size=T),
    "zero_entries": lambda T, L, rng: np.where(np.arange(L)[None] == rng.integers(0, L, T)[:, None], 1.0, 0.0),
}


@pytest.mark.parametrize("kind", THETAS)
def test_algorithm_1_is_the_gradient_of_the_unrolled_objective(kind):
    """Reverse mode through Q = 60 iterations against central differences
    of the same unrolled objective: rel 1e-4.  The hard assignment has
    zero entries (and groups whose U share singular values at U^0 = 0)."""
    data, val, _ = _instance(L=3)
    theta = THETAS[kind](4, 3, np.random.default_rng(4))
    hyper = BiGMTLHypergradient(data, val, 3, eps=0.1)
    value, grad, _ = hyper.reverse(theta, 0.5, 60)
    fd = central_differences(lambda th: hyper.value(th, 0.5, 60), theta, step=1e-6)
    assert abs(value - hyper.value(theta, 0.5, 60)) <= 1e-12 * value
    assert np.linalg.norm(grad - fd) <= 1e-4 * max(1.0, np.linalg.norm(fd))


@pytest.mark.parametrize("kind", THETAS)
def test_algorithm_1_with_many_iterations_agrees_with_the_implicit_gradient(kind):
    """With Q large the unrolled solution approaches the lower-level optimum
    and Algorithm 1 agrees with implicit differentiation of the CVXPY
    reference: rel 1e-3 on the gradient (the dual solver's gap falls as
    1/Q, and faster with a larger eps: on the soft instance the gradients
    differ by 4e-4 at Q = 2000 and 1e-4 at 6000, measured), rel 1e-5 on
    the validation error.  At a hard assignment the gradient is 0 on the
    zero entries, in both."""
    data, val, _ = _instance(L=3, seed=5)
    theta = THETAS[kind](4, 3, np.random.default_rng(4))
    lam, eps = 0.5, 2.0
    value_r, grad_r = bigmtl_hypergradient(data, val, theta, lam, eps=eps, n_inner=6000)
    value_i, grad_i = bigmtl_hypergradient(data, val, theta, lam, eps=eps, method="implicit",
                                           solver_opts={"eps_abs": 1e-10, "eps_rel": 1e-10})
    assert rel(value_r, value_i) <= 1e-5
    assert np.linalg.norm(grad_r - grad_i) <= 1e-3 * max(1.0, np.linalg.norm(grad_i))


@pytest.mark.parametrize("kind", THETAS)
@pytest.mark.parametrize("eps", [2.0, 1e-3])
def test_fixed_point_hypergradient_is_the_implicit_gradient(kind, eps):
    """Implicit differentiation of the ADMM's fixed point, in numpy,
    against the CVXPY reference's (rel 1e-5; measured 2e-10) and against
    central differences of the exact solution map (ADMM solves to a gap of
    1e-12; rel 1e-4).  At a hard assignment only the entries > 0 are
    compared: in a zero entry of a group that holds other tasks the map is
    not differentiable (its one-sided derivatives differ)."""
    data, val, _ = _instance(L=3, seed=5)
    theta = THETAS[kind](4, 3, np.random.default_rng(4))
    hyper = BiGMTLHypergradient(data, val, 3, eps=eps)
    value_f, grad_f = hyper.fixed_point(theta, 0.5)
    value_i, grad_i = hyper.implicit(theta, 0.5, solver_opts={"eps_abs": 1e-10, "eps_rel": 1e-10})
    smooth = theta > 0
    assert rel(value_f, value_i) <= 1e-7
    assert np.linalg.norm((grad_f - grad_i)[smooth]) <= 1e-5 * max(1.0, np.linalg.norm(grad_i[smooth]))

    def exact_value(entries):
        th = theta.copy()
        th[smooth] = entries
        W, _, _, _ = hyper.solve(th, 0.5, tol=1e-12)
        return mc.bilevel.validation_error(W, val)[0]

    fd = central_differences(exact_value, theta[smooth], step=1e-5)
    assert np.linalg.norm(grad_f[smooth] - fd) <= 1e-4 * max(1.0, np.linalg.norm(fd))


@pytest.mark.parametrize("kwargs, message", [
    (dict(theta=np.ones((4, 2)) * 1.2), "sum of squares < 2"),
    (dict(theta=np.ones((3, 2)) / 2), "shape"),
    (dict(lam=0.0), "lam must be"),
    (dict(eps=-1.0), "eps must be"),
    (dict(method="forward"), "method must be one of"),
    (dict(n_inner=-1), "n_inner"),
])
def test_hypergradient_refuses_bad_input(kwargs, message):
    data, val, theta = _instance(L=2)
    args = {**dict(theta=theta, lam=0.5, eps=0.1, n_inner=5), **kwargs}
    with pytest.raises(ValueError, match=message):
        bigmtl_hypergradient(data, val, **args)


# ---- the estimator -----------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    from mtlcvx.datasets import make_bigmtl_synthetic

    data, _, theta = make_bigmtl_synthetic(tasks_per_group=4, n_features=10, n_samples=12, random_state=3)
    return data, theta


def test_cv_validation_objective_never_increases(synthetic):
    """The paper's sampled Lipschitz estimate can be an underestimate; the
    CV variant backtracks, so its (deterministic) objective never rises."""
    data, _ = synthetic
    est = mc.BiGMTL(n_groups=3, lam=0.1, eps=1e-2, strategy="cv", n_inner=40, max_iter=25, tol=0.0,
                    random_state=0)
    with pytest.warns(mc.ConvergenceWarning, match="BiGMTL \\(cv\\)"):
        est.fit(data)
    path = np.array(est.objective_path_)
    assert path.size == 25 and np.all(np.diff(path) <= 1e-10 * path[0])
    assert path[-1] < path[0]


@pytest.mark.parametrize("strategy", ["cv", "cv+wr", "mccv", "mccv+wr", "alternate"])
def test_every_strategy_learns_theta_on_the_simplex_and_refits_exactly(strategy, synthetic):
    import warnings

    data, _ = synthetic
    est = mc.BiGMTL(n_groups=3, lam=0.1, eps=1e-2, strategy=strategy, n_inner=None if "wr" in strategy else 20,
                    max_iter=30, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est.fit(data)
    assert est.theta_.shape == (12, 3) and np.all(est.theta_ >= 0)
    np.testing.assert_allclose(est.theta_.sum(axis=1), 1.0)
    assert est.labels_.shape == (12,) and len(est.objective_path_) == est.n_iter_
    model, params = est.reference_model(data)
    assert set(params) == {"theta", "lam", "eps"}
    report = mc.verify(est, model, rtol=1e-6, **params)
    assert report.passed, str(report)


def test_monte_carlo_warm_restarts_stay_bounded(synthetic):
    """One dual iterate carried across different training splits made the
    validation error blow up; each split keeping its own does not."""
    import warnings

    data, _ = synthetic
    est = mc.BiGMTL(n_groups=3, lam=0.1, strategy="mccv+wr", max_iter=300, tol=0.0, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est.fit(data)
    path = np.array(est.objective_path_)
    assert path.max() <= 2.0 * path[:10].max()


def test_random_state_makes_fits_reproducible(synthetic):
    data, _ = synthetic
    import warnings

    from sklearn.base import clone

    a = mc.BiGMTL(n_groups=3, lam=0.1, strategy="mccv+wr", max_iter=50, random_state=4)
    b = clone(a)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        a.fit(data)
        b.fit(data)
    np.testing.assert_array_equal(a.theta_, b.theta_)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_group_error_ignores_labels_and_counts_mistakes():
    from mtlcvx.models.bigmtl import group_error

    truth = np.eye(3)[[0, 0, 1, 1, 2, 2]]
    relabelled = np.eye(4)[[3, 3, 0, 0, 1, 1]]
    assert group_error(relabelled, truth) == 0.0
    merged = np.eye(3)[[0, 0, 0, 0, 2, 2]]
    assert group_error(merged, truth) == pytest.approx(8 / 12)


@pytest.mark.parametrize("params, message", [
    (dict(strategy="sgd"), "strategy"),
    (dict(strategy="cv+wr", n_inner=5), "n_inner must be 1"),
    (dict(lam=0.0), "lam"),
    (dict(eps=0.0), "eps"),
    (dict(val_fraction=1.0), "val_fraction"),
    (dict(n_groups=0), "n_groups"),
])
def test_bad_hyperparameters_are_refused(params, message, synthetic):
    data, _ = synthetic
    with pytest.raises(ValueError, match=message):
        mc.BiGMTL(**params).fit(data)


def test_exact_hypergradient_variant_decreases_the_exact_objective(synthetic):
    data, _ = synthetic
    est = mc.BiGMTL(n_groups=3, lam=0.1, eps=0.1, strategy="cv", hypergradient="exact", max_iter=6, tol=0.0,
                    random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est.fit(data)
    path = np.array(est.objective_path_)
    assert np.all(np.diff(path) <= 1e-10 * path[0]) and path[-1] < path[0]
    with pytest.raises(ValueError, match="hypergradient='exact' goes with"):
        mc.BiGMTL(strategy="mccv+wr", hypergradient="exact").fit(data)
