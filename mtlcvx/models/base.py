"""What every mtlcvx estimator shares, and the linear-model layer on it.

* :class:`MultiTaskEstimator`: hyperparameter validation (declared once per
  class, :mod:`mtlcvx._validation`), data conversion, the ``fit`` /
  ``predict`` / ``score`` plumbing.  A non-linear model (the deep SSMTL_t)
  stands on this alone.
* :class:`LinearMultiTaskModel`: ``coef_`` (``(n_features, n_tasks)``,
  column t is task t, the papers' ``W``), intercepts by centring, the
  reference hooks, the numpy objective, and the fast/reference switch.
"""

import sys

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .. import metrics
from .._validation import Boolean, Options, check_hyperparameters
from ..data import MultiTaskData, _as_numeric_array, _check_task_list, as_multitask_data
from ..solvers import dispatch
from ..terms import SCALINGS, make_loss

__all__ = ["MultiTaskEstimator", "LinearMultiTaskModel"]

_SPLIT_TASKS = (
    "scikit-learn's model selection tools treat a list of tasks as a list of samples, so each of their splits "
    "holds whole tasks, not a share of every task's samples, and the scores would be NaN. Use "
    "mtlcvx.model_selection (GridSearch, cross_validate, TaskKFold), or wrap the estimator in "
    "mtlcvx.model_selection.LongFormat to give scikit-learn one long table with a task label per row")


def _called_by_sklearn_model_selection():
    """Whether a frame of ``sklearn.model_selection`` is on the stack.

    Its tools index ``Xs`` as a sequence of samples; handed a list of tasks
    they split the tasks, and every score comes back NaN (their
    ``error_score`` swallows the mismatch at predict time).  Failing in
    ``fit`` instead makes them raise, with our explanation."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("sklearn.model_selection."):
            return True
        frame = frame.f_back
    return False


class MultiTaskEstimator(RegressorMixin, BaseEstimator):
    """Base of the multi-task estimators.

    A subclass stores its hyperparameters in ``__init__`` (nothing else),
    declares their constraints in ``_hyperparameters`` (merged with the
    base classes'), and implements ``_fit(data)`` (set the fitted
    attributes) and ``_predict(Xs)`` (one prediction array per task).
    ``fit`` accepts ``Xs, ys`` lists or a :class:`~mtlcvx.MultiTaskData`.
    """

    _hyperparameters = {}

    def _check_hyperparameters(self, data):
        check_hyperparameters(self, data)

    def fit(self, Xs, ys=None):
        """Fit on ``Xs``, ``ys`` (lists of per-task arrays) or on a
        :class:`~mtlcvx.MultiTaskData` passed as ``Xs``; returns ``self``."""
        if not isinstance(Xs, MultiTaskData) and _called_by_sklearn_model_selection():
            raise ValueError(f"{type(self).__name__}.fit was given a list of tasks by scikit-learn: {_SPLIT_TASKS}")
        # the container lives for the fit only and is read-only: views of the caller's arrays, no copy
        data = as_multitask_data(Xs, ys, name="Xs", copy=False)
        self._check_hyperparameters(data)
        self._fit(data)
        self.n_tasks_, self.n_features_in_ = data.n_tasks, data.n_features
        return self

    def _fit(self, data):
        raise NotImplementedError

    def _predict(self, Xs):
        raise NotImplementedError

    def _check_predict_input(self, Xs):
        check_is_fitted(self, "n_tasks_")
        Xs = _check_task_list(Xs.Xs if isinstance(Xs, MultiTaskData) else Xs, "Xs")
        if len(Xs) != self.n_tasks_:
            hint = f" If scikit-learn split the list of tasks: {_SPLIT_TASKS}" if len(Xs) < self.n_tasks_ else ""
            raise ValueError(f"Xs has {len(Xs)} tasks; the estimator was fitted on {self.n_tasks_}, and predicts "
                             f"task t from Xs[t].{hint}")
        return self._task_arrays(Xs)

    def _task_arrays(self, Xs):
        """Each task's ``X`` as a finite float array of ``n_features_in_``
        columns (a task may have no rows: its prediction is empty)."""
        given = isinstance(Xs, MultiTaskData)
        out = []
        for t, X in enumerate(Xs.Xs if given else _check_task_list(Xs, "Xs")):
            X = X if given else _as_numeric_array(X, "Xs", t, copy=False)
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"Xs[{t}] must have shape (n_samples, {self.n_features_in_}), got {X.shape}")
            out.append(X)
        return out

    def _check_fitted_data(self, data):
        """``data`` has the tasks and features the estimator was fitted on
        (an objective or a reference of another shape would fail deep in
        the terms, naming W)."""
        if data.n_tasks != self.n_tasks_:
            raise ValueError(f"Xs has {data.n_tasks} tasks; the estimator was fitted on {self.n_tasks_}")
        if data.n_features != self.n_features_in_:
            raise ValueError(f"Xs has {data.n_features} features; the estimator was fitted on "
                             f"{self.n_features_in_}")
        return data

    def predict(self, Xs):
        """Predictions: a list with one 1-D array per task."""
        return self._predict(self._check_predict_input(Xs))

    def score(self, Xs, ys=None):
        """Coefficient of determination R^2 over all tasks' samples pooled
        (higher is better, as scikit-learn's regressors)."""
        data = as_multitask_data(Xs, ys, name="Xs")
        return metrics.r2(list(data.ys), self.predict(list(data.Xs)))


class LinearMultiTaskModel(MultiTaskEstimator):
    """Linear multi-task models: ``yhat_t = X_t w_t + b_t``.

    A subclass implements

    * ``_reference_model(data)``: the CVXPY reference of its (convex)
      objective, a declaration the fast path reads too;
    * ``_reference_params()``: its parameter values, from the
      hyperparameters alone (never from fitted state);

    and either relies on the default ``_fit_weights`` (the fast solver the
    dispatcher picks from the model's terms, or the reference with
    ``solver="reference"``) or overrides it (outer loops).  Fitted state that
    a reference needs (SG-MTL's memberships) comes from
    ``_fitted_reference_params()``.

    Every linear model has ``scaling`` (``"sum"`` or ``"mean"``: the loss
    scaling of :class:`mtlcvx.terms.SquaredLoss`).  With
    ``fit_intercept=True`` (the default of every estimator) each task
    gets its own unpenalised intercept ``intercept_[t]``, obtained, exactly
    for the squared loss, by centring every task's ``X_t`` and ``y_t`` and
    fitting the centred problem.  ``solver="reference"`` fits with the
    CVXPY model (and keeps its result, with certificate, in
    ``reference_result_``).
    """

    _hyperparameters = {
        "fit_intercept": Boolean(),
        "solver": Options("fast", "reference"),
        "scaling": Options(*SCALINGS),
    }

    #: Whether ``fit`` takes ``coef_init`` (a warm start of the fast
    #: solver): estimators whose fit is the default ``_fit_weights`` on one
    #: variable ``W`` say so.
    _supports_coef_init = False

    # -- to implement --------------------------------------------------
    def _reference_model(self, data):
        raise NotImplementedError

    def _reference_params(self):
        raise NotImplementedError

    def _fitted_reference_params(self):
        return {}

    def _solver_options(self):
        return dict(tol=self.tol, max_iter=self.max_iter)

    # -- the loss -------------------------------------------------------
    @property
    def _logistic(self):
        """Estimators with a ``loss`` hyperparameter may be classifiers."""
        return getattr(self, "loss", "squared") == "logistic"

    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if self._logistic:
            if self.fit_intercept:
                raise ValueError(f"{type(self).__name__} with loss='logistic' cannot fit an intercept: mtlcvx fits "
                                 "intercepts by centring the data, exact for the squared loss only; pass "
                                 "fit_intercept=False (and add a column of ones to X for a penalised intercept)")
            for t, y in enumerate(data.ys):
                make_loss("logistic").signed_labels(y, t)

    def decision_function(self, Xs):
        """``X_t w_t + b_t`` per task (the logit with ``loss="logistic"``)."""
        return LinearMultiTaskModel._scores(self, self._check_predict_input(Xs))

    def predict_proba(self, Xs):
        """``P(y_t = 1 | x)`` per task (``loss="logistic"`` only)."""
        if not self._logistic:
            raise AttributeError(f"predict_proba needs loss='logistic'; {type(self).__name__} has "
                                 f"loss={getattr(self, 'loss', 'squared')!r}")
        return [expit(z) for z in self.decision_function(Xs)]

    def score(self, Xs, ys=None):
        """R^2 over all tasks' samples pooled (squared loss), or the
        accuracy (``loss="logistic"``), as scikit-learn's regressors and
        classifiers."""
        if not self._logistic:
            return super().score(Xs, ys)
        data = as_multitask_data(Xs, ys, name="Xs")
        return metrics.accuracy(list(data.ys), self.predict(list(data.Xs)))

    # -- shared ---------------------------------------------------------
    def fit(self, Xs, ys=None, coef_init=None):
        """Fit on ``Xs``, ``ys`` (lists of per-task arrays) or on a
        :class:`~mtlcvx.MultiTaskData` passed as ``Xs``; returns ``self``.

        ``coef_init`` (shape ``(n_features, n_tasks)``, e.g. the ``coef_`` of
        a fit at a nearby ``lam``) starts the fast solver there, for the
        estimators that support it (``_supports_coef_init``): a
        regularisation path, as :class:`~mtlcvx.model_selection.GridSearch`
        with ``warm_start`` walks it.  The optimum does not depend on it."""
        if coef_init is None:
            return super().fit(Xs, ys)
        if not self._supports_coef_init:
            raise TypeError(f"{type(self).__name__}.fit does not take coef_init: its fit is not one convex solve "
                            "that starts from W")
        coef_init = _as_numeric_array(coef_init, "coef_init")
        self._coef_init = coef_init
        try:
            return super().fit(Xs, ys)
        finally:
            del self._coef_init

    def _prepare(self, Xs, ys):
        data = as_multitask_data(Xs, ys, name="Xs")
        if self.fit_intercept:
            return data.centered()
        return data, np.zeros((data.n_features, data.n_tasks)), np.zeros(data.n_tasks)

    def _fit(self, data):
        centred, X_means, y_means = self._prepare(data, None)
        W = self._fit_weights(centred)
        if self._logistic:
            # predictions in the labels given: {-1, +1} or {0, 1}
            self.negative_label_ = 0.0 if any(np.any(y == 0) for y in data.ys) else -1.0
        self.coef_ = W
        self.intercept_ = y_means - np.einsum("dt,dt->t", X_means, W)

    def _fit_weights(self, data):
        """``W`` for the (centred) data: the reference, or the fast solver
        chosen by :func:`mtlcvx.solvers.dispatch.select` from the terms."""
        model = self._reference_model(data)
        # an outer loop (BiGMTL) sets its learned parameters before this refit
        params = {**self._reference_params(), **self._fitted_reference_params()}
        if self.solver == "reference":
            return self._fit_reference(model, params)
        return self._fit_fast(model.numeric(**params), data)

    def _fit_reference(self, model, params):
        result = model.solve(**params)
        self.reference_result_ = result
        self.n_iter_ = None
        return self._from_reference(result)

    def _fit_fast(self, objective, data):
        variables, info = dispatch.solve(objective, start=self._start(objective, data), **self._solver_options())
        self.n_iter_ = info.n_iter
        self.solver_info_ = info
        return self._from_fast(variables)

    def _start(self, objective, data):
        """The warm start of the fast solver from ``fit(..., coef_init=...)``."""
        coef_init = getattr(self, "_coef_init", None)
        if coef_init is None:
            return None
        shape = (data.n_features, data.n_tasks)
        if coef_init.shape != shape:
            raise ValueError(f"coef_init has shape {coef_init.shape}; the data need (n_features, n_tasks) = {shape}")
        return {objective.names[0]: coef_init}

    def _from_reference(self, result):
        return result.W

    def _from_fast(self, variables):
        (W,) = variables.values()
        return W

    def _reference_candidate(self):
        """What :func:`mtlcvx.verify` compares with the reference."""
        return self.coef_

    def _scores(self, Xs):
        return [X @ self.coef_[:, t] + self.intercept_[t] for t, X in enumerate(Xs)]

    def _labels(self, scores):
        """Predictions from decision values: the labels with
        ``loss="logistic"`` (in the labels given), the values otherwise."""
        if self._logistic:
            return [np.where(z >= 0, 1.0, self.negative_label_) for z in scores]
        return scores

    def _predict(self, Xs):
        return self._labels(self._scores(Xs))

    def decision_function_new_tasks(self, Xs):
        """:meth:`predict_new_tasks` before thresholding (the logit with
        ``loss="logistic"``)."""
        check_is_fitted(self, "coef_")
        w, b = self.coef_.mean(axis=1), float(np.mean(self.intercept_))
        return [X @ w + b for X in self._task_arrays(Xs)]

    def predict_new_tasks(self, Xs):
        """Predictions for tasks the model was not fitted on, one array per
        new task: the *mean task*, ``x . mean_t(w_t) + mean_t(b_t)``.

        The simplest transfer, and the one every linear formulation here
        admits: under a shared support (L21), a shared subspace (trace norm)
        or groups whose membership a new task does not yet have, the mean of
        the learned tasks is the estimate that uses no sample of the new
        task.  It is what :class:`~mtlcvx.model_selection.LeaveTasksOut`
        scores."""
        return self._labels(self.decision_function_new_tasks(Xs))

    def objective(self, Xs, ys=None):
        """The estimator's documented objective at ``coef_``, in numpy (no
        CVXPY problem is built).

        With ``fit_intercept=True`` this is the objective minimised over
        the intercepts, i.e. evaluated on the per-task centred data (what
        :meth:`fit` solved)."""
        check_is_fitted(self, "coef_")
        data = self._check_fitted_data(self._prepare(Xs, ys)[0])
        params = {**self._reference_params(), **self._fitted_reference_params()}
        return self._reference_model(data).objective_at(self._reference_candidate(), **params)

    def reference_model(self, Xs, ys=None):
        """The CVXPY reference model of this estimator on ``Xs, ys`` (centred
        when ``fit_intercept=True``), and the parameters to solve it at:
        ``model, params = est.reference_model(data); model.solve(**params)``.

        The parameters come from the hyperparameters; a parameter learned
        by an outer loop (SG-MTL's memberships ``U``) is included once the
        estimator is fitted, else it is yours to give."""
        data, _, _ = self._prepare(Xs, ys)
        self._check_hyperparameters(data)
        params = dict(self._reference_params())
        if hasattr(self, "coef_"):
            fitted = self._fitted_reference_params()
            if fitted:
                # the learned parameters have the fitted data's shape
                self._check_fitted_data(data)
            params.update(fitted)
        return self._reference_model(data), params
