"""Cross-validation and grid search over task-aware splits.

Built on scikit-learn's pieces (``clone``, ``ParameterGrid``, the scorer
and ``cv_results_`` conventions) and run through joblib, so that
``n_jobs`` spreads the fits over local cores and, inside
``joblib.parallel_config("dask")``, over a Dask cluster with the same
code.  A unit of work is one fit and its scores (or, with ``warm_start``,
one path of fits along a parameter); results are placed by their index,
never by the order in which workers finish, so ``n_jobs=1``, ``2`` and a
cluster give identical ``cv_results_``.
"""

import numbers
import time
import warnings

import numpy as np
from joblib import delayed
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import ParameterGrid
from sklearn.utils.validation import check_is_fitted

from .. import metrics
from .._parallel import run_parallel
from ..data import as_multitask_data
from ._scoring import check_scoring
from ._split import check_cv, take

__all__ = ["cross_validate", "cross_val_score", "GridSearch"]


# -- one unit of work -----------------------------------------------------
class _NewTasks:
    """An estimator seen from tasks it was not fitted on (leave-tasks-out):
    predictions from ``predict_new_tasks``."""

    def __init__(self, estimator):
        self.estimator = estimator

    def predict(self, data):
        return self.estimator.predict_new_tasks(data)

    def decision_function(self, data):
        return self.estimator.decision_function_new_tasks(data)

    def score(self, data):
        predicted = self.predict(data)
        if getattr(self.estimator, "loss", "squared") == "logistic":
            return metrics.accuracy(list(data.ys), predicted)
        return metrics.r2(list(data.ys), predicted)


def _parts(data, train, test, estimator):
    """Train and test data of one split, and whether the test tasks are new."""
    fit_part, fit_tasks = take(data, train)
    test_part, test_tasks = take(data, test)
    if fit_part is None or test_part is None:
        raise ValueError("a cv split has no training or no test sample")
    if np.array_equal(fit_tasks, test_tasks) and fit_tasks.size == data.n_tasks:
        return fit_part, test_part, False
    if np.intersect1d(fit_tasks, test_tasks).size == 0:
        if not hasattr(estimator, "predict_new_tasks"):
            raise TypeError(f"{type(estimator).__name__} cannot predict tasks it was not fitted on (no "
                            "predict_new_tasks): whole tasks held out (LeaveTasksOut) need a model of new tasks")
        return fit_part, test_part, True
    raise ValueError("a cv split must hold out a share of every task's samples (all tasks on both sides) or whole "
                     f"tasks (none on both sides); this one trains on tasks {fit_tasks.tolist()} and tests on "
                     f"{test_tasks.tolist()}")


def _scores(estimator, data, scorers, new_tasks):
    target = _NewTasks(estimator) if new_tasks else estimator
    return {name: float(scorer(target, data)) for name, scorer in scorers.items()}


def _fit_and_score(estimator, fit_part, test_part, new_tasks, scorers, candidates, path=False,
                   return_train_score=False, return_estimator=False, error_score="raise"):
    """Fit a clone of ``estimator`` at each of ``candidates`` (a list of
    parameter dicts) on ``fit_part`` and score it on ``test_part``.

    With ``path=True`` the candidates are fitted in the given order, each
    fit starting from the previous solution (``fit(..., coef_init=...)``).
    Returns one dict per candidate.
    """
    out, coef = [], None
    for params in candidates:
        est = clone(estimator).set_params(**params)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if path and coef is not None:
                    est.fit(fit_part, coef_init=coef)
                else:
                    est.fit(fit_part)
        except Exception as exc:
            if error_score == "raise":
                raise
            # issued in the caller by _collect, as the fits' own warnings (a worker's would be lost)
            failure = (FitFailedWarning, f"fit failed at {params}: {type(exc).__name__}: {exc}; score set to "
                                         f"{error_score}")
            out.append({"fit_time": time.perf_counter() - start, "score_time": 0.0, "failed": True,
                        "test": {name: float(error_score) for name in scorers},
                        "train": {name: float(error_score) for name in scorers}, "estimator": None,
                        "warnings": [(w.category, str(w.message)) for w in caught] + [failure]})
            coef = None
            continue
        fit_time = time.perf_counter() - start
        coef = getattr(est, "coef_", None) if path else None
        start = time.perf_counter()
        row = {"fit_time": fit_time, "failed": False, "test": _scores(est, test_part, scorers, new_tasks),
               "warnings": [(w.category, str(w.message)) for w in caught]}
        row["score_time"] = time.perf_counter() - start
        if return_train_score:
            row["train"] = _scores(est, fit_part, scorers, False)
        row["estimator"] = est if return_estimator else None
        out.append(row)
    return out


def _collect(units):
    """Rows of the units, with the warnings their fits raised issued again
    here: a warning in a worker process would otherwise be lost, and a
    caller's filters and ``catch_warnings`` would see different things for
    ``n_jobs=1`` and ``n_jobs=2``."""
    for unit in units:
        for row in unit:
            for category, message in row.pop("warnings", ()):
                warnings.warn(message, category, stacklevel=3)
    return units


def _evaluate(estimator, data, cv, scorers, plans, path, n_jobs, verbose, what, error_score,
              return_train_score=False, return_estimator=False):
    """Every plan (a list of candidate dicts, fitted in order) on every split
    of ``cv``: ``rows[k][p]`` holds the rows of plan ``p`` on split ``k``.

    Each split's parts are taken once, here, however many plans use them."""
    splits = [_parts(data, train, test, estimator) for train, test in check_cv(cv).split(data)]
    calls = [delayed(_fit_and_score)(estimator, fit_part, test_part, new_tasks, scorers, plan, path,
                                     return_train_score, return_estimator, error_score)
             for fit_part, test_part, new_tasks in splits for plan in plans]
    units = _collect(run_parallel(calls, n_jobs, verbose, f"{what} {type(estimator).__name__}"))
    if all(row["failed"] for unit in units for row in unit):
        raise ValueError(f"every fit of {what} failed ({sum(map(len, units))} fits on {len(splits)} splits)")
    return [units[k * len(plans):(k + 1) * len(plans)] for k in range(len(splits))]


def _check_error_score(error_score):
    if isinstance(error_score, str) and error_score == "raise":
        return error_score
    if isinstance(error_score, numbers.Real) and not isinstance(error_score, bool):
        return float(error_score)
    raise ValueError(f"error_score must be 'raise' or a number, got {error_score!r}")


# -- cross-validation -------------------------------------------------------
def cross_validate(estimator, Xs, ys=None, *, cv=5, scoring=None, n_jobs=None, verbose=0, return_train_score=False,
                   return_estimator=False, error_score="raise"):
    """Evaluate ``estimator`` by cross-validation over task-aware splits.

    Parameters
    ----------
    estimator : mtlcvx estimator
        Cloned for every split (also a :class:`GridSearch`: nested CV).
    Xs, ys : lists of per-task arrays, or a MultiTaskData as ``Xs``
    cv : int, splitter or list of (train, test), default=5
        See :func:`~mtlcvx.model_selection.check_cv`; an int is
        ``TaskKFold(cv)``.
    scoring : None, str, callable, list or dict
        See :func:`~mtlcvx.model_selection.check_scoring`.
    n_jobs : int or None
        Splits fitted in parallel through joblib.
    verbose : int, default=0
        A progress bar (tqdm if installed) when > 0.
    return_train_score, return_estimator : bool
    error_score : "raise" or float, default="raise"
        What a failed fit scores; the default raises, because a NaN score
        silently drops a split from a mean.

    Returns
    -------
    dict
        ``fit_time``, ``score_time``, ``test_<name>`` (``test_score`` for a
        single metric), and ``train_<name>``, ``estimator`` when asked:
        arrays with one entry per split.

    Examples
    --------
    >>> import mtlcvx as mc
    >>> from mtlcvx.model_selection import TaskKFold, cross_validate
    >>> data, _ = mc.datasets.make_sparse_low_rank(n_tasks=3, n_features=5, n_samples=20, n_relevant=3, random_state=0)
    >>> result = cross_validate(mc.GroupLasso(lam=1.0), data, cv=TaskKFold(4), scoring="neg_mse")
    >>> result["test_score"].shape
    (4,)
    """
    scorers, _ = check_scoring(scoring)
    error_score = _check_error_score(error_score)
    rows = [plans[0][0] for plans in _evaluate(estimator, as_multitask_data(Xs, ys), cv, scorers, [[{}]], False,
                                               n_jobs, verbose, "cross_validate", error_score, return_train_score,
                                               return_estimator)]
    result = {"fit_time": np.array([r["fit_time"] for r in rows]),
              "score_time": np.array([r["score_time"] for r in rows])}
    for name in scorers:
        result[f"test_{name}"] = np.array([r["test"][name] for r in rows])
        if return_train_score:
            result[f"train_{name}"] = np.array([r["train"][name] for r in rows])
    if return_estimator:
        result["estimator"] = [r["estimator"] for r in rows]
    return result


def cross_val_score(estimator, Xs, ys=None, *, cv=5, scoring=None, n_jobs=None, verbose=0, error_score="raise"):
    """The test scores of :func:`cross_validate` with one metric: an array
    with one score per split."""
    if isinstance(scoring, (list, tuple, dict, set)):
        raise ValueError("cross_val_score takes one metric; use cross_validate for several")
    return cross_validate(estimator, Xs, ys, cv=cv, scoring=scoring, n_jobs=n_jobs, verbose=verbose,
                          error_score=error_score)["test_score"]


# -- grid search ------------------------------------------------------------
class GridSearch(MetaEstimatorMixin, BaseEstimator):
    """Exhaustive search over a parameter grid, scored by cross-validation on
    task-aware splits, and a refit of the best on all the data.

    Parameters
    ----------
    estimator : mtlcvx estimator
    param_grid : dict or list of dicts
        ``{name: values}`` (scikit-learn's ``ParameterGrid``); nested names
        with ``__`` as scikit-learn's.
    cv : int, splitter or list of (train, test), default=5
        An int is ``TaskKFold(cv)`` (not shuffled); pass
        ``TaskKFold(k, shuffle=True, random_state=...)``,
        ``TaskShuffleSplit``, ``LeaveTasksOut`` or ``PredefinedTaskSplit``
        for other protocols.
    scoring : None, str, callable, list or dict
        None uses the estimator's ``score``; names in
        :mod:`mtlcvx.model_selection` (``"neg_mse"``, ``"neg_nmse"``,
        ``"r2"``, ...); several metrics as a list or dict, then ``refit``
        names the one that chooses.
    n_jobs : int or None
        Fits in parallel through joblib (``-1``: all cores); the backend is
        joblib's current one, so ``with joblib.parallel_config("dask"):``
        runs the grid on a Dask cluster.
    refit : bool or str, default=True
        Refit the best parameters on all the data (``best_estimator_``).
    warm_start : str or None, default=None
        A parameter name (``"lam"``): along each line of the grid where only
        that parameter changes, fit from its largest value down, each fit
        starting from the previous solution (a regularisation path).  Needs
        an estimator whose ``fit`` takes ``coef_init`` (the convex
        estimators with a fast solver).  The scores agree with cold starts
        to the solver's tolerance, not bit for bit.
    verbose : int, default=0
        A progress bar (tqdm when installed) when > 0.
    error_score : "raise" or float, default="raise"
        What a failed fit scores; the default raises, because a NaN score
        silently drops a split from a mean.
    return_train_score : bool, default=False

    Attributes
    ----------
    cv_results_ : dict of arrays
        scikit-learn's layout: ``params``, ``param_<name>`` (masked arrays),
        ``split<k>_test_<metric>``, ``mean_test_<metric>``,
        ``std_test_<metric>``, ``rank_test_<metric>``, ``mean_fit_time``,
        ``std_fit_time``, ``mean_score_time``, ``std_score_time``
        (``<metric>`` is ``score`` for a single metric).
    best_params_, best_index_, best_score_ : the chosen candidate
    best_estimator_ : estimator refitted on all the data (``refit``)
    refit_time_ : float
    n_splits_ : int
    scorer_ : dict of scorers
    multimetric_ : bool

    Examples
    --------
    >>> import mtlcvx as mc
    >>> from mtlcvx.model_selection import GridSearch, TaskKFold
    >>> data, _ = mc.datasets.make_sparse_low_rank(n_tasks=3, n_features=5, n_samples=20, n_relevant=3, random_state=0)
    >>> search = GridSearch(mc.GroupLasso(), {"lam": [0.1, 1.0, 10.0]}, cv=TaskKFold(3), scoring="neg_mse")
    >>> sorted(search.fit(data).best_params_)
    ['lam']
    """

    def __init__(self, estimator, param_grid, cv=5, scoring=None, n_jobs=None, refit=True, warm_start=None,
                 verbose=0, error_score="raise", return_train_score=False):
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.warm_start = warm_start
        self.verbose = verbose
        self.error_score = error_score
        self.return_train_score = return_train_score

    # -- plan -----------------------------------------------------------
    def _candidates(self):
        candidates = list(ParameterGrid(self.param_grid))
        valid = self.estimator.get_params(deep=True)
        for params in candidates:
            unknown = sorted(set(params) - set(valid))
            if unknown:
                raise ValueError(f"param_grid names {unknown}, not parameters of {type(self.estimator).__name__}; "
                                 f"its parameters are {sorted(valid)}")
        return candidates

    def _paths(self, candidates):
        """Groups of candidate indices fitted one after the other: single
        candidates, or with ``warm_start`` the lines of the grid along that
        parameter, largest value first."""
        if self.warm_start is None:
            return [[i] for i in range(len(candidates))]
        name = self.warm_start
        if not isinstance(name, str):
            raise TypeError(f"warm_start must be a parameter name or None, got {type(name).__name__}")
        if not getattr(self.estimator, "_supports_coef_init", False):
            raise ValueError(f"warm_start={name!r} needs an estimator whose fit takes coef_init; "
                             f"{type(self.estimator).__name__} does not (its fit is an outer loop or a closed form)")
        lines = {}
        for i, params in enumerate(candidates):
            if name not in params:
                raise ValueError(f"warm_start={name!r} is not a parameter of the grid's candidate {params}")
            rest = tuple(sorted((k, repr(v)) for k, v in params.items() if k != name))
            lines.setdefault(rest, []).append(i)
        return [sorted(line, key=lambda i: -float(candidates[i][name])) for line in lines.values()]

    def _refit_metric(self, scorers, multimetric):
        if not multimetric:
            return "score"
        if self.refit is False:
            return None
        if not isinstance(self.refit, str) or self.refit not in scorers:
            raise ValueError(f"with several metrics, refit must be the name of the one that chooses "
                             f"({sorted(scorers)}) or False, got {self.refit!r}")
        return self.refit

    # -- fit ------------------------------------------------------------
    def fit(self, Xs, ys=None):
        """Score every candidate on every split, then refit the best."""
        data = as_multitask_data(Xs, ys)
        candidates = self._candidates()
        scorers, multimetric = check_scoring(self.scoring)
        refit_metric = self._refit_metric(scorers, multimetric)
        error_score = _check_error_score(self.error_score)
        paths = self._paths(candidates)
        per_split = _evaluate(self.estimator, data, self.cv, scorers, [[candidates[i] for i in path] for path in paths],
                              self.warm_start is not None, self.n_jobs, self.verbose, "GridSearch", error_score,
                              self.return_train_score)
        table = [[None] * len(per_split) for _ in candidates]
        for k, units in enumerate(per_split):
            for path, unit in zip(paths, units):
                for i, row in zip(path, unit):
                    table[i][k] = row
        self.cv_results_ = self._results(candidates, table, scorers)
        self.n_splits_ = len(per_split)
        self.scorer_ = scorers
        self.multimetric_ = multimetric
        if refit_metric is not None:
            self.best_index_ = int(np.argmin(self.cv_results_[f"rank_test_{refit_metric}"]))
            self.best_params_ = candidates[self.best_index_]
            self.best_score_ = float(self.cv_results_[f"mean_test_{refit_metric}"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(data)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _results(self, candidates, table, scorers):
        results = {"params": candidates}
        for name in sorted({k for params in candidates for k in params}):
            column = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
            for i, params in enumerate(candidates):
                if name in params:
                    column[i] = params[name]
            results[f"param_{name}"] = column
        for key in ("fit_time", "score_time"):
            times = np.array([[row[key] for row in per_split] for per_split in table])
            results[f"mean_{key}"], results[f"std_{key}"] = times.mean(axis=1), times.std(axis=1)
        sides = ("test", "train") if self.return_train_score else ("test",)
        for side in sides:
            for name in scorers:
                scores = np.array([[row[side][name] for row in per_split] for per_split in table])
                for k in range(scores.shape[1]):
                    results[f"split{k}_{side}_{name}"] = scores[:, k]
                results[f"mean_{side}_{name}"] = scores.mean(axis=1)
                results[f"std_{side}_{name}"] = scores.std(axis=1)
                if side == "test":
                    # NaN means (a failed fit, error_score=nan) rank last
                    mean = np.where(np.isnan(scores.mean(axis=1)), -np.inf, scores.mean(axis=1))
                    results[f"rank_test_{name}"] = rankdata(-mean, method="min").astype(np.int32)
        return results

    # -- the refitted estimator ----------------------------------------
    def _best(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def predict(self, Xs):
        """``best_estimator_.predict``."""
        return self._best().predict(Xs)

    def decision_function(self, Xs):
        """``best_estimator_.decision_function``."""
        return self._best().decision_function(Xs)

    def predict_proba(self, Xs):
        """``best_estimator_.predict_proba``."""
        return self._best().predict_proba(Xs)

    def predict_new_tasks(self, Xs):
        """``best_estimator_.predict_new_tasks``."""
        return self._best().predict_new_tasks(Xs)

    def decision_function_new_tasks(self, Xs):
        """``best_estimator_.decision_function_new_tasks``."""
        return self._best().decision_function_new_tasks(Xs)

    def score(self, Xs, ys=None):
        """The refit metric's scorer (or ``best_estimator_.score``) on the data."""
        best = self._best()
        if self.scoring is None:
            return best.score(Xs, ys)
        name = self.refit if self.multimetric_ else "score"
        return float(self.scorer_[name](best, as_multitask_data(Xs, ys)))
