"""mtlcvx.model_selection: task-aware splitters on both faces of the data,
scorers against hand computations, cross-validation and grid search against
manual loops over the same splits, warm starts, determinism under joblib,
and scikit-learn's own tools through LongFormat and TaskScaler."""

import doctest
import sys

import numpy as np
import pytest
import sklearn
import sklearn.metrics as skm
from scipy.special import expit
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, ShuffleSplit, StratifiedKFold
from sklearn.model_selection import cross_val_score as sk_cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

import mtlcvx as mc
from mtlcvx.model_selection import (GridSearch, LeaveTasksOut, LongFormat, PredefinedTaskSplit, TaskKFold, TaskScaler,
                                    TaskShuffleSplit, check_cv, cross_val_score, cross_validate, get_scorer,
                                    get_scorer_names)
from mtlcvx.model_selection import _adapter, _scoring, _search, _split
from mtlcvx.models.base import MultiTaskEstimator

from conftest import make_data

LAMS = [0.03, 0.3, 1.0, 3.0, 30.0]


def sparse_low_rank():
    data, _ = mc.datasets.make_sparse_low_rank(n_tasks=4, n_features=10, n_samples=30, random_state=0)
    return data


def ragged():
    """Tasks of 9, 10, 11 and 12 samples."""
    return make_data(d=3, T=4, n=9, ragged=True)


def long_table(seed=0):
    """The rows of :func:`sparse_low_rank` shuffled, with unsorted,
    non-consecutive task labels: ``(table, X, y, labels)``, the table being
    the labels as column 0 followed by ``X``."""
    X, y, tasks = sparse_low_rank().stacked()
    order = np.random.default_rng(seed).permutation(len(y))
    labels = np.array([7.0, 2.0, 11.0, 5.0])[tasks[order]]
    return np.column_stack([labels, X[order]]), X[order], y[order], labels


def string_labels(labels):
    """Names of the numeric labels of :func:`long_table`, in the same sorted order."""
    return np.array(["d", "b", "a", "c"], dtype=object)[np.searchsorted([2.0, 5.0, 7.0, 11.0], labels)]


def scaled_group_lasso(task_column=0, scaler_task_column=None):
    return make_pipeline(TaskScaler(task_column=task_column if scaler_task_column is None else scaler_task_column),
                         LongFormat(mc.GroupLasso(), task_column=task_column))


def to_per_task(rows, labels):
    """Flat row indices of a long table as one index array per task of
    ``MultiTaskData.from_long`` (tasks in sorted label order, rows in table
    order)."""
    return [np.flatnonzero(np.isin(np.flatnonzero(labels == label), rows)) for label in np.unique(labels)]


def to_long(per_task, labels):
    """The inverse of :func:`to_per_task`: sorted flat row indices."""
    rows = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    return np.sort(np.concatenate([r[i] for r, i in zip(rows, per_task)]))


def neg_pooled_mse(ys, preds):
    return -float(np.mean(np.concatenate([(y - p) ** 2 for y, p in zip(ys, preds)])))


def manual_split_scores(estimator, candidates, data, splits, score):
    """``score(test ys, predictions)`` of a clone fitted at each candidate on
    each split's training rows: shape ``(n_candidates, n_splits)``."""
    out = np.empty((len(candidates), len(splits)))
    for i, params in enumerate(candidates):
        for k, (train, test) in enumerate(splits):
            est = clone(estimator).set_params(**params).fit(data.subset(train))
            out[i, k] = score(data.subset(test).ys, est.predict(data.subset(test)))
    return out


def assert_same_cv_results(a, b):
    """Every entry of two ``cv_results_`` equal, bit for bit, but the times."""
    assert sorted(a) == sorted(b)
    for key in a:
        if key.endswith("_time"):
            continue
        if key == "params":
            assert a[key] == b[key]
        elif np.ma.isMaskedArray(a[key]):
            np.testing.assert_array_equal(np.ma.getmaskarray(a[key]), np.ma.getmaskarray(b[key]))
            assert list(a[key].compressed()) == list(b[key].compressed()), key
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


class TaskMeans(MultiTaskEstimator):
    """Predicts each task's training mean; has no model of a new task."""

    def _fit(self, data):
        self.means_ = np.array([y.mean() for y in data.ys])

    def _predict(self, Xs):
        return [np.full(len(X), m) for X, m in zip(Xs, self.means_)]


# -- splitters --------------------------------------------------------------
@pytest.mark.parametrize("shuffle", [False, True])
def test_task_kfold_holds_out_a_share_of_every_task_and_test_parts_partition_each_task(shuffle):
    data = ragged()
    splits = list(TaskKFold(3, shuffle=shuffle, random_state=0).split(data))
    assert len(splits) == 3
    for t, n in enumerate(data.n_samples):
        tests = [test[t] for _, test in splits]
        assert all(len(test) in (n // 3, -(-n // 3)) for test in tests)
        np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(n))
        for train, test in splits:
            np.testing.assert_array_equal(np.sort(np.concatenate([train[t], test[t]])), np.arange(n))
            assert np.intersect1d(train[t], test[t]).size == 0


def test_task_kfold_without_shuffle_is_sklearn_kfold_inside_each_task():
    data = ragged()
    for k, (train, test) in enumerate(TaskKFold(3).split(data)):
        for t, n in enumerate(data.n_samples):
            sk_train, sk_test = list(KFold(3).split(np.arange(n)))[k]
            np.testing.assert_array_equal(train[t], sk_train)
            np.testing.assert_array_equal(test[t], sk_test)


@pytest.mark.parametrize("make", [lambda s: TaskKFold(3, shuffle=True, random_state=s),
                                  lambda s: TaskShuffleSplit(3, test_size=0.3, random_state=s),
                                  lambda s: LeaveTasksOut(2, random_state=s)],
                         ids=["TaskKFold", "TaskShuffleSplit", "LeaveTasksOut"])
def test_shuffled_splits_are_determined_by_random_state(make):
    data = ragged()

    def splits(splitter):
        return repr([[a.tolist() for side in split for a in side] for split in splitter.split(data)])

    splitter = make(0)
    assert splits(splitter) == splits(splitter) == splits(make(0))
    assert len({splits(make(seed)) for seed in range(5)}) > 1


@pytest.mark.parametrize("seed", [0, 7])
def test_task_kfold_with_shuffle_equals_data_folds(seed):
    data = ragged()
    ours = list(TaskKFold(3, shuffle=True, random_state=seed).split(data))
    theirs = list(data.folds(3, random_state=seed))
    assert len(ours) == len(theirs)
    for (train, test), (fold_train, fold_test) in zip(ours, theirs):
        for part, fold in ((data.subset(train), fold_train), (data.subset(test), fold_test)):
            for a, b in zip(part.Xs + part.ys, fold.Xs + fold.ys):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("test_size", [0.3, 2])
@pytest.mark.parametrize("seed", [0, 7])
def test_task_shuffle_split_first_split_equals_data_split(test_size, seed):
    data = ragged()
    train, test = next(TaskShuffleSplit(1, test_size=test_size, random_state=seed).split(data))
    split_train, split_test = data.split(test_size, random_state=seed)
    for part, expected in ((data.subset(train), split_train), (data.subset(test), split_test)):
        for a, b in zip(part.Xs + part.ys, expected.Xs + expected.ys):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_splits", [2, None])
def test_leave_tasks_out_holds_whole_tasks_and_tests_every_task_once(n_splits):
    data = ragged()
    cv = LeaveTasksOut(n_splits, random_state=0)
    splits = list(cv.split(data))
    assert len(splits) == cv.get_n_splits(data) == (n_splits or data.n_tasks)
    times_tested = np.zeros(data.n_tasks, dtype=int)
    for train, test in splits:
        for t, n in enumerate(data.n_samples):
            held_out = len(test[t]) > 0
            np.testing.assert_array_equal(test[t] if held_out else train[t], np.arange(n))
            assert len(train[t] if held_out else test[t]) == 0
            times_tested[t] += held_out
    np.testing.assert_array_equal(times_tested, 1)


def assert_split_is(data, split, train, test):
    for part, reference in ((data.subset(split[0]), train), (data.subset(split[1]), test)):
        for a, b in zip(part.Xs + part.ys, reference.Xs + reference.ys):
            np.testing.assert_array_equal(a, b)


def test_predefined_split_from_parts_trains_on_the_first_part_and_tests_on_the_second():
    data = ragged()
    train, val = data.split(0.4, random_state=0)
    joined, cv = PredefinedTaskSplit.from_parts(train, val)
    assert joined.n_samples == data.n_samples and cv.get_n_splits() == 1
    (split,) = cv.split(joined)
    assert_split_is(joined, split, train, val)


def test_predefined_split_from_parts_never_trains_on_another_test_part():
    data = ragged()
    train, rest = data.split(0.4, random_state=0)
    val1, val2 = rest.split(0.5, random_state=1)
    joined, cv = PredefinedTaskSplit.from_parts(train, val1, val2)
    assert joined.n_samples == data.n_samples and cv.get_n_splits() == 2
    for split, val in zip(cv.split(joined), (val1, val2)):
        assert_split_is(joined, split, train, val)


def test_predefined_split_never_tests_rows_marked_minus_one():
    fold = [np.array([-1, 0, 1, 0]), np.array([1, -1, -1])]
    splits = list(PredefinedTaskSplit(fold).split(mc.MultiTaskData([np.ones((4, 1)), np.ones((3, 1))],
                                                                    [np.zeros(4), np.zeros(3)])))
    assert [[t.tolist() for t in test] for _, test in splits] == [[[1, 3], []], [[2], [0]]]
    assert [[t.tolist() for t in train] for train, _ in splits] == [[[0, 2], [0, 1, 2]], [[0, 1, 3], [1, 2]]]


@pytest.mark.parametrize("cv", [TaskKFold(3, shuffle=True, random_state=0), TaskShuffleSplit(2, 0.25, random_state=0),
                                LeaveTasksOut(2, random_state=0), LeaveTasksOut(None, random_state=0)],
                         ids=["TaskKFold", "TaskShuffleSplit", "LeaveTasksOut", "LeaveOneTaskOut"])
def test_long_table_face_yields_the_same_samples_as_the_per_task_face(cv):
    _, X, y, labels = long_table()
    data = mc.MultiTaskData.from_long(X, y, labels)
    per_task = list(cv.split(data))
    flat = list(cv.split(X, y, groups=labels))
    assert len(flat) == len(per_task) == cv.get_n_splits(X, y, groups=labels)
    for (train, test), (flat_train, flat_test) in zip(per_task, flat):
        np.testing.assert_array_equal(flat_train, to_long(train, labels))
        np.testing.assert_array_equal(flat_test, to_long(test, labels))
        held_out = np.concatenate([task_y[i] for task_y, i in zip(data.ys, test)])
        np.testing.assert_array_equal(np.sort(y[flat_test]), np.sort(held_out))


def test_long_table_face_of_predefined_split_follows_from_long_order():
    _, X, y, labels = long_table()
    data = mc.MultiTaskData.from_long(X, y, labels)
    fold = [np.arange(n) % 3 - 1 for n in data.n_samples]
    cv = PredefinedTaskSplit(fold)
    for (train, test), (flat_train, flat_test) in zip(cv.split(data), cv.split(X, groups=labels)):
        np.testing.assert_array_equal(flat_train, to_long(train, labels))
        np.testing.assert_array_equal(flat_test, to_long(test, labels))


@pytest.mark.parametrize("make, exc, word", [
    (lambda: TaskKFold(1), ValueError, "n_splits"),
    (lambda: TaskKFold(2.0), TypeError, "n_splits"),
    (lambda: TaskKFold(True), TypeError, "n_splits"),
    (lambda: TaskShuffleSplit(0), ValueError, "n_splits"),
    (lambda: TaskShuffleSplit(test_size=1.5), ValueError, "test_size"),
    (lambda: TaskShuffleSplit(test_size=0), ValueError, "test_size"),
    (lambda: TaskShuffleSplit(test_size="0.2"), TypeError, "test_size"),
    (lambda: LeaveTasksOut(1), ValueError, "n_splits"),
    (lambda: PredefinedTaskSplit(np.zeros(3)), TypeError, "test_fold"),
    (lambda: PredefinedTaskSplit([[-1, -1]]), ValueError, "test_fold"),
    (lambda: PredefinedTaskSplit.from_parts(ragged()), ValueError, "from_parts"),
])
def test_splitter_arguments_are_checked_and_named(make, exc, word):
    with pytest.raises(exc, match=word):
        make()


@pytest.mark.parametrize("cv, word", [
    (TaskKFold(10), "n_splits"),
    (TaskShuffleSplit(test_size=9), "test_size"),
    (LeaveTasksOut(5), "n_splits"),
    (PredefinedTaskSplit([np.zeros(9)]), "test_fold"),
])
def test_splitter_that_does_not_fit_the_data_says_which_argument(cv, word):
    with pytest.raises(ValueError, match=word):
        list(cv.split(ragged()))


def test_long_table_face_needs_one_task_label_per_row():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="groups"):
        list(TaskKFold(2).split(X))
    with pytest.raises(ValueError, match="groups"):
        list(TaskKFold(2).split(X, groups=np.zeros(5)))


def test_predefined_split_from_parts_refuses_parts_of_other_tasks():
    data = ragged()
    other = make_data(d=3, T=3, n=9)
    with pytest.raises(ValueError, match="part 1"):
        PredefinedTaskSplit.from_parts(data, other)


@pytest.mark.parametrize("cv", [KFold(3), GroupKFold(3), ShuffleSplit(2, random_state=0), StratifiedKFold(3)],
                         ids=lambda cv: type(cv).__name__)
def test_sklearn_splitter_as_cv_is_refused(cv):
    search = GridSearch(mc.GroupLasso(), {"lam": [1.0]}, cv=cv)
    with pytest.raises(TypeError, match="scikit-learn splitter.*LongFormat"):
        search.fit(sparse_low_rank())
    with pytest.raises(TypeError, match="scikit-learn splitter"):
        cross_validate(mc.GroupLasso(), sparse_low_rank(), cv=cv)


def test_integer_cv_is_unshuffled_task_kfold():
    data = ragged()
    for ours, expected in zip(check_cv(4).split(data), TaskKFold(4).split(data)):
        for a, b in zip(ours[0] + ours[1], expected[0] + expected[1]):
            np.testing.assert_array_equal(a, b)


# -- scorers ----------------------------------------------------------------
class Fixed:
    """An "estimator" whose predictions and decision values are given."""

    def __init__(self, predictions):
        self.predictions = predictions

    def predict(self, data):
        return self.predictions

    decision_function = predict


def tiny(ys):
    return mc.MultiTaskData([np.zeros((len(y), 1)) for y in ys], ys)


REGRESSION = tiny([np.array([1.0, 2.0, 4.0]), np.array([0.0, 3.0])]), [np.array([1.5, 2.0, 3.0]), np.array([1.0, 1.0])]
LABELS = tiny([np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0])]), [np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0])]
RANKING = (tiny([np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0])]),
           [np.array([0.1, 0.8, 0.3, 0.4]), np.array([5.0, 7.0, 6.0])])

#: name: (sign, scikit-learn's metric of one task or of all samples pooled, default average, data); the data of
#: the ranking scorers hold decision values
REFERENCE = {
    "neg_mse": (-1, skm.mean_squared_error, "samples", REGRESSION),
    "neg_rmse": (-1, skm.root_mean_squared_error, "samples", REGRESSION),
    "r2": (1, skm.r2_score, "samples", REGRESSION),
    "explained_variance": (1, skm.explained_variance_score, "samples", REGRESSION),
    "accuracy": (1, skm.accuracy_score, "samples", LABELS),
    "roc_auc": (1, skm.roc_auc_score, "tasks", RANKING),
    "neg_log_loss": (-1, lambda y, z: skm.log_loss(y, expit(z), labels=[0.0, 1.0]), "samples", RANKING),
}


def test_every_scorer_name_has_a_reference_here():
    assert set(get_scorer_names()) <= set(REFERENCE) | {"neg_nmse"}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_scorer_equals_sklearn_metric_pooled_and_per_task(name):
    if name not in get_scorer_names():
        pytest.skip(f"{name} is not a scorer of this version")
    sign, metric, default, (data, predictions) = REFERENCE[name]
    pooled = sign * metric(np.concatenate(data.ys), np.concatenate(predictions))
    per_task = sign * np.mean([metric(y, p) for y, p in zip(data.ys, predictions)])
    assert abs(pooled - per_task) > 1e-3  # the data tell the two averages apart
    estimator = Fixed(predictions)
    assert get_scorer(f"{name}_pooled")(estimator, data) == pytest.approx(pooled, rel=1e-12)
    assert get_scorer(f"{name}_per_task")(estimator, data) == pytest.approx(per_task, rel=1e-12)
    assert get_scorer(name)(estimator, data) == pytest.approx(pooled if default == "samples" else per_task, rel=1e-12)
    assert get_scorer(name)(estimator, list(data.Xs), list(data.ys)) == get_scorer(name)(estimator, data)


def test_neg_nmse_is_the_gengl_definition():
    data, predictions = REGRESSION
    errors = [np.sum((y - p) ** 2) for y, p in zip(data.ys, predictions)]
    gengl = sum(e / np.var(y) for e, y in zip(errors, data.ys)) / sum(data.n_samples)
    per_task = np.mean([e / len(y) / np.var(y) for e, y in zip(errors, data.ys)])
    assert get_scorer("neg_nmse")(Fixed(predictions), data) == pytest.approx(-gengl, rel=1e-12)
    assert get_scorer("neg_nmse_pooled")(Fixed(predictions), data) == pytest.approx(-gengl, rel=1e-12)
    assert get_scorer("neg_nmse_per_task")(Fixed(predictions), data) == pytest.approx(-per_task, rel=1e-12)


@pytest.mark.parametrize("name", sorted(get_scorer_names()))
def test_scores_are_greater_is_better(name):
    data, predictions = REFERENCE.get(name, REFERENCE["neg_mse"])[3]
    perfect = [10.0 * (2 * y - 1) for y in data.ys] if data is RANKING[0] else list(data.ys)
    assert get_scorer(name)(Fixed(perfect), data) > get_scorer(name)(Fixed(predictions), data)
    if name.startswith("neg_"):
        assert get_scorer(name)(Fixed(predictions), data) < 0


@pytest.mark.parametrize("name", ["mse", "rmse", "nmse", "mse_per_task"])
def test_bare_error_name_is_refused_with_a_hint_to_the_negated_one(name):
    with pytest.raises(ValueError, match=f"neg_{name.split('_')[0]}"):
        get_scorer(name)


@pytest.mark.parametrize("alias, name", [("neg_mean_squared_error", "neg_mse"),
                                         ("neg_root_mean_squared_error", "neg_rmse"), ("auc", "roc_auc"),
                                         ("neg_mean_squared_error_per_task", "neg_mse_per_task")])
def test_aliases_score_as_their_names(alias, name):
    data, predictions = RANKING if name == "roc_auc" else REGRESSION
    assert get_scorer(alias)(Fixed(predictions), data) == get_scorer(name)(Fixed(predictions), data)


def test_unknown_scoring_is_refused():
    with pytest.raises(ValueError, match="unknown scoring"):
        get_scorer("neg_mae")
    with pytest.raises(TypeError, match="scoring"):
        get_scorer(3)


# -- cross-validation and grid search --------------------------------------
def test_grid_search_cv_results_have_sklearn_layout():
    grid = [{"lam": [0.1, 1.0]}, {"lam": [10.0], "scaling": ["mean"]}]
    search = GridSearch(mc.GroupLasso(), grid, cv=TaskKFold(3), scoring="neg_mse", return_train_score=True)
    results = search.fit(sparse_low_rank()).cv_results_
    expected = {"params", "param_lam", "param_scaling", "mean_fit_time", "std_fit_time", "mean_score_time",
                "std_score_time", "mean_test_score", "std_test_score", "rank_test_score", "mean_train_score",
                "std_train_score"} | {f"split{k}_{side}_score" for k in range(3) for side in ("test", "train")}
    assert set(results) == expected
    assert all(len(results[key]) == 3 for key in results)
    assert results["params"] == [{"lam": 0.1}, {"lam": 1.0}, {"lam": 10.0, "scaling": "mean"}]
    np.testing.assert_array_equal(np.ma.getmaskarray(results["param_scaling"]), [True, True, False])
    assert list(results["param_lam"]) == [0.1, 1.0, 10.0]
    splits = np.column_stack([results[f"split{k}_test_score"] for k in range(3)])
    np.testing.assert_allclose(results["mean_test_score"], splits.mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(results["std_test_score"], splits.std(axis=1), rtol=1e-14)
    rank = results["rank_test_score"]
    assert rank.dtype.kind == "i" and sorted(rank) == [1, 2, 3]
    assert np.all(np.argsort(rank) == np.argsort(-results["mean_test_score"]))
    assert search.n_splits_ == 3 and search.best_index_ == int(np.argmin(rank))


@pytest.mark.parametrize("scoring, score", [("neg_mse", neg_pooled_mse),
                                            (None, lambda ys, ps: skm.r2_score(np.concatenate(ys),
                                                                               np.concatenate(ps)))],
                         ids=["neg_mse", "default"])
def test_grid_search_chooses_the_argmax_of_a_manual_loop_and_refits_it(scoring, score):
    data = sparse_low_rank()
    cv = TaskKFold(3, shuffle=True, random_state=0)
    search = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=cv, scoring=scoring).fit(data)
    candidates = [{"lam": lam} for lam in LAMS]
    manual = manual_split_scores(mc.GroupLasso(), candidates, data, list(cv.split(data)), score)
    for k in range(3):
        np.testing.assert_allclose(search.cv_results_[f"split{k}_test_score"], manual[:, k], rtol=1e-10)
    best = int(np.argmax(manual.mean(axis=1)))
    assert 0 < best < len(LAMS) - 1  # the choice is not an end of the grid
    assert search.best_params_ == candidates[best]
    assert search.best_score_ == pytest.approx(manual.mean(axis=1)[best], rel=1e-10)
    refit = mc.GroupLasso(**candidates[best]).fit(data)
    np.testing.assert_allclose(search.best_estimator_.coef_, refit.coef_, rtol=1e-12, atol=1e-14)
    for ours, theirs in zip(search.predict(data), refit.predict(data)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cross_validate_equals_a_manual_loop():
    data = sparse_low_rank()
    cv = TaskShuffleSplit(3, test_size=0.3, random_state=2)
    result = cross_validate(mc.TraceNorm(lam=1.0), data, cv=cv, scoring="neg_mse", return_train_score=True)
    assert set(result) == {"fit_time", "score_time", "test_score", "train_score"}
    splits = list(cv.split(data))
    manual = manual_split_scores(mc.TraceNorm(lam=1.0), [{}], data, splits, neg_pooled_mse)[0]
    np.testing.assert_allclose(result["test_score"], manual, rtol=1e-10)
    trained = manual_split_scores(mc.TraceNorm(lam=1.0), [{}], data, [(tr, tr) for tr, _ in splits], neg_pooled_mse)
    np.testing.assert_allclose(result["train_score"], trained[0], rtol=1e-10)
    np.testing.assert_array_equal(cross_val_score(mc.TraceNorm(lam=1.0), data, cv=cv, scoring="neg_mse"),
                                  result["test_score"])


def test_grid_search_on_a_predefined_split_scores_the_validation_part():
    data = sparse_low_rank()
    train, val = data.split(0.3, random_state=0)
    joined, cv = PredefinedTaskSplit.from_parts(train, val)
    search = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=cv, scoring="neg_mse").fit(joined)
    expected = [neg_pooled_mse(val.ys, mc.GroupLasso(lam=lam).fit(train).predict(val)) for lam in LAMS]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected, rtol=1e-10)


def test_multi_metric_search_refits_on_the_named_metric():
    data = sparse_low_rank()
    search = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(3), scoring=["neg_mse", "r2_per_task"],
                        refit="r2_per_task").fit(data)
    results = search.cv_results_
    assert {"mean_test_neg_mse", "rank_test_neg_mse", "mean_test_r2_per_task", "rank_test_r2_per_task",
            "split2_test_r2_per_task"} <= set(results)
    assert "mean_test_score" not in results
    assert search.best_index_ == int(np.argmax(results["mean_test_r2_per_task"]))
    assert search.best_score_ == results["mean_test_r2_per_task"][search.best_index_]
    assert search.score(data) == pytest.approx(get_scorer("r2_per_task")(search.best_estimator_, data), rel=1e-14)
    per_task = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(3), scoring="r2_per_task").fit(data)
    np.testing.assert_array_equal(per_task.cv_results_["mean_test_score"], results["mean_test_r2_per_task"])


def test_multi_metric_as_a_dict_and_the_refit_argument():
    data = sparse_low_rank()
    scoring = {"err": "neg_rmse", "fit": "explained_variance"}
    search = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(3), scoring=scoring, refit="err").fit(data)
    assert search.best_index_ == int(np.argmax(search.cv_results_["mean_test_err"]))
    with pytest.raises(ValueError, match="refit"):
        GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(3), scoring=scoring, refit=True).fit(data)
    no_refit = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(3), scoring=scoring, refit=False).fit(data)
    assert "mean_test_fit" in no_refit.cv_results_ and not hasattr(no_refit, "best_estimator_")


def test_cross_validate_with_several_metrics():
    result = cross_validate(mc.GroupLasso(), sparse_low_rank(), cv=TaskKFold(3), scoring=["neg_mse", "r2"],
                            return_train_score=True, return_estimator=True)
    assert set(result) == {"fit_time", "score_time", "test_neg_mse", "test_r2", "train_neg_mse", "train_r2",
                           "estimator"}
    assert all(len(value) == 3 for value in result.values())
    with pytest.raises(ValueError, match="one metric"):
        cross_val_score(mc.GroupLasso(), sparse_low_rank(), cv=3, scoring=["neg_mse", "r2"])


def test_error_score_raise_raises_the_fit_error():
    search = GridSearch(mc.GroupLasso(), {"lam": [1.0, -1.0]}, cv=TaskKFold(3), scoring="neg_mse")
    with pytest.raises(ValueError, match="lam"):
        search.fit(sparse_low_rank())


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("error_score", [-99.0, np.nan])
def test_numeric_error_score_warns_and_scores_the_failed_candidate_last(error_score, n_jobs):
    search = GridSearch(mc.GroupLasso(), {"lam": [1.0, -1.0, 3.0]}, cv=TaskKFold(3), scoring="neg_mse",
                        error_score=error_score, n_jobs=n_jobs)
    with pytest.warns(FitFailedWarning, match="lam"):
        search.fit(sparse_low_rank())
    results = search.cv_results_
    for k in range(3):
        np.testing.assert_array_equal(results[f"split{k}_test_score"][1], error_score)
    assert results["rank_test_score"][1] == 3
    assert search.best_params_["lam"] > 0 and np.isfinite(search.best_score_)


def test_error_score_must_be_raise_or_a_number():
    with pytest.raises(ValueError, match="error_score"):
        cross_validate(mc.GroupLasso(), sparse_low_rank(), cv=3, error_score="ignore")


def test_nested_cross_validation_scores_an_inner_search_per_outer_split():
    data = sparse_low_rank()
    inner = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=TaskKFold(2, shuffle=True, random_state=0),
                       scoring="neg_mse")
    outer = TaskKFold(3, shuffle=True, random_state=1)
    result = cross_validate(inner, data, cv=outer, scoring="neg_mse", return_estimator=True)
    for k, (train, test) in enumerate(outer.split(data)):
        manual = clone(inner).fit(data.subset(train))
        assert result["estimator"][k].best_params_ == manual.best_params_
        expected = neg_pooled_mse(data.subset(test).ys, manual.predict(data.subset(test)))
        assert result["test_score"][k] == pytest.approx(expected, rel=1e-12)


def test_leave_tasks_out_scores_the_mean_task_of_a_fit_on_the_other_tasks():
    data = sparse_low_rank()
    cv = LeaveTasksOut(2, random_state=0)
    result = cross_validate(mc.GroupLasso(lam=1.0), data, cv=cv, scoring="neg_mse")
    for k, (train, test) in enumerate(cv.split(data)):
        fitted = [t for t in range(data.n_tasks) if len(train[t])]
        held = [t for t in range(data.n_tasks) if len(test[t])]
        est = mc.GroupLasso(lam=1.0).fit([data.Xs[t] for t in fitted], [data.ys[t] for t in fitted])
        w, b = est.coef_.mean(axis=1), est.intercept_.mean()
        expected = neg_pooled_mse([data.ys[t] for t in held], [data.Xs[t] @ w + b for t in held])
        assert result["test_score"][k] == pytest.approx(expected, rel=1e-10)


def test_leave_tasks_out_needs_a_model_of_new_tasks():
    with pytest.raises(TypeError, match="predict_new_tasks"):
        cross_validate(TaskMeans(), sparse_low_rank(), cv=LeaveTasksOut(2, random_state=0))
    result = cross_validate(TaskMeans(), sparse_low_rank(), cv=TaskKFold(3), scoring="neg_mse")
    assert np.all(result["test_score"] < 0)


def test_split_holding_out_part_of_the_tasks_and_part_of_others_is_refused():
    data = sparse_low_rank()
    train = [np.arange(20), np.arange(30), np.arange(30), np.zeros(0, dtype=int)]
    test = [np.arange(20, 30), np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.arange(30)]
    with pytest.raises(ValueError, match="share of every task"):
        cross_validate(mc.GroupLasso(), data, cv=[(train, test)])


class RecordingGroupLasso(mc.GroupLasso):
    """GroupLasso that records ``(lam, warm started)`` of every fit."""

    fits = []

    def fit(self, Xs, ys=None, coef_init=None):
        RecordingGroupLasso.fits.append((self.lam, coef_init is not None))
        return super().fit(Xs, ys, coef_init=coef_init)


def test_warm_start_walks_each_line_from_the_largest_value_down():
    RecordingGroupLasso.fits = []
    grid = {"lam": [1.0, 30.0, 0.03], "scaling": ["sum", "mean"]}
    GridSearch(RecordingGroupLasso(), grid, cv=TaskKFold(2), warm_start="lam", refit=False).fit(sparse_low_rank())
    line = [(30.0, False), (1.0, True), (0.03, True)]
    assert RecordingGroupLasso.fits == line * 4  # 2 splits x 2 lines of the grid


@pytest.mark.parametrize("estimator", [mc.GroupLasso(), mc.TraceNorm()], ids=lambda e: type(e).__name__)
def test_warm_start_scores_agree_with_cold_starts(estimator):
    data = sparse_low_rank()
    grid = {"lam": LAMS, "scaling": ["sum", "mean"]}
    cv = TaskKFold(3, shuffle=True, random_state=0)
    cold = GridSearch(estimator, grid, cv=cv, scoring="neg_mse").fit(data)
    warm = GridSearch(estimator, grid, cv=cv, scoring="neg_mse", warm_start="lam").fit(data)
    for key in ["mean_test_score"] + [f"split{k}_test_score" for k in range(3)]:
        np.testing.assert_allclose(warm.cv_results_[key], cold.cv_results_[key], rtol=1e-6)
    assert warm.best_params_ == cold.best_params_
    assert warm.cv_results_["params"] == cold.cv_results_["params"]


def test_warm_start_is_refused_without_coef_init_or_outside_the_grid():
    data = sparse_low_rank()
    with pytest.raises(ValueError, match="coef_init"):
        GridSearch(mc.SGMTL(n_init=1), {"lam": [0.1, 1.0]}, cv=3, warm_start="lam").fit(data)
    with pytest.raises(ValueError, match="warm_start='lam'"):
        GridSearch(mc.GroupLasso(), {"scaling": ["sum", "mean"]}, cv=3, warm_start="lam").fit(data)
    with pytest.raises(TypeError, match="warm_start"):
        GridSearch(mc.GroupLasso(), {"lam": [0.1, 1.0]}, cv=3, warm_start=True).fit(data)


def test_param_grid_naming_an_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="alpha"):
        GridSearch(mc.GroupLasso(), {"alpha": [1.0]}, cv=3).fit(sparse_low_rank())


@pytest.mark.parametrize("estimator, grid", [
    (mc.GroupLasso(), {"lam": [0.1, 1.0, 10.0]}),
    (mc.SGMTL(n_init=2, max_iter=5, random_state=0), {"lam": [0.1, 1.0], "n_groups": [2]}),
], ids=["GroupLasso", "SGMTL"])
def test_n_jobs_does_not_change_the_results(estimator, grid):
    data = sparse_low_rank()
    cv = TaskKFold(3, shuffle=True, random_state=0)
    one = GridSearch(estimator, grid, cv=cv, scoring=["neg_mse", "r2"], refit="neg_mse", n_jobs=1).fit(data)
    two = GridSearch(estimator, grid, cv=cv, scoring=["neg_mse", "r2"], refit="neg_mse", n_jobs=2).fit(data)
    assert_same_cv_results(one.cv_results_, two.cv_results_)
    assert one.best_params_ == two.best_params_
    np.testing.assert_array_equal(one.best_estimator_.coef_, two.best_estimator_.coef_)
    seq = cross_validate(estimator, data, cv=cv, n_jobs=1)
    par = cross_validate(estimator, data, cv=cv, n_jobs=2)
    np.testing.assert_array_equal(seq["test_score"], par["test_score"])


def test_verbose_reports_progress_on_stderr_and_silence_prints_nothing(capsys):
    data = sparse_low_rank()
    GridSearch(mc.GroupLasso(), {"lam": [0.1, 1.0]}, cv=TaskKFold(2), verbose=0).fit(data)
    cross_validate(mc.GroupLasso(), data, cv=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    GridSearch(mc.GroupLasso(), {"lam": [0.1, 1.0]}, cv=TaskKFold(2), verbose=1).fit(data)
    captured = capsys.readouterr()
    assert captured.out == "" and "GridSearch GroupLasso" in captured.err


def test_verbose_without_tqdm_prints_lines_of_progress(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # an import of it now raises ImportError
    cross_validate(mc.GroupLasso(), sparse_low_rank(), cv=TaskKFold(3), verbose=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.splitlines()[-1] == "[cross_validate GroupLasso] 3/3"


# -- scikit-learn's tools through LongFormat --------------------------------
@pytest.mark.parametrize("sk_scoring, scoring", [("neg_mean_squared_error", "neg_mse"), (None, None)],
                         ids=["neg_mse", "default_r2"])
def test_sklearn_grid_search_cv_through_long_format_matches_grid_search(sk_scoring, scoring):
    table, X, y, labels = long_table()
    cv = TaskKFold(3, shuffle=True, random_state=0)
    theirs = GridSearchCV(LongFormat(mc.GroupLasso(), task_column=0), {"estimator__lam": LAMS}, cv=cv,
                          scoring=sk_scoring).fit(table, y, groups=labels)
    ours = GridSearch(mc.GroupLasso(), {"lam": LAMS}, cv=cv, scoring=scoring).fit(
        mc.MultiTaskData.from_long(X, y, labels))
    for key in ["mean_test_score"] + [f"split{k}_test_score" for k in range(3)]:
        np.testing.assert_allclose(theirs.cv_results_[key], ours.cv_results_[key], rtol=1e-10)
    assert theirs.best_params_ == {"estimator__lam": ours.best_params_["lam"]}
    np.testing.assert_allclose(theirs.best_estimator_.estimator_.coef_, ours.best_estimator_.coef_, rtol=1e-12)


def test_sklearn_cross_val_score_with_stratified_folds_on_the_task_label():
    table, X, y, labels = long_table()
    splits = list(StratifiedKFold(3, shuffle=True, random_state=0).split(table, labels))
    theirs = sk_cross_val_score(LongFormat(mc.GroupLasso(), task_column=0), table, y, cv=splits)
    per_task = [(to_per_task(train, labels), to_per_task(test, labels)) for train, test in splits]
    ours = cross_val_score(mc.GroupLasso(), mc.MultiTaskData.from_long(X, y, labels), cv=per_task)
    np.testing.assert_allclose(theirs, ours, rtol=1e-10)


def test_sklearn_group_kfold_on_the_task_label_predicts_unseen_tasks_as_new():
    table, X, y, labels = long_table()
    cv = GroupKFold(2)
    theirs = sk_cross_val_score(LongFormat(mc.GroupLasso(), task_column=0, unseen_tasks="new"), table, y,
                                groups=labels, cv=cv)
    per_task = [(to_per_task(train, labels), to_per_task(test, labels)) for train, test in cv.split(table, y, labels)]
    ours = cross_val_score(mc.GroupLasso(), mc.MultiTaskData.from_long(X, y, labels), cv=per_task)
    np.testing.assert_allclose(theirs, ours, rtol=1e-10)
    with pytest.raises(ValueError, match="unseen_tasks"):
        sk_cross_val_score(LongFormat(mc.GroupLasso(), task_column=0), table, y, groups=labels, cv=cv,
                           error_score="raise")


def test_long_format_refuses_a_bad_unseen_tasks_and_ambiguous_task_sources():
    table, X, y, labels = long_table()
    with pytest.raises(ValueError, match="unseen_tasks"):
        LongFormat(mc.GroupLasso(), task_column=0, unseen_tasks="mean").fit(table, y)
    with pytest.raises(ValueError, match="tasks="):
        LongFormat(mc.GroupLasso()).fit(X, y)
    with pytest.raises(ValueError, match="one of the two"):
        LongFormat(mc.GroupLasso(), task_column=0).fit(table, y, tasks=labels)
    with pytest.raises(ValueError, match="task_column=12"):
        LongFormat(mc.GroupLasso(), task_column=12).fit(table, y)


def per_task_standardised(table, train, column):
    """``table`` with every feature standardised by the mean and (population)
    standard deviation of its task's rows in ``train``."""
    out = table.astype(float).copy()
    features = [j for j in range(table.shape[1]) if j != column]
    for label in np.unique(table[:, column]):
        rows, fit_rows = table[:, column] == label, train & (table[:, column] == label)
        block = table[np.ix_(fit_rows, features)]
        out[np.ix_(rows, features)] = (table[np.ix_(rows, features)] - block.mean(axis=0)) / block.std(axis=0)
    return out


def test_task_scaler_standardises_each_task_and_keeps_the_task_column():
    table, _, _, labels = long_table()
    moved = np.column_stack([table[:, 1:3], labels, table[:, 3:]])  # the task column in the middle
    scaled = TaskScaler(task_column=2).fit_transform(moved)
    np.testing.assert_array_equal(scaled[:, 2], labels)
    for label in np.unique(labels):
        block = np.delete(scaled[labels == label], 2, axis=1)
        np.testing.assert_allclose(block.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(block.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(scaled, per_task_standardised(moved, np.ones(len(labels), bool), 2), rtol=1e-12)


def test_task_scaler_scales_an_unseen_task_by_the_pooled_statistics_and_centres_constant_features():
    table, _, _, labels = long_table()
    table[labels == 2.0, 1] = 4.0  # constant in one task
    train = labels != 7.0
    scaler = TaskScaler(task_column=0).fit(table[train])
    unseen = scaler.transform(table[~train])
    pooled = table[train][:, 1:]
    np.testing.assert_allclose(unseen[:, 1:], (table[~train][:, 1:] - pooled.mean(0)) / pooled.std(0), rtol=1e-12)
    np.testing.assert_array_equal(scaler.transform(table[labels == 2.0])[:, 1], 0.0)


def test_pipeline_of_task_scaler_and_long_format_fits_on_per_task_standardised_features():
    table, _, y, labels = long_table()
    train = np.isin(np.arange(len(y)), next(TaskKFold(3, shuffle=True, random_state=0).split(table, groups=labels))[0])
    pipe = scaled_group_lasso()
    predicted = pipe.fit(table[train], y[train]).predict(table[~train])
    scaled = per_task_standardised(table, train, 0)
    manual = LongFormat(mc.GroupLasso(), task_column=0).fit(scaled[train], y[train]).predict(scaled[~train])
    np.testing.assert_allclose(predicted, manual, rtol=1e-10)
    scores = sk_cross_val_score(pipe, table, y, groups=labels, cv=TaskKFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("cv, unseen", [(GroupKFold(2), "new"), (TaskKFold(3, shuffle=True, random_state=0), "error")],
                         ids=["GroupKFold", "TaskKFold"])
def test_tasks_routed_as_metadata_equal_the_tasks_of_a_column(cv, unseen):
    table, X, y, labels = long_table()
    grid = {"model__estimator__lam": LAMS}
    with sklearn.config_context(enable_metadata_routing=True):
        routed = Pipeline([("scale", TaskScaler()), ("model", LongFormat(mc.GroupLasso(), unseen_tasks=unseen))])
        routed = GridSearchCV(routed, grid, cv=cv).fit(X, y, groups=labels, tasks=labels)
    column = Pipeline([("scale", TaskScaler(task_column=0)),
                       ("model", LongFormat(mc.GroupLasso(), task_column=0, unseen_tasks=unseen))])
    column = GridSearchCV(column, grid, cv=cv).fit(table, y, groups=labels)
    assert np.all(np.isfinite(routed.cv_results_["mean_test_score"]))
    np.testing.assert_allclose(routed.cv_results_["mean_test_score"], column.cv_results_["mean_test_score"],
                               rtol=1e-10)
    assert routed.best_params_ == column.best_params_


@pytest.mark.parametrize("call", [
    lambda Xs, ys: GridSearchCV(mc.GroupLasso(), {"lam": [0.1, 1, 10]}, cv=3).fit(Xs, ys),
    lambda Xs, ys: GridSearchCV(mc.GroupLasso(), {"lam": [0.1, 1, 10]}, cv=3, n_jobs=2).fit(Xs, ys),
    lambda Xs, ys: sk_cross_val_score(mc.GroupLasso(), Xs, ys, cv=3),
], ids=["GridSearchCV", "GridSearchCV_n_jobs_2", "cross_val_score"])
def test_bare_estimator_in_sklearn_model_selection_raises_with_a_hint(call):
    data = sparse_low_rank()
    with pytest.raises(ValueError) as info:
        call(list(data.Xs), list(data.ys))
    assert "mtlcvx.model_selection" in str(info.value) and "LongFormat" in str(info.value)


def test_bare_estimator_outside_sklearn_model_selection_fits_lists():
    data = sparse_low_rank()
    assert mc.GroupLasso().fit(list(data.Xs), list(data.ys)).n_tasks_ == 4


def test_predict_on_fewer_tasks_than_fitted_hints_at_long_format():
    data = sparse_low_rank()
    est = mc.GroupLasso().fit(data)
    with pytest.raises(ValueError, match="fitted on 4.*LongFormat"):
        est.predict(list(data.Xs[:2]))
    with pytest.raises(ValueError) as info:
        est.predict(list(data.Xs) + [data.Xs[0]])
    assert "LongFormat" not in str(info.value)


def test_string_task_labels_pass_through_task_scaler_and_long_format():
    table, X, y, labels = long_table()
    named = np.column_stack([string_labels(labels), X]).astype(object)
    np.testing.assert_array_equal(TaskScaler(task_column=0).fit_transform(named)[:, 0], string_labels(labels))
    by_name = scaled_group_lasso().fit(named, y)
    # scaling an object array and a float one may differ in the last bit, and coordinate descent's path with
    # them: the two optima agree to what their duality gaps (1e-9) certify
    np.testing.assert_allclose(by_name.predict(named), scaled_group_lasso().fit(table, y).predict(table), rtol=1e-7)
    assert list(by_name[-1].tasks_) == ["a", "b", "c", "d"]


def test_long_format_reads_a_named_task_column_of_a_dataframe():
    pd = pytest.importorskip("pandas")
    table, X, y, labels = long_table()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    frame.insert(3, "school", string_labels(labels))
    by_name = LongFormat(mc.GroupLasso(), task_column="school").fit(frame, y)
    by_number = LongFormat(mc.GroupLasso(), task_column=0).fit(table, y)
    # the features come in another order (the task column sits elsewhere), and coordinate descent's path
    # depends on the order: the two optima agree to what their duality gaps (1e-9) certify
    np.testing.assert_allclose(by_name.predict(frame), by_number.predict(table), rtol=1e-7)
    assert list(by_name.tasks_) == ["a", "b", "c", "d"]
    # TaskScaler returns an array: the next step finds the task column by its position
    scaled = scaled_group_lasso(task_column=3, scaler_task_column="school").fit(frame, y)
    np.testing.assert_allclose(scaled.predict(frame), scaled_group_lasso().fit(table, y).predict(table), rtol=1e-7)
    with pytest.raises(ValueError, match="school_id.*x0"):
        LongFormat(mc.GroupLasso(), task_column="school_id").fit(frame, y)


def test_long_format_of_a_logistic_estimator_is_a_classifier():
    table, _, y, labels = long_table()
    labels01 = (y > 0).astype(float)
    clf = LongFormat(mc.GroupLasso(loss="logistic", fit_intercept=False, lam=1.0), task_column=0)
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(LongFormat(mc.GroupLasso(), task_column=0))
    clf.fit(table, labels01)
    np.testing.assert_array_equal(clf.classes_, [0.0, 1.0])
    proba = clf.predict_proba(table)
    assert proba.shape == (len(y), 2) and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(table), np.where(proba[:, 1] >= 0.5, 1.0, 0.0))
    assert clf.score(table, labels01) == pytest.approx(np.mean(clf.predict(table) == labels01), rel=1e-14)
    with pytest.raises(AttributeError, match="logistic"):
        LongFormat(mc.GroupLasso(), task_column=0).fit(table, y).predict_proba(table)


# -- fit(coef_init=...) -----------------------------------------------------
@pytest.mark.parametrize("cls", [mc.GroupLasso, mc.TraceNorm, mc.ClusMTL], ids=lambda c: c.__name__)
def test_coef_init_reaches_the_cold_solution(cls):
    data = sparse_low_rank()
    cold = cls().fit(data)
    start = np.random.default_rng(1).normal(size=(data.n_features, data.n_tasks))
    warm = cls().fit(data, coef_init=start)
    assert abs(warm.objective(data) - cold.objective(data)) <= 1e-8 * abs(cold.objective(data))
    hot = cls().fit(data, coef_init=cold.coef_)  # starting at the optimum: the start is used
    assert hot.n_iter_ < cold.n_iter_


def test_coef_init_of_a_wrong_shape_or_not_finite_is_refused():
    data = sparse_low_rank()
    with pytest.raises(ValueError, match="coef_init has shape"):
        mc.GroupLasso().fit(data, coef_init=np.zeros((data.n_tasks, data.n_features)))
    with pytest.raises(ValueError, match="coef_init"):
        mc.GroupLasso().fit(data, coef_init=np.full((data.n_features, data.n_tasks), np.nan))


@pytest.mark.parametrize("est", [mc.SGMTL(n_init=1), mc.AllTasks()], ids=lambda e: type(e).__name__)
def test_coef_init_on_an_estimator_without_support_is_a_type_error(est):
    data = sparse_low_rank()
    with pytest.raises(TypeError, match="coef_init"):
        est.fit(data, coef_init=np.zeros((data.n_features, data.n_tasks)))


# -- documentation ----------------------------------------------------------
@pytest.mark.parametrize("module", [_split, _scoring, _search, _adapter], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
