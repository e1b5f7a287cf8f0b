"""Fast solvers: layer independence, and the generic pieces on problems
with known solutions."""

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx.solvers import accelerated_proximal_gradient, norm_penalized_gap, ridge_closed_form, select
from mtlcvx.terms import L1, L21, LeastSquares, NuclearNorm, SquaredFrobenius, SquaredLoss

from _builders import SparseLowRank
from conftest import make_data

PACKAGE = pathlib.Path(mc.__file__).parent


def _imports(folder):
    names = set()
    for path in (PACKAGE / folder).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names.add(("." * node.level) + (node.module or ""))
    return names


def test_solvers_never_import_cvxpy_or_terms():
    names = _imports("solvers")
    assert not any("cvxpy" in n for n in names)
    assert not any(n.lstrip(".").startswith(("terms", "reference")) for n in names)


def test_reference_never_imports_solvers():
    assert not any(n.lstrip(".").startswith("solvers") or "mtlcvx.solvers" in n for n in _imports("reference"))


@pytest.mark.parametrize("shape", [dict(shared=False), dict(shared=True), dict(ragged=True), dict(n=40),
                                   dict(n=40, shared=True)])
def test_least_squares_layouts_match_the_per_task_formula(shape, monkeypatch):
    """All storage layouts (padded, shared X, Gram) agree with the loss
    written task by task here."""
    import mtlcvx.terms.losses as losses

    # the support search of a sparse W runs from 128 rows on: here from 1
    monkeypatch.setattr(losses, "_SPARSE_ROWS", 1)
    data = make_data(d=10, T=3, **{"n": 8, **shape})
    for scaling in ("sum", "mean"):
        ls = SquaredLoss(scaling).bind(data)
        assert isinstance(ls, LeastSquares)
        s = [1.0 if scaling == "sum" else 1.0 / n for n in data.n_samples]
        W = np.random.default_rng(0).normal(size=(10, 3))
        value = sum(s_t / 2 * np.sum((y - X @ W[:, t]) ** 2) for t, ((X, y), s_t) in enumerate(zip(data, s)))
        grad = np.column_stack([s_t * X.T @ (X @ W[:, t] - y) for t, ((X, y), s_t) in enumerate(zip(data, s))])
        top = max(s_t * np.linalg.norm(X, 2) ** 2 for X, s_t in zip(data.Xs, s))
        np.testing.assert_allclose(ls.value(W), value, rtol=1e-12)
        np.testing.assert_allclose(ls.grad(W), grad, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ls.lipschitz(), top, rtol=1e-10)
        rows = [1, 4, 7]
        np.testing.assert_allclose(ls.restrict(rows).grad(W[rows]), SquaredLoss(scaling).bind(
            mc.MultiTaskData([X[:, rows] for X in data.Xs], list(data.ys))).grad(W[rows]), rtol=1e-10, atol=1e-10)
        # a W with few non-zero rows takes the products with those columns only
        sparse = np.zeros_like(W)
        sparse[[2, 5]] = W[[2, 5]]
        grad = np.column_stack([s_t * X.T @ (X @ sparse[:, t] - y) for t, ((X, y), s_t) in enumerate(zip(data, s))])
        value = sum(s_t / 2 * np.sum((y - X @ sparse[:, t]) ** 2) for t, ((X, y), s_t) in enumerate(zip(data, s)))
        np.testing.assert_allclose(ls.grad(sparse), grad, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ls.value(sparse), value, rtol=1e-12)


def test_duality_gap_bounds_suboptimality_and_vanishes_at_optimum():
    data = make_data(d=12, T=3, n=10, seed=2)
    ls = SquaredLoss().bind(data)
    lam = 2.0
    model = mc.reference.group_lasso(data)
    ref = model.solve(lam=lam)
    rng = np.random.default_rng(1)
    for scale in (1.0, 0.1, 0.01):
        W = ref.W + scale * rng.normal(size=ref.W.shape)
        primal, gap = norm_penalized_gap(ls, W, L21().bind(lam))
        assert primal - ref.objective <= gap * (1 + 1e-9) + 1e-7
    _, gap_at_opt = norm_penalized_gap(ls, ref.W, L21().bind(lam))
    assert gap_at_opt <= 1e-5 * ref.objective


def test_apg_solves_lasso_with_orthogonal_design_in_closed_form():
    """With X^T X = I the lasso solution is soft-thresholding of X^T y."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 8)))
    y = rng.normal(size=20)
    lam = 0.3
    x, info = accelerated_proximal_gradient(
        lambda w: Q.T @ (Q @ w - y),
        lambda v, step: np.sign(v) * np.maximum(np.abs(v) - lam * step, 0),
        np.zeros(8),
        1.0,
        tol=1e-12,
    )
    expected = np.sign(Q.T @ y) * np.maximum(np.abs(Q.T @ y) - lam, 0)
    assert info.converged
    np.testing.assert_allclose(x, expected, atol=1e-10)


def test_apg_warns_when_it_hits_max_iter():
    with pytest.warns(mc.ConvergenceWarning, match="max_iter"):
        _, info = accelerated_proximal_gradient(
            lambda w: w - 1.0, lambda v, s: v, np.zeros(3), 1e3, tol=1e-15, max_iter=5, check_every=1
        )
    assert not info.converged


@pytest.mark.parametrize("n, d", [(20, 5), (5, 20)])
@pytest.mark.parametrize("lam", [0.0, 0.4])
def test_ridge_closed_form_primal_and_dual_systems(n, d, lam):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    w = ridge_closed_form(X, y, lam, s=0.5)
    if lam == 0:
        np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-10)
    else:
        grad = 0.5 * X.T @ (X @ w - y) + 2 * lam * w
        assert np.linalg.norm(grad) <= 1e-10


def test_importing_solvers_alone_does_not_import_cvxpy():
    code = "import sys, mtlcvx.solvers; sys.exit('cvxpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _objective(data, penalties, loss="squared"):
    terms = [(f"w{k}", term, "W") for k, term in enumerate(penalties)]
    model = mc.reference.ReferenceModel(data, ["W"], loss, terms=terms)
    return model.numeric(**{f"w{k}": 1.0 for k in range(len(penalties))})


@pytest.mark.parametrize("penalties, loss, expected", [
    ([SquaredFrobenius()], "squared", "closed-form ridge"),
    ([L21()], "squared", "block coordinate descent"),
    ([L21(), SquaredFrobenius()], "squared", "block coordinate descent"),
    ([L1(), SquaredFrobenius()], "squared", "working-set proximal gradient"),
    ([NuclearNorm()], "squared", "APG, duality-gap stop"),
    ([L21()], "logistic", "APG, gradient-mapping stop"),
    ([mc.terms.ClusteredPenalty(2, 1.0)], "squared", "APG, gradient-mapping stop"),
    ([mc.terms.ScaledGroupNorms(np.ones((2, 3)), 2)], "squared", "ADMM, column-scaled group norms"),
    ([mc.terms.gengl_operator(6, 3, "C", "F2")], "squared", "ADMM, task-Laplacian operators"),
    ([mc.terms.gengl_operator(6, 3, "F2", "C")], "squared", "primal-dual splitting (Condat-Vu)"),
    ([L1(), NuclearNorm()], "squared", "primal-dual splitting (Condat-Vu)"),
    ([L1(), NuclearNorm()], "logistic", "primal-dual splitting (Condat-Vu)"),
])
def test_dispatcher_picks_the_solver_from_the_declared_capabilities(penalties, loss, expected):
    data = make_data(d=6, T=3, n=10)
    if loss == "logistic":
        data = mc.MultiTaskData(list(data.Xs), [np.sign(y) for y in data.ys])
    assert select(_objective(data, penalties, loss)).name == expected


def test_dispatcher_refuses_what_no_solver_handles():
    data = make_data(d=6, T=3, n=10)
    # an expression and a value, nothing a fast solver can use
    with pytest.raises(mc.solvers.NoFastSolver, match="no fast solver applies.*L1.*SparseLowRank"):
        select(_objective(data, [L1(), SparseLowRank()]))
    with pytest.raises(ValueError, match="smoothing proximal gradient requires"):
        select(_objective(data, [L21()]), mc.solvers.SmoothingGradient())


def test_duality_gap_bounds_suboptimality_on_badly_scaled_features():
    """The dual point that removes the gradient's excess along each feature
    before rescaling must stay a lower bound: ``P(W) - P* <= gap`` at points
    around the optimum of a problem with columns at 1e-6 and 1e6."""
    data = make_data(d=6, T=3, n=15, seed=3)
    scale = np.r_[1e-6, 1e6, np.ones(4)]
    data = mc.MultiTaskData([X * scale for X in data.Xs], list(data.ys))
    ls = SquaredLoss().bind(data)
    lam = 2.0
    for norm, ridge in ((L21().bind(lam), 0.0), (L1().bind(lam), 0.5), (NuclearNorm().bind(lam), 0.0)):
        W_opt, info = mc.solvers.solve_norm_penalized(ls, norm, np.zeros((6, 3)), ridge, tol=1e-12, max_iter=50_000)
        assert info.converged
        optimum, _ = norm_penalized_gap(ls, W_opt, norm, ridge)
        rng = np.random.default_rng(0)
        for size in (1e-3, 1e-6, 1e-9):
            W = W_opt + size * rng.normal(size=W_opt.shape) / scale[:, None]
            primal, gap = norm_penalized_gap(ls, W, norm, ridge)
            assert primal - optimum <= gap * (1 + 1e-9) + 1e-12 * optimum


def test_task_systems_sample_form_is_refined_to_full_accuracy():
    """Woodbury's subtraction loses digits in proportion to ``s ||X||^2 / a``;
    one refinement step restores them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 60))
    systems = mc.solvers.TaskSystems(Xs=[X], s=np.ones(1))
    top = np.linalg.norm(X, 2) ** 2
    a = np.array([top / 1e5])
    assert not systems.feature_form(a)[0]
    b = X.T @ rng.normal(size=20) * 10 + rng.normal(size=60)
    w = systems.solve(b[:, None], a)[:, 0]
    # measured: 6e-14 .. 1.5e-13 refined, 2e-11 without
    assert np.linalg.norm(X.T @ (X @ w) + a[0] * w - b) <= 1e-12 * np.linalg.norm(b)


def test_apg_in_a_diagonal_metric_is_blind_to_the_scales():
    """A separable quadratic with curvatures 1e-12 .. 1e12 plus an l1 term: in
    the metric of its curvatures one step solves it (the plain step 1/L
    would need 1e24 iterations for the flat coordinate)."""
    h = np.array([1e-12, 1.0, 1e12])
    b = np.array([2e-12, -3.0, 5e12])
    lam = 0.5 * np.array([1e-6, 1.0, 1e6])  # per-coordinate weights of the l1 term

    def prox(v, steps):
        return np.sign(v) * np.maximum(np.abs(v) - steps * lam, 0.0)

    x, info = accelerated_proximal_gradient(lambda x: h * x - b, prox, np.zeros(3), 1.0, metric=h, tol=1e-12)
    expected = np.sign(b) * np.maximum(np.abs(b) - lam, 0.0) / h
    assert info.converged and info.n_iter <= 20
    np.testing.assert_allclose(x, expected, rtol=1e-12)


def test_apg_accepts_a_zero_lipschitz_constant_and_refuses_a_negative_one():
    """A constant ``f`` (all-zero X) has Lipschitz constant 0: any step is
    valid; a negative or NaN constant is a caller's error."""
    x, info = accelerated_proximal_gradient(lambda x: np.zeros_like(x), lambda v, s: np.zeros_like(v), np.ones(3), 0.0)
    assert info.converged and np.all(x == 0)
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError, match="lipschitz must be finite and >= 0"):
            accelerated_proximal_gradient(lambda x: x, lambda v, s: v, np.ones(3), bad)
