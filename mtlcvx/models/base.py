"""What every mtlcvx estimator shares: validation, intercepts, prediction,
scoring, the numpy objective and the switch between the fast solver and
the CVXPY reference."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..data import MultiTaskData, as_multitask_data

__all__ = ["MultiTaskEstimator", "check_scalar_param"]



def check_scalar_param(value, name, low=None, high=None, low_inclusive=True, high_inclusive=True, integer=False):
    """Validate a scalar hyperparameter; the error names it."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value!r}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {value!r}")
    return value


class MultiTaskEstimator(RegressorMixin, BaseEstimator):
    """Base of the multi-task estimators.

    Subclasses store their hyperparameters in ``__init__`` (nothing else)
    and implement

    * ``_validate_params(data)`` -- raise on bad hyperparameters;
    * ``_reference_model(data)`` -- the CVXPY reference of the objective;
    * ``_reference_params()`` -- its parameter values;
    * ``_fit_fast(data)`` -- return ``(W, info)`` from the numpy solver;

    or, for estimators with a non-convex outer loop, override
    ``_fit_weights(data)`` (return ``W``, set the other fitted attributes).

    Conventions: ``coef_`` has shape ``(n_features, n_tasks)`` (column t is
    task t, the papers' ``W``); with ``fit_intercept=True`` each task gets
    its own unpenalised intercept ``intercept_[t]``, obtained, exactly for
    the squared loss, by centring every task's ``X_t`` and ``y_t`` and
    fitting the centred problem.  ``solver="reference"`` fits with the
    CVXPY model (and keeps its result, with certificate, in
    ``reference_result_``).
    """

    # -- to implement --------------------------------------------------
    def _validate_params(self, data):
        raise NotImplementedError

    def _reference_model(self, data):
        raise NotImplementedError

    def _reference_params(self):
        raise NotImplementedError

    def _fit_fast(self, data):
        raise NotImplementedError

    # -- shared ---------------------------------------------------------
    #: Accepted values of ``solver``.
    solvers = ("fast", "reference")

    def _check_common(self):
        if self.solver not in self.solvers:
            raise ValueError(f"solver must be one of {self.solvers}, got {self.solver!r}")
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise TypeError(f"fit_intercept must be a bool, got {self.fit_intercept!r}")

    def _prepare(self, Xs, ys):
        data = as_multitask_data(Xs, ys)
        if self.fit_intercept:
            centred, X_means, y_means = data.centered()
            return centred, X_means, y_means
        return data, np.zeros((data.n_features, data.n_tasks)), np.zeros(data.n_tasks)

    def fit(self, Xs, ys=None):
        """Fit on ``Xs``, ``ys`` (lists of per-task arrays) or on a
        :class:`~mtlcvx.MultiTaskData` passed as ``Xs``; returns ``self``."""
        self._check_common()
        data, X_means, y_means = self._prepare(Xs, ys)
        self._validate_params(data)
        W = self._fit_weights(data)
        self.coef_ = W
        self.intercept_ = y_means - np.einsum("dt,dt->t", X_means, W)
        self.n_tasks_, self.n_features_in_ = data.n_tasks, data.n_features
        return self

    def _fit_weights(self, data):
        """``W`` for the (centred) data: the CVXPY reference or the fast
        solver.  Estimators with an outer loop override this."""
        if self.solver == "reference":
            result = self._reference_model(data).solve(**self._reference_params())
            self.reference_result_ = result
            self.n_iter_ = None
            return result.W
        W, info = self._fit_fast(data)
        self.n_iter_ = getattr(info, "n_iter", None)
        self.solver_info_ = info
        return W

    def _check_predict_input(self, Xs):
        check_is_fitted(self, "coef_")
        if isinstance(Xs, MultiTaskData):
            Xs = list(Xs.Xs)
        if not isinstance(Xs, (list, tuple)):
            raise TypeError(f"Xs must be a list with one array per task, got {type(Xs).__name__}")
        if len(Xs) != self.n_tasks_:
            raise ValueError(f"Xs has {len(Xs)} tasks; the estimator was fitted on {self.n_tasks_}")
        out = []
        for t, X in enumerate(Xs):
            X = np.asarray(X, dtype=float)
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"Xs[{t}] must have shape (n_samples, {self.n_features_in_}), got {X.shape}"
                )
            out.append(X)
        return out

    def predict(self, Xs):
        """Predictions: a list with one 1-D array per task."""
        Xs = self._check_predict_input(Xs)
        return [X @ self.coef_[:, t] + self.intercept_[t] for t, X in enumerate(Xs)]

    def score(self, Xs, ys=None):
        """Coefficient of determination R^2 over all tasks' samples pooled
        (higher is better, as scikit-learn's regressors)."""
        data = as_multitask_data(Xs, ys)
        pred = np.concatenate(self.predict(list(data.Xs)))
        y = np.concatenate(data.ys)
        ss_res = np.sum((y - pred) ** 2)
        ss_tot = np.sum((y - y.mean()) ** 2)
        return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else float(ss_res == 0)

    def objective(self, Xs, ys=None):
        """The estimator's documented objective at ``coef_``, in numpy.

        With ``fit_intercept=True`` this is the objective minimised over
        the intercepts, i.e. evaluated on the per-task centred data (what
        :meth:`fit` solved)."""
        check_is_fitted(self, "coef_")
        data, _, _ = self._prepare(Xs, ys)
        return self._reference_model(data).objective_at(self.coef_, **self._reference_params())

    def reference_model(self, Xs, ys=None):
        """The CVXPY reference model of this estimator on ``Xs, ys`` (centred
        when ``fit_intercept=True``), and the parameters to solve it at:
        ``model, params = est.reference_model(data); model.solve(**params)``."""
        self._check_common()
        data, _, _ = self._prepare(Xs, ys)
        self._validate_params(data)
        return self._reference_model(data), self._reference_params()
