"""verify(): passes a right candidate, fails wrong ones, refuses a
transposed one, never passes against an inaccurate reference."""

import warnings

import numpy as np
import pytest

import mtlcvx as mc

from conftest import make_data


@pytest.fixture(scope="module")
def setting():
    data = make_data(d=12, T=4, n=15, seed=8, sparse_rows=3)
    est = mc.GroupLasso(lam=2.0, fit_intercept=False).fit(data)
    return data, est, mc.reference.group_lasso(data)


def test_right_candidate_passes(setting):
    data, est, model = setting
    report = mc.verify(est, model, lam=2.0)
    assert report.passed
    assert abs(report.objective_gap) <= 1e-6
    assert report.distance <= 1e-3
    assert report.reference_status == "optimal" and report.reference_gap <= 1e-6
    text = str(report)
    assert "PASSED" in text and "objective gap" in text


@pytest.mark.parametrize("perturbation", [1e-2, 1e-1, 1.0])
def test_perturbed_candidate_fails(setting, perturbation):
    data, est, model = setting
    noise = np.random.default_rng(0).normal(size=est.coef_.shape)
    report = mc.verify(est.coef_ + perturbation * noise, model, lam=2.0)
    assert not report.passed
    assert report.objective_gap > 1e-6
    assert "FAILED" in str(report)


def test_solution_of_another_problem_fails(setting):
    data, est, model = setting
    other = mc.GroupLasso(lam=20.0, fit_intercept=False).fit(data)
    assert not mc.verify(other, model, lam=2.0).passed
    assert not mc.verify(np.zeros_like(est.coef_), model, lam=2.0).passed


def test_transposed_candidate_gets_a_hint(setting):
    data, est, model = setting
    with pytest.raises(ValueError, match="transpose"):
        mc.verify(est.coef_.T, model, lam=2.0)
    with pytest.raises(ValueError, match="shape"):
        mc.verify(np.zeros((3, 3)), model, lam=2.0)


def test_unfitted_estimator_is_refused(setting):
    _, _, model = setting
    with pytest.raises(ValueError, match="not fitted"):
        mc.verify(mc.GroupLasso(), model, lam=2.0)


def test_inaccurate_reference_never_passes(setting):
    data, est, model = setting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = mc.verify(est, model, solver="SCS", solver_opts={"max_iters": 5}, rtol=1e9, lam=2.0)
    assert report.reference_status == "optimal_inaccurate"
    assert not report.passed
    assert "not certified" in str(report)


def test_estimator_with_intercept_verifies_against_its_own_reference_model():
    data = make_data(d=6, T=3, n=12, seed=1)
    ys = [y + 3.0 for y in data.ys]
    est = mc.TraceNorm(lam=2.0).fit(list(data.Xs), ys)
    model, params = est.reference_model(list(data.Xs), ys)
    assert mc.verify(est, model, **params).passed


def test_a_wrong_row_of_near_zero_cost_fails_on_the_optimality_residual(setting):
    """A row that is zero at the optimum, set to a tiny value along its
    cheapest direction: the objective gap stays below rtol, the support is
    wrong, and the first-order residual says so."""
    data, est, model = setting
    W = est.coef_.copy()
    G = mc.terms.SquaredLoss().grad(W, data)
    zero_rows = np.flatnonzero(~W.any(axis=1))
    j = zero_rows[np.argmax(np.linalg.norm(G[zero_rows], axis=1))]
    W[j] = -3e-5 * np.abs(W).max() * G[j] / np.linalg.norm(G[j])
    report = mc.verify(W, model, lam=2.0)
    assert 0 < report.objective_gap <= report.rtol
    assert report.optimality_residual > report.residual_tol
    assert not report.passed
    right = mc.verify(est, model, lam=2.0)
    assert right.passed and right.optimality_residual <= 1e-8


def test_report_prints_the_parameters_and_the_residual(setting):
    _, est, model = setting
    text = str(mc.verify(est, model, lam=2.0))
    assert "lam=2" in text and "optimality residual" in text


def test_intercept_against_an_uncentred_reference_is_named_as_the_likely_cause():
    data = make_data(d=6, T=3, n=12, seed=1)
    ys = [y + 3.0 for y in data.ys]
    est = mc.GroupLasso(lam=1.0).fit(list(data.Xs), ys)
    report = mc.verify(est, mc.reference.group_lasso(mc.MultiTaskData(list(data.Xs), ys)), lam=1.0)
    assert not report.passed
    assert any("intercept" in note for note in report.notes) and "intercept" in str(report)
    model, params = est.reference_model(list(data.Xs), ys)
    good = mc.verify(est, model, **params)
    assert good.passed and not good.notes


def test_clarabel_and_scs_optima_pass_as_candidates(setting):
    """Solvers that never return exact zeros still pass: rows below 1e-6 of
    the largest count as zero in the residual."""
    data, _, model = setting
    for solver in ("CLARABEL", "SCS"):
        candidate = model.solve(lam=2.0, solver=solver).W
        report = mc.verify(candidate, model, lam=2.0)
        assert report.passed, (solver, str(report))
