"""The generic fast paths of the prototyping kit (issue 13): a penalty
known by its prox only (the prox working set), several non-smooth terms and
operator-form terms of one's own (the primal-dual splitting), each held to
the CVXPY reference or to the dedicated solver of the same problem.

Tolerances: the solvers stop at a relative residual of 1e-10; objectives
must then agree with the reference's to 1e-7 relative (Clarabel's own
certificate is about 1e-8), with the dedicated solvers to 1e-9.
"""

import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_data

import mtlcvx as mc
from mtlcvx import reference
from mtlcvx.bench import _ProxOnly as ProxOnly  # a norm as a user declares it: expr, value, prox
from mtlcvx.solvers import dispatch, primal_dual_splitting, solve_prox_working_set
from mtlcvx.terms import (L1, L21, NuclearNorm, OperatorNorm, Penalty, SquaredLoss, TermCheckError, check_term,
                          lambda_max, soft_threshold)
from mtlcvx.terms import checks


class ShiftedL1(Penalty):
    """``||W - A||_1``: its prox of a zero row is not zero (it leaks out of
    any working set)."""

    def __init__(self, A):
        self.A = A

    def expr(self, W):
        return cp.sum(cp.abs(W - self.A))

    def value(self, W):
        return float(np.abs(W - self.A).sum())

    def prox(self, V, step):
        return self.A + soft_threshold(V - self.A, step)


class TaskChain(OperatorNorm):
    """``sum_t ||w_{t+1} - w_t||_1``: a fused lasso along the tasks' order."""

    group_size = 1

    def operator_matrix(self, shape):
        d, T = shape
        diff = sp.diags([-np.ones(T - 1), np.ones(T - 1)], [0, 1], shape=(T - 1, T))
        return sp.kron(diff, sp.identity(d))


class ColumnNorms(OperatorNorm):
    """``sum_t ||w_t||_2`` as an operator term (D = I, groups of d)."""

    def operator_matrix(self, shape):
        return sp.identity(int(np.prod(shape)))

    @property
    def group_size(self):
        return self._d

    def __init__(self, d):
        self._d = d


class TaskDifferences(OperatorNorm):
    """``sum_t ||w_{t+1} - w_t||_2``: groups of d rows, whatever d is."""

    def group_size(self, shape):
        return shape[0]

    def operator_matrix(self, shape):
        return TaskChain().operator_matrix(shape)


class WholeNorm(OperatorNorm):
    """``||W||_F`` (one group)."""

    group_size = None

    def operator_matrix(self, shape):
        return np.eye(int(np.prod(shape)))


@pytest.fixture(scope="module")
def wide():
    # d = 120 >> n: a row-sparse solution the working set can exploit
    return make_data(d=120, T=4, n=25, seed=5, sparse_rows=5)


def _lam(data, norm, fraction):
    return fraction * lambda_max(norm, SquaredLoss("sum").bind(data))


def test_prox_only_l21_matches_the_dedicated_working_set(wide):
    lam = _lam(wide, L21(), 0.2)
    ours = mc.ConvexMTL([(lam, ProxOnly(L21()))], fit_intercept=False, tol=1e-10).fit(wide)
    dedicated = mc.GroupLasso(lam=lam, fit_intercept=False, tol=1e-12).fit(wide)
    assert ours.solver_info_.solver == "prox working set"
    assert ours.solver_info_.algorithm == "APG on a prox working set"
    model, params = dedicated.reference_model(wide)
    f_ours, f_ded = (model.objective_at(e.coef_, **params) for e in (ours, dedicated))
    assert abs(f_ours - f_ded) <= 1e-9 * abs(f_ded)
    np.testing.assert_allclose(ours.coef_, dedicated.coef_, atol=1e-6 * np.abs(dedicated.coef_).max())


def test_prox_only_trace_norm_matches_the_dedicated_solver():
    data = make_data(d=10, T=6, n=30, seed=3)
    lam = _lam(data, NuclearNorm(), 0.1)
    ours = mc.ConvexMTL([(lam, ProxOnly(NuclearNorm()))], fit_intercept=False, tol=1e-10).fit(data)
    dedicated = mc.TraceNorm(lam=lam, fit_intercept=False, tol=1e-12).fit(data)
    model, params = dedicated.reference_model(data)
    f_ours, f_ded = (model.objective_at(e.coef_, **params) for e in (ours, dedicated))
    assert abs(f_ours - f_ded) <= 1e-9 * abs(f_ded)


def test_a_prox_that_leaks_out_of_the_working_set_falls_back_to_full_apg(wide):
    A = np.random.default_rng(0).normal(size=(wide.n_features, wide.n_tasks)) * 0.01
    term = ShiftedL1(A)
    lam = _lam(wide, L1(), 0.3)
    model = reference.ReferenceModel(wide, ["W"], "squared", terms=[("lam", term, "W")])
    objective = model.numeric(lam=lam)
    W, info = solve_prox_working_set(objective.datafit, objective.penalties[0][0], np.zeros(A.shape), tol=1e-10)
    assert "does not keep zero rows" in info.algorithm and info.converged
    result = model.solve(lam=lam)
    assert model.objective_at(W, lam=lam) <= result.objective + 1e-7 * abs(result.objective)


def test_the_working_set_leaves_the_start_unchanged(wide):
    lam = _lam(wide, L21(), 0.2)
    objective = reference.group_lasso(wide).numeric(lam=lam)
    start = np.ones((wide.n_features, wide.n_tasks))
    before = start.copy()
    solve_prox_working_set(objective.datafit, ProxOnly(L21()).bind(lam), start, tol=1e-8)
    np.testing.assert_array_equal(start, before)


@pytest.mark.parametrize("penalties", [
    [(0.5, L1()), (1.0, NuclearNorm())],
    [(0.5, ProxOnly(L1())), (1.0, ProxOnly(L21())), (0.2, ProxOnly(NuclearNorm()))],
    [(1.0, TaskChain())],
    [(1.0, TaskChain()), (2.0, L21())],
    [(0.5, TaskChain()), (0.5, L1()), (0.3, mc.terms.SquaredFrobenius())],
    [(1.0, ColumnNorms(8))],
    [(2.0, TaskDifferences())],
    [(3.0, WholeNorm())],
], ids=["l1+trace", "three proxes", "chain", "chain+l21", "chain+l1+ridge", "columns", "differences", "frobenius"])
def test_the_primal_dual_splitting_reaches_the_reference_optimum(penalties):
    data = make_data(d=8, T=5, n=15, seed=7)
    est = mc.ConvexMTL(penalties, fit_intercept=False, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mc.ReferenceFallbackWarning)
        est.fit(data)
    model, params = est.reference_model(data)
    result = model.solve(**params)
    f = model.objective_at(est.coef_, **params)
    assert f <= result.objective + 1e-7 * abs(result.objective), (est.solver_info_, f, result.objective)


def test_the_splitting_handles_the_logistic_loss():
    rng = np.random.default_rng(1)
    Xs = [rng.normal(size=(30, 6)) for _ in range(3)]
    W = rng.normal(size=(6, 3))
    ys = [np.where(X @ w + 0.5 * rng.normal(size=30) > 0, 1.0, -1.0) for X, w in zip(Xs, W.T)]
    data = mc.MultiTaskData(Xs, ys)
    est = mc.ConvexMTL([(0.5, L1()), (0.5, NuclearNorm())], loss="logistic", fit_intercept=False, tol=1e-10)
    est.fit(data)
    assert est.solver_info_.solver == "primal-dual splitting (Condat-Vu)"
    model, params = est.reference_model(data)
    result = model.solve(**params)
    assert model.objective_at(est.coef_, **params) <= result.objective + 1e-7 * abs(result.objective)


def test_the_splitting_refuses_a_negative_weight():
    data = make_data(d=4, T=2, n=10, seed=0)
    objective = reference.ReferenceModel(data, ["W"], "squared", terms=[("a", L1(), "W"), ("b", NuclearNorm(), "W")])
    numeric = objective.numeric(a=1.0, b=1.0)
    bad = L1().bind(-1.0)
    with pytest.raises(ValueError, match="weight must be finite and >= 0"):
        primal_dual_splitting(numeric.datafit, 1, proxed=[(bad, 0)])


def test_zero_weights_leave_least_squares():
    data = make_data(d=4, T=2, n=10, seed=0)
    est = mc.ConvexMTL([(0.0, L1()), (0.0, NuclearNorm())], fit_intercept=False).fit(data)
    np.testing.assert_allclose(est.coef_, mc.STL(lam=0.0, fit_intercept=False).fit(data).coef_, atol=1e-10)


# -- OperatorNorm ------------------------------------------------------------

def test_operator_norms_agree_with_their_closed_forms():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 4))
    assert TaskChain().value(W) == pytest.approx(np.abs(np.diff(W, axis=1)).sum())
    assert ColumnNorms(5).value(W) == pytest.approx(np.linalg.norm(W, axis=0).sum())
    assert WholeNorm().value(W) == pytest.approx(np.linalg.norm(W))
    assert TaskDifferences().value(W) == pytest.approx(np.linalg.norm(np.diff(W, axis=1), axis=0).sum())
    for term in (TaskChain(), ColumnNorms(4), WholeNorm()):
        assert "operator" in check_term(term, shape=(4, 3))


def test_an_operator_norm_binds_as_an_operator_at_the_models_shape():
    data = make_data(d=5, T=4, n=10, seed=0)
    model = reference.ReferenceModel(data, ["W"], "squared", terms=[("lam", TaskChain(), "W")])
    (bound, _), = model.numeric(lam=2.0).penalties
    assert "operator" in bound.capabilities and bound.D.shape == (5 * 3, 20)
    assert "TaskChain() at shape (5, 4)" in repr(bound)


@pytest.mark.parametrize("term, match", [
    (type("Cols", (OperatorNorm,), {"operator_matrix": lambda self, shape: sp.identity(3)})(), "has 3 columns"),
    (type("Rows", (OperatorNorm,), {"group_size": 5,
                                    "operator_matrix": lambda self, shape: sp.identity(int(np.prod(shape)))})(),
     "not a multiple of group_size=5"),
    (type("Size", (OperatorNorm,), {"group_size": 0.5,
                                    "operator_matrix": lambda self, shape: sp.identity(int(np.prod(shape)))})(),
     "group_size must be a positive integer"),
    (type("Kind", (OperatorNorm,), {"operator_matrix": lambda self, shape: [[1.0]]})(), "must return a 2-d"),
    (type("Nan", (OperatorNorm,), {"operator_matrix": lambda self, shape: np.full((1, int(np.prod(shape))),
                                                                                  np.nan)})(), "NaN"),
    (OperatorNorm(), "must define operator_matrix"),
])
def test_a_wrong_operator_is_refused_as_the_operator_part(term, match):
    with pytest.raises(TermCheckError, match=match) as info:
        check_term(term, shape=(4, 3))
    assert info.value.part == "operator"


def test_an_operator_norm_pickles_without_its_matrices():
    term = TaskChain()
    term.value(np.ones((3, 2)))
    again = pickle.loads(pickle.dumps(term))
    assert "_operators" not in again.__dict__ and again.value(np.ones((3, 2))) == 0.0


# -- the check at fit, once ----------------------------------------------------

def test_a_users_term_is_checked_once_per_state_and_shape(monkeypatch):
    calls = []
    real = checks.check_term
    monkeypatch.setattr(checks, "check_term", lambda term, **kw: calls.append(kw) or real(term, **kw))
    monkeypatch.setattr(checks, "_PASSED", type(checks._PASSED)())
    data = make_data(d=5, T=3, n=10, seed=0)
    for _ in range(3):
        mc.ConvexMTL([(1.0, TaskChain())]).fit(data)
    assert len(calls) == 1
    # built for d = 5: it raises at the small check shape (4, 3), then passes at the model's (5, 3)
    mc.ConvexMTL([(1.0, ColumnNorms(5))]).fit(data)
    assert [kw["shape"] for kw in calls[1:]] == [(4, 3), (5, 3)]
    mc.ConvexMTL([(1.0, ColumnNorms(5))]).fit(data)
    mc.ConvexMTL([(1.0, ColumnNorms(15))]).fit(data)  # another state: checked again
    assert len(calls) == 5


def test_dispatch_describes_the_new_solvers():
    names = [solver.name for solver in dispatch.SOLVERS]
    assert names.index("prox working set") < names.index("APG, gradient-mapping stop")
    assert names[-1] == "primal-dual splitting (Condat-Vu)"
