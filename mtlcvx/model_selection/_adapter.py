"""scikit-learn's face for mtlcvx estimators: one long table, a task label per row.

scikit-learn's tools (``GridSearchCV``, ``cross_val_score``, ``Pipeline``,
its splitters) see ``X`` as one list of samples.  mtlcvx's estimators take
a list of tasks, and handed to those tools they would see the *tasks* as
samples.  :class:`LongFormat` wraps any mtlcvx estimator so that ``fit(X,
y)`` takes the long table: the task of each row comes from a column of
``X`` (``task_column``) or from a ``tasks=`` argument, which scikit-learn
routes as metadata (``sklearn.set_config(enable_metadata_routing=True)``;
the adapter requests ``tasks`` by default).  :class:`TaskScaler` is the
per-task standardisation to put before it in a ``Pipeline``.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.validation import check_is_fitted

from ..data import MultiTaskData

__all__ = ["LongFormat", "TaskScaler"]


def _columns(X):
    names = getattr(X, "columns", None)
    return None if names is None else [str(c) for c in names]


def _task_column_index(task_column, n_columns, names):
    if isinstance(task_column, str):
        if names is None or task_column not in names:
            raise ValueError(f"task_column={task_column!r} names no column of X"
                             + ("" if names is None else f" (columns: {names})"))
        return names.index(task_column)
    if isinstance(task_column, numbers.Integral) and not isinstance(task_column, bool):
        if not -n_columns <= task_column < n_columns:
            raise ValueError(f"task_column={task_column} is out of range for X with {n_columns} columns")
        return int(task_column) % n_columns
    raise TypeError(f"task_column must be a column index, a column name or None, got {type(task_column).__name__}")


def split_task_input(X, tasks, task_column):
    """The features and the task label of every row of a long table.

    Returns
    -------
    features : ndarray of shape (n, d)
        ``X`` without the task column.
    labels : ndarray of shape (n,)
    feature_names : list of str or None
    column : int or None
        Position of the task column in ``X``.
    """
    names = _columns(X)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (one row per sample), got {X.ndim}-D")
    if task_column is None:
        if tasks is None:
            raise ValueError("the task of each row is unknown: pass tasks= (routed as metadata by scikit-learn's "
                             "tools), or build the adapter with task_column= (the column of X that holds it)")
        labels = np.asarray(tasks)
        if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
            raise ValueError(f"tasks must hold one label per row of X ({X.shape[0]}), got shape {labels.shape}")
        return X, labels, names, None
    if tasks is not None:
        raise ValueError("tasks= was given but the adapter reads the tasks from task_column: pass one of the two")
    column = _task_column_index(task_column, X.shape[1], names)
    keep = [j for j in range(X.shape[1]) if j != column]
    return (X[:, keep], X[:, column], None if names is None else [names[j] for j in keep], column)


def _task_rows(labels, known):
    """For each known task label, its rows; and the rows of labels not known."""
    rows = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    seen = [rows.pop(label, np.zeros(0, dtype=int)) for label in known]
    return seen, rows


class LongFormat(MetaEstimatorMixin, BaseEstimator):
    """Any mtlcvx estimator as a scikit-learn estimator of one long table.

    Parameters
    ----------
    estimator : mtlcvx estimator
        Cloned and fitted on the :class:`~mtlcvx.MultiTaskData` built from
        the table (tasks in sorted label order, as
        :meth:`MultiTaskData.from_long`).  Its parameters are
        ``estimator__<name>`` in a grid.
    task_column : int, str or None, default=None
        The column of ``X`` with each row's task label (dropped from the
        features); ``None``: the labels come as ``tasks=`` in ``fit``,
        ``predict`` and ``score``.
    unseen_tasks : {"error", "new"}, default="error"
        A row whose task was not in the training data raises, or (``"new"``)
        is predicted by the estimator's model of a new task
        (``predict_new_tasks``: for the linear models, the mean of the
        learned tasks), as needed when scikit-learn's ``GroupKFold`` holds
        whole tasks out.

    Attributes
    ----------
    estimator_ : the fitted mtlcvx estimator
    tasks_ : ndarray, the task labels seen in ``fit``, sorted
    n_features_in_ : int, columns of ``X`` (the task column included)
    classes_ : ndarray, for a classifier (``loss="logistic"``)

    Examples
    --------
    >>> import numpy as np, mtlcvx as mc
    >>> from sklearn.model_selection import GridSearchCV
    >>> from mtlcvx.model_selection import LongFormat, TaskKFold
    >>> data, _ = mc.datasets.make_sparse_low_rank(n_tasks=3, n_features=4, n_samples=12, n_relevant=3, random_state=0)
    >>> X, y, tasks = data.stacked()
    >>> table = np.column_stack([tasks, X])
    >>> search = GridSearchCV(LongFormat(mc.GroupLasso(), task_column=0), {"estimator__lam": [0.1, 1.0]},
    ...                       cv=TaskKFold(3, shuffle=True, random_state=0)).fit(table, y, groups=tasks)
    >>> sorted(search.best_params_)
    ['estimator__lam']
    """

    __metadata_request__fit = {"tasks": True}
    __metadata_request__predict = {"tasks": True}
    __metadata_request__score = {"tasks": True}
    __metadata_request__decision_function = {"tasks": True}
    __metadata_request__predict_proba = {"tasks": True}

    def __init__(self, estimator, task_column=None, unseen_tasks="error"):
        self.estimator = estimator
        self.task_column = task_column
        self.unseen_tasks = unseen_tasks

    def _is_classifier(self):
        return getattr(self.estimator, "loss", "squared") == "logistic"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._is_classifier():
            tags.estimator_type, tags.classifier_tags, tags.regressor_tags = "classifier", ClassifierTags(), None
        else:
            tags.estimator_type, tags.regressor_tags, tags.classifier_tags = "regressor", RegressorTags(), None
        return tags

    def fit(self, X, y, tasks=None):
        """Fit the wrapped estimator on the tasks of the table."""
        if self.unseen_tasks not in ("error", "new"):
            raise ValueError(f"unseen_tasks must be 'error' or 'new', got {self.unseen_tasks!r}")
        n_columns = np.shape(X)[1] if np.ndim(X) == 2 else None
        features, labels, names, _ = split_task_input(X, tasks, self.task_column)
        data = MultiTaskData.from_long(features, y, labels, feature_names=names)
        self.estimator_ = clone(self.estimator).fit(data)
        self.tasks_ = np.asarray(data.task_labels)
        self.n_features_in_ = n_columns
        if self._is_classifier():
            self.classes_ = np.unique(np.asarray(y))
        return self

    def _per_row(self, X, tasks, method, new_method):
        """``method`` of the wrapped estimator on each task's rows, put back in
        row order."""
        check_is_fitted(self, "estimator_")
        features, labels, _, _ = split_task_input(X, tasks, self.task_column)
        if features.shape[1] != self.estimator_.n_features_in_:
            raise ValueError(f"X has {features.shape[1]} feature columns (task column excluded); the estimator "
                             f"was fitted on {self.estimator_.n_features_in_}")
        seen, unseen = _task_rows(labels, self.tasks_)
        out = np.empty(features.shape[0])
        for rows, values in zip(seen, getattr(self.estimator_, method)([features[r] for r in seen])):
            out[rows] = values
        if unseen:
            if self.unseen_tasks != "new":
                raise ValueError(f"X holds rows of tasks not seen in fit: {sorted(unseen)[:5]}; pass "
                                 "unseen_tasks='new' to predict them with the model of a new task")
            blocks = list(unseen.values())
            for rows, values in zip(blocks, getattr(self.estimator_, new_method)([features[r] for r in blocks])):
                out[rows] = values
        return out

    def predict(self, X, tasks=None):
        """One prediction per row, by the model of the row's task."""
        return self._per_row(X, tasks, "predict", "predict_new_tasks")

    def decision_function(self, X, tasks=None):
        """``X_t w_t + b_t`` per row (the logit with ``loss="logistic"``)."""
        return self._per_row(X, tasks, "decision_function", "decision_function_new_tasks")

    def predict_proba(self, X, tasks=None):
        """Class probabilities ``[P(negative), P(positive)]`` per row
        (``loss="logistic"``)."""
        if not self._is_classifier():
            raise AttributeError("predict_proba needs an estimator with loss='logistic'")
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X, tasks)))
        return np.column_stack([1.0 - p, p])

    def score(self, X, y, sample_weight=None, tasks=None):
        """R^2 of all rows pooled, or the accuracy for a classifier, weighted
        by ``sample_weight`` (scikit-learn's regressors' and classifiers'
        ``score``, whose signature a ``Pipeline`` expects)."""
        predicted = self.predict(X, tasks)
        if self._is_classifier():
            return float(accuracy_score(y, predicted, sample_weight=sample_weight))
        return float(r2_score(y, predicted, sample_weight=sample_weight))


class TaskScaler(TransformerMixin, BaseEstimator):
    """Standardise every feature inside each task (scikit-learn's
    ``StandardScaler`` per task), for a ``Pipeline`` before
    :class:`LongFormat`.

    Per-task scaling matters where tasks measure their features on scales
    of their own (School's per-school percentages, Parkinsons' per-patient
    voice measures): pooled scaling leaves those differences in, and a
    shared penalty then weighs the tasks unevenly.  The task column, if
    any, passes through unchanged so that the next step finds it.  Rows of
    a task not seen in ``fit`` are scaled by the statistics of all training
    rows pooled.  A feature constant in a task is centred, not divided (as
    scikit-learn's scaler).

    Parameters
    ----------
    task_column : int, str or None, default=None
        As :class:`LongFormat`'s; ``None``: ``tasks=`` in fit and transform.
    with_mean, with_std : bool, default=True
    """

    __metadata_request__fit = {"tasks": True}
    __metadata_request__transform = {"tasks": True}

    def __init__(self, task_column=None, with_mean=True, with_std=True):
        self.task_column = task_column
        self.with_mean = with_mean
        self.with_std = with_std

    def _statistics(self, features):
        mean = features.mean(axis=0) if self.with_mean else np.zeros(features.shape[1])
        scale = features.std(axis=0) if self.with_std else np.ones(features.shape[1])
        return mean, np.where(scale > 0, scale, 1.0)

    def fit(self, X, y=None, tasks=None):
        features, labels, _, _ = split_task_input(X, tasks, self.task_column)
        features = np.asarray(features, dtype=float)
        self.tasks_ = np.unique(labels)
        stats = [self._statistics(features[labels == label]) for label in self.tasks_]
        self.mean_ = np.array([m for m, _ in stats])
        self.scale_ = np.array([s for _, s in stats])
        self.pooled_mean_, self.pooled_scale_ = self._statistics(features)
        self.n_features_in_ = np.shape(X)[1]
        return self

    def fit_transform(self, X, y=None, tasks=None):
        # TransformerMixin's would not hand ``tasks`` to transform
        return self.fit(X, y, tasks).transform(X, tasks)

    def transform(self, X, tasks=None):
        check_is_fitted(self, "mean_")
        features, labels, _, column = split_task_input(X, tasks, self.task_column)
        features = np.asarray(features, dtype=float)
        if features.shape[1] != self.mean_.shape[1]:
            raise ValueError(f"X has {features.shape[1]} feature columns; the scaler was fitted on "
                             f"{self.mean_.shape[1]}")
        out = (features - self.pooled_mean_) / self.pooled_scale_
        seen, _ = _task_rows(labels, self.tasks_)
        for t, rows in enumerate(seen):
            out[rows] = (features[rows] - self.mean_[t]) / self.scale_[t]
        if column is None:
            return out
        labels = np.asarray(X)[:, column]
        if labels.dtype.kind not in "biuf":  # string labels (a DataFrame's task column) pass through as objects
            out = out.astype(object)
        return np.insert(out, column, labels.astype(out.dtype), axis=1)
