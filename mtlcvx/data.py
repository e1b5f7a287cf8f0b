"""The multi-task data container.

Every estimator, reference model and experiment takes its data as a
:class:`MultiTaskData`: ``T`` tasks, task ``t`` holding a design matrix
``X_t`` of shape ``(n_t, d)`` (the same ``d`` for every task) and a target
vector ``y_t`` of length ``n_t``.  The papers write the same as
``D_t = {(x_i^{(t)}, y_i^{(t)})}``.
"""

import numbers

import numpy as np

from ._validation import RandomState

__all__ = ["MultiTaskData", "as_multitask_data", "same_design", "once_per_array"]


def _where(argument, task):
    return argument if task is None else f"{argument}[{task}]"


def _as_numeric_array(value, argument, task=None, copy=True, magnitude=False):
    """``value`` as a finite float64 array; every error names
    ``argument[task]``.  ``copy=False`` (predictions) avoids copying an
    array that is already float64; ``magnitude=True`` also applies
    :func:`_check_magnitude`."""
    if type(value) is np.ndarray and value.dtype == np.float64:
        # the common case, without the checks that only other inputs need (a fit validates every task's arrays:
        # on small problems these calls were a fifth of the fit)
        return _finite(value.copy() if copy else value, argument, task, magnitude)
    where = _where(argument, task)
    if value is None:
        raise TypeError(f"{where} is None, expected an array of numbers")
    if hasattr(value, "toarray") and hasattr(value, "nnz"):
        # np.asarray wraps a sparse matrix in a 0-d object array
        raise TypeError(f"{where} is a scipy.sparse matrix; mtlcvx works with dense arrays: pass it .toarray()")
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        # np.asarray would drop the mask and use the values under it
        raise ValueError(f"{where} is a masked array with masked entries: fill or drop them first")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{where} could not be read as an array: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{where} has complex dtype {arr.dtype}; mtlcvx works with real numbers only")
    if arr.dtype.kind == "O":
        # None would become NaN below and be reported as such, which hides
        # what the caller actually passed
        if any(entry is None for entry in arr.flat):
            raise ValueError(f"{where} contains None (a missing value)")
        if any(isinstance(entry, complex) for entry in arr.flat):
            raise TypeError(f"{where} has complex entries; mtlcvx works with real numbers only")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where} has non-numeric entries (object dtype)") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where} has non-numeric dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64, copy=True) if copy else np.asarray(arr, dtype=np.float64)
    return _finite(arr, argument, task, magnitude)


def _finite(arr, argument, task, magnitude):
    """``arr`` (float64) after refusing NaN and infinite entries, and with
    ``magnitude`` entries whose squares overflow."""
    # the largest magnitude is NaN or infinite exactly when an entry is; _check_magnitude reuses it
    largest = float(np.abs(arr).max()) if arr.size else 0.0
    if not np.isfinite(largest):
        raise ValueError(f"{_where(argument, task)} contains NaN or infinite values")
    if magnitude:
        _check_magnitude(arr, argument, task, largest)
    return arr


#: Largest magnitude of an entry of an array of ``size`` entries is
#: ``sqrt(_SQUARES_LIMIT / size)``: its squared norm (a Gram matrix, a
#: Lipschitz constant, the loss) then stays far from float64's overflow.
_SQUARES_LIMIT = np.finfo(np.float64).max * 1e-20


def _held(arr, given):
    """``arr`` as the container holds it: a view where it is the caller's
    own array, which the container then makes read-only without touching
    the caller's."""
    return arr.view() if arr is given else arr


def _check_magnitude(arr, argument, task=None, largest=None):
    """Refuse data whose squares overflow: every solver forms ``X^T X`` or
    ``||y - X w||^2``, and with entries near 1e200 they are ``inf``; the
    fits then failed deep inside (LinAlgError, NaN in k-NN).  ``largest``:
    ``max |arr|`` where the caller has it."""
    if arr.size == 0:
        return arr
    if largest is None:
        largest = float(np.max(np.abs(arr)))
    if largest * largest * arr.size > _SQUARES_LIMIT:
        raise ValueError(f"{_where(argument, task)} has entries up to {largest:.3g}: their squares overflow "
                         "float64 in the loss; rescale the data")
    return arr


def _check_task_list(value, argument):
    if isinstance(value, np.ndarray) and argument == "Xs" and value.ndim == 3:
        return list(value)
    if not isinstance(value, (list, tuple)):
        hint = ""
        if isinstance(value, np.ndarray) and value.ndim == 2 and argument == "Xs":
            hint = " (one task? pass [X])"
        raise TypeError(
            f"{argument} must be a list with one array per task, got {type(value).__name__}{hint}"
        )
    if len(value) == 0:
        raise ValueError(f"{argument} is empty: at least one task is needed")
    return list(value)


def _length(value, argument):
    try:
        return len(value)
    except TypeError:
        raise TypeError(f"{argument} must be a list with one entry per task, got {type(value).__name__}") from None


def _label_list(values, argument, length, what):
    """``values`` as a list of ``length`` entries (feature names, task
    labels): a bare string would otherwise be read as one entry per
    character, a set has no order to match features or tasks by."""
    if isinstance(values, (str, bytes, set, frozenset, dict)) or not np.iterable(values):
        raise TypeError(f"{argument} must be a list with one entry per {what}, got {type(values).__name__}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{argument} must be 1-D, got an array of shape {values.shape}")
    values = list(values)
    if len(values) != length:
        raise ValueError(f"{argument} has {len(values)} entries for {length} {what}s")
    return values


def _task_column(tasks):
    """``from_long``'s task labels as a 1-D array, refusing what would
    silently regroup rows: NaN (never equal to itself), numbers mixed with
    strings (numpy turns them all into strings)."""
    if tasks is None or isinstance(tasks, (str, bytes)) or not np.iterable(tasks):
        raise TypeError(f"tasks must be an array with one task label per row, got {type(tasks).__name__}")
    given = tasks
    try:
        tasks = np.asarray(tasks)
    except Exception as exc:
        raise TypeError(f"tasks could not be read as an array of labels: {exc}") from None
    if tasks.ndim == 2 and tasks.shape[1] == 1:
        tasks = tasks[:, 0]
    if tasks.ndim != 1:
        raise ValueError(f"tasks must be 1-D (one label per row), got shape {tasks.shape}")
    if tasks.dtype.kind == "U" and not isinstance(given, np.ndarray):
        kinds = {type(t).__name__ for t in given if not isinstance(t, (str, np.str_))}
        if kinds:
            raise TypeError(f"tasks mixes strings with {sorted(kinds)}: numpy would turn every label into a "
                            "string; use labels of one type")
    if tasks.dtype.kind in "fc" and np.isnan(tasks).any():
        raise ValueError(f"tasks contains NaN at row {int(np.flatnonzero(np.isnan(tasks))[0])}: every row needs a "
                         "task label")
    if tasks.dtype.kind == "O":
        for i, label in enumerate(tasks):
            if label is None or (isinstance(label, float) and np.isnan(label)):
                raise ValueError(f"tasks contains {label!r} at row {i}: every row needs a task label")
    return tasks


class MultiTaskData:
    """Validated per-task data ``(X_t, y_t)``, ``t = 0..T-1``.

    Parameters
    ----------
    Xs : list of array-like, each of shape (n_t, d)
        Design matrix of each task; every task has the same number ``d`` of
        features and at least one sample.
    ys : list of array-like, each of shape (n_t,) or (n_t, 1)
        Target of each task.
    feature_names : sequence of str, optional
        Names of the ``d`` features.
    task_labels : sequence, optional
        Label of each task (kept from :meth:`from_long`); defaults to
        ``0..T-1``.

    copy : bool, default=True
        Copy the arrays.  With ``copy=False`` float64 arrays are held as
        read-only views of the caller's (what the estimators' ``fit`` does
        with the lists it is given: a fit then adds no copy of the data to
        its memory); a later change to the caller's arrays shows through.

    The arrays are copied (unless ``copy=False``) and made read-only, so the
    caller's arrays are never modified and later code cannot modify ours by
    accident.

    Examples
    --------
    >>> import numpy as np

from ._validation import RandomState
    >>> from mtlcvx import MultiTaskData
    >>> rng = np.random.default_rng(0)
    >>> data = MultiTaskData([rng.normal(size=(5, 3)), rng.normal(size=(4, 3))],
    ...                      [rng.normal(size=5), rng.normal(size=4)])
    >>> data.n_tasks, data.n_features, data.n_samples
    (2, 3, [5, 4])
    """

    def __init__(self, Xs, ys, feature_names=None, task_labels=None, copy=True):
        Xs = _check_task_list(Xs, "Xs")
        ys = _check_task_list(ys, "ys")
        if len(Xs) != len(ys):
            raise ValueError(f"Xs has {len(Xs)} tasks but ys has {len(ys)}")
        X_list, y_list = [], []
        n_features = None
        # one design passed for several tasks ([X] * m) is validated, copied
        # and stored once: the tasks then hold the same array, and a shared X
        # is recognised by identity (m copies, then m comparisons, cost more
        # than a fit: 83 % of a group lasso at d = 500, m = 50)
        seen = {}
        for t, (X, y) in enumerate(zip(Xs, ys)):
            given = X
            X = seen.get(id(given))
            if X is None:
                # one memory layout whatever the caller's (a DataFrame's values are column-major): the
                # products, hence the last digits of a fit, do not depend on where the data came from
                X = _held(np.ascontiguousarray(_as_numeric_array(given, "Xs", t, copy=copy, magnitude=True)), given)
                seen[id(given)] = X
            y = _held(_as_numeric_array(y, "ys", t, copy=copy, magnitude=True), y)
            if X.ndim != 2:
                raise ValueError(f"Xs[{t}] must be 2-D (n_samples, n_features), got {X.ndim}-D")
            if X.shape[0] == 0:
                raise ValueError(f"Xs[{t}] has 0 samples: every task needs at least one")
            if X.shape[1] == 0:
                raise ValueError(f"Xs[{t}] has 0 features")
            if n_features is None:
                n_features = X.shape[1]
            elif X.shape[1] != n_features:
                raise ValueError(
                    f"Xs[{t}] has {X.shape[1]} features but Xs[0] has {n_features}: "
                    "all tasks must share the feature space"
                )
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(
                    f"ys[{t}] must be 1-D (or one column), got shape {y.shape}"
                )
            if y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"ys[{t}] has {y.shape[0]} samples but Xs[{t}] has {X.shape[0]}"
                )
            X.flags.writeable = False
            y.flags.writeable = False
            X_list.append(X)
            y_list.append(y)
        self.Xs = tuple(X_list)
        self.ys = tuple(y_list)
        self.feature_names = self._check_names(feature_names, n_features)
        self.task_labels = self._check_task_labels(task_labels, len(X_list))

    @staticmethod
    def _check_names(names, n_features):
        if names is None:
            return None
        names = _label_list(names, "feature_names", n_features, "feature")
        for j, name in enumerate(names):
            # numbers (column indices) are fine as names; anything else
            # (None, a list) would only print as nonsense
            if not isinstance(name, (str, numbers.Number)) or isinstance(name, (bool, np.bool_)):
                raise TypeError(f"feature_names[{j}] must be a string, got {name!r}")
        return [str(name) for name in names]

    @staticmethod
    def _check_task_labels(labels, n_tasks):
        if labels is None:
            return list(range(n_tasks))
        labels = _label_list(labels, "task_labels", n_tasks, "task")
        seen = {}
        for t, label in enumerate(labels):
            try:
                first = seen.setdefault(label, t)
            except TypeError:
                raise TypeError(f"task_labels[{t}] must be hashable (a number or a string), got {label!r}") from None
            if first != t:
                # predictions are routed to tasks by label
                raise ValueError(f"task_labels[{t}] repeats task_labels[{first}] ({label!r}): labels must be unique")
        return labels

    @classmethod
    def from_long(cls, X, y, tasks, feature_names=None):
        """Build from one long table with a task label per row.

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,)
        tasks : array-like of shape (n,)
            Task label of each row (any hashable, sortable values).  Tasks
            are ordered by sorted label; the labels are kept in
            ``task_labels``.
        """
        X = _as_numeric_array(X, "X")
        y = _as_numeric_array(y, "y")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y.shape}")
        tasks = _task_column(tasks)
        if not (X.shape[0] == y.shape[0] == tasks.shape[0]):
            raise ValueError(
                f"X, y and tasks must have the same number of rows, got "
                f"{X.shape[0]}, {y.shape[0]} and {tasks.shape[0]}"
            )
        if X.shape[0] == 0:
            raise ValueError("X is empty")
        try:
            labels, rows = np.unique(tasks, return_inverse=True)
        except TypeError:
            raise TypeError("tasks must hold sortable labels (numbers or strings, not a mix), got "
                            f"{sorted({type(t).__name__ for t in tasks})}") from None
        Xs = [X[rows == k] for k in range(len(labels))]
        ys = [y[rows == k] for k in range(len(labels))]
        return cls(Xs, ys, feature_names=feature_names, task_labels=labels.tolist())

    @property
    def n_tasks(self):
        """Number of tasks ``T`` (the papers' ``m`` or ``T``)."""
        return len(self.Xs)

    @property
    def n_features(self):
        """Number of features ``d`` (the papers' ``d``, ``p`` or ``P``)."""
        return self.Xs[0].shape[1]

    @property
    def n_samples(self):
        """List of per-task sample counts ``n_t``."""
        return [X.shape[0] for X in self.Xs]

    def __len__(self):
        return self.n_tasks

    def __setstate__(self, state):
        self.__dict__.update(state)
        # pickle and deepcopy hand back new arrays, writeable: read-only
        # again, as __init__ and _replace leave every array they store
        for arr in (*self.Xs, *self.ys):
            arr.flags.writeable = False

    def __getitem__(self, t):
        return self.Xs[t], self.ys[t]

    def __iter__(self):
        return iter(zip(self.Xs, self.ys))

    def __repr__(self):
        n = self.n_samples
        counts = f"{min(n)}..{max(n)}" if min(n) != max(n) else f"{n[0]}"
        shared = ", shared X" if self.shares_X else ""
        return (
            f"MultiTaskData(n_tasks={self.n_tasks}, n_features={self.n_features}, "
            f"n_samples per task={counts}, total={sum(n)}{shared})"
        )

    @property
    def shares_X(self):
        """True when every task has the same design matrix (one X for all)."""
        return same_design(self.Xs)

    def _replace(self, Xs, ys, task_labels=None):
        """A container of new arrays derived from ours (rows taken, centred):
        they are finite, real and of our shapes by construction, so the
        validation and the copy of ``__init__`` are skipped; it cost more
        than the fit itself on small tasks (139 School tasks: 3.5 ms per
        centring, every fit centres).  Only the sample counts can change."""
        for t, X in enumerate(Xs):
            if X.shape[0] == 0:
                raise ValueError(f"Xs[{t}] has 0 samples: every task needs at least one")
        new = object.__new__(MultiTaskData)
        for arrays in (Xs, ys):
            for arr in arrays:
                arr.flags.writeable = False
        new.Xs, new.ys = tuple(Xs), tuple(ys)
        new.feature_names = self.feature_names
        new.task_labels = list(self.task_labels if task_labels is None else task_labels)
        return new

    @classmethod
    def join(cls, *parts):
        """One container from ``parts`` holding the same tasks: task ``t``'s
        rows of every part, in the order given (feature names and task
        labels of the first)."""
        if not parts:
            raise ValueError("join needs at least one part")
        for k, part in enumerate(parts):
            if not isinstance(part, MultiTaskData):
                raise TypeError(f"part {k} must be a MultiTaskData, got {type(part).__name__}")
        first = parts[0]
        for k, part in enumerate(parts[1:], 1):
            if part.n_tasks != first.n_tasks or part.n_features != first.n_features:
                raise ValueError(f"part {k} has {part.n_tasks} tasks of {part.n_features} features; part 0 has "
                                 f"{first.n_tasks} of {first.n_features}")
        return first._replace([np.vstack([p.Xs[t] for p in parts]) for t in range(first.n_tasks)],
                              [np.concatenate([p.ys[t] for p in parts]) for t in range(first.n_tasks)])

    def select(self, tasks, indices=None):
        """The tasks ``tasks`` (indices into this container), each with all its
        rows or, given ``indices`` (one index array per selected task), with
        those rows."""
        tasks = self._check_tasks(tasks)
        if indices is None:
            indices = [slice(None)] * len(tasks)
        elif _length(indices, "indices") != len(tasks):
            raise ValueError(f"indices has {len(indices)} entries for {len(tasks)} tasks")
        try:
            Xs = [np.asarray(self.Xs[t][idx]) for t, idx in zip(tasks, indices)]
        except IndexError:
            self._explain_rows(indices, tasks)
            raise
        return self._replace(Xs, [np.asarray(self.ys[t][idx]) for t, idx in zip(tasks, indices)],
                             task_labels=[self.task_labels[t] for t in tasks])

    def _check_tasks(self, tasks):
        """Task indices, each an integer in ``[-T, T)`` (``int()`` would
        take 1.5 for task 1)."""
        if isinstance(tasks, (str, bytes)) or not np.iterable(tasks):
            raise TypeError(f"tasks must be a list of task indices, got {type(tasks).__name__}")
        tasks = list(tasks)
        if not tasks:
            raise ValueError("tasks is empty: select at least one task")
        for k, t in enumerate(tasks):
            if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
                raise TypeError(f"tasks[{k}] must be a task index (an integer), got {t!r}")
            if not -self.n_tasks <= t < self.n_tasks:
                raise ValueError(f"tasks[{k}] = {t} is out of range for {self.n_tasks} tasks")
        return [int(t) for t in tasks]

    def _explain_rows(self, indices, tasks):
        """After numpy refused an index (the fast path checks nothing): which
        task's, and why, as a TypeError or ValueError naming it."""
        for k, (t, idx) in enumerate(zip(tasks, indices)):
            try:
                self.Xs[t][idx]
            except IndexError as exc:
                kind = TypeError if "integer" in str(exc) else ValueError
                raise kind(f"indices[{k}] (rows of task {t}): {exc}") from None

    def split(self, test_size=0.25, random_state=None):
        """Split every task into a train and a test part.

        Parameters
        ----------
        test_size : float in (0, 1) or int
            Fraction (rounded, at least 1) or number of samples of each task
            that go to the test part.  Each task keeps at least one sample
            on each side.
        random_state : int, RandomState or None

        Returns
        -------
        train, test : MultiTaskData

        The first split of
        :class:`mtlcvx.model_selection.TaskShuffleSplit` (which this uses).
        """
        from .model_selection import TaskShuffleSplit

        RandomState().check("random_state", random_state, None, self)
        train, test = next(TaskShuffleSplit(1, test_size, random_state).split(self))
        return self.subset(train), self.subset(test)

    def folds(self, n_splits=5, random_state=None):
        """K-fold cross-validation per task: yields ``(train, test)`` pairs,
        each task's samples shuffled once and cut into ``n_splits`` folds
        (:class:`mtlcvx.model_selection.TaskKFold` with ``shuffle=True``).

        Every task needs at least ``n_splits`` samples.
        """
        from .model_selection import TaskKFold

        RandomState().check("random_state", random_state, None, self)
        for train, test in TaskKFold(n_splits, shuffle=True, random_state=random_state).split(self):
            yield self.subset(train), self.subset(test)

    def subset(self, indices):
        """A new container with, for each task t, the rows ``indices[t]``."""
        if _length(indices, "indices") != self.n_tasks:
            raise ValueError(f"indices has {len(indices)} entries for {self.n_tasks} tasks")
        try:
            Xs = once_per_array(lambda X, idx: X[idx], self.Xs, indices)
        except IndexError:
            self._explain_rows(indices, range(self.n_tasks))
            raise
        return self._replace(Xs, [y[idx] for y, idx in zip(self.ys, indices)])

    def centered(self):
        """Per-task centred copy, and the means it removed.

        Returns
        -------
        data : MultiTaskData
            ``X_t - mean(X_t)``, ``y_t - mean(y_t)``.
        X_means : ndarray of shape (d, T)
        y_means : ndarray of shape (T,)
        """
        def centre(X):
            mean = X.mean(axis=0)
            return X - mean, mean

        centred = once_per_array(centre, self.Xs)
        y_means = np.array([y.mean() for y in self.ys])
        data = self._replace([X for X, _ in centred], [y - y_means[t] for t, y in enumerate(self.ys)])
        return data, np.column_stack([mean for _, mean in centred]), y_means

    def stacked(self):
        """All tasks' rows stacked: ``(X, y, task_index)``."""
        task = np.concatenate([np.full(n, t) for t, n in enumerate(self.n_samples)])
        return np.vstack(self.Xs), np.concatenate(self.ys), task


def same_design(Xs):
    """True when every array of ``Xs`` is the first one, or equal to it.
    Identity is checked first (a container stores a shared design once); the
    comparison, a pass over the data, runs only for distinct arrays."""
    X0 = Xs[0]
    return all(X is X0 or (X.shape == X0.shape and np.array_equal(X, X0)) for X in Xs[1:])


def _index_key(index):
    if isinstance(index, slice):
        return ("slice", index.start, index.stop, index.step)
    index = np.asarray(index)
    return (index.dtype.str, index.shape, index.tobytes())


def once_per_array(func, Xs, indices=None):
    """``[func(X) for X in Xs]`` (or ``func(X, index)`` with ``indices``),
    computed once per distinct array (and equal index): tasks that held one
    shared design still hold one array afterwards, so sharing survives
    centring, scaling and row selection at no extra cost."""
    results, out = {}, []
    for t, X in enumerate(Xs):
        args = (X,) if indices is None else (X, indices[t])
        key = (id(X),) if indices is None else (id(X), _index_key(indices[t]))
        if key not in results:
            results[key] = func(*args)
        out.append(results[key])
    return out


def as_multitask_data(Xs, ys=None, name="data", copy=True):
    """Return ``Xs`` if it is already a :class:`MultiTaskData` (with
    ``ys=None``), else build one from the two lists.  ``name`` is what the
    caller calls its argument (``data`` for the reference builders,
    ``Xs`` for ``fit``), for the error when neither is given."""
    if isinstance(Xs, MultiTaskData):
        if ys is not None:
            raise ValueError(f"ys must be None when {name} is a MultiTaskData")
        return Xs
    if ys is None:
        raise TypeError(f"{name} must be a MultiTaskData (or Xs, ys lists); got {_describe(Xs)}{_hint(Xs)}")
    return MultiTaskData(Xs, ys, copy=copy)


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _hint(value):
    if isinstance(value, tuple) and len(value) == 2:
        return ": build one from the pair with mtlcvx.MultiTaskData(Xs, ys)"
    if isinstance(value, (list, tuple, np.ndarray)):
        return ": without ys, build one with mtlcvx.MultiTaskData(Xs, ys)"
    return ""
