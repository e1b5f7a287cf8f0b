"""A grid search on a Dask cluster (joblib's "dask" backend) gives the
results of a sequential run: work is placed by index, never by the order in
which workers finish."""

import joblib
import pytest

import mtlcvx as mc
from mtlcvx.model_selection import GridSearch, TaskKFold

from test_model_selection import assert_same_cv_results

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_grid_search_on_a_dask_cluster_equals_a_sequential_run(client):
    data, _ = mc.datasets.make_sparse_low_rank(n_tasks=4, n_features=10, n_samples=30, random_state=0)

    def search(**kwargs):
        return GridSearch(mc.GroupLasso(), {"lam": [0.1, 1.0, 10.0]}, cv=TaskKFold(3), scoring=["neg_mse", "r2"],
                          refit="neg_mse", **kwargs)

    sequential = search(n_jobs=1).fit(data)
    with distributed.get_task_stream(client) as stream, joblib.parallel_config("dask"):
        on_cluster = search().fit(data)
    assert len(stream.data) > 0  # the fits ran on the cluster's workers
    assert_same_cv_results(on_cluster.cv_results_, sequential.cv_results_)
    assert on_cluster.best_params_ == sequential.best_params_
