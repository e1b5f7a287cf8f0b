"""Every term: numpy value == CVXPY value (rel 1e-10), prox == CVXPY
solution of the prox problem (rel 1e-6), gradients == central finite
differences (rel 1e-6), subdifferential distances == the CVXPY projection
onto the subdifferential (abs 1e-6); capabilities; no cvxpy on import."""

import subprocess
import sys

import cvxpy as cp
import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx.terms import (
    L1,
    L21,
    ClusteredPenalty,
    LogisticLoss,
    NuclearNorm,
    ScaledGroupNorms,
    SquaredFrobenius,
    SquaredL21,
    SquaredLoss,
)

from conftest import fd_gradient, make_data, rel

_P = np.abs(np.random.default_rng(42).normal(size=(3, 4)))
_P[1, 2] = 0.0
PENALTIES = [L1(), L21(), SquaredL21(), SquaredFrobenius(), NuclearNorm(), ScaledGroupNorms(_P, 1),
             ScaledGroupNorms(_P, 2), mc.terms.gengl_operator(6, 4, "C", "F2"), mc.terms.gengl_operator(6, 4, "F", "C")]
PROX_PENALTIES = [L1(), L21(), SquaredL21(), SquaredFrobenius(), NuclearNorm()]
LOSSES = [SquaredLoss("sum"), SquaredLoss("mean"), LogisticLoss("sum"), LogisticLoss("mean")]


def _classification(data, zero_one=False):
    ys = [np.where(y > 0, 1.0, 0.0 if zero_one else -1.0) for y in data.ys]
    return mc.MultiTaskData(list(data.Xs), ys)


def _data_for(loss, seed):
    data = make_data(d=7, T=3, n=9, seed=seed, ragged=True)
    return _classification(data, zero_one=seed % 2 == 0) if isinstance(loss, LogisticLoss) else data


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("term", PENALTIES, ids=repr)
def test_penalty_numpy_value_equals_cvxpy_value(term, seed):
    W = np.random.default_rng(seed).normal(size=(6, 4))
    assert rel(term.value(W), term.expr(cp.Constant(W)).value) <= 1e-10


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_loss_numpy_value_equals_cvxpy_value(loss, seed):
    data = _data_for(loss, seed)
    W = np.random.default_rng(seed).normal(size=(data.n_features, data.n_tasks))
    assert rel(loss.value(W, data), loss.expr(cp.Constant(W), data).value) <= 1e-10


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_loss_gradient_matches_finite_differences(loss):
    data = _data_for(loss, 1)
    W = np.random.default_rng(5).normal(size=(data.n_features, data.n_tasks)) * 0.3
    G = loss.grad(W, data)
    G_fd = fd_gradient(lambda V: loss.value(V, data), W)
    assert np.linalg.norm(G - G_fd) <= 1e-6 * max(1.0, np.linalg.norm(G_fd))


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_loss_lipschitz_bounds_gradient_change(loss):
    data = _data_for(loss, 2)
    rng = np.random.default_rng(2)
    L = loss.lipschitz(data)
    for _ in range(5):
        A, B = rng.normal(size=(2, data.n_features, data.n_tasks))
        change = np.linalg.norm(loss.grad(A, data) - loss.grad(B, data))
        assert change <= L * np.linalg.norm(A - B) * (1 + 1e-12)


def test_logistic_rejects_other_labels():
    data = make_data(d=3, T=2, n=5)
    with pytest.raises(ValueError, match=r"ys\[0\].*labels"):
        LogisticLoss().value(np.zeros((3, 2)), data)


@pytest.mark.parametrize("step", [0.05, 0.7, 3.0])
@pytest.mark.parametrize("term", PROX_PENALTIES, ids=repr)
def test_prox_equals_cvxpy_prox_problem(term, step):
    V = np.random.default_rng(11).normal(size=(6, 4))
    Z = cp.Variable(V.shape)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Z - V) + step * term.expr(Z)))
    problem.solve(solver=cp.CLARABEL)
    Z_ref = Z.value
    Z_prox = term.prox(V, step)
    assert np.linalg.norm(Z_prox - Z_ref) <= 1e-6 * max(1.0, np.linalg.norm(Z_ref))


def test_squared_frobenius_gradient():
    W = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(SquaredFrobenius().grad(W), fd_gradient(SquaredFrobenius().value, W), rtol=1e-7)


def _clustered_by_sdp(W, k, eta):
    T = W.shape[1]
    M = cp.Variable((T, T), symmetric=True)
    problem = cp.Problem(
        cp.Minimize(cp.matrix_frac(W.T, eta * np.eye(T) + M)),
        [cp.trace(M) == k, M >> 0, np.eye(T) - M >> 0],
    )
    problem.solve(solver=cp.SCS, eps_abs=1e-10, eps_rel=1e-10, max_iters=100_000)
    return problem.value


@pytest.mark.parametrize("k", [1, 2, 3.5, 5])
@pytest.mark.parametrize("eta", [0.1, 1.0, 10.0])
def test_clustered_closed_form_equals_sdp(k, eta):
    """The water-filling closed form against the SDP (rel 1e-6: the SDP is
    solved by SCS)."""
    W = np.random.default_rng(int(10 * k + eta)).normal(size=(6, 5))
    assert rel(ClusteredPenalty(k, eta).value(W), _clustered_by_sdp(W, k, eta)) <= 1e-6


def test_clustered_closed_form_on_rank_deficient_w():
    """Rank 1 < k: the trace goes partly to directions W does not use."""
    rng = np.random.default_rng(3)
    W = np.outer(rng.normal(size=6), rng.normal(size=4))
    assert rel(ClusteredPenalty(2, 0.5).value(W), _clustered_by_sdp(W, 2, 0.5)) <= 1e-6
    assert ClusteredPenalty(2, 0.5).value(np.zeros((6, 4))) == 0.0


def test_clustered_cvx_expression_with_parameter_is_dpp():
    eta = cp.Parameter(pos=True, value=0.5)
    W = cp.Variable((5, 4))
    expression, constraints = ClusteredPenalty(2, eta).cvx(W)
    assert cp.Problem(cp.Minimize(expression + cp.sum_squares(W - 1)), constraints).is_dpp()


@pytest.mark.parametrize("eta", [0.2, 2.0])
def test_clustered_gradient_matches_finite_differences(eta):
    W = np.random.default_rng(7).normal(size=(5, 4))
    pen = ClusteredPenalty(2, eta)
    G_fd = fd_gradient(pen.value, W)
    assert np.linalg.norm(pen.grad(W) - G_fd) <= 1e-6 * max(1.0, np.linalg.norm(G_fd))


def test_clustered_rejects_too_many_clusters():
    with pytest.raises(ValueError, match="n_clusters"):
        ClusteredPenalty(5, 1.0).value(np.ones((3, 4)))


def test_dual_norms_are_duals():
    """<G, W> <= Omega(W) Omega*(G), with equality reachable."""
    rng = np.random.default_rng(0)
    for term in (L1(), L21(), NuclearNorm()):
        for _ in range(20):
            G, W = rng.normal(size=(2, 5, 3))
            assert np.vdot(G, W) <= term.value(W) * term.dual_norm(G) * (1 + 1e-12)


@pytest.mark.parametrize("shape", [(40, 5), (5, 40), (30, 12), (9, 8)])
@pytest.mark.parametrize("fraction", [1e-6, 1e-3, 0.2, 0.9, 1.5])
def test_singular_value_threshold_gram_route_equals_svd(shape, fraction):
    """The Gram-eigendecomposition route for tall/wide matrices against
    thresholding of a full SVD (rel 1e-10), thresholds from tiny to above
    sigma_max."""
    V = np.random.default_rng(sum(shape)).normal(size=shape)
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    tau = fraction * s[0]
    expected = (U * np.maximum(s - tau, 0)) @ Vt
    got = mc.terms.singular_value_threshold(V, tau)
    assert np.linalg.norm(got - expected) <= 1e-10 * max(1.0, np.linalg.norm(expected))


@pytest.mark.parametrize("term", [L21(), SquaredL21()], ids=repr)
@pytest.mark.parametrize("step", [0.01, 0.3, 5.0])
def test_prox_of_a_stack_is_the_prox_of_each_slice(term, step):
    """The ADMM applies a prox to every group of a stack (N, d, T) at once:
    it must equal the prox of each slice (rel 1e-12).  (SquaredL21's prox,
    derived for mtlcvx, is held to CVXPY by test_prox_equals_cvxpy_prox_problem.)"""
    V = np.random.default_rng(int(100 * step)).normal(size=(3, 7, 4)) * np.array([1.0, 0.1, 3.0])[:, None, None]
    stacked = term.prox(V, step)
    for g in range(3):
        np.testing.assert_allclose(stacked[g], term.prox(V[g], step), rtol=1e-12, atol=1e-14)


def test_sgmtl_weights_reproduce_the_three_regularizers():
    """(5), (4), (2) written out directly against ScaledGroupNorms."""
    rng = np.random.default_rng(3)
    W = rng.normal(size=(5, 4))
    U = rng.dirichlet(np.ones(3), size=4).T
    lam = np.array([0.5, 1.0, 2.0])

    def group_sums(V):
        return np.array([np.sum(np.sqrt(((W * V[g]) ** 2).sum(axis=1))) for g in range(3)])

    direct = {
        "sqrt": np.sum(lam * group_sums(np.sqrt(U)) ** 2),
        "squared": np.sum(lam * group_sums(U) ** 2),
        "l1": np.sum(lam * group_sums(np.sqrt(U))),
    }
    for name, expected in direct.items():
        P, power = mc.terms.sgmtl_weights(U, lam, name)
        assert rel(ScaledGroupNorms(P, power).value(W), expected) <= 1e-12
    with pytest.raises(ValueError, match="regularizer"):
        mc.terms.sgmtl_weights(U, lam, "cubic")


# ---- capabilities, subdifferentials, the numpy-only import ---------------------


def test_terms_declare_their_capabilities():
    assert {"value", "expr", "prox", "dual_norm", "row_dual_norms", "subdiff_distance"} <= L21().capabilities
    assert {"grad", "lipschitz", "ridge"} <= SquaredFrobenius().capabilities
    assert "sdp" in NuclearNorm().capabilities and "prox" not in ClusteredPenalty(2, 1.0).capabilities
    assert {"column_scaled"} <= ScaledGroupNorms(power=2).capabilities
    fusion, selection = mc.terms.gengl_operator(4, 3, "C", "F2"), mc.terms.gengl_operator(4, 3, "F", "C")
    assert fusion.gram_structure == "task_fusion" and selection.gram_structure == "identity"
    assert "subdiff_distance" in selection.capabilities and "subdiff_distance" not in fusion.capabilities
    assert mc.terms.gengl_operator(4, 3, "F2", "C").gram_structure is None


def test_a_term_without_expression_raises_a_clear_type_error():
    class OnlyValue(mc.terms.Penalty):
        def value(self, W):
            return float(np.abs(W).max())

    W = cp.Variable((3, 2))
    for call in (lambda: OnlyValue().expr(W), lambda: OnlyValue().cvx(W)):
        with pytest.raises(TypeError, match="OnlyValue defines no CVXPY expression"):
            call()
    assert "expr" not in OnlyValue().capabilities and "value" in OnlyValue().capabilities


def test_value_is_derived_from_the_expression_when_absent():
    class Linf(mc.terms.Penalty):
        def expr(self, W):
            return cp.max(cp.abs(W))

    W = np.random.default_rng(0).normal(size=(4, 3))
    assert rel(Linf().value(W), np.abs(W).max()) <= 1e-12
    assert "value" in Linf().capabilities


def test_bound_penalty_rescales_every_capability():
    rng = np.random.default_rng(1)
    V, G = rng.normal(size=(2, 5, 3))
    bound = L21().bind(2.5)
    assert rel(bound.value(V), 2.5 * L21().value(V)) <= 1e-14
    np.testing.assert_allclose(bound.prox(V, 0.3), L21().prox(V, 0.75))
    assert rel(bound.dual_norm(G), L21().dual_norm(G) / 2.5) <= 1e-14
    assert rel(bound.subdiff_distance(V, G), 2.5 * L21().subdiff_distance(V, G / 2.5)) <= 1e-14
    with pytest.raises(AttributeError, match="no prox"):
        ClusteredPenalty(2, 1.0).bind(1.0).prox(V, 1.0)


def _sparse_rows(seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, 4))
    W[[1, 4]] = 0.0
    W[2, 1] = 0.0
    return W, rng.normal(size=(6, 4))


def _distance_by_cvxpy(subdifferential, G):
    problem = cp.Problem(cp.Minimize(cp.norm(-G - subdifferential[0], "fro")), subdifferential[1])
    problem.solve(solver=cp.CLARABEL)
    return problem.value


@pytest.mark.parametrize("seed", range(3))
def test_l21_and_l1_subdiff_distance_equals_projection_by_cvxpy(seed):
    W, G = _sparse_rows(seed)
    S = cp.Variable(W.shape)
    rows = np.linalg.norm(W, axis=1)
    cons = [S[j] == W[j] / rows[j] for j in range(6) if rows[j] > 0]
    cons += [cp.norm(S[j], 2) <= 1 for j in range(6) if rows[j] == 0]
    assert abs(L21().subdiff_distance(W, G) - _distance_by_cvxpy((S, cons), G)) <= 1e-6
    mask = W != 0
    cons = [S[mask] == np.sign(W[mask]), cp.abs(S[~mask]) <= 1]
    assert abs(L1().subdiff_distance(W, G) - _distance_by_cvxpy((S, cons), G)) <= 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_nuclear_subdiff_distance_equals_projection_by_cvxpy(seed):
    """d||W||_* = {U V^T + (I - UU^T) Z (I - VV^T) : ||Z||_2 <= 1} at a rank-2 W."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 4))
    G = rng.normal(size=(6, 4)) * 0.5
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    U, Vt = U[:, :2], Vt[:2]
    Z = cp.Variable(W.shape)
    S = U @ Vt + (np.eye(6) - U @ U.T) @ Z @ (np.eye(4) - Vt.T @ Vt)
    expected = _distance_by_cvxpy((S, [cp.sigma_max(Z) <= 1]), G)
    assert abs(NuclearNorm().subdiff_distance(W, G) - expected) <= 1e-6


def test_importing_terms_and_solvers_does_not_import_cvxpy():
    code = "import sys, mtlcvx, mtlcvx.terms, mtlcvx.solvers; sys.exit('cvxpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


class ColumnL2(mc.terms.Penalty):
    """A new norm penalty in one class: ``sum_t ||w_t||_2`` (task selection)."""

    def value(self, W):
        return float(np.linalg.norm(W, axis=0).sum())

    def expr(self, W):
        return cp.sum(cp.norm(W, 2, axis=0))

    def prox(self, V, step):
        return mc.terms.group_soft_threshold(V.T, step).T

    def dual_norm(self, G):
        return float(np.linalg.norm(G, axis=0).max())


def test_a_new_norm_penalty_is_one_class_with_a_fast_path_and_a_reference():
    data = make_data(d=8, T=5, n=12, seed=4)
    model = mc.reference.ReferenceModel(data, ["W"], "squared", terms=[("lam", ColumnL2(), "W")])
    variables, info = mc.solvers.solve(model.numeric(lam=6.0), tol=1e-10)
    assert info.solver == "APG, duality-gap stop" and info.converged
    report = mc.verify(variables["W"], model, lam=6.0)
    assert report.passed, str(report)
    assert np.isnan(report.optimality_residual)  # ColumnL2 declares no subdiff_distance
