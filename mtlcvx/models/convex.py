"""ConvexMTL: a scikit-learn estimator for any sum of weighted convex terms.

The prototyping path: a new regularizer is a :class:`~mtlcvx.terms.Penalty`
(``expr`` is enough), and ``ConvexMTL(penalties=[(weight, term), ...])``
fits ``sum_t loss_t(w_t) + sum_k weight_k term_k(W)`` with the fast solver
the dispatcher picks from what the terms offer, or with the CVXPY
reference, and can verify its own answer.
"""

import numbers
import warnings

from .. import reference
from .._errors import ReferenceFallbackWarning, VerificationWarning
from .._validation import Boolean, Options, Real
from ..solvers import dispatch
from ..terms import Penalty, TermCheckError
from ..terms.checks import check_term_once
from .baselines import _SquaredLossEstimator, refuse_separable

__all__ = ["ConvexMTL"]


class ConvexMTL(_SquaredLossEstimator):
    """Multi-task learning with a convex objective of your own.

    Objective::

        sum_t s_t loss(y_t, X_t w_t) + sum_k weight_k Omega_k(W)

    with ``loss`` squared (``s_t/2 ||y_t - X_t w_t||^2``) or logistic, and
    ``Omega_k`` the terms of ``penalties``.

    Parameters
    ----------
    penalties : sequence of ``(weight, term)``
        ``weight`` a real ``>= 0``; ``term`` a
        :class:`~mtlcvx.terms.Penalty` (its CVXPY ``expr`` is required,
        ``value``, ``prox`` and ``degree`` are optional), or an
        :class:`~mtlcvx.terms.OperatorNorm` (its ``operator_matrix``
        instead).  Terms defined outside mtlcvx are checked at ``fit`` with
        :func:`~mtlcvx.terms.check_term` (convex and DPP expression, value
        against expression, degree, prox against the CVXPY prox problem),
        once per class, state and shape in a process (a grid search's
        clones are not re-checked); a wrong part raises
        :class:`~mtlcvx.terms.TermCheckError`.
    loss : {"squared", "logistic"}
    solver : {"auto", "fast", "reference"}
        ``"auto"``: the fast solver :func:`mtlcvx.solvers.select` picks from
        the terms' capabilities (a dedicated solver for the built-in terms;
        for a term known by its prox only, a working set certified on the
        full problem, :func:`~mtlcvx.solvers.solve_prox_working_set`; for
        several non-smooth terms or operator-form ones, the primal-dual
        splitting :func:`~mtlcvx.solvers.primal_dual_splitting`), else the
        reference with a :class:`~mtlcvx.ReferenceFallbackWarning` saying
        why;
        ``"fast"``: the fast solver or an error; ``"reference"``: the CVXPY
        model (its result, with certificate, in ``reference_result_``).
    check : bool, default=False
        After fitting, :func:`mtlcvx.verify` the coefficients against the
        reference and keep the report as ``verification_``; a failed
        verification warns (:class:`~mtlcvx.VerificationWarning`, with the
        report).
    scaling, fit_intercept, tol, max_iter :
        As for the other estimators.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
    intercept_ : ndarray (n_tasks,)
    solver_info_ : SolverInfo
        With the fast path: which solver ran (``solver_info_.solver``).
    verification_ : VerificationReport
        With ``check=True``.
    """

    _hyperparameters = {
        "loss": Options("squared", "logistic"),
        "solver": Options("auto", "fast", "reference"),
        "check": Boolean(),
        "tol": Real(low=0, low_inclusive=False),
    }

    def __init__(self, penalties=(), loss="squared", solver="auto", check=False, scaling="sum", fit_intercept=True,
                 tol=1e-9, max_iter=20_000):
        self.penalties = penalties
        self.loss = loss
        self.check = check
        super().__init__(scaling, fit_intercept, solver, tol, max_iter)

    # -- validation -------------------------------------------------------
    def _pairs(self):
        if isinstance(self.penalties, (str, bytes, dict)) or not hasattr(self.penalties, "__iter__"):
            raise TypeError("penalties must be a list of (weight, term) pairs, got "
                            f"{type(self.penalties).__name__}")
        pairs = list(self.penalties)
        for k, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"penalties[{k}] must be a (weight, term) pair, got {pair!r}")
            weight, term = pair
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                raise TypeError(f"penalties[{k}]: the weight must be a real number, got {weight!r}")
            if not (weight >= 0 and weight < float("inf")):
                raise ValueError(f"penalties[{k}]: the weight must be finite and >= 0, got {weight!r}")
            if not isinstance(term, Penalty):
                raise TypeError(f"penalties[{k}]: the term must be a mtlcvx.terms.Penalty, got "
                                f"{type(term).__name__}")
            if term.parameters:
                missing = [name for name in term.parameters if getattr(term, name, None) is None]
                if missing:
                    raise ValueError(f"penalties[{k}]: {type(term).__name__} needs its parameters {missing} set on "
                                     "the term (ConvexMTL's only parameters are the weights)")
        return pairs

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        pairs = self._pairs()
        shape = (min(data.n_features, 4), min(data.n_tasks, 3))
        for k, (_, term) in enumerate(pairs):
            if not type(term).__module__.startswith("mtlcvx."):
                try:
                    check_term_once(term, shape, full_shape=(data.n_features, data.n_tasks))
                except TermCheckError as exc:
                    raise TermCheckError(f"penalties[{k}]: {exc}", part=exc.part) from None
                except ValueError as exc:
                    raise ValueError(f"penalties[{k}]: {exc}") from None
        if self._logistic and not any(weight > 0 for weight, _ in pairs):
            refuse_separable(self, data, "every weight")

    # -- the model ----------------------------------------------------------
    def _reference_model(self, data):
        terms = [(f"weight_{k}", term, "W") for k, (_, term) in enumerate(self._pairs())]
        return reference.ReferenceModel(data, ["W"], self.loss, terms=terms, scaling=self.scaling)

    def _reference_params(self):
        return {f"weight_{k}": float(weight) for k, (weight, _) in enumerate(self._pairs())}

    def _fit_weights(self, data):
        if self.solver != "auto":
            return super()._fit_weights(data)
        model = self._reference_model(data)
        params = self._reference_params()
        objective = model.numeric(**params)
        try:
            dispatch.select(objective)
        except dispatch.NoFastSolver as exc:
            warnings.warn(f"ConvexMTL fits with the CVXPY reference: {exc}", ReferenceFallbackWarning, stacklevel=4)
            return self._fit_reference(model, params)
        return self._fit_fast(objective, data)

    def _fit(self, data):
        super()._fit(data)
        if self.check:
            from ..verify import verify

            model, params = self.reference_model(data)
            self.verification_ = verify(self, model, **params)
            if not self.verification_.passed:
                warnings.warn(f"ConvexMTL(check=True): the fit failed verification against the reference:\n"
                              f"{self.verification_}", VerificationWarning, stacklevel=3)
