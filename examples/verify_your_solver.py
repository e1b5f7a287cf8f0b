"""Check a solver you wrote (here: scikit-learn's MultiTaskLasso) against
the certified CVXPY optimum of the same objective.

scikit-learn minimises 1/(2n) ||Y - X B^T||_F^2 + alpha sum_j ||B_:j||_2 with
one X shared by the tasks: mtlcvx's group lasso with scaling="mean".  Its
coef_ is (n_tasks, n_features): transpose it.
"""

import numpy as np
from sklearn.linear_model import MultiTaskLasso

import mtlcvx as mc
from mtlcvx.datasets import make_sparse_low_rank

data, _ = make_sparse_low_rank(n_tasks=5, n_features=30, n_samples=40, shared_X=True, random_state=0)
alpha = 0.05
model = mc.reference.group_lasso(data, scaling="mean")

for tol in (1e-2, 1e-4, 1e-8):
    sk = MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=100_000)
    sk.fit(data.Xs[0], np.column_stack(data.ys))
    report = mc.verify(sk.coef_.T, model, lam=alpha)
    print(f"scikit-learn tol={tol:g}: objective gap {report.objective_gap:.1e}, passed={report.passed}")

print(report)
