"""The real-data loaders: counts, feature subsets, row order, arguments, and the unbundled Computer survey."""

import pathlib
import warnings

import numpy as np
import pytest

import mtlcvx as mc
from mtlcvx.datasets import load_computer, load_parkinsons, load_school
from mtlcvx.datasets.real import DATA_ENV

SHARED = pathlib.Path("/work/shared/data")
BUNDLED = pathlib.Path(mc.datasets.__file__).parent / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "computer" / "computer.npz").is_file(),
                                  reason="the unbundled Computer survey is only in /work/shared/data")


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch):
    # a user's MTLCVX_DATA would change where the loaders read
    monkeypatch.delenv(DATA_ENV, raising=False)


@pytest.fixture(scope="module")
def school():
    return load_school()


@pytest.fixture(scope="module")
def parkinsons_npz():
    with np.load(BUNDLED / "parkinsons.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_school_counts_and_names(school):
    assert isinstance(school, mc.MultiTaskData)
    assert (school.n_tasks, school.n_features, sum(school.n_samples)) == (139, 27, 15362)
    assert (min(school.n_samples), max(school.n_samples)) == (22, 251)
    assert len(school.feature_names) == 27 and school.feature_names[3] == "pct_fsm"
    assert school.task_labels == list(range(139))


def test_school_rows_keep_file_order_per_task(school):
    with np.load(BUNDLED / "school.npz") as npz:
        X, y, task = npz["X"], npz["y"], npz["task"]
    for t in (0, 57, 138):
        np.testing.assert_array_equal(school.Xs[t], X[task == t])
        np.testing.assert_array_equal(school.ys[t], y[task == t])


def test_school_raw_is_the_long_table(school):
    raw = load_school(return_raw=True)
    assert raw["X"].shape == (15362, 27) and list(raw["feature_names"]) == school.feature_names
    np.testing.assert_array_equal(np.concatenate(school.ys), raw["y"])
    assert not any(a.flags.writeable for a in raw.values())


def test_returned_arrays_are_read_only_fresh_copies(school):
    again = load_school()
    assert not school.Xs[0].flags.writeable and not school.ys[0].flags.writeable
    assert not np.shares_memory(school.Xs[0], again.Xs[0])
    assert not np.shares_memory(load_school(return_raw=True)["X"], load_school(return_raw=True)["X"])


@pytest.mark.parametrize("features, columns", [
    ("all", list(range(19))),
    ("ggmtl", [0, 1, *range(3, 19)]),
    ("gengl", list(range(3, 19))),
])
@pytest.mark.parametrize("target, key", [("total", "y"), ("motor", "y_motor")])
def test_parkinsons_features_and_target_are_the_documented_slices(parkinsons_npz, features, columns, target, key):
    data = load_parkinsons(target=target, features=features)
    task = parkinsons_npz["task"]
    assert (data.n_tasks, sum(data.n_samples), data.n_features) == (42, 5875, len(columns))
    assert data.feature_names == [str(n) for n in parkinsons_npz["feature_names"][columns]]
    assert data.task_labels == list(range(42))
    for t in (0, 41):
        np.testing.assert_array_equal(data.Xs[t], parkinsons_npz["X"][task == t][:, columns])
        np.testing.assert_array_equal(data.ys[t], parkinsons_npz[key][task == t])


def test_parkinsons_subsets_drop_the_named_columns():
    assert "test_time" not in load_parkinsons(features="ggmtl").feature_names
    gengl = load_parkinsons(features="gengl").feature_names
    assert gengl[0] == "Jitter(%)" and gengl[-1] == "PPE" and len(gengl) == 16


@pytest.mark.parametrize("call, argument", [
    (lambda: load_parkinsons(target="updrs"), "target"),
    (lambda: load_parkinsons(features=18), "features"),
    (lambda: load_computer(split="validation"), "split"),
])
def test_bad_argument_raises_value_error_naming_it(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be one of"):
        call()


def test_computer_without_data_says_where_it_looked_and_how_to_provide_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_computer(data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "computer" / "computer.npz") in message and str(tmp_path / "computer.npz") in message
    assert "data_home" in message and DATA_ENV in message and "licence" in message
    with pytest.raises(FileNotFoundError, match="unset"):
        load_computer()


def test_data_home_without_the_file_falls_back_to_the_bundled_copy(tmp_path, school):
    np.testing.assert_array_equal(load_school(data_home=tmp_path).Xs[5], school.Xs[5])


def test_corrupted_file_raises_a_clear_error(tmp_path):
    with np.load(BUNDLED / "school.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "school.npz", **{**arrays, "X": arrays["X"][:, :26]})
    with pytest.raises(ValueError, match="does not hold the school dataset.*X has shape"):
        load_school(data_home=tmp_path)


@needs_shared
@pytest.mark.parametrize("split, n_rows", [(None, 20), ("train", 16), ("test", 4)])
def test_computer_from_data_home(split, n_rows):
    data = load_computer(data_home=SHARED, split=split)
    assert (data.n_tasks, data.n_features, set(data.n_samples)) == (180, 13, {n_rows})
    assert len(data.feature_names) == 13


@needs_shared
def test_computer_found_through_the_environment_variable(monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(SHARED))
    assert load_computer(split="test").n_tasks == 180


@needs_shared
def test_computer_splits_partition_each_persons_rows():
    full, train, test = (load_computer(data_home=SHARED, split=s) for s in (None, "train", "test"))
    for t in (0, 179):
        np.testing.assert_array_equal(full.Xs[t], np.vstack([train.Xs[t], test.Xs[t]]))


def test_group_lasso_fits_school(school):
    with warnings.catch_warnings():
        # unscaled features (percentages up to 91 beside 0/1 columns) slow the solver to its
        # iteration cap; the smoke test checks the pipeline, not the accuracy
        warnings.simplefilter("ignore", mc.ConvergenceWarning)
        est = mc.GroupLasso(lam=10.0).fit(school)
    predictions = est.predict(list(school.Xs))
    assert len(predictions) == 139
    assert all(p.shape == (n,) for p, n in zip(predictions, school.n_samples))
