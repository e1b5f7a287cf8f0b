"""MultiTaskData: validation (each error names the argument and task),
immutability of inputs, splitting, long-format construction."""

import numpy as np
import pytest

import mtlcvx as mc


def _good(T=3, d=4, n=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, d)) for _ in range(T)], [rng.normal(size=n) for _ in range(T)]


def test_basic_attributes_and_access():
    Xs, ys = _good()
    data = mc.MultiTaskData(Xs, ys)
    assert (data.n_tasks, data.n_features, len(data)) == (3, 4, 3)
    X1, y1 = data[1]
    np.testing.assert_array_equal(X1, Xs[1])
    np.testing.assert_array_equal(y1, ys[1])
    assert "n_tasks=3" in repr(data) and "n_features=4" in repr(data)


@pytest.mark.parametrize(
    "Xs, ys, exc, words",
    [
        (np.zeros((3, 4)), [np.zeros(3)], TypeError, ["Xs", "list"]),
        ([], [], ValueError, ["Xs", "empty"]),
        ([np.zeros((0, 4))], [np.zeros(0)], ValueError, ["Xs[0]", "0 samples"]),
        ([np.zeros((3, 4)), np.zeros(3)], [np.zeros(3)] * 2, ValueError, ["Xs[1]", "2-D"]),
        ([np.zeros((3, 4, 2))], [np.zeros(3)], ValueError, ["Xs[0]", "2-D"]),
        ([np.zeros((3, 4)), np.zeros((3, 5))], [np.zeros(3)] * 2, ValueError, ["Xs[1]", "features"]),
        ([np.zeros((3, 4)), np.zeros((3, 4))], [np.zeros(3), np.zeros(2)], ValueError, ["ys[1]", "samples"]),
        ([np.zeros((3, 4))], [np.zeros((3, 2))], ValueError, ["ys[0]"]),
        ([np.zeros((3, 4)), np.full((3, 4), np.nan)], [np.zeros(3)] * 2, ValueError, ["Xs[1]", "NaN"]),
        ([np.zeros((3, 4))], [np.array([0.0, np.inf, 1.0])], ValueError, ["ys[0]", "infinite"]),
        ([np.array([["a", "b"], ["c", "d"]])], [np.zeros(2)], TypeError, ["Xs[0]", "non-numeric"]),
        ([np.zeros((3, 4), dtype=complex)], [np.zeros(3)], TypeError, ["Xs[0]", "complex"]),
        ([np.zeros((3, 4))], [np.zeros(3), np.zeros(3)], ValueError, ["Xs", "ys"]),
    ],
)
def test_malformed_input_names_argument_and_task(Xs, ys, exc, words):
    with pytest.raises(exc) as info:
        mc.MultiTaskData(Xs, ys)
    for word in words:
        assert word in str(info.value)


def test_object_arrays_of_numbers_are_accepted():
    data = mc.MultiTaskData([np.array([[1, 2], [3, 4]], dtype=object)], [np.array([1, 2], dtype=object)])
    assert data.Xs[0].dtype == np.float64


def test_column_target_is_flattened():
    Xs, ys = _good()
    data = mc.MultiTaskData(Xs, [y[:, None] for y in ys])
    assert data.ys[0].ndim == 1


def test_inputs_are_never_modified_and_storage_is_read_only():
    Xs, ys = _good()
    copies = [X.copy() for X in Xs], [y.copy() for y in ys]
    data = mc.MultiTaskData(Xs, ys)
    data.split(0.4, random_state=0)
    data.centered()
    mc.GroupLasso(lam=0.1).fit(Xs, ys)
    for X, X_copy in zip(Xs, copies[0]):
        np.testing.assert_array_equal(X, X_copy)
    for y, y_copy in zip(ys, copies[1]):
        np.testing.assert_array_equal(y, y_copy)
    Xs[0][0, 0] = 123.0
    assert data.Xs[0][0, 0] != 123.0
    with pytest.raises(ValueError):
        data.Xs[0][0, 0] = 1.0


def test_split_is_per_task_reproducible_and_disjoint():
    Xs, ys = _good(T=2, n=10)
    data = mc.MultiTaskData(Xs, ys)
    train, test = data.split(test_size=0.3, random_state=4)
    assert train.n_samples == [7, 7] and test.n_samples == [3, 3]
    train2, _ = data.split(test_size=0.3, random_state=4)
    np.testing.assert_array_equal(train.Xs[0], train2.Xs[0])
    rows = {tuple(r) for r in Xs[0]}
    assert {tuple(r) for r in train.Xs[0]} | {tuple(r) for r in test.Xs[0]} == rows
    assert not {tuple(r) for r in train.Xs[0]} & {tuple(r) for r in test.Xs[0]}
    _, test_int = data.split(test_size=2, random_state=0)
    assert test_int.n_samples == [2, 2]


@pytest.mark.parametrize("bad, exc", [(1.5, ValueError), (0, ValueError), (10, ValueError), ("a", TypeError)])
def test_split_rejects_bad_test_size(bad, exc):
    data = mc.MultiTaskData(*_good(n=10))
    with pytest.raises(exc, match="test_size"):
        data.split(test_size=bad)


def test_from_long_keeps_task_labels_and_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 2))
    y = rng.normal(size=9)
    tasks = np.array(["b", "a", "b", "c", "a", "b", "c", "c", "a"])
    data = mc.MultiTaskData.from_long(X, y, tasks)
    assert data.task_labels == ["a", "b", "c"]
    np.testing.assert_array_equal(data.Xs[1], X[tasks == "b"])
    np.testing.assert_array_equal(data.ys[2], y[tasks == "c"])


def test_from_long_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        mc.MultiTaskData.from_long(np.zeros((4, 2)), np.zeros(4), np.zeros(3))


def test_shared_design_detection():
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert mc.MultiTaskData([X, X.copy()], [np.zeros(5)] * 2).shares_X
    assert not mc.MultiTaskData([X, X + 1], [np.zeros(5)] * 2).shares_X


def test_a_design_passed_for_several_tasks_is_stored_once():
    # [X] * m is one validated copy, held by every task; centring, scaling
    # and taking the same rows keep it one array (shares_X by identity)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3))
    ys = [rng.normal(size=8) for _ in range(4)]
    data = mc.MultiTaskData([X] * 4, ys)
    assert data.Xs[0] is not X and all(Xt is data.Xs[0] for Xt in data.Xs)
    np.testing.assert_array_equal(data.Xs[0], X)
    centred, X_means, _ = data.centered()
    assert all(Xt is centred.Xs[0] for Xt in centred.Xs)
    np.testing.assert_allclose(centred.Xs[0], X - X.mean(axis=0))
    np.testing.assert_allclose(X_means, np.repeat(X.mean(axis=0)[:, None], 4, axis=1))
    same_rows = data.subset([np.arange(5)] * 4)
    assert all(Xt is same_rows.Xs[0] for Xt in same_rows.Xs)
    # different rows per task: different designs
    other = data.subset([np.arange(5)] * 3 + [np.arange(1, 6)])
    assert other.Xs[3] is not other.Xs[0] and other.Xs[1] is other.Xs[0] and not other.shares_X
    # a second object equal to the first is still recognised, but stored apart
    twin = mc.MultiTaskData([X, X.copy()], ys[:2])
    assert twin.Xs[0] is not twin.Xs[1] and twin.shares_X
    # the caller's X is untouched and the shared copy read-only
    with pytest.raises(ValueError):
        data.Xs[2][0, 0] = 1.0


def test_folds_partition_every_task():
    Xs, ys = _good(T=2, n=11)
    data = mc.MultiTaskData(Xs, ys)
    folds = list(data.folds(n_splits=4, random_state=0))
    assert len(folds) == 4
    for t in range(2):
        test_rows = np.concatenate([test.ys[t] for _, test in folds])
        assert sorted(test_rows.tolist()) == sorted(ys[t].tolist())
        for train, test in folds:
            assert train.n_samples[t] + test.n_samples[t] == 11
    with pytest.raises(ValueError, match="n_splits"):
        list(data.folds(n_splits=1))
    with pytest.raises(ValueError, match="fewer than n_splits"):
        list(data.folds(n_splits=20))
