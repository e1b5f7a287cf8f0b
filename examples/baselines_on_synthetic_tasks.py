"""Fit every convex baseline on tasks with a row-sparse, low-rank W and
compare test errors; draw the learned W next to the true one."""

import pathlib

import mtlcvx as mc
from mtlcvx.datasets import make_sparse_low_rank
from mtlcvx.metrics import mse
from mtlcvx.plotting import have_matplotlib, plot_heatmaps

data, W_true = make_sparse_low_rank(n_tasks=8, n_features=40, n_samples=60, n_relevant=6, rank=2,
                                    random_state=0)
train, test = data.split(test_size=0.3, random_state=0)

estimators = {
    "STL": mc.STL(lam=10.0),
    "AllTasks": mc.AllTasks(lam=1.0),
    "GroupLasso": mc.GroupLasso(lam=15.0),
    "TraceNorm": mc.TraceNorm(lam=40.0),
    "ClusMTL": mc.ClusMTL(n_clusters=2, rho1=1.0, rho2=1.0),
}
weights = {"true W": W_true}
for name, est in estimators.items():
    est.fit(train)
    weights[name] = est.coef_
    print(f"{name:<11} test MSE {mse(test.ys, est.predict(test)):.3f}")

if have_matplotlib():
    path = pathlib.Path("baselines_weights.png")
    plot_heatmaps(weights, path, shared_scale=True)
    print(f"figure: {path}")
