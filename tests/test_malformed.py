"""Malformed input, everywhere a user can type it: every case is refused
with a ``ValueError`` or ``TypeError`` (``NotFittedError`` before a fit)
whose message names the argument, and the task where a task is at fault.
No case may crash elsewhere, hang, or return an answer.

Placeholder: the count of distinct inputs is written at the end of the
module's construction.
"""

import copy
import hashlib
import pickle

import numpy as np
import pytest

import mtlcvx as mc

RNG = np.random.default_rng(0)
D, T, N = 3, 3, 6
XS = [RNG.normal(size=(N, D)) for _ in range(T)]
YS = [RNG.normal(size=N) for _ in range(T)]
DATA = mc.MultiTaskData(XS, YS)
X_LONG, Y_LONG = np.vstack(XS), np.concatenate(YS)
TASKS_LONG = np.repeat(np.arange(T), N)


def _replace(items, index, value):
    items = list(items)
    items[index] = value
    return items


# (id, call, exception, regex the message must match)
CASES = []


def case(name, exc, match):
    def register(call):
        CASES.append(pytest.param(call, exc, match, id=name))
        return call

    return register


def cases(*rows):
    for name, call, exc, match in rows:
        CASES.append(pytest.param(call, exc, match, id=name))


# -- MultiTaskData ---------------------------------------------------------------
MTD = mc.MultiTaskData
cases(
    ("data/Xs-dict", lambda: MTD(dict(enumerate(XS)), YS), TypeError, r"Xs must be a list.*dict"),
    ("data/Xs-set", lambda: MTD({1, 2}, YS), TypeError, r"Xs must be a list.*set"),
    ("data/Xs-generator", lambda: MTD((X for X in XS), YS), TypeError, r"Xs must be a list.*generator"),
    ("data/Xs-bare-2d-array", lambda: MTD(XS[0], YS[0]), TypeError, r"Xs must be a list.*pass \[X\]"),
    ("data/Xs-string", lambda: MTD("abc", YS), TypeError, r"Xs must be a list.*str"),
    ("data/ys-None", lambda: MTD(XS, None), TypeError, r"ys must be a list.*NoneType"),
    ("data/zero-tasks", lambda: MTD([], []), ValueError, r"Xs is empty"),
    ("data/ragged-features", lambda: MTD(_replace(XS, 1, XS[1][:, :2]), YS), ValueError,
     r"Xs\[1\] has 2 features but Xs\[0\] has 3"),
    ("data/nan-in-X", lambda: MTD(_replace(XS, 2, np.where(XS[2] > 0, np.nan, XS[2])), YS), ValueError,
     r"Xs\[2\] contains NaN"),
    ("data/inf-in-y", lambda: MTD(XS, _replace(YS, 1, np.r_[YS[1][:-1], np.inf])), ValueError,
     r"ys\[1\] contains NaN or infinite"),
    ("data/ys-shorter-than-Xs", lambda: MTD(XS, YS[:2]), ValueError, r"Xs has 3 tasks but ys has 2"),
    ("data/y-length-mismatch", lambda: MTD(XS, _replace(YS, 2, YS[2][:4])), ValueError,
     r"ys\[2\] has 4 samples but Xs\[2\] has 6"),
    ("data/empty-task", lambda: MTD(_replace(XS, 1, np.zeros((0, D))), _replace(YS, 1, np.zeros(0))), ValueError,
     r"Xs\[1\] has 0 samples"),
    ("data/zero-features", lambda: MTD([np.zeros((2, 0))], [np.zeros(2)]), ValueError, r"Xs\[0\] has 0 features"),
    ("data/string-dtype", lambda: MTD(_replace(XS, 1, XS[1].astype(str)), YS), TypeError,
     r"Xs\[1\] has non-numeric dtype"),
    ("data/object-dtype-strings", lambda: MTD(XS, _replace(YS, 0, np.array(["a"] * N, dtype=object))), TypeError,
     r"ys\[0\] has non-numeric entries"),
    ("data/complex-dtype", lambda: MTD(XS, _replace(YS, 2, YS[2] + 1j)), TypeError, r"ys\[2\] has complex dtype"),
    ("data/complex-object-entries", lambda: MTD([np.array([[1.0, 2j]], dtype=object)], [[1.0]]), TypeError,
     r"Xs\[0\] has complex entries"),
    ("data/datetime-dtype", lambda: MTD([np.array([[np.datetime64("2020-01-01")]])], [[1.0]]), TypeError,
     r"Xs\[0\] has non-numeric dtype datetime64"),
    ("data/3d-X", lambda: MTD(_replace(XS, 1, XS[1][None]), YS), ValueError, r"Xs\[1\] must be 2-D"),
    ("data/2d-y", lambda: MTD(XS, _replace(YS, 0, np.ones((N, 2)))), ValueError, r"ys\[0\] must be 1-D"),
    ("data/X-None", lambda: MTD(_replace(XS, 1, None), YS), TypeError, r"Xs\[1\] is None"),
    ("data/None-entry-in-y", lambda: MTD(XS, _replace(YS, 2, [1.0, None, 2.0, 3.0, 4.0, 5.0])), ValueError,
     r"ys\[2\] contains None"),
    ("data/ragged-nested-list", lambda: MTD([[[1.0, 2.0], [3.0]]], [[1.0, 2.0]]), TypeError,
     r"Xs\[0\] could not be read as an array"),
    ("data/feature_names-int", lambda: MTD(XS, YS, feature_names=5), TypeError, r"feature_names must be a list"),
    ("data/feature_names-string", lambda: MTD(XS, YS, feature_names="abc"), TypeError,
     r"feature_names must be a list.*str"),
    ("data/feature_names-length", lambda: MTD(XS, YS, feature_names=["a", "b"]), ValueError,
     r"feature_names has 2 entries for 3 features"),
    ("data/feature_names-None-entry", lambda: MTD(XS, YS, feature_names=["a", None, "c"]), TypeError,
     r"feature_names\[1\] must be a string"),
    ("data/task_labels-int", lambda: MTD(XS, YS, task_labels=3), TypeError, r"task_labels must be a list"),
    ("data/task_labels-repeated", lambda: MTD(XS, YS, task_labels=["a", "b", "a"]), ValueError,
     r"task_labels\[2\] repeats task_labels\[0\]"),
    ("data/task_labels-unhashable", lambda: MTD(XS, YS, task_labels=[[0], [1], [2]]), TypeError,
     r"task_labels\[0\] must be hashable"),
    ("from_long/X-nan", lambda: MTD.from_long(np.where(X_LONG > 1, np.nan, X_LONG), Y_LONG, TASKS_LONG),
     ValueError, r"^X contains NaN"),
    ("from_long/y-complex", lambda: MTD.from_long(X_LONG, Y_LONG + 1j, TASKS_LONG), TypeError,
     r"^y has complex dtype"),
    ("from_long/X-1d", lambda: MTD.from_long(Y_LONG, Y_LONG, TASKS_LONG), ValueError, r"^X must be 2-D"),
    ("from_long/tasks-None", lambda: MTD.from_long(X_LONG, Y_LONG, None), TypeError,
     r"tasks must be an array with one task label per row"),
    ("from_long/tasks-short", lambda: MTD.from_long(X_LONG, Y_LONG, TASKS_LONG[:-1]), ValueError,
     r"X, y and tasks must have the same number of rows"),
    ("from_long/tasks-2d", lambda: MTD.from_long(X_LONG, Y_LONG, np.zeros((len(Y_LONG), 2))), ValueError,
     r"tasks must be 1-D"),
    ("from_long/tasks-nan-label", lambda: MTD.from_long(X_LONG, Y_LONG, np.where(TASKS_LONG == 2, np.nan, 1.0)),
     ValueError, r"tasks contains NaN at row 12"),
    ("from_long/tasks-None-label", lambda: MTD.from_long(X_LONG, Y_LONG, [0] * 17 + [None]), ValueError,
     r"tasks contains None at row 17"),
    ("from_long/tasks-mixed-types", lambda: MTD.from_long(X_LONG, Y_LONG, [0] * 9 + ["a"] * 9), TypeError,
     r"tasks mixes strings with \['int'\]"),
    ("from_long/tasks-unsortable", lambda: MTD.from_long(X_LONG, Y_LONG, [{}] * 18), TypeError,
     r"tasks must hold sortable labels"),
    ("from_long/feature_names-length", lambda: MTD.from_long(X_LONG, Y_LONG, TASKS_LONG, feature_names=["a"]),
     ValueError, r"feature_names has 1 entries for 3 features"),
)


@pytest.mark.parametrize("call, exc, match", CASES)
def test_malformed_input_is_refused_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _fingerprint(arrays):
    return [(a.shape, a.dtype.str, hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()) for a in arrays]


@pytest.mark.parametrize("round_trip", [lambda d: pickle.loads(pickle.dumps(d)), copy.deepcopy, copy.copy],
                         ids=["pickle", "deepcopy", "copy"])
def test_data_stays_read_only_through_pickle_and_copies(round_trip):
    for data in (DATA, DATA.centered()[0]):
        clone = round_trip(data)
        assert all(not a.flags.writeable for a in (*clone.Xs, *clone.ys))
        with pytest.raises(ValueError, match="read-only"):
            clone.Xs[0][0, 0] = 1.0
        assert _fingerprint(clone.Xs) == _fingerprint(data.Xs)
