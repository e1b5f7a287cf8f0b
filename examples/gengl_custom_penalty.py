"""Declare a structured penalty from partitions (GenGL), fit it, and check
the fit against the CVXPY optimum of the same problem.

The penalty: feature selection over rows (L21) on a first component plus
pairwise fusion of the tasks' weight vectors on a second, W = W1 + W2:

    gamma_a sum_j ||W1_j||_2 + gamma_b sum_{j<k} ||W2_:j - W2_:k||_2
"""

import numpy as np

import mtlcvx as mc
from mtlcvx.datasets import make_sparse_low_rank
from mtlcvx.terms import gengl_operator

data, W_true = make_sparse_low_rank(n_tasks=5, n_features=12, n_samples=30, n_relevant=4, random_state=0)

print("D of pairwise task fusion for 2 features and 3 tasks:")
print(gengl_operator(2, 3, "C", "F2").D.toarray().astype(int))

custom = [[("F", "C", 3.0)], [("C", "F2", 1.0)]]
est = mc.SSMTL(preset=custom).fit(data)
W1, W2 = est.components_
print("rows kept by the selection component:", np.flatnonzero(np.linalg.norm(W1, axis=1) > 1e-6))
print("spread of the fused component's columns:", float(np.std(W2, axis=1).mean()))

model, params = est.reference_model(data)
print(mc.verify(est, model, **params))
