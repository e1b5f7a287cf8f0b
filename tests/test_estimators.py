"""Baseline estimators: fast path vs CVXPY reference (relative objective gap
<= 1e-6) on instances of several shapes, scikit-learn conventions, errors,
and agreement with scikit-learn where the objectives coincide."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import MultiTaskLasso, Ridge

import mtlcvx as mc

from conftest import make_data

SHAPES = [
    dict(d=10, T=3, n=20),  # n > d
    dict(d=30, T=5, n=12, ragged=True),  # n < d, tasks of different sizes
    dict(d=25, T=6, n=15, shared=True),  # one X for every task, n < d
    dict(d=8, T=4, n=30, shared=True),  # shared X, n > d (Gram path)
    dict(d=40, T=4, n=20, sparse_rows=5),  # row-sparse truth
]

ESTIMATORS = [
    mc.STL(lam=0.5),
    mc.STL(lam=2.0, penalty="elasticnet", l1_ratio=0.7),
    mc.AllTasks(lam=0.5),
    mc.AllTasks(lam=1.0, penalty="elasticnet"),
    mc.GroupLasso(lam=3.0),
    mc.GroupLasso(lam=0.05, scaling="mean"),
    mc.TraceNorm(lam=4.0),
    mc.ClusMTL(n_clusters=2, rho1=0.5, rho2=2.0),
]


def _id(est):
    params = est.get_params()
    return type(est).__name__ + "-" + "-".join(
        f"{k}={params[k]}" for k in ("penalty", "scaling", "lam") if k in params
    )


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_fast_matches_reference_objective(est, shape):
    data = make_data(seed=len(str(shape)), **shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mc.ConvergenceWarning)
        fast = clone(est).fit(data)
    model, params = fast.reference_model(data)
    report = mc.verify(fast, model, **params)
    assert report.passed, str(report)
    assert report.objective_gap <= 1e-6
    assert abs(fast.objective(data) - report.candidate_objective) <= 1e-12 * max(1, abs(report.candidate_objective))


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_reference_solver_path_gives_same_predictions(est):
    data = make_data(d=9, T=3, n=16, seed=2)
    fast = clone(est).fit(data)
    ref = clone(est).set_params(solver="reference").fit(data)
    assert ref.reference_result_.status == "optimal"
    scale = max(1.0, np.abs(np.concatenate(data.ys)).max())
    for a, b in zip(fast.predict(data), ref.predict(data)):
        np.testing.assert_allclose(a, b, atol=1e-4 * scale)


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_sklearn_conventions(est):
    data = make_data(d=6, T=3, n=10, seed=1)
    params = est.get_params()
    cloned = clone(est)
    assert cloned.get_params() == params
    assert cloned.set_params(fit_intercept=False) is cloned
    fitted = cloned.fit(list(data.Xs), list(data.ys))
    assert fitted is cloned
    assert fitted.coef_.shape == (6, 3)
    assert fitted.intercept_.shape == (3,)
    pred = fitted.predict(list(data.Xs))
    assert isinstance(pred, list) and [p.shape for p in pred] == [(10,)] * 3
    assert fitted.score(data) <= 1.0
    assert not hasattr(clone(est), "coef_")


def test_stl_ridge_with_intercept_matches_sklearn_ridge():
    """Our 1/2||r||^2 + lam||w||^2 is scikit-learn's ||r||^2 + alpha||w||^2 with alpha = 2 lam."""
    data = make_data(d=7, T=3, n=20, seed=4)
    ys = [y + 5.0 * t for t, y in enumerate(data.ys)]
    est = mc.STL(lam=0.8).fit(list(data.Xs), ys)
    for t, X in enumerate(data.Xs):
        sk = Ridge(alpha=1.6).fit(X, ys[t])
        np.testing.assert_allclose(est.coef_[:, t], sk.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(est.intercept_[t], sk.intercept_, rtol=1e-8, atol=1e-10)


def test_group_lasso_matches_sklearn_multitask_lasso_on_shared_x():
    data = make_data(d=20, T=5, n=30, seed=6, shared=True, sparse_rows=4)
    lam = 0.05
    est = mc.GroupLasso(lam=lam, scaling="mean").fit(data)
    Y = np.column_stack(data.ys)
    sk = MultiTaskLasso(alpha=lam, tol=1e-12, max_iter=100_000).fit(data.Xs[0], Y)
    ours = est.objective(data)
    centred, _, _ = data.centered()
    theirs = est.reference_model(data)[0].objective_at(sk.coef_.T, lam=lam)
    assert (ours - theirs) / max(1, abs(theirs)) <= 1e-7
    np.testing.assert_allclose(est.coef_, sk.coef_.T, atol=1e-5)


def test_group_lasso_selects_rows_jointly():
    data = make_data(d=30, T=5, n=40, seed=9, sparse_rows=4, noise=0.1)
    est = mc.GroupLasso(lam=5.0).fit(data)
    support = np.linalg.norm(est.coef_, axis=1) > 1e-8
    assert support[:4].all() and support.sum() <= 10


def test_trace_norm_lowers_rank():
    data = make_data(d=15, T=6, n=20, seed=2)
    lam_big = mc.TraceNorm(lam=60.0).fit(data)
    lam_small = mc.TraceNorm(lam=0.1).fit(data)
    rank = lambda W: np.sum(np.linalg.svd(W, compute_uv=False) > 1e-6)
    assert rank(lam_big.coef_) < rank(lam_small.coef_)


def test_clusmtl_m_is_feasible():
    est = mc.ClusMTL(n_clusters=2, rho1=1.0, rho2=1.0).fit(make_data(seed=5))
    eig = np.linalg.eigvalsh(est.M_)
    assert abs(np.trace(est.M_) - 2) < 1e-9 and eig.min() > -1e-9 and eig.max() < 1 + 1e-9


@pytest.mark.parametrize(
    "est, exc, words",
    [
        (mc.GroupLasso(lam=-1.0), ValueError, ["lam", ">= 0"]),
        (mc.GroupLasso(lam="a"), TypeError, ["lam"]),
        (mc.GroupLasso(solver="magic"), ValueError, ["solver"]),
        (mc.GroupLasso(tol=0.0), ValueError, ["tol"]),
        (mc.GroupLasso(max_iter=1.5), TypeError, ["max_iter"]),
        (mc.GroupLasso(scaling="median"), ValueError, ["scaling"]),
        (mc.STL(penalty="l0"), ValueError, ["penalty"]),
        (mc.STL(penalty="elasticnet", l1_ratio=1.5), ValueError, ["l1_ratio"]),
        (mc.ClusMTL(n_clusters=0), ValueError, ["n_clusters"]),
        (mc.ClusMTL(n_clusters=9), ValueError, ["n_clusters"]),
        (mc.ClusMTL(rho1=0.0), ValueError, ["rho1"]),
        (mc.TraceNorm(fit_intercept="yes"), TypeError, ["fit_intercept"]),
    ],
)
def test_bad_hyperparameters_raise_naming_them(est, exc, words):
    with pytest.raises(exc) as info:
        est.fit(make_data(d=4, T=3, n=6))
    for word in words:
        assert word in str(info.value)


def test_predict_validates_input():
    est = mc.STL().fit(make_data(d=4, T=3, n=6))
    with pytest.raises(ValueError, match="tasks"):
        est.predict([np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"Xs\[1\]"):
        est.predict([np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((2, 4))])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        mc.STL().predict([np.zeros((2, 4))])


def test_fit_accepts_multitask_data_or_lists_equally():
    data = make_data(d=5, T=2, n=8)
    a = mc.GroupLasso(lam=0.5).fit(data)
    b = mc.GroupLasso(lam=0.5).fit(list(data.Xs), list(data.ys))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="ys"):
        mc.GroupLasso().fit(data, list(data.ys))


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    d=st.integers(2, 25),
    T=st.integers(1, 5),
    n=st.integers(2, 20),
    shared=st.booleans(),
    lam_fraction=st.floats(0.01, 1.2),
    scaling=st.sampled_from(["sum", "mean"]),
    seed=st.integers(0, 10_000),
)
def test_group_lasso_fast_matches_reference_on_random_instances(d, T, n, shared, lam_fraction, scaling, seed):
    """Random shapes (n < d and n > d, one task, lam above lam_max where the
    solution is exactly zero): relative objective gap <= 1e-6."""
    data = make_data(d=d, T=T, n=n, seed=seed, shared=shared)
    s = 1.0 if scaling == "sum" else 1.0 / n
    lam_max = np.linalg.norm(np.column_stack([X.T @ y for X, y in data.centered()[0]]) * s, axis=1).max()
    est = mc.GroupLasso(lam=float(lam_fraction * lam_max), scaling=scaling).fit(data)
    model, params = est.reference_model(data)
    report = mc.verify(est, model, **params)
    assert report.passed, str(report)
    if lam_fraction >= 1.0:
        assert not est.coef_.any()


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_fit_and_predict_never_modify_inputs(est):
    data = make_data(d=6, T=3, n=10, seed=3)
    Xs = [np.array(X) for X in data.Xs]
    ys = [np.array(y) for y in data.ys]
    copies = [X.copy() for X in Xs], [y.copy() for y in ys]
    fitted = clone(est).fit(Xs, ys)
    fitted.predict(Xs)
    fitted.score(Xs, ys)
    fitted.objective(Xs, ys)
    for a, b in zip(Xs + ys, copies[0] + copies[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("est", [
    mc.STL(lam=0.5, loss="logistic", fit_intercept=False),
    mc.STL(lam=0.5, penalty="elasticnet", l1_ratio=1.0, loss="logistic", fit_intercept=False),
    mc.GroupLasso(lam=2.0, loss="logistic", fit_intercept=False),
    mc.TraceNorm(lam=2.0, loss="logistic", fit_intercept=False),
], ids=_id)
def test_logistic_baselines_match_reference_and_classify(est):
    data = make_data(d=8, T=3, n=40, seed=11)
    labels = [(y > 0).astype(float) for y in data.ys]
    fitted = clone(est).fit(list(data.Xs), labels)
    model, params = fitted.reference_model(list(data.Xs), labels)
    report = mc.verify(fitted, model, **params)
    assert report.passed and report.objective_gap <= 1e-6, str(report)
    pred = fitted.predict(list(data.Xs))
    assert set(np.unique(np.concatenate(pred))) <= {0.0, 1.0}
    assert fitted.score(list(data.Xs), labels) == pytest.approx(
        np.mean(np.concatenate(pred) == np.concatenate(labels)))
    assert fitted.score(list(data.Xs), labels) > 0.7
    proba = fitted.predict_proba(list(data.Xs))
    np.testing.assert_array_equal([p > 0.5 for p in proba], [p == 1.0 for p in pred])


def test_predict_proba_needs_the_logistic_loss():
    data = make_data(d=4, T=2, n=10, seed=1)
    with pytest.raises(AttributeError, match="loss='logistic'"):
        mc.GroupLasso().fit(data).predict_proba(data)
