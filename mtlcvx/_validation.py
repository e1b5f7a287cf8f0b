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

__all__ = ["Real", "Integer", "Options", "Boolean", "RealArray", "Anything", "NJobs", "check_hyperparameters",
           "check_scalar_param"]


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


class Anything:
    """No check here: the estimator validates it itself (say where)."""

    def check(self, name, value, estimator, data):
        return None


def check_hyperparameters(estimator, data):
    """Check every hyperparameter of ``estimator`` against the constraints
    declared along its class hierarchy."""
    constraints = {}
    for cls in reversed(type(estimator).__mro__):
        constraints.update(cls.__dict__.get("_hyperparameters", {}))
    for name, constraint in constraints.items():
        constraint.check(name, getattr(estimator, name), estimator, data)
