"""Splitters that respect tasks.

scikit-learn's splitters cut *one* list of samples; a multi-task data set
is ``T`` lists, and the question "which samples are held out" has two
answers that scikit-learn cannot tell apart:

* a share of **every task's** samples (:class:`TaskKFold`,
  :class:`TaskShuffleSplit`, :class:`PredefinedTaskSplit`): each task is
  learned from its own training samples and tested on its own held-out
  ones, the protocol of every paper mtlcvx reproduces;
* **whole tasks** (:class:`LeaveTasksOut`): the held-out tasks are new to
  the model, which must predict them without any of their samples
  (``predict_new_tasks``).

Every splitter works on both faces of the data:

* ``split(data)`` with a :class:`~mtlcvx.MultiTaskData` yields
  ``(train, test)``, each a list of ``T`` integer arrays: the rows of each
  task on that side (empty for a task absent from it);
* ``split(X, y=None, groups=tasks)`` with a long table and a task label per
  row (scikit-learn's signature) yields flat row indices, the same samples:
  task ``t``'s rows are taken in the order they appear, and tasks in sorted
  label order, exactly as :meth:`MultiTaskData.from_long` builds them.  So
  one splitter object gives scikit-learn's ``GridSearchCV`` (through
  :class:`~mtlcvx.model_selection.LongFormat`) and mtlcvx's
  :class:`~mtlcvx.model_selection.GridSearch` the same folds.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.metadata_routing import MetadataRequest

from ..data import MultiTaskData

__all__ = ["TaskKFold", "TaskShuffleSplit", "LeaveTasksOut", "PredefinedTaskSplit", "check_cv", "take"]


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_test_size(test_size):
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        if test_size < 1:
            raise ValueError(f"test_size must be >= 1 when an integer, got {test_size}")
        return int(test_size)
    if isinstance(test_size, numbers.Real) and not isinstance(test_size, bool):
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1) when a fraction, got {test_size}")
        return float(test_size)
    raise TypeError(f"test_size must be a float or an int, got {type(test_size).__name__}")


def _rows_by_task(groups):
    """Row indices of each task of a long table, tasks in sorted label order
    (the order of :meth:`MultiTaskData.from_long`)."""
    if groups is None:
        raise ValueError("groups is required with a long table: pass the task label of every row "
                         "(groups=tasks), or split a MultiTaskData instead")
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D (one task label per row), got shape {groups.shape}")
    return [np.flatnonzero(groups == label) for label in np.unique(groups)]


class _TaskSplitter:
    """Both faces of a splitter; subclasses implement ``_split(n_samples)``,
    yielding per-task ``(train, test)`` index lists for tasks of
    ``n_samples`` samples."""

    def split(self, X, y=None, groups=None):
        """Per-task index lists for a :class:`~mtlcvx.MultiTaskData`, flat row
        indices for a long table with ``groups`` (the task labels)."""
        if isinstance(X, MultiTaskData):
            yield from self._split(X.n_samples)
            return
        rows = _rows_by_task(groups)
        if len(groups) != len(X):
            raise ValueError(f"groups has {len(groups)} labels for {len(X)} rows of X")
        for train, test in self._split([r.size for r in rows]):
            yield (np.sort(np.concatenate([r[i] for r, i in zip(rows, train)])),
                   np.sort(np.concatenate([r[i] for r, i in zip(rows, test)])))

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def get_metadata_routing(self):
        """With scikit-learn's metadata routing on, ``groups`` (the task
        labels) reaches :meth:`split`, as for scikit-learn's ``GroupKFold``."""
        request = MetadataRequest(owner=type(self).__name__)
        request.split.add_request(param="groups", alias=True)
        return request

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class TaskKFold(_TaskSplitter):
    """K-fold cross-validation inside every task: fold ``k`` holds out the
    ``k``-th of ``n_splits`` near-equal parts of each task's samples.

    Parameters
    ----------
    n_splits : int, default=5
        At least 2; every task needs at least ``n_splits`` samples.
    shuffle : bool, default=False
        Shuffle each task's samples before cutting them (else consecutive
        blocks, as scikit-learn's ``KFold``).
    random_state : int, RandomState or None
        Used when ``shuffle=True``; one permutation per task, drawn in task
        order.

    Examples
    --------
    >>> from mtlcvx.datasets import make_sparse_low_rank
    >>> data, _ = make_sparse_low_rank(n_tasks=3, n_features=4, n_samples=10, n_relevant=3, random_state=0)
    >>> train, test = next(TaskKFold(5, shuffle=True, random_state=0).split(data))
    >>> [len(t) for t in test]
    [2, 2, 2]
    """

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        self.n_splits = _check_int(n_splits, "n_splits", 2)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def _split(self, n_samples):
        too_small = [t for t, n in enumerate(n_samples) if n < self.n_splits]
        if too_small:
            raise ValueError(f"task {too_small[0]} has {n_samples[too_small[0]]} samples, fewer than "
                             f"n_splits={self.n_splits}")
        rng = check_random_state(self.random_state)
        order = [rng.permutation(n) if self.shuffle else np.arange(n) for n in n_samples]
        parts = [np.array_split(o, self.n_splits) for o in order]
        for k in range(self.n_splits):
            yield ([np.sort(np.concatenate(p[:k] + p[k + 1:])) for p in parts], [np.sort(p[k]) for p in parts])


class TaskShuffleSplit(_TaskSplitter):
    """Random train/test splits inside every task.

    Parameters
    ----------
    n_splits : int, default=5
    test_size : float in (0, 1) or int, default=0.25
        Fraction (rounded, at least one sample) or number of each task's
        samples held out; every task keeps at least one training sample.
    random_state : int, RandomState or None

    The first split equals :meth:`MultiTaskData.split` with the same
    ``test_size`` and ``random_state``.
    """

    def __init__(self, n_splits=5, test_size=0.25, random_state=None):
        self.n_splits = _check_int(n_splits, "n_splits", 1)
        self.test_size = _check_test_size(test_size)
        self.random_state = random_state

    def _n_test(self, t, n):
        n_test = self.test_size if isinstance(self.test_size, int) else max(1, int(round(self.test_size * n)))
        if n_test >= n:
            raise ValueError(f"test_size={self.test_size} leaves no training sample in task {t} (n={n})")
        return n_test

    def _split(self, n_samples):
        n_test = [self._n_test(t, n) for t, n in enumerate(n_samples)]
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            perms = [rng.permutation(n) for n in n_samples]
            yield [np.sort(p[k:]) for p, k in zip(perms, n_test)], [np.sort(p[:k]) for p, k in zip(perms, n_test)]


class LeaveTasksOut(_TaskSplitter):
    """Hold out whole tasks: the tasks are shuffled and cut into ``n_splits``
    groups; split ``k`` trains on the other groups' tasks and tests on the
    ``k``-th group's, all samples of each.

    For methods that can predict a task they never saw (estimators with
    ``predict_new_tasks``).  ``n_splits=None`` leaves one task out at a
    time.  On a long table the tasks are the distinct ``groups`` labels (as
    scikit-learn's ``GroupKFold`` on the task label, but shuffled with
    ``random_state``).

    Parameters
    ----------
    n_splits : int or None, default=5
    random_state : int, RandomState or None
    """

    def __init__(self, n_splits=5, random_state=None):
        self.n_splits = None if n_splits is None else _check_int(n_splits, "n_splits", 2)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        if self.n_splits is not None:
            return self.n_splits
        if isinstance(X, MultiTaskData):
            return X.n_tasks
        if groups is not None:
            return len(np.unique(groups))
        raise ValueError("LeaveTasksOut(n_splits=None) needs the data (or groups) to count the tasks")

    def _split(self, n_samples):
        T = len(n_samples)
        n_splits = T if self.n_splits is None else self.n_splits
        if n_splits > T:
            raise ValueError(f"n_splits={n_splits} is more than the {T} tasks")
        order = check_random_state(self.random_state).permutation(T)
        empty = np.zeros(0, dtype=int)
        for held_out in np.array_split(order, n_splits):
            out = set(held_out.tolist())
            yield ([empty if t in out else np.arange(n) for t, n in enumerate(n_samples)],
                   [np.arange(n) if t in out else empty for t, n in enumerate(n_samples)])


class PredefinedTaskSplit(_TaskSplitter):
    """Splits given in advance, per task: ``test_fold[t][i]`` is the split in
    which sample ``i`` of task ``t`` is held out (``-1``: always trained
    on), as scikit-learn's ``PredefinedSplit``.

    :meth:`from_parts` builds one from separate training and validation
    sets (a fixed validation set, as the GenGL and SRML protocols use).

    Parameters
    ----------
    test_fold : list of array-like of int, one per task
    exclusive : bool, default=False
        False: split ``k`` trains on every sample not in fold ``k`` (as
        scikit-learn's ``PredefinedSplit``); True: only on the samples
        marked ``-1``, so that no split trains on another split's test
        samples.
    """

    def __init__(self, test_fold, exclusive=False):
        if not isinstance(test_fold, (list, tuple)):
            raise TypeError(f"test_fold must be a list with one array per task, got {type(test_fold).__name__}")
        self.test_fold = [np.asarray(f, dtype=int) for f in test_fold]
        folds = np.unique(np.concatenate(self.test_fold))
        self._folds = folds[folds >= 0]
        if self._folds.size == 0:
            raise ValueError("test_fold holds no test fold (every entry is -1)")
        self.n_splits = int(self._folds.size)
        self.exclusive = bool(exclusive)

    @classmethod
    def from_parts(cls, *parts):
        """Join ``parts`` (:class:`~mtlcvx.MultiTaskData` with the same tasks)
        into one data set, with one split per part after the first: split
        ``k`` trains on part 0 alone and tests on part ``k + 1``.

        Returns
        -------
        data : MultiTaskData
        cv : PredefinedTaskSplit
        """
        if len(parts) < 2:
            raise ValueError("from_parts needs a training part and at least one test part")
        data = MultiTaskData.join(*parts)
        test_fold = [np.concatenate([np.full(p.n_samples[t], k - 1) for k, p in enumerate(parts)])
                     for t in range(data.n_tasks)]
        return data, cls(test_fold, exclusive=True)

    def _split(self, n_samples):
        if [f.size for f in self.test_fold] != list(n_samples):
            raise ValueError(f"test_fold covers tasks of {[f.size for f in self.test_fold]} samples; the data "
                             f"has {list(n_samples)}")
        for k in self._folds:
            train = [np.flatnonzero(f == -1 if self.exclusive else f != k) for f in self.test_fold]
            yield train, [np.flatnonzero(f == k) for f in self.test_fold]


class _ExplicitSplits:
    """A list of ``(train, test)`` per-task index pairs given by the user."""

    def __init__(self, splits):
        self.splits = [(list(train), list(test)) for train, test in splits]
        self.n_splits = len(self.splits)
        if not self.splits:
            raise ValueError("cv holds no split")

    def split(self, data):
        for train, test in self.splits:
            if len(train) != data.n_tasks or len(test) != data.n_tasks:
                raise ValueError(f"a cv split has {len(train)}/{len(test)} index arrays for {data.n_tasks} tasks: "
                                 "each side needs one array of row indices per task")
            yield [np.asarray(i, dtype=int) for i in train], [np.asarray(i, dtype=int) for i in test]

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits


def check_cv(cv=5):
    """A task-aware splitter from ``cv``: an int (``TaskKFold(cv)``, not
    shuffled, as scikit-learn's integer ``cv``), a splitter whose
    ``split(data)`` yields per-task index lists (ours, or your own), or an
    iterable of ``(train, test)`` pairs of per-task index lists.
    scikit-learn's splitters are refused: they would split the list of
    tasks."""
    if cv is None:
        cv = 5
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return TaskKFold(int(cv))
    if type(cv).__module__.startswith("sklearn."):
        raise TypeError(f"cv={cv!r} is a scikit-learn splitter: it would split the list of tasks, not the samples "
                        "of each task. Use a splitter of mtlcvx.model_selection (TaskKFold, TaskShuffleSplit, "
                        "LeaveTasksOut, PredefinedTaskSplit), or LongFormat to use scikit-learn's own")
    if hasattr(cv, "split"):
        return cv
    try:
        return _ExplicitSplits(cv)
    except TypeError:
        raise TypeError(f"cv must be an int, a task splitter or a list of (train, test) pairs, got "
                        f"{type(cv).__name__}") from None


def take(data, indices):
    """The tasks with at least one row in ``indices`` (one index array per
    task), with those rows.

    Returns
    -------
    part : MultiTaskData or None
        ``None`` when no task has a row.
    tasks : ndarray of int
        The tasks of ``data`` that ``part`` holds, in order.
    """
    tasks = np.array([t for t, idx in enumerate(indices) if len(idx)], dtype=int)
    if tasks.size == 0:
        return None, tasks
    return data.select(tasks, [indices[t] for t in tasks]), tasks
