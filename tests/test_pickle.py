"""Every reference model and estimator can be sent to a worker process:
pickle round trips (and joblib's loky workers) of unsolved and solved
reference models and of unfitted and fitted estimators (fast path and
``solver="reference"``).  A model that crossed over carries no CVXPY
object: it builds its own problem on its first solve, once.  A deep copy of
a solved model solves with Clarabel and with SCS, as does the original
(the copied CVXPY problem used to raise KeyError, or kill the interpreter
with the other solver)."""

import copy
import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.base import clone

import mtlcvx as mc
from mtlcvx import reference
from mtlcvx.terms import L21, Penalty

from _builders import BUILDERS, CHEAP, D, T, builder_data
from conftest import rel



@pytest.fixture(scope="module")
def data():
    return builder_data()


def _solved(name, data):
    build, params = BUILDERS[name]
    model = build(data)
    return model, model.solve(**params(1.0))


def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


def _same_result(a, b, tol):
    assert rel(a.objective, b.objective) <= tol
    assert sorted(a.variables) == sorted(b.variables)
    scale = max(1.0, np.abs(a.W).max())
    np.testing.assert_allclose(a.W, b.W, atol=np.sqrt(tol) * scale)


# ---- reference models -------------------------------------------------------------


@pytest.mark.parametrize("name", BUILDERS)
def test_unpickled_model_builds_nothing_until_solve_then_builds_once(name, data):
    """Pickled after a solve: it arrives unbuilt, objective_at builds nothing,
    and its first solve builds the one problem the second solve (other
    parameter values) reuses.  Same solver, same problem: same optimum
    (rel 1e-9)."""
    model, solved = _solved(name, data)
    params = BUILDERS[name][1]
    arrived = _round_trip(model)
    assert type(arrived) is type(model)
    assert arrived._problem is None and arrived.n_builds == 0
    assert (arrived.variable_names, arrived.parameter_names) == (model.variable_names, model.parameter_names)
    assert arrived.objective_at(solved.variables, **params(1.0)) == model.objective_at(solved.variables, **params(1.0))
    assert arrived._problem is None
    _same_result(arrived.solve(**params(1.0)), solved, 1e-9)
    problem = arrived._problem
    arrived.solve(**params(2.0))
    assert arrived._problem is problem and arrived.n_builds == 1
    assert model.n_builds == 1


@pytest.mark.parametrize("name", BUILDERS)
def test_deep_copy_of_solved_model_solves_with_either_solver(name, data):
    """The audit's crash: deepcopy of a solved model, then a solve with the
    other solver, died in CVXPY's C++ core; with the same solver it raised
    KeyError.  The copy now builds its own problem; the copy (Clarabel then
    SCS) and the original (the other solver) agree to rel 1e-6 (SCS at its
    tight default eps)."""
    model, solved = _solved(name, data)
    params = BUILDERS[name][1](1.0)
    twin = copy.deepcopy(model)
    assert twin._problem is None and twin.n_builds == 0
    clarabel = twin.solve(solver="CLARABEL", **params)
    scs = twin.solve(solver="SCS", **params)
    other = "SCS" if solved.solver == "CLARABEL" else "CLARABEL"
    again = model.solve(solver=other, **params)
    for result in (clarabel, scs, again):
        _same_result(result, solved, 1e-6)
    assert twin.n_builds == 1 and model.n_builds == 1
    assert twin.problem is not model.problem
    assert not {v.id for v in twin.problem.variables()} & {v.id for v in model.problem.variables()}
    assert not {p.id for p in twin.problem.parameters()} & {p.id for p in model.problem.parameters()}


def test_deep_copy_owns_its_data_and_a_shallow_copy_its_problem(data):
    model, solved = _solved("group_lasso", data)
    deep = copy.deepcopy(model)
    assert not any(np.shares_memory(a, b) for a, b in zip(deep.data.Xs, model.data.Xs))
    shallow = copy.copy(model)
    assert shallow.data is model.data and shallow._problem is None
    _same_result(shallow.solve(lam=2.0), solved, 1e-9)
    assert shallow.problem is not model.problem


def test_results_pickle_and_a_differentiable_one_asks_for_a_new_solve(data):
    """A result is numbers; one of a differentiable solve keeps its model,
    which crosses over re-declared: CVXPY's derivative state stays behind,
    so backward on the copy asks for a new solve, while the original's
    still works."""
    pytest.importorskip("diffcp")
    model = reference.ridge(data)
    result = model.solve(lam=0.7, requires_grad=True)
    arrived = _round_trip(result)
    assert arrived.objective == result.objective and arrived.parameters == result.parameters
    np.testing.assert_array_equal(arrived.W, result.W)
    G = np.ones((D, T))
    with pytest.raises(ValueError, match="solve again"):
        arrived.backward(W=G)
    assert np.isfinite(result.backward(W=G)["lam"])
    plain = model.solve(lam=0.7)
    assert _round_trip(plain)._model is None


class _HoldsAParameter(Penalty):
    """A term given a CVXPY parameter at construction: outside the model's
    parameters, so neither pickled nor copied."""

    def __init__(self):
        self.scale = cp.Parameter(nonneg=True, value=1.0)

    def expr(self, X):
        return self.scale * cp.sum(cp.abs(X))


def test_a_term_holding_a_cvxpy_object_is_refused_by_name(data):
    model = reference.ReferenceModel(data, ["W"], terms=[(None, _HoldsAParameter(), "W")])
    for send in (pickle.dumps, copy.deepcopy, copy.copy):
        with pytest.raises(TypeError, match="holds a CVXPY object in 'scale'"):
            send(model)


def test_a_lambda_in_a_declaration_copies_but_does_not_pickle(data):
    """Documented: the declaration is pickled as given; a builder's own
    lambdas are re-created by its constructor, a user's are not picklable."""
    model = reference.ReferenceModel(
        data, ["W"], terms=[("half", L21(), "W")], parameters=[reference.Parameter("lam")],
        derived=[reference.Derived("half", lambda v: 0.5 * v["lam"], ("lam",))],
    )
    solved = model.solve(lam=2.0)
    _same_result(copy.deepcopy(model).solve(lam=2.0), solved, 1e-9)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(model)


# ---- estimators ---------------------------------------------------------------------

# TwoStageClusMTL has no reference model: fast path only
ESTIMATORS = [getattr(mc, name)(**params) for name, params in CHEAP.items()] + [
    getattr(mc, name)(solver="reference", **params) for name, params in CHEAP.items() if name != "TwoStageClusMTL"
]


def _est_id(est):
    return f"{type(est).__name__}-{est.solver}"


def _fit(est, data):
    with warnings.catch_warnings():
        # max_iter is cut for speed: convergence is not what is tested
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        return est.fit(data)


@pytest.mark.parametrize("est", ESTIMATORS, ids=_est_id)
def test_estimator_pickles_unfitted_and_fitted_with_identical_predictions(est, data):
    unfitted = _round_trip(est)
    assert type(unfitted) is type(est) and unfitted.get_params() == est.get_params()
    fitted = _fit(clone(est), data)
    arrived = _round_trip(fitted)
    assert arrived.get_params() == fitted.get_params()
    np.testing.assert_array_equal(arrived.coef_, fitted.coef_)
    for a, b in zip(arrived.predict(data), fitted.predict(data)):
        np.testing.assert_array_equal(a, b)
    refitted = _fit(unfitted, data)
    for a, b in zip(refitted.predict(data), fitted.predict(data)):
        np.testing.assert_array_equal(a, b)


def _fit_in_worker(est, data):
    est = _fit(est, data)
    return est, est.predict(data)


def _solve_twice_in_worker(model, first, second):
    arrived_unbuilt = model._problem is None and model.n_builds == 0
    a = model.solve(**first)
    problem = model._problem
    b = model.solve(**second)
    return arrived_unbuilt, model.n_builds, model._problem is problem, a, b


def test_estimators_fit_in_loky_workers_and_come_back_identical(data):
    """joblib's loky workers fit clones; the fitted estimators sent back
    predict exactly what they predicted in the worker, and what a fit here
    predicts (rel 1e-8: a worker may run BLAS on other threads)."""
    work = Parallel(n_jobs=2, backend="loky")(delayed(_fit_in_worker)(clone(est), data) for est in ESTIMATORS)
    for est, (returned, in_worker) in zip(ESTIMATORS, work):
        assert returned.get_params() == est.get_params()
        local = _fit(clone(est), data).predict(data)
        for a, b, c in zip(returned.predict(data), in_worker, local):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(a, c, rtol=1e-8, atol=1e-8 * max(1.0, np.abs(c).max()))


def test_reference_models_solve_in_loky_workers_building_once(data):
    """Unsolved and solved models sent to workers arrive unbuilt, build once
    for two solves at different parameter values, and find the optimum
    found here (rel 1e-9)."""
    jobs = []
    for name, (build, params) in BUILDERS.items():
        unsolved = build(data)
        solved, _ = _solved(name, data)
        jobs += [(name, unsolved), (name, solved)]
    work = Parallel(n_jobs=2, backend="loky")(
        delayed(_solve_twice_in_worker)(model, BUILDERS[name][1](1.0), BUILDERS[name][1](2.0)) for name, model in jobs
    )
    for (name, model), (arrived_unbuilt, n_builds, reused, a, b) in zip(jobs, work):
        assert arrived_unbuilt and n_builds == 1 and reused, name
        params = BUILDERS[name][1]
        _same_result(a, model.solve(**params(1.0)), 1e-9)
        _same_result(b, model.solve(**params(2.0)), 1e-9)
