"""Malformed input, everywhere a user can type it: every case is refused
with a ``ValueError`` or ``TypeError`` (``NotFittedError`` before a fit)
whose message names the argument, and the task where a task is at fault.
No case may crash elsewhere, hang, or return an answer, and no case may
modify the arrays it was given (each case is fingerprinted before and after).

**196 distinct malformed inputs** (498 cases once the inputs shared by
every estimator or builder are given to each of them): MultiTaskData and
from_long 53, estimator fit and hyperparameters 45, predict /
decision_function / score / predict_new_tasks / objective / reference_model 18,
reference builders 31, solve and objective_at parameters 17,
verify 8, the bilevel hypergradients 11, run_bench 3
and the command line 10.  ``test_the_docstring_counts_the_inputs``
keeps these numbers true.

Accepted on purpose, so not here: boolean arrays (0/1 features or labels,
``test_boolean_arrays_are_numbers``); a 3-D array as ``Xs`` (one task per
slice, as ``MultiTaskData`` documents); SG-MTL memberships ``U`` and BiGMTL's
``theta`` that are >= 0 but off the simplex (the convex subproblems are
defined for any nonnegative weights, and finite differences of the
hypergradients step off the simplex); ``GGMTL(k=...)`` above ``n_tasks - 1``
(capped, as documented).
"""

import copy
import hashlib
import pathlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

import mtlcvx as mc
from mtlcvx.bench import run_bench
from mtlcvx.terms import gengl_preset

ROOT = pathlib.Path(__file__).resolve().parent.parent
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
    ("data/huge-entries", lambda: MTD(_replace(XS, 1, XS[1] * 1e200), YS), ValueError,
     r"Xs\[1\] has entries up to [0-9.]+e\+200: their squares overflow"),
    ("data/sparse-X", lambda: MTD(_replace(XS, 0, scipy.sparse.csr_matrix(XS[0])), YS), TypeError,
     r"Xs\[0\] is a scipy.sparse matrix"),
    ("data/masked-X", lambda: MTD(_replace(XS, 2, np.ma.masked_greater(XS[2], 1.0)), YS), ValueError,
     r"Xs\[2\] is a masked array with masked entries"),
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
    ("data.select/float-task", lambda: DATA.select([1.5]), TypeError, r"tasks\[0\] must be a task index"),
    ("data.select/task-out-of-range", lambda: DATA.select([0, 3]), ValueError,
     r"tasks\[1\] = 3 is out of range for 3 tasks"),
    ("data.select/tasks-None", lambda: DATA.select(None), TypeError, r"tasks must be a list of task indices"),
    ("data.subset/indices-None", lambda: DATA.subset(None), TypeError, r"indices must be a list"),
    ("data.subset/float-rows", lambda: DATA.subset([np.arange(2), np.array([0.5]), np.arange(2)]), TypeError,
     r"indices\[1\] \(rows of task 1\).*integer"),
    ("data.subset/row-out-of-range", lambda: DATA.subset([np.arange(2), np.arange(2), np.array([N])]), ValueError,
     r"indices\[2\] \(rows of task 2\).*out of bounds"),
    ("data.join/not-data", lambda: MTD.join(DATA, (XS, YS)), TypeError, r"part 1 must be a MultiTaskData"),
    ("data.split/random_state-string", lambda: DATA.split(random_state="x"), TypeError,
     r"random_state must be None, an integer seed"),
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


# -- estimators: fit ----------------------------------------------------------------
# tiny settings: a malformed input must fail in validation, before any solve
ESTIMATORS = {
    "STL": lambda **kw: mc.STL(**kw),
    "AllTasks": lambda **kw: mc.AllTasks(**kw),
    "GroupLasso": lambda **kw: mc.GroupLasso(**kw),
    "TraceNorm": lambda **kw: mc.TraceNorm(**kw),
    "ClusMTL": lambda **kw: mc.ClusMTL(**{"n_clusters": 2, **kw}),
    "SGMTL": lambda **kw: mc.SGMTL(**{"n_groups": 2, "n_init": 1, "max_iter": 2, **kw}),
    "SSMTL": lambda **kw: mc.SSMTL(**kw),
    "BiGMTL": lambda **kw: mc.BiGMTL(**{"n_groups": 2, "max_iter": 2, "n_splits": 1, **kw}),
    "SRML": lambda **kw: mc.SRML(**{"max_iter": 5, **kw}),
    "SSML": lambda **kw: mc.SSML(**{"max_iter": 5, **kw}),
    "GGMTL": lambda **kw: mc.GGMTL(**{"max_iter": 2, "k": 2, **kw}),
}
LINEAR = list(ESTIMATORS)  # every estimator here is linear (SSMTLNet, the deep one, is not in the list)

# the same malformed data given to every estimator's fit
FIT_INPUTS = [
    ("None", lambda: (None, None), TypeError, r"Xs must be a MultiTaskData \(or Xs, ys lists\); got None"),
    ("tuple-Xs-ys", lambda: ((XS, YS), None), TypeError, r"Xs must be a MultiTaskData.*MultiTaskData\(Xs, ys\)"),
    ("Xs-without-ys", lambda: (XS, None), TypeError, r"Xs must be a MultiTaskData.*got a list of 3"),
    ("data-and-ys", lambda: (DATA, YS), ValueError, r"ys must be None when Xs is a MultiTaskData"),
    ("Xs-dict", lambda: (dict(enumerate(XS)), YS), TypeError, r"Xs must be a list.*dict"),
    ("nan-in-X", lambda: (_replace(XS, 1, XS[1] * np.nan), YS), ValueError, r"Xs\[1\] contains NaN"),
    ("inf-in-y", lambda: (XS, _replace(YS, 2, YS[2] * np.inf)), ValueError, r"ys\[2\] contains NaN or infinite"),
    ("complex-X", lambda: (_replace(XS, 0, XS[0] + 0j), YS), TypeError, r"Xs\[0\] has complex dtype"),
    ("ys-short", lambda: (XS, YS[:2]), ValueError, r"Xs has 3 tasks but ys has 2"),
]
for _name in ESTIMATORS:
    for _label, _inputs, _exc, _match in FIT_INPUTS:
        CASES.append(pytest.param(lambda f=ESTIMATORS[_name], i=_inputs: f().fit(*i()), _exc, _match,
                                  id=f"fit/{_name}/{_label}"))

# hyperparameters every linear estimator shares
for _name in ESTIMATORS:
    cases(
        (f"hyper/{_name}/scaling-list", lambda f=ESTIMATORS[_name]: f(scaling=["sum"]).fit(DATA), ValueError,
         r"scaling must be one of"),
        (f"hyper/{_name}/fit_intercept-string", lambda f=ESTIMATORS[_name]: f(fit_intercept="no").fit(DATA),
         TypeError, r"fit_intercept must be a bool"),
    )

# each estimator's own hyperparameters: negative, NaN, inf, string, bool, complex, out of range
E = ESTIMATORS
cases(
    ("hyper/STL/lam-nan", lambda: E["STL"](lam=np.nan).fit(DATA), ValueError, r"lam must be finite"),
    ("hyper/STL/lam-negative", lambda: E["STL"](lam=-1.0).fit(DATA), ValueError, r"lam must be >= 0"),
    ("hyper/AllTasks/lam-string", lambda: E["AllTasks"](lam="1").fit(DATA), TypeError, r"lam must be a real"),
    ("hyper/GroupLasso/lam-bool", lambda: E["GroupLasso"](lam=True).fit(DATA), TypeError, r"lam must be a real"),
    ("hyper/TraceNorm/lam-complex", lambda: E["TraceNorm"](lam=1j).fit(DATA), TypeError, r"lam must be a real"),
    ("hyper/TraceNorm/tol-inf", lambda: E["TraceNorm"](tol=np.inf).fit(DATA), ValueError, r"tol must be finite"),
    ("hyper/ClusMTL/n_clusters-string", lambda: E["ClusMTL"](n_clusters="2").fit(DATA), TypeError,
     r"n_clusters must be an integer"),
    ("hyper/ClusMTL/n_clusters-beyond-tasks", lambda: E["ClusMTL"](n_clusters=4).fit(DATA), ValueError,
     r"n_clusters must be <= 3"),
    ("hyper/SGMTL/n_groups-string", lambda: E["SGMTL"](n_groups="2").fit(DATA), TypeError,
     r"n_groups must be an integer"),
    ("hyper/SGMTL/n_groups-float", lambda: E["SGMTL"](n_groups=2.5).fit(DATA), TypeError,
     r"n_groups must be an integer"),
    ("hyper/SGMTL/n_groups-beyond-tasks", lambda: E["SGMTL"](n_groups=4).fit(DATA), ValueError,
     r"n_groups must be <= 3"),
    ("hyper/SGMTL/lam-per-group-nan", lambda: E["SGMTL"](lam=[1.0, np.nan]).fit(DATA), ValueError, r"^lam must"),
    ("hyper/SGMTL/random_state-string", lambda: E["SGMTL"](random_state="x").fit(DATA), TypeError,
     r"random_state must be None, an integer seed"),
    ("hyper/SGMTL/n_jobs-zero", lambda: E["SGMTL"](n_jobs=0).fit(DATA), ValueError, r"n_jobs must be None"),
    ("hyper/SSMTL/preset-list-of-ints", lambda: E["SSMTL"](preset=[1, 2]).fit(DATA), TypeError,
     r"preset\[0\] must be a list"),
    ("hyper/SSMTL/preset-short-operator", lambda: E["SSMTL"](preset=[[("C",)]]).fit(DATA), ValueError,
     r"preset\[0\]\[0\] must be \(features, tasks\)"),
    ("hyper/SSMTL/preset-unknown-partition", lambda: E["SSMTL"](preset=[[("X", "F")]]).fit(DATA), ValueError,
     r"preset\[0\]\[0\]: the features partition must be one of"),
    ("hyper/SSMTL/preset-string-weight", lambda: E["SSMTL"](preset=[[("C", "F", "w")]]).fit(DATA), TypeError,
     r"preset\[0\]\[0\] weight must be a real number"),
    ("hyper/SSMTL/preset-unknown-name", lambda: E["SSMTL"](preset="nope").fit(DATA), ValueError,
     r"preset must be one of"),
    ("hyper/SSMTL/h-zero", lambda: E["SSMTL"](h=0).fit(DATA), ValueError, r"h must be >= 1"),
    ("hyper/SSMTL/random_state-nan", lambda: E["SSMTL"](random_state=np.nan).fit(DATA), TypeError,
     r"random_state must be None"),
    ("hyper/BiGMTL/n_groups-beyond-tasks", lambda: E["BiGMTL"](n_groups=4).fit(DATA), ValueError,
     r"n_groups must be <= 3"),
    ("hyper/BiGMTL/eps-zero", lambda: E["BiGMTL"](eps=0.0).fit(DATA), ValueError, r"eps must be > 0"),
    ("hyper/BiGMTL/random_state-bool", lambda: E["BiGMTL"](random_state=True).fit(DATA), TypeError,
     r"random_state must be None"),
    ("hyper/BiGMTL/random_state-negative", lambda: E["BiGMTL"](random_state=-1).fit(DATA), ValueError,
     r"random_state must be a seed in \[0, 2\*\*32 - 1\]"),
    ("hyper/SRML/c-negative", lambda: E["SRML"](c=-1.0).fit(DATA), ValueError, r"^c must be >= 0"),
    ("hyper/SRML/pairs-out-of-range", lambda: E["SRML"](pairs=[(0, 5)]).fit(DATA), ValueError,
     r"pairs refer to tasks outside 0..2"),
    ("hyper/SRML/pairs-nan-adjacency", lambda: E["SRML"](pairs=np.full((T, T), np.nan)).fit(DATA), ValueError,
     r"pairs contains NaN"),
    ("hyper/SRML/random_state-generator", lambda: E["SRML"](random_state=np.random.default_rng(0)).fit(DATA),
     TypeError, r"random_state must be None.*Generator"),
    ("hyper/SSML/rho-string", lambda: E["SSML"](rho="fast").fit(DATA), TypeError, r"rho must be a real"),
    ("hyper/GGMTL/squared-string", lambda: E["GGMTL"](squared="no").fit(DATA), TypeError,
     r"squared must be a bool"),
    ("hyper/GGMTL/edge_init-above-one", lambda: E["GGMTL"](edge_init=2.0).fit(DATA), ValueError,
     r"edge_init must be <= 1"),
    ("hyper/GGMTL/step-negative", lambda: E["GGMTL"](step=-1.0).fit(DATA), ValueError, r"step must be > 0"),
    ("hyper/GroupLasso/coef_init-complex",
     lambda: E["GroupLasso"]().fit(DATA, coef_init=np.zeros((D, T)) + 1j), TypeError, r"coef_init has complex"),
    ("hyper/GroupLasso/coef_init-string", lambda: E["GroupLasso"]().fit(DATA, coef_init="zeros"), TypeError,
     r"coef_init has non-numeric"),
)


# -- estimators: predict, score, objective -------------------------------------------
_FITTED = {}


def fitted(name):
    """Each estimator fitted once, on DATA (quick settings)."""
    if name not in _FITTED:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITTED[name] = ESTIMATORS[name]().fit(DATA)
    return _FITTED[name]


PREDICT_INPUTS = [
    ("nan", lambda: _replace(XS, 1, np.where(XS[1] > 0, np.nan, XS[1])), ValueError, r"Xs\[1\] contains NaN"),
    ("inf", lambda: _replace(XS, 0, XS[0] * np.inf), ValueError, r"Xs\[0\] contains NaN or infinite"),
    ("None-task", lambda: _replace(XS, 2, None), TypeError, r"Xs\[2\] is None"),
    ("complex", lambda: _replace(XS, 1, XS[1] + 1j), TypeError, r"Xs\[1\] has complex dtype"),
    ("strings", lambda: _replace(XS, 0, XS[0].astype(str)), TypeError, r"Xs\[0\] has non-numeric dtype"),
    ("other-task-count", lambda: XS[:2], ValueError, r"Xs has 2 tasks; the estimator was fitted on 3"),
    ("other-feature-count", lambda: _replace(XS, 1, XS[1][:, :2]), ValueError,
     r"Xs\[1\] must have shape \(n_samples, 3\), got \(6, 2\)"),
    ("dict", lambda: dict(enumerate(XS)), TypeError, r"Xs must be a list.*dict"),
    ("masked", lambda: _replace(XS, 1, np.ma.masked_less(XS[1], 0.0)), ValueError, r"Xs\[1\] is a masked array"),
]
for _name in ESTIMATORS:
    CASES.append(pytest.param(lambda n=_name: ESTIMATORS[n]().predict(XS), NotFittedError, r"not fitted",
                              id=f"predict/{_name}/before-fit"))
    for _label, _inputs, _exc, _match in PREDICT_INPUTS:
        CASES.append(pytest.param(lambda n=_name, i=_inputs: fitted(n).predict(i()), _exc, _match,
                                  id=f"predict/{_name}/{_label}"))
    cases(
        (f"decision_function/{_name}/nan", lambda n=_name: fitted(n).decision_function(_replace(XS, 2, XS[2] * np.nan)),
         ValueError, r"Xs\[2\] contains NaN"),
        (f"score/{_name}/complex-y", lambda n=_name: fitted(n).score(XS, _replace(YS, 0, YS[0] + 1j)), TypeError,
         r"ys\[0\] has complex dtype"),
        (f"predict_new_tasks/{_name}/complex", lambda n=_name: fitted(n).predict_new_tasks([XS[0] + 1j]), TypeError,
         r"Xs\[0\] has complex dtype"),
        (f"predict_new_tasks/{_name}/other-feature-count",
         lambda n=_name: fitted(n).predict_new_tasks([XS[0][:, :2]]), ValueError,
         r"Xs\[0\] must have shape \(n_samples, 3\)"),
        (f"objective/{_name}/before-fit", lambda n=_name: ESTIMATORS[n]().objective(DATA), NotFittedError,
         r"not fitted"),
        (f"objective/{_name}/other-task-count", lambda n=_name: fitted(n).objective(XS[:2], YS[:2]), ValueError,
         r"Xs has 2 tasks; the estimator was fitted on 3"),
        (f"objective/{_name}/other-feature-count",
         lambda n=_name: fitted(n).objective([X[:, :2] for X in XS], YS), ValueError,
         r"Xs has 2 features; the estimator was fitted on 3"),
    )


cases(*[(f"reference_model/{name}/other-task-count",
         lambda n=name: fitted(n).reference_model(XS[:2], YS[:2]), ValueError,
         r"Xs has 2 tasks; the estimator was fitted on 3") for name in ("SGMTL", "BiGMTL", "GGMTL")])


# -- reference builders ---------------------------------------------------------------
R = mc.reference
BUILDERS = {
    "ridge": lambda d: R.ridge(d),
    "group_lasso": lambda d: R.group_lasso(d),
    "trace_norm": lambda d: R.trace_norm(d),
    "clustered": lambda d: R.clustered(d, 2),
    "sgmtl_wstep": lambda d: R.sgmtl_wstep(d, 2),
    "gengl": lambda d: R.gengl(d, gengl_preset("ssmtl_m", D, T, h=2)[0]),
    "bigmtl_lower": lambda d: R.bigmtl_lower(d, 2),
    "srml_wstep": lambda d: R.srml_wstep(d),
    "srml_ustep": lambda d: R.srml_ustep(d),
    "ggmtl_lower": lambda d: R.ggmtl_lower(d, [(0, 1), (1, 2)]),
}
for _name, _build in BUILDERS.items():
    cases(
        (f"reference/{_name}/data-None", lambda b=_build: b(None), TypeError,
         r"^data must be a MultiTaskData \(or Xs, ys lists\); got None$"),
        (f"reference/{_name}/data-tuple", lambda b=_build: b((XS, YS)), TypeError,
         r"^data must be a MultiTaskData.*got a tuple of 2.*MultiTaskData\(Xs, ys\)"),
    )
cases(
    ("reference/ridge/data-list", lambda: R.ridge(XS), TypeError, r"^data must be a MultiTaskData.*list of 3"),
    ("reference/ridge/pooled-string", lambda: R.ridge(DATA, pooled="no"), TypeError, r"pooled must be True or False"),
    ("reference/ridge/pooled-int", lambda: R.ridge(DATA, pooled=1), TypeError, r"pooled must be True or False"),
    ("reference/group_lasso/loss-list", lambda: R.group_lasso(DATA, loss=["squared"]), TypeError,
     r"loss must be one of"),
    ("reference/group_lasso/loss-unknown", lambda: R.group_lasso(DATA, loss="hinge"), ValueError,
     r"loss must be one of"),
    ("reference/trace_norm/scaling-unknown", lambda: R.trace_norm(DATA, scaling="avg"), ValueError,
     r"scaling must be one of"),
    ("reference/clustered/n_clusters-string", lambda: R.clustered(DATA, "2"), TypeError,
     r"n_clusters must be a real number"),
    ("reference/clustered/n_clusters-beyond-tasks", lambda: R.clustered(DATA, 4), ValueError,
     r"n_clusters must be <= 3"),
    ("reference/clustered/n_clusters-zero", lambda: R.clustered(DATA, 0), ValueError, r"n_clusters must be > 0"),
    ("reference/sgmtl_wstep/n_groups-float", lambda: R.sgmtl_wstep(DATA, 2.5), TypeError,
     r"n_groups must be an integer, got 2.5"),
    ("reference/sgmtl_wstep/n_groups-string", lambda: R.sgmtl_wstep(DATA, "2"), TypeError,
     r"n_groups must be an integer"),
    ("reference/sgmtl_wstep/n_groups-beyond-tasks", lambda: R.sgmtl_wstep(DATA, 4), ValueError,
     r"n_groups must be <= 3"),
    ("reference/sgmtl_wstep/n_groups-zero", lambda: R.sgmtl_wstep(DATA, 0), ValueError, r"n_groups must be >= 1"),
    ("reference/sgmtl_wstep/regularizer-None", lambda: R.sgmtl_wstep(DATA, 2, regularizer=None), TypeError,
     r"regularizer must be one of"),
    ("reference/gengl/operators-None", lambda: R.gengl(DATA, None), TypeError, r"operators must be a GenGL"),
    ("reference/gengl/operators-preset-name", lambda: R.gengl(DATA, "ssmtl_m"), TypeError,
     r"operators must be a GenGL.*got str"),
    ("reference/gengl/operators-int", lambda: R.gengl(DATA, [[1]]), TypeError,
     r"operators\[0\]\[0\] must be a GenGLOperator"),
    ("reference/gengl/operators-empty-component", lambda: R.gengl(DATA, [[]]), ValueError,
     r"operators\[0\] is empty"),
    ("reference/gengl/operators-other-shape", lambda: R.gengl(DATA, gengl_preset("gl", D + 1, T)[0]), ValueError,
     r"operators act on vectors of size 12, but W has 3 x 3 entries"),
    ("reference/bigmtl_lower/n_groups-bool", lambda: R.bigmtl_lower(DATA, True), TypeError,
     r"n_groups must be an integer, got True"),
    ("reference/bigmtl_lower/n_groups-beyond-tasks", lambda: R.bigmtl_lower(DATA, 4), ValueError,
     r"n_groups must be <= 3"),
    ("reference/srml_wstep/penalty-unknown", lambda: R.srml_wstep(DATA, penalty="l3"), ValueError,
     r"penalty must be one of"),
    ("reference/srml_ustep/half-int", lambda: R.srml_ustep(DATA, half=1), TypeError, r"half must be one of"),
    ("reference/ggmtl_lower/edges-None", lambda: R.ggmtl_lower(DATA, None), TypeError, r"edges must be a list"),
    ("reference/ggmtl_lower/edges-out-of-range", lambda: R.ggmtl_lower(DATA, [(0, 3)]), ValueError,
     r"edges refer to tasks outside 0..2"),
    ("reference/ggmtl_lower/edges-self-loop", lambda: R.ggmtl_lower(DATA, [(1, 1)]), ValueError,
     r"edges must join two different tasks"),
    ("reference/ggmtl_lower/edges-float", lambda: R.ggmtl_lower(DATA, [(0.5, 1)]), ValueError,
     r"edges must be a list of \(i, j\) task index pairs"),
    ("reference/ggmtl_lower/edges-repeated", lambda: R.ggmtl_lower(DATA, [(0, 1), (1, 0)]), ValueError,
     r"edges must not repeat an edge"),
    ("reference/ggmtl_lower/edges-nan-adjacency", lambda: R.ggmtl_lower(DATA, np.full((T, T), np.nan)), ValueError,
     r"edges contains NaN"),
    ("reference/ggmtl_lower/squared-string", lambda: R.ggmtl_lower(DATA, [(0, 1)], squared="no"), TypeError,
     r"squared must be True or False"),
)

# solve / objective_at parameters (checked by mtlcvx.reference.base before any solve)
U_OK = np.full((2, T), 0.5)
THETA_OK = np.full((T, 2), 0.5)
cases(
    ("solve/unknown-parameter", lambda: R.ridge(DATA).solve(lam=1.0, alpha=2.0), ValueError,
     r"unknown parameter\(s\) \['alpha'\]"),
    ("solve/missing-parameter", lambda: R.ridge(DATA).solve(), ValueError,
     r"needs a value for parameter\(s\) \['lam'\]"),
    ("solve/lam-string", lambda: R.ridge(DATA).solve(lam="a"), TypeError, r"parameter 'lam' must be"),
    ("solve/lam-complex", lambda: R.ridge(DATA).solve(lam=1j), TypeError, r"parameter 'lam' must be"),
    ("solve/lam-nan", lambda: R.group_lasso(DATA).solve(lam=np.nan), ValueError, r"parameter 'lam' must be finite"),
    ("solve/lam-negative", lambda: R.group_lasso(DATA).solve(lam=-1.0), ValueError, r"parameter 'lam' must be >= 0"),
    ("solve/solver-int", lambda: R.ridge(DATA).solve(lam=1.0, solver=123), TypeError, r"solver"),
    ("solve/solver-unknown", lambda: R.ridge(DATA).solve(lam=1.0, solver="nope"), ValueError,
     r"solver.*installed"),
    ("solve/U-wrong-shape", lambda: R.sgmtl_wstep(DATA, 2).solve(U=np.full((3, 3), 0.5), lam=1.0), ValueError,
     r"parameter 'U' must have shape \(2, 3\)"),
    ("solve/U-transposed", lambda: R.sgmtl_wstep(DATA, 2).solve(U=np.full((T, 2), 0.5), lam=1.0), ValueError,
     r"parameter 'U' must have shape \(2, 3\), got \(3, 2\)"),
    ("solve/U-off-simplex-negative", lambda: R.sgmtl_wstep(DATA, 2).solve(U=np.array([[1.5, 1, 1], [-0.5, 0, 0]]),
                                                                         lam=1.0), ValueError,
     r"parameter 'U' must be >= 0"),
    ("solve/U-nan", lambda: R.sgmtl_wstep(DATA, 2).solve(U=np.full((2, T), np.nan), lam=1.0), ValueError,
     r"parameter 'U' must be finite"),
    ("solve/theta-wrong-shape", lambda: R.bigmtl_lower(DATA, 2).solve(theta=THETA_OK.T, lam=1.0, eps=0.1),
     ValueError, r"parameter 'theta' must have shape \(3, 2\)"),
    ("solve/theta-off-simplex-negative",
     lambda: R.bigmtl_lower(DATA, 2).solve(theta=np.array([[1.5, -0.5]] * T), lam=1.0, eps=0.1), ValueError,
     r"parameter 'theta' must be >= 0"),
    ("solve/eps-zero", lambda: R.bigmtl_lower(DATA, 2).solve(theta=THETA_OK, lam=1.0, eps=0.0), ValueError,
     r"parameter 'eps' must be > 0"),
    ("solve/edge_weights-wrong-length",
     lambda: R.ggmtl_lower(DATA, [(0, 1), (1, 2)]).solve(edge_weights=[1.0, 1.0, 1.0], lam=1.0), ValueError,
     r"parameter 'edge_weights' must have shape \(2,\)"),
    ("objective_at/W-transposed", lambda: R.ridge(mc.MultiTaskData(XS[:2], YS[:2])).objective_at(np.zeros((2, D)),
                                                                                              lam=1.0),
     ValueError, r"W must have shape \(3, 2\), got \(2, 3\).*transpose"),
)

# -- verify ---------------------------------------------------------------------------
W_OK = np.zeros((D, T))
cases(
    ("verify/model-None", lambda: mc.verify(W_OK, None, lam=1.0), TypeError, r"model must be a reference model"),
    ("verify/candidate-None", lambda: mc.verify(None, R.ridge(DATA), lam=1.0), TypeError, r"candidate must be"),
    ("verify/rtol-nan", lambda: mc.verify(W_OK, R.ridge(DATA), rtol=np.nan, lam=1.0), ValueError, r"rtol must be"),
    ("verify/rtol-negative", lambda: mc.verify(W_OK, R.ridge(DATA), rtol=-1.0, lam=1.0), ValueError,
     r"rtol must be"),
    ("verify/W-wrong-shape", lambda: mc.verify(np.zeros((2, 2)), R.ridge(DATA), lam=1.0), ValueError,
     r"W must have shape \(3, 3\), got \(2, 2\)"),
    ("verify/W-transposed", lambda: mc.verify(np.zeros((T + 1, D)), R.ridge(mc.MultiTaskData(XS + XS[:1],
                                                                                          YS + YS[:1])), lam=1.0),
     ValueError, r"W must have shape \(3, 4\), got \(4, 3\).*transpose"),
    ("verify/W-nan", lambda: mc.verify(np.full((D, T), np.nan), R.ridge(DATA), lam=1.0), ValueError,
     r"W must be finite"),
    ("verify/missing-parameter", lambda: mc.verify(W_OK, R.ridge(DATA)), ValueError, r"parameter\(s\) \['lam'\]"),
)

# -- bilevel hypergradients -------------------------------------------------------------
B = mc.bilevel
cases(
    ("bilevel/bigmtl/train-None", lambda: B.bigmtl_hypergradient(None, DATA, THETA_OK, 1.0), TypeError,
     r"^train must be a MultiTaskData"),
    ("bilevel/bigmtl/theta-1d", lambda: B.bigmtl_hypergradient(DATA, DATA, np.ones(T), 1.0), ValueError,
     r"theta must be 2-D \(n_tasks, n_groups\)"),
    ("bilevel/bigmtl/theta-complex", lambda: B.bigmtl_hypergradient(DATA, DATA, THETA_OK + 0j, 1.0), TypeError,
     r"theta has complex dtype"),
    ("bilevel/bigmtl/lam-string", lambda: B.bigmtl_hypergradient(DATA, DATA, THETA_OK, "1"), TypeError,
     r"lam must be a real number"),
    ("bilevel/bigmtl/n_inner-float", lambda: B.bigmtl_hypergradient(DATA, DATA, THETA_OK, 1.0, n_inner=2.5),
     TypeError, r"n_inner must be an integer"),
    ("bilevel/bigmtl/U0-wrong-shape", lambda: B.bigmtl_hypergradient(DATA, DATA, THETA_OK, 1.0, U0=np.zeros(3)),
     ValueError, r"U0 must have shape \(n_groups, n_features, n_tasks\) = \(2, 3, 3\)"),
    ("bilevel/bigmtl/n_groups-float", lambda: B.BiGMTLHypergradient(DATA, DATA, 2.5), TypeError,
     r"n_groups must be an integer"),
    ("bilevel/ggmtl/squared-string",
     lambda: B.ggmtl_hypergradient(DATA, DATA, [(0, 1)], [1.0], 1.0, squared="no"), TypeError,
     r"squared must be True or False"),
    ("bilevel/ggmtl/edge_weights-string", lambda: B.ggmtl_hypergradient(DATA, DATA, [(0, 1)], ["a"], 1.0),
     TypeError, r"edge_weights has non-numeric"),
    ("bilevel/ggmtl/method-list", lambda: B.ggmtl_hypergradient(DATA, DATA, [(0, 1)], [1.0], 1.0, method=["x"]),
     TypeError, r"method must be one of"),
    ("bilevel/ggmtl/val-other-tasks",
     lambda: B.ggmtl_hypergradient(DATA, mc.MultiTaskData(XS[:2], YS[:2]), [(0, 1)], [1.0], 1.0), ValueError,
     r"train has 3 tasks and 3 features but val has 2 and 3"),
)


cases(
    ("bench/budget-negative", lambda: run_bench(budget=-1.0), ValueError,
     r"budget must be > 0"),
    ("bench/budget-string", lambda: run_bench(budget="10"), TypeError,
     r"budget must be a real number"),
    ("bench/quick-string", lambda: run_bench(quick="no"), TypeError,
     r"quick must be True or False"),
)


# -- the command line ---------------------------------------------------------------
# (argv, the option the one-line error must name); nothing may run first
CLI_CASES = [
    ("out-under-proc", ["reproduce", "sgmtl", "--quick", "--out", "/proc/x/y"], r"argument --out: cannot create"),
    ("out-is-a-file", ["reproduce", "sgmtl", "--quick", "--out", "{file}"], r"argument --out: cannot create"),
    ("json-under-proc", ["reproduce", "sgmtl", "--quick", "--json", "/proc/x/y.json", "--out", "{dir}"],
     r"argument --json: cannot write /proc/x/y.json"),
    ("json-is-a-folder", ["reproduce", "sgmtl", "--quick", "--json", "{dir}", "--out", "{dir}"],
     r"argument --json: .* is a folder"),
    ("json-under-a-file", ["reproduce", "sgmtl", "--json", "{file}/x.json", "--out", "{dir}"],
     r"argument --json: cannot write"),
    ("jobs-zero", ["reproduce", "sgmtl", "--jobs", "0"], r"argument --jobs: must be a non-zero integer"),
    ("jobs-float", ["reproduce", "sgmtl", "--jobs", "1.5"], r"argument --jobs: must be a non-zero integer"),
    ("bench-budget-negative", ["bench", "--budget", "-1"], r"argument --budget: must be a positive number"),
    ("bench-budget-nan", ["bench", "--budget", "nan"], r"argument --budget: must be a positive number"),
    ("bench-json-under-proc", ["bench", "--quick", "--json", "/proc/x.json"], r"argument --json: cannot write"),
]


@pytest.mark.parametrize("argv, message", [pytest.param(a, m, id=i) for i, a, m in CLI_CASES])
def test_cli_refuses_bad_options_before_running(argv, message, tmp_path, monkeypatch, capsys):
    from mtlcvx import experiments
    from mtlcvx.cli import main

    monkeypatch.setattr(experiments, "run", lambda *a, **k: pytest.fail("the experiment ran"))
    monkeypatch.setattr("mtlcvx.bench.run_bench", lambda **_: pytest.fail("the bench ran"))
    (tmp_path / "file").write_text("")
    argv = [a.format(file=tmp_path / "file", dir=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith(f"usage: mtlcvx {argv[0]}")
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_cli_unwritable_out_is_one_line_from_the_console(tmp_path):
    """The console entry point: no traceback, exit status 2."""
    done = subprocess.run([sys.executable, "-m", "mtlcvx", "reproduce", "sgmtl", "--quick", "--out", "/proc/x/y"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == ("mtlcvx reproduce: error: argument --out: cannot create or write "
                                            "/proc/x/y: No such file or directory")


#: every array a case reads; none may change, whatever the case does
INPUTS = [*XS, *YS, *DATA.Xs, *DATA.ys, X_LONG, Y_LONG, TASKS_LONG, U_OK, THETA_OK, W_OK]


@pytest.mark.parametrize("call, exc, match", CASES)
def test_malformed_input_is_refused_naming_the_argument(call, exc, match):
    before = _fingerprint(INPUTS)
    with pytest.raises(exc, match=match):
        call()
    assert _fingerprint(INPUTS) == before


def _fingerprint(arrays):
    return [(a.shape, a.dtype.str, hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()) for a in arrays]


def test_every_estimator_and_builder_is_covered():
    assert set(ESTIMATORS) == {"STL", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "SGMTL", "SSMTL", "BiGMTL",
                               "SRML", "SSML", "GGMTL"}
    assert set(BUILDERS) == {"ridge", "group_lasso", "trace_norm", "clustered", "sgmtl_wstep", "gengl",
                             "bigmtl_lower", "srml_wstep", "srml_ustep", "ggmtl_lower"}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_valid_calls_leave_the_inputs_unchanged(name):
    """The other half of "never modify inputs": fit, predict, objective and
    the reference solve on the caller's own lists and arrays."""
    Xs, ys = [X.copy() for X in XS], [y.copy() for y in YS]
    before = _fingerprint(Xs + ys)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ESTIMATORS[name]().fit(Xs, ys)
    est.predict(Xs)
    est.score(Xs, ys)
    est.objective(Xs, ys)
    assert _fingerprint(Xs + ys) == before


def test_reference_solve_and_verify_leave_parameters_unchanged():
    U, W = U_OK.copy(), W_OK.copy()
    before = _fingerprint([U, W])
    model = R.sgmtl_wstep(DATA, 2)
    model.solve(U=U, lam=1.0)
    model.objective_at(W, U=U, lam=1.0)
    mc.verify(W, model, U=U, lam=1.0)
    assert _fingerprint([U, W]) == before


@pytest.mark.parametrize("round_trip", [lambda d: pickle.loads(pickle.dumps(d)), copy.deepcopy, copy.copy],
                         ids=["pickle", "deepcopy", "copy"])
def test_data_stays_read_only_through_pickle_and_copies(round_trip):
    for data in (DATA, DATA.centered()[0]):
        clone = round_trip(data)
        assert all(not a.flags.writeable for a in (*clone.Xs, *clone.ys))
        with pytest.raises(ValueError, match="read-only"):
            clone.Xs[0][0, 0] = 1.0
        assert _fingerprint(clone.Xs) == _fingerprint(data.Xs)


def test_boolean_arrays_are_numbers():
    as_float = MTD([X > 0 for X in XS], YS)
    np.testing.assert_array_equal(as_float.Xs[1], (XS[1] > 0).astype(float))


def _kinds():
    """``{kind: [case ids]}``: a case given to every estimator (or builder)
    is one kind of input."""
    shared = ESTIMATORS.keys() | BUILDERS.keys()
    ids = [p.id for p in CASES]
    families = {}
    for i in ids:
        parts = i.split("/")
        if len(parts) == 3 and parts[1] in shared:
            families.setdefault((parts[0], parts[2]), []).append(i)
    kinds = {}
    for i in ids:
        parts = i.split("/")
        key = (parts[0], parts[2]) if len(parts) == 3 else None
        kind = f"{parts[0]}/*/{parts[2]}" if key in families and len(families[key]) > 1 else i
        kinds.setdefault(kind, []).append(i)
    for name, _, _ in CLI_CASES:
        kinds[f"cli/{name}"] = [name]
    return kinds


def _docstring_counts():
    kinds = _kinds()
    group = {"data": ("data", "data.select", "data.subset", "data.join", "data.split", "from_long"),
             "fit": ("fit", "hyper"),
             "predict": ("predict", "decision_function", "score", "predict_new_tasks", "objective",
                         "reference_model"),
             "reference": ("reference",), "solve": ("solve", "objective_at"), "verify": ("verify",),
             "bilevel": ("bilevel",), "bench": ("bench",), "cli": ("cli",)}
    counts = {f"n_{g}": sum(1 for k in kinds if k.split("/")[0] in families) for g, families in group.items()}
    assert sum(counts.values()) == len(kinds), "a kind of case is in no group of the docstring"
    return dict(kinds=len(kinds), cases=sum(len(v) for v in kinds.values()), **counts)


#: the docstring's phrase before each count
_PHRASES = {"kinds": r"\*\*", "cases": r"\(", "n_data": "from_long", "n_fit": "hyperparameters",
            "n_predict": "reference_model", "n_reference": "reference builders", "n_solve": "parameters",
            "n_verify": "verify", "n_bilevel": "hypergradients", "n_bench": "run_bench",
            "n_cli": "the command line"}


def test_the_docstring_counts_the_inputs():
    counts = _docstring_counts()
    assert counts["kinds"] >= 60
    text = " ".join(__doc__.split())
    for name, value in counts.items():
        assert re.search(rf"{_PHRASES[name]} ?{value}\b", text), f"the docstring's {name} is not {value}: {counts}"
