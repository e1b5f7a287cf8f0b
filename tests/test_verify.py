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
