"""Learn groups of related tasks with BiGMTL on the paper's synthetic set
(here 18 tasks in 3 groups whose weights lie in orthogonal subspaces), check
the hypergradient it follows against CVXPY's, and verify the final refit.

BiGMTL does not know that there are 3 groups: it may use up to 6."""

import pathlib
import warnings

import numpy as np

import mtlcvx as mc
from mtlcvx.bilevel import bigmtl_hypergradient
from mtlcvx.datasets import make_bigmtl_synthetic
from mtlcvx.models.bigmtl import group_error
from mtlcvx.plotting import have_matplotlib, save_figure, task_similarity_figure

(train, test), W_true, theta_true = make_bigmtl_synthetic(tasks_per_group=6, n_samples=(20, 10), random_state=3)

est = mc.BiGMTL(n_groups=6, lam=0.03, strategy="mccv", n_inner=100, max_iter=25, fit_intercept=False,
                random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", mc.ConvergenceWarning)  # 25 outer iterations, on purpose
    est.fit(train)
print("groups found:", est.labels_)
print(f"relative group error {group_error(est.theta_, theta_true):.3f}, "
      f"test MSE {mc.metrics.mse(test.ys, est.predict(test)):.4f}")

# the exact hypergradient (numpy, ADMM fixed point) against CVXPY's implicit differentiation, on
# 2 tasks of each group and with eps = 0.1: SCS's semidefinite solves grow fast with T and slow
# down as eps shrinks
tasks = [0, 1, 6, 7, 12, 13]
small = mc.MultiTaskData([train.Xs[t] for t in tasks], [train.ys[t] for t in tasks])
part, held_out = small.split(test_size=0.5, random_state=0)
theta = np.random.default_rng(0).dirichlet(np.ones(3), size=len(tasks))
_, exact = bigmtl_hypergradient(part, held_out, theta, 0.1, eps=0.1, method="fixed-point")
_, reference = bigmtl_hypergradient(part, held_out, theta, 0.1, eps=0.1, method="implicit")
print("hypergradients apart by", np.linalg.norm(exact - reference) / np.linalg.norm(reference))

# the refit with the learned theta is a convex problem: check it against its CVXPY optimum
model, params = est.reference_model(train)
print(mc.verify(est, model, **params))

if have_matplotlib():
    path = pathlib.Path("bigmtl_groups.png")
    save_figure(task_similarity_figure({"truth": theta_true @ theta_true.T, "BiGMTL": est.theta_ @ est.theta_.T},
                                       "theta theta^T"), path)
    print(f"figure: {path}")
