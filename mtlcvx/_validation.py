"""Declarative hyperparameter validation, in scikit-learn's constraint style.

An estimator lists its hyperparameters' constraints once, in the class
attribute ``_hyperparameters`` (``{name: constraint}``, merged along the
class hierarchy); :func:`check_hyperparameters` checks them all at ``fit``.
Errors are ``TypeError`` (wrong type) or ``ValueError`` (wrong value) and
name the hyperparameter.  (scikit-learn's own machinery lives in a private
module, ``sklearn.utils._param_validation``, and its estimators' method of
the same purpose is ``_validate_params``: we leave both alone.)

Bounds may depend on the data or on another hyperparameter: a bound given
as a string is read from the data (``"n_tasks"``), a callable as
``bound(estimator, data)``.
"""

import numbers

import numpy as np

__all__ = ["Real", "Integer", "Options", "Boolean", "RealArray", "Anything", "NJobs", "RandomState", "GenGLPreset",
           "check_hyperparameters", "check_scalar_param", "check_bool", "check_option", "check_loss",
           "check_finite_graph"]


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


def _resolve(bound, estimator, data):
    if isinstance(bound, str):
        return getattr(data, bound)
    if callable(bound):
        return bound(estimator, data)
    return bound


class Real:
    """A finite real number in ``[low, high]`` (ends open with
    ``low_inclusive=False`` / ``high_inclusive=False``)."""

    integer = False

    def __init__(self, low=None, high=None, low_inclusive=True, high_inclusive=True):
        self.low, self.high = low, high
        self.low_inclusive, self.high_inclusive = low_inclusive, high_inclusive

    def check(self, name, value, estimator, data):
        check_scalar_param(value, name, _resolve(self.low, estimator, data), _resolve(self.high, estimator, data),
                           self.low_inclusive, self.high_inclusive, integer=self.integer)


class Integer(Real):
    """An integer in ``[low, high]``."""

    integer = True


class Options:
    """One of the given values."""

    def __init__(self, *values):
        self.values = values

    def check(self, name, value, estimator, data):
        if not any(isinstance(value, type(option)) and value == option for option in self.values):
            raise ValueError(f"{name} must be one of {self.values}, got {value!r}")


class Boolean:
    def check(self, name, value, estimator, data):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {value!r}")


class RealArray:
    """A real scalar, or a 1-D array of ``length`` reals (a bound as in
    :class:`Real`), every entry ``>= low`` and finite."""

    def __init__(self, length, low=None):
        self.length, self.low = length, low

    def check(self, name, value, estimator, data):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
        length = _resolve(self.length, estimator, data)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != length):
            raise ValueError(f"{name} must be a scalar or have {length} values, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or (self.low is not None and np.any(arr < self.low)):
            raise ValueError(f"{name} must be >= {self.low} and finite, got {value!r}")


class NJobs:
    """joblib's ``n_jobs``: None (one job, or the surrounding
    ``joblib.parallel_config``), a positive count, or negative (``-1``: all
    cores, ``-2``: all but one)."""

    def check(self, name, value, estimator, data):
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be None or an integer, got {value!r}")
        if value == 0:
            raise ValueError(f"{name} must be None, >= 1, or negative (-1: all cores), got 0")


class RandomState:
    """scikit-learn's ``random_state``: None, a seed in ``[0, 2**32 - 1]``
    or a ``numpy.random.RandomState``.  Checked at ``fit``, so a bad seed is
    refused even by an estimator that draws nothing with it (numpy's own
    error, "cannot be used to seed", does not say which argument)."""

    def check(self, name, value, estimator, data):
        if value is None or isinstance(value, np.random.RandomState):
            return
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            extra = " (numpy.random.Generator is not accepted: use its integers() for a seed)" \
                if isinstance(value, np.random.Generator) else ""
            raise TypeError(f"{name} must be None, an integer seed or a numpy.random.RandomState, "
                            f"got {value!r} ({type(value).__name__}){extra}")
        if not 0 <= value <= 2**32 - 1:
            raise ValueError(f"{name} must be a seed in [0, 2**32 - 1], got {value!r}")


class GenGLPreset:
    """SSMTL's ``preset``: one of ``names``, or a non-empty list (one per
    component) of non-empty lists of ``(features, tasks[, weight])``
    operators, each partition one of ``partitions`` and the weight a finite
    real ``>= 0``.  Every error names the offending entry
    (``preset[l][k]``)."""

    def __init__(self, names, partitions):
        self.names, self.partitions = tuple(sorted(names)), tuple(partitions)

    def check(self, name, value, estimator, data):
        if isinstance(value, str):
            if value not in self.names:
                raise ValueError(f"{name} must be one of {list(self.names)} or a list of operator pairs, "
                                 f"got {value!r}")
            return
        shape = "a list (one per component) of lists of (features, tasks[, weight]) operators"
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a preset name or {shape}, got {type(value).__name__}")
        if not value:
            raise ValueError(f"{name} is empty: it needs {shape}")
        for l, component in enumerate(value):
            where = f"{name}[{l}]"
            if not isinstance(component, (list, tuple)):
                raise TypeError(f"{where} must be a list of (features, tasks[, weight]) operators, "
                                f"got {component!r}")
            if not component:
                raise ValueError(f"{where} is empty: every component needs at least one operator")
            for k, entry in enumerate(component):
                self._check_entry(f"{where}[{k}]", entry)

    def _check_entry(self, where, entry):
        if not isinstance(entry, (list, tuple)):
            raise TypeError(f"{where} must be (features, tasks) or (features, tasks, weight), got {entry!r}")
        if len(entry) not in (2, 3):
            raise ValueError(f"{where} must be (features, tasks) or (features, tasks, weight), got {entry!r}")
        for axis, partition in zip(("features", "tasks"), entry[:2]):
            if not isinstance(partition, str) or partition not in self.partitions:
                raise ValueError(f"{where}: the {axis} partition must be one of {self.partitions}, "
                                 f"got {partition!r}")
        if len(entry) == 3:
            check_scalar_param(entry[2], f"{where} weight", low=0)


class Anything:
    """No check here: the estimator validates it itself (say where)."""

    def check(self, name, value, estimator, data):
        return None


#: Constraints of hyperparameters that mean the same in every estimator
#: that has them, applied unless a class declares its own.
COMMON = {"random_state": RandomState()}


def check_hyperparameters(estimator, data):
    """Check every hyperparameter of ``estimator`` against the constraints
    declared along its class hierarchy (and :data:`COMMON`)."""
    constraints = {name: constraint for name, constraint in COMMON.items() if hasattr(estimator, name)}
    for cls in reversed(type(estimator).__mro__):
        constraints.update(cls.__dict__.get("_hyperparameters", {}))
    for name, constraint in constraints.items():
        constraint.check(name, getattr(estimator, name), estimator, data)


def check_bool(value, name):
    """A structural switch (``pooled``, ``squared``): a string such as
    ``"no"`` is truthy, so anything but a bool is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_option(value, name, options, instance_of=()):
    """One of the string ``options`` (or an instance of ``instance_of``)."""
    if instance_of and isinstance(value, instance_of):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(options)}, got {value!r} ({type(value).__name__})")
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_loss(loss, scaling="sum"):
    """A reference builder's ``loss`` (a name or a loss term) and
    ``scaling``; a list given as ``loss`` would otherwise fail with
    "unhashable type"."""
    from .terms import SCALINGS, Loss

    check_option(scaling, "scaling", SCALINGS)
    return check_option(loss, "loss", ("squared", "logistic"), instance_of=Loss)


def check_finite_graph(value, name):
    """An adjacency matrix (dense or sparse) with NaN or infinite entries
    would count each as an edge: refused."""
    dense = value.toarray() if hasattr(value, "toarray") and hasattr(value, "nnz") else value
    if isinstance(dense, np.ndarray) and dense.dtype.kind in "fc" and not np.all(np.isfinite(dense)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return value
