"""GenGL (issue 4, in progress): operators from partitions against the
direct forms (rel 1e-12), group counts, no all-zero block, Table 1 presets
against their formulas written here, and the CVXPY reference (DPP,
objective_at, an independent formulation)."""

import cvxpy as cp
import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx.terms import GenGL, gengl_operator, gengl_preset, partition_operators, tensor_operator

from conftest import make_data, rel

D_, T_ = 6, 5


def _direct(W, features, tasks):
    """``sum over (pi1, pi2) of ||pi1^T W pi2||_2`` written from eq. (6)-(7)."""
    def ops(kind, p):
        if kind == "C":
            return [np.eye(p)]
        if kind == "F":
            return [np.eye(p)[:, [j]] for j in range(p)]
        return [(np.eye(p)[:, [j]] - np.eye(p)[:, [k]]) for j in range(p) for k in range(j + 1, p)]

    return sum(np.linalg.norm(a.T @ W @ b) for a in ops(features, W.shape[0]) for b in ops(tasks, W.shape[1]))


PAIRS = [(f, t) for f in ("C", "F", "F2") for t in ("C", "F", "F2")]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_operator_form_equals_direct_form(pair, seed):
    W = np.random.default_rng(seed).normal(size=(D_, T_))
    assert rel(gengl_operator(D_, T_, *pair).value(W), _direct(W, *pair)) <= 1e-12


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_operator_group_counts_and_no_zero_block(pair):
    members = {"C": 1, "F": D_, "F2": D_ * (D_ - 1) // 2}
    members_t = {"C": 1, "F": T_, "F2": T_ * (T_ - 1) // 2}
    op = gengl_operator(D_, T_, *pair)
    assert op.n_groups == members[pair[0]] * members_t[pair[1]]
    nnz = np.diff(op.D.indptr).reshape(op.n_groups, op.group_size).sum(axis=1)
    assert np.all(nnz > 0)


def test_pairwise_task_partition_has_m_choose_2_groups():
    assert gengl_operator(4, 7, "C", "F2").n_groups == 21


def test_zero_block_is_an_error():
    """The released code used all-zero task operators without noticing:
    here an all-zero block raises."""
    op = gengl_operator(3, 4, "C", "F2")
    op.D = op.D.copy()
    op.D.data[op.D.indptr[0]:op.D.indptr[op.group_size]] = 0.0
    op.D.eliminate_zeros()
    with pytest.raises(ValueError, match="all-zero block"):
        op.check_blocks()
    with pytest.raises(ValueError, match="partition"):
        partition_operators("F3", 4)


def test_tensor_form_on_third_order_weights():
    """Eq. (9) for W of shape (p1, p2, T): (C, F, F) is the sum over (j, t)
    of the norms of the fibres W[:, j, t]; (F, F, F2) the element-wise task
    differences."""
    W = np.random.default_rng(0).normal(size=(3, 4, 5))
    x = W.ravel(order="F")
    got = tensor_operator(W.shape, ("C", "F", "F")).group_norms(x).sum()
    assert rel(got, np.linalg.norm(W, axis=0).sum()) <= 1e-12
    got = tensor_operator(W.shape, ("F", "F", "F2")).group_norms(x).sum()
    expected = sum(np.abs(W[:, :, j] - W[:, :, k]).sum() for j in range(5) for k in range(j + 1, 5))
    assert rel(got, expected) <= 1e-12


def test_presets_equal_their_formulas():
    rng = np.random.default_rng(4)
    W1, W2 = rng.normal(size=(2, D_, T_))
    g1, g2, phi = 0.7, 0.3, 2.0

    def fuse(W):
        return sum(np.linalg.norm(W[:, j] - W[:, k]) for j in range(T_) for k in range(j + 1, T_))

    def fuse_elem(W):
        return sum(np.abs(W[:, j] - W[:, k]).sum() for j in range(T_) for k in range(j + 1, T_))

    def l21(W):
        return np.linalg.norm(W, axis=1).sum()

    expected = {
        "lasso": ([W1], g1 * np.abs(W1).sum()),
        "gl": ([W1], g1 * l21(W1)),
        "rmtfl": ([W1, W2], g1 * l21(W1) + g2 * l21(W2.T)),
        "metag": ([W1, W2], g1 / phi * fuse(W1) + g1 / phi**2 * fuse(W2)),
        "ssmtl_m": ([W1, W2], sum(
            g1 / phi**l * fuse(W) + g2 * phi**l * l21(W) + g1 * phi**l * fuse_elem(W) + g2 / phi**l * np.abs(W).sum()
            for l, W in ((1, W1), (2, W2)))),
    }
    for name, (components, value) in expected.items():
        penalty, weights = gengl_preset(name, D_, T_, h=2)
        assert rel(penalty.value(components, weights(g1, g2, phi)), value) <= 1e-12, name
        cvx = penalty.expr([cp.Constant(c) for c in components], weights(g1, g2, phi)).value
        assert rel(cvx, value) <= 1e-10, name


def test_ssmtl_m_second_component_is_never_cheaper_so_h_does_not_matter():
    """With the four weighted operations of "ssmtl_m", component 2's penalty
    exceeds component 1's on every non-zero matrix when sqrt(T) < phi^3
    (||.||_(C,F2) <= ||.||_(F,F2) and ||.||_(F,F) <= sqrt(T) ||.||_(F,C)):
    moving W_2 into W_1 keeps the fit and lowers the penalty, so W_2 = 0 at
    the optimum, and h = 2 gives h = 1's model (checked on the reference)."""
    T, phi = 10, 2.0
    penalty, weights = gengl_preset("ssmtl_m", D_, T, h=2)
    g1, g2 = 0.3, 0.7
    gamma = weights(g1, g2, phi)
    rng = np.random.default_rng(0)
    zero = np.zeros((D_, T))
    for kind in ("dense", "sparse", "one column", "equal columns"):
        for _ in range(20):
            V = rng.normal(size=(D_, T))
            if kind == "sparse":
                V *= rng.random((D_, T)) < 0.1
            elif kind == "one column":
                V[:, 1:] = 0
            elif kind == "equal columns":
                V[:] = V[:, :1]
            if not V.any():
                continue
            first = penalty.value([V, zero], gamma)
            second = penalty.value([zero, V], gamma)
            assert second > first
    data = make_data(d=D_, T=T, n=12, seed=3)
    results = [mc.reference.gengl(data, gengl_preset("ssmtl_m", D_, T, h=h)[0]).solve(
        gamma=gengl_preset("ssmtl_m", D_, T, h=h)[1](g1, g2, phi)) for h in (1, 2)]
    assert np.abs(results[1].components[1]).max() <= 1e-6 * np.abs(results[1].components[0]).max()
    np.testing.assert_allclose(results[1].objective, results[0].objective, rtol=1e-7)


@pytest.mark.parametrize("name", ["lasso", "gl", "rmtfl", "metag", "ssmtl_m"])
def test_reference_is_dpp_and_objective_at_matches(name):
    data = make_data(d=D_, T=T_, n=15, seed=1)
    penalty, weights = gengl_preset(name, D_, T_, h=2)
    model = mc.reference.gengl(data, penalty)
    assert model.problem.is_dpp()
    first = model.solve(gamma=weights(2.0, 1.0, 2.0))
    second = model.solve(gamma=weights(4.0, 0.5, 2.0))
    assert model.n_builds == 1 and first.objective != second.objective
    assert second.components.shape == (penalty.n_components, D_, T_)
    np.testing.assert_allclose(second.components.sum(axis=0), second.W, atol=1e-12)
    assert rel(model.objective_at(second.components, **second.parameters), second.objective) <= 1e-6


def test_reference_gl_preset_equals_group_lasso_builder():
    data = make_data(d=D_, T=T_, n=15, seed=2)
    penalty, weights = gengl_preset("gl", D_, T_)
    a = mc.reference.gengl(data, penalty).solve(gamma=weights(3.0))
    b = mc.reference.group_lasso(data).solve(lam=3.0)
    assert rel(a.objective, b.objective) <= 1e-7


def test_reference_rejects_operators_of_the_wrong_size():
    data = make_data(d=D_, T=T_, n=15)
    with pytest.raises(ValueError, match="operators act on vectors"):
        mc.reference.gengl(data, GenGL([[gengl_operator(D_ + 1, T_, "F", "C")]]))


PRESETS = ["ssmtl_m", "metag", "rmtfl", "gl", "lasso"]


@pytest.mark.parametrize("shape", [dict(d=8, T=4, n=20), dict(d=12, T=5, n=8, ragged=True)], ids=["n>d", "n<d"])
@pytest.mark.parametrize("preset", PRESETS)
def test_ssmtl_fast_matches_reference_objective(preset, shape):
    """The default fast path (the task-Laplacian ADMM for every preset)
    against CVXPY: relative objective gap <= 1e-6 and the optimality
    residual where the terms give it."""
    data = make_data(seed=3, **shape)
    est = mc.SSMTL(gamma1=2.0, gamma2=1.0, phi=2.0, preset=preset).fit(data)
    assert est.solver_info_.converged
    model, params = est.reference_model(data)
    report = mc.verify(est, model, **params)
    assert report.passed, str(report)
    np.testing.assert_allclose(est.components_.sum(axis=0), est.coef_)


def test_custom_operators_declare_a_new_penalty():
    """Row selection plus pairwise task fusion, declared from partitions,
    weights given explicitly."""
    data = make_data(d=8, T=4, n=20, seed=4)
    preset = [[("F", "C", 3.0), ("C", "F2", 0.5)]]
    est = mc.SSMTL(preset=preset).fit(data)
    model, params = est.reference_model(data)
    assert mc.verify(est, model, **params).passed
    np.testing.assert_allclose(params["gamma"], [3.0, 0.5])


@pytest.mark.parametrize("mu", [1e-1, 1e-2, 1e-3])
def test_spg_gap_is_within_the_smoothing_bound(mu):
    """The smoothed problem's minimiser is within mu * (number of groups) / 2
    of the optimum (times the largest gamma)."""
    data = make_data(d=8, T=4, n=20, seed=5)
    est = mc.SSMTL(gamma1=2.0, gamma2=1.0, preset="metag", solver="spg", smoothing=mu).fit(data)
    model, params = est.reference_model(data)
    report = mc.verify(est, model, **params)
    n_groups = sum(op.n_groups for ops in model.penalty.operators for op in ops)
    assert -1e-6 <= report.candidate_objective - report.reference_objective <= mu * n_groups / 2 * 2.0 + 1e-6


@pytest.mark.parametrize(
    "params, exc, word",
    [
        (dict(preset="nope"), ValueError, "preset"),
        (dict(preset=[[("F",)]]), ValueError, "preset"),
        (dict(preset=[[("F", "F3")]]), ValueError, "partition"),
        (dict(gamma1=-1.0), ValueError, "gamma1"),
        (dict(phi=0.0), ValueError, "phi"),
        (dict(solver="magic"), ValueError, "solver"),
        (dict(h=0), ValueError, "h"),
    ],
)
def test_ssmtl_bad_hyperparameters(params, exc, word):
    with pytest.raises(exc, match=word):
        mc.SSMTL(**params).fit(make_data(d=4, T=3, n=6))


def test_structured_operators_have_the_normal_matrices_the_admm_assumes():
    """D^T D = I for selections, L_T kron I_d for pairwise task fusion."""
    d, T = 4, 5
    L = T * np.eye(T) - np.ones((T, T))
    for pair in [("F", "C"), ("C", "F"), ("F", "F"), ("C", "C")]:
        np.testing.assert_allclose((gengl_operator(d, T, *pair).D.T @ gengl_operator(d, T, *pair).D).toarray(),
                                   np.eye(d * T))
    for pair in [("C", "F2"), ("F", "F2")]:
        D = gengl_operator(d, T, *pair).D
        np.testing.assert_allclose((D.T @ D).toarray(), np.kron(L, np.eye(d)))


@pytest.mark.parametrize("preset", PRESETS)
def test_ssmtl_primal_dual_fallback_matches_reference(preset):
    """The generic primal-dual splitting (used for operators outside the
    ADMM's two structures) on every preset, asked for by name."""
    data = make_data(d=8, T=4, n=20, seed=6)
    penalty, weights = gengl_preset(preset, 8, 4, h=2)
    gamma = weights(2.0, 1.0, 2.0)
    model = mc.reference.gengl(data, penalty)
    variables, info = mc.solvers.solve(model.numeric(gamma=gamma), tol=1e-9, max_iter=50_000,
                                       method=mc.solvers.dispatch.PrimalDual())
    assert info.solver == "primal-dual splitting (Condat-Vu)" and info.converged
    ref = model.solve(gamma=gamma)
    assert (model.objective_at(variables, gamma=gamma) - ref.objective) / max(1.0, abs(ref.objective)) <= 1e-6


def test_feature_fusion_uses_the_primal_dual_path_and_is_exact():
    data = make_data(d=6, T=4, n=20, seed=7)
    est = mc.SSMTL(preset=[[("F2", "C", 0.5), ("F", "F", 0.3)]]).fit(data)
    assert est.solver_info_.criterion_name == "relative primal-dual residual"
    model, params = est.reference_model(data)
    assert mc.verify(est, model, **params).passed


def test_gengl_scenario_tuple_draws_every_set_from_the_same_weights():
    """``n_samples`` as a tuple: training, validation and test sets from one
    ``W*`` (which depends on ``random_state`` only); the first set is the
    single-set draw."""
    from mtlcvx.datasets import make_gengl_scenario

    single, W, components = make_gengl_scenario("rmtfl", n_samples=50, random_state=3)
    (train, val, test), W2, components2 = make_gengl_scenario("rmtfl", n_samples=(50, 20, 30), random_state=3)
    assert np.array_equal(W, W2) and np.array_equal(components, components2)
    assert np.allclose(W, components.sum(0))
    assert all(np.array_equal(a, b) for a, b in zip(single.Xs + single.ys, train.Xs + train.ys))
    assert val.n_samples == [20] * 30 and test.n_samples == [30] * 30
    assert not np.allclose(val.Xs[0], train.Xs[0][:20])
    # the noise is N(0, 0.01): the residual of the true W has standard deviation 0.1
    residual = np.concatenate([y - X @ W[:, t] for t, (X, y) in enumerate(zip(test.Xs, test.ys))])
    assert 0.08 < residual.std() < 0.12


@pytest.mark.parametrize("kwargs, word", [(dict(n_samples=0), "n_samples"), (dict(n_samples=(50, 2.5)), "n_samples"),
                                          (dict(n_samples=()), "n_samples"), (dict(noise=-1.0), "noise"),
                                          (dict(name="lasso"), "name")])
def test_gengl_scenario_bad_arguments(kwargs, word):
    from mtlcvx.datasets import make_gengl_scenario

    with pytest.raises(ValueError, match=word):
        make_gengl_scenario(**{"name": "gl", **kwargs})


def test_structure_aucs_of_the_true_weights_and_of_noise():
    """The threshold-free scores of ``reproduce gengl``: 1 for the true ``W``
    of each scenario, near chance for a random one, 0 for the pattern
    reversed; bad input raises."""
    from mtlcvx.datasets import make_gengl_scenario
    from mtlcvx.experiments.gengl import structure_aucs

    expected_keys = {"gl": {"rows"}, "metag": {"pairs"}, "rmtfl": {"columns", "rows"}}
    rng = np.random.default_rng(0)
    for scenario, keys in expected_keys.items():
        _, W, components = make_gengl_scenario(scenario, n_samples=5, random_state=1)
        assert structure_aucs(scenario, W, components) == {key: 1.0 for key in keys}
        noise = structure_aucs(scenario, rng.standard_normal(W.shape), components)
        assert set(noise) == keys and all(0.25 < v < 0.75 for v in noise.values())
    _, W, components = make_gengl_scenario("gl", n_samples=5, random_state=1)
    assert structure_aucs("gl", (W == 0).astype(float), components) == {"rows": 0.0}
    # rMTFL: W1* alone has the rows but not the outlier columns (all tie at 0)
    _, W, components = make_gengl_scenario("rmtfl", n_samples=5, random_state=1)
    assert structure_aucs("rmtfl", components[0], components) == {"columns": 0.5, "rows": 1.0}
    with pytest.raises(ValueError, match="scenario"):
        structure_aucs("lasso", W, components)
    with pytest.raises(ValueError, match="shape"):
        structure_aucs("rmtfl", W[:, :-1], components)
    with pytest.raises(ValueError, match="single class"):
        structure_aucs("gl", W[:, :10], np.ones((1, 200, 10)))
