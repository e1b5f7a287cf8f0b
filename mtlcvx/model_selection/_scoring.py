"""Scorers for multi-task estimators, with scikit-learn's conventions.

A scorer is called as ``scorer(estimator, data)`` (or ``scorer(estimator,
Xs, ys)``) and returns one float, **greater is better**: errors come
negated, as scikit-learn's ``neg_mean_squared_error``.

==========================  =================================================  ===========
name                        value                                              default
                                                                               average
==========================  =================================================  ===========
``neg_mse``                 ``-`` mean squared error                           samples
``neg_rmse``                ``-`` root mean squared error                      samples
``neg_nmse``                ``-`` normalised MSE (GenGL/SSMTL, MALSAR: each    samples
                            task's squared error over its target variance)
``r2``                      coefficient of determination                       samples
``explained_variance``      ``1 - var(y - yhat) / var(y)``                     samples
``accuracy``                share of correct labels                            samples
``roc_auc``                 area under the ROC curve (``decision_function``)   tasks
``neg_log_loss``            ``-`` logistic loss of ``decision_function``       samples
==========================  =================================================  ===========

Append ``_per_task`` (each task counts once: the mean of the per-task
values) or ``_pooled`` (each sample counts once) to choose the average;
:func:`make_scorer` builds the same from a metric.  Pooling is the default
because it is what the papers report (SG-MTL's pooled MSE, GenGL's nMSE
weighted by sample counts) and because a fold's score is then its
per-sample risk, which small tasks do not make noisy; per-task averaging
weighs a task of 10 samples as much as one of 200, the right choice when
every task matters equally.  AUC averages per task by default: the
decision values of different tasks are on scales of their own, and pooling
them would compare tasks with each other rather than rank within each.

scikit-learn's names for the same errors (``neg_mean_squared_error``,
``neg_root_mean_squared_error``) are accepted.  A bare ``"mse"`` is
refused: the value would be ranked as if larger were better.
"""

from .. import metrics

__all__ = ["MultiTaskScorer", "make_scorer", "get_scorer", "get_scorer_names", "check_scoring"]

#: ``name: (metric, greater_is_better, response, default average)``.
_SCORERS = {
    "neg_mse": (metrics.mse, False, "predict", "samples"),
    "neg_rmse": (metrics.rmse, False, "predict", "samples"),
    "neg_nmse": (metrics.nmse, False, "predict", "samples"),
    "r2": (metrics.r2, True, "predict", "samples"),
    "explained_variance": (metrics.explained_variance, True, "predict", "samples"),
    "accuracy": (metrics.accuracy, True, "predict", "samples"),
    "roc_auc": (metrics.mean_auc, True, "decision_function", "tasks"),
    "neg_log_loss": (metrics.log_loss, False, "decision_function", "samples"),
}
_ALIASES = {"neg_mean_squared_error": "neg_mse", "neg_root_mean_squared_error": "neg_rmse", "auc": "roc_auc"}
_SUFFIXES = {"_per_task": "tasks", "_pooled": "samples"}


class MultiTaskScorer:
    """``sign * metric(ys, response(Xs), average=average)`` on a
    :class:`~mtlcvx.MultiTaskData`.

    Parameters
    ----------
    metric : callable
        ``metric(ys_true, ys_pred, average=...)`` over lists of per-task
        arrays (the functions of :mod:`mtlcvx.metrics`).
    greater_is_better : bool
        If False the scorer returns ``-metric``.
    response : {"predict", "decision_function"}
        The estimator method whose output the metric compares with ``ys``.
    average : {"samples", "tasks"}
    name : str, optional
    """

    def __init__(self, metric, greater_is_better=True, response="predict", average="samples", name=None):
        if average not in metrics.AVERAGES:
            raise ValueError(f"average must be one of {metrics.AVERAGES}, got {average!r}")
        if response not in ("predict", "decision_function"):
            raise ValueError(f"response must be 'predict' or 'decision_function', got {response!r}")
        self.metric = metric
        self.sign = 1.0 if greater_is_better else -1.0
        self.response = response
        self.average = average
        self.name = name or getattr(metric, "__name__", "score")

    def __call__(self, estimator, Xs, ys=None):
        from ..data import as_multitask_data

        data = as_multitask_data(Xs, ys)
        predicted = getattr(estimator, self.response)(data)
        return self.sign * self.metric(list(data.ys), predicted, average=self.average)

    def __repr__(self):
        return f"MultiTaskScorer({self.name!r}, average={self.average!r})"


def make_scorer(metric, greater_is_better=True, response="predict", average="samples", name=None):
    """A :class:`MultiTaskScorer` from a metric of lists of per-task arrays."""
    return MultiTaskScorer(metric, greater_is_better, response, average, name)


def get_scorer_names():
    """The scorer names :func:`get_scorer` knows (without suffixes and aliases)."""
    return sorted(_SCORERS)


def get_scorer(name):
    """The scorer called ``name`` (see the module's table; ``_per_task`` or
    ``_pooled`` may follow), or ``name`` itself if it is callable."""
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"scoring must be a name, a callable, a list or a dict, got {type(name).__name__}")
    base, average = name, None
    for suffix, value in _SUFFIXES.items():
        if name.endswith(suffix):
            base, average = name[: -len(suffix)], value
    base = _ALIASES.get(base, base)
    if base not in _SCORERS:
        hint = ""
        if f"neg_{base}" in _SCORERS:
            hint = f" (scores are greater-is-better, scikit-learn's convention: use 'neg_{base}')"
        raise ValueError(f"unknown scoring {name!r}{hint}; known: {get_scorer_names()}, optionally with the "
                         f"suffix '_per_task' or '_pooled'")
    metric, greater, response, default = _SCORERS[base]
    return MultiTaskScorer(metric, greater, response, average or default, name)


def check_scoring(scoring):
    """``{name: scorer}`` from ``scoring`` and whether several metrics were
    asked for.

    ``None`` scores with the estimator's own ``score`` (pooled R^2, or
    accuracy for classifiers), as scikit-learn; a name or a callable gives
    one scorer named ``"score"``; a list of names or a dict ``{name:
    scorer}`` gives several.
    """
    if scoring is None:
        return {"score": _EstimatorScore()}, False
    if isinstance(scoring, str) or callable(scoring):
        return {"score": get_scorer(scoring)}, False
    if isinstance(scoring, dict):
        if not scoring:
            raise ValueError("scoring is an empty dict")
        return {str(k): get_scorer(v) for k, v in scoring.items()}, True
    if isinstance(scoring, (list, tuple, set, frozenset)):
        if not scoring or not all(isinstance(s, str) for s in scoring):
            raise ValueError(f"scoring as a list must hold scorer names, got {scoring!r}")
        return {s: get_scorer(s) for s in scoring}, True
    raise TypeError(f"scoring must be None, a name, a callable, a list or a dict, got {type(scoring).__name__}")


class _EstimatorScore:
    def __call__(self, estimator, data):
        return estimator.score(data)

    def __repr__(self):
        return "estimator.score"
