"""ConvexMTL: any weighted sum of convex terms as an estimator (issue 13,
first part): the fast path where the dispatcher has one, the reference
where it has none (with a warning), the user's terms checked at fit."""

import pickle
import warnings

import numpy as np
import pytest
from _builders import HalfThreshold, SparseLowRank
from conftest import make_data
from sklearn.base import clone

import mtlcvx as mc
from mtlcvx.solvers.dispatch import NoFastSolver
from mtlcvx.terms import L1, L21, NuclearNorm, TermCheckError


@pytest.fixture(scope="module")
def data():
    return make_data(d=6, T=3, n=20, seed=2)


def test_one_l21_term_is_the_group_lasso_on_its_fast_path(data):
    est = mc.ConvexMTL([(2.0, L21())], check=True).fit(data)
    np.testing.assert_allclose(est.coef_, mc.GroupLasso(lam=2.0).fit(data).coef_, atol=1e-10)
    assert est.solver_info_.solver == "block coordinate descent"
    assert est.verification_.passed, str(est.verification_)


def test_terms_without_a_fast_solver_fall_back_to_the_reference_with_a_warning(data):
    # an expression and a value only: no prox, no operator, nothing a fast solver can use
    with pytest.warns(mc.ReferenceFallbackWarning, match="no fast solver"):
        est = mc.ConvexMTL([(1.0, SparseLowRank())], check=True).fit(data)
    assert est.solver == "auto" and est.reference_result_.status == "optimal"
    assert est.verification_.passed
    with pytest.raises(NoFastSolver):
        mc.ConvexMTL([(1.0, SparseLowRank())], solver="fast").fit(data)


def test_two_proxable_terms_take_the_primal_dual_splitting(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", mc.ReferenceFallbackWarning)
        est = mc.ConvexMTL([(1.0, L1()), (2.0, NuclearNorm())], check=True).fit(data)
    assert est.solver_info_.solver == "primal-dual splitting (Condat-Vu)"
    assert est.verification_.passed, str(est.verification_)


def test_a_users_term_fits_through_the_reference_and_verifies(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ReferenceFallbackWarning)
        est = mc.ConvexMTL([(3.0, SparseLowRank())], check=True, fit_intercept=False).fit(data)
    assert est.verification_.passed
    model, params = est.reference_model(data)
    assert params == {"weight_0": 3.0}
    assert model.objective_at(est.coef_, **params) == pytest.approx(est.objective(data), rel=1e-10)


def test_a_users_wrong_prox_is_refused_at_fit_naming_it(data):
    with pytest.raises(TermCheckError, match=r"penalties\[0\]: HalfThreshold.prox"):
        mc.ConvexMTL([(1.0, HalfThreshold())]).fit(data)


@pytest.mark.parametrize("penalties, error, match", [
    ("l21", TypeError, "penalties must be a list"),
    ([L21()], TypeError, r"penalties\[0\] must be a \(weight, term\) pair"),
    ([(-1.0, L21())], ValueError, r"penalties\[0\]: the weight must be finite and >= 0"),
    ([(np.nan, L21())], ValueError, r"penalties\[0\]: the weight"),
    ([("1", L21())], TypeError, r"penalties\[0\]: the weight must be a real number"),
    ([(1.0, lambda W: 0.0)], TypeError, r"penalties\[0\]: the term must be"),
])
def test_malformed_penalties_are_refused_by_name(penalties, error, match, data):
    with pytest.raises(error, match=match):
        mc.ConvexMTL(penalties).fit(data)


def test_scikit_learn_conventions(data):
    est = mc.ConvexMTL([(2.0, L21())])
    assert clone(est).get_params()["penalties"][0][0] == 2.0
    fitted = clone(est).fit(data)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.coef_, fitted.coef_)
    search = mc.model_selection.GridSearch(est, {"penalties": [[(0.5, L21())], [(5.0, L21())]]}, cv=3).fit(data)
    assert search.best_params_["penalties"][0][0] in (0.5, 5.0)


def test_a_failed_check_warns_with_the_report(data):
    est = mc.ConvexMTL([(1.0, L1()), (2.0, NuclearNorm())], check=True, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        with pytest.warns(mc.VerificationWarning, match="failed verification"):
            est.fit(data)
    assert not est.verification_.passed
