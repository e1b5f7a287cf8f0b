"""A solver of your own with a classic bug, caught twice.

The solver: accelerated proximal gradient (FISTA) for the group lasso across
tasks, ``sum_t 1/2 ||y_t - X_t w_t||^2 + lam sum_j ||W_j||_2`` (row j of W:
feature j in every task).  The bug: its prox shrinks the rows by
``step / 2`` instead of ``step``, so the loop converges, quietly, to the
solution of the problem with ``lam / 2``.

1. ``mtlcvx.verify`` compares the solver's W with the certified CVXPY optimum
   of the group lasso: the buggy W fails (its report says by how much), the
   fixed one passes.
2. ``mtlcvx.terms.check_term`` holds the prox, put inside a Penalty, to the
   CVXPY prox problem and names the wrong part: ``"prox"``.  ConvexMTL runs
   the same check at fit, so a wrong prox never reaches a fit.
"""

import cvxpy as cp
import numpy as np

import mtlcvx as mc
from mtlcvx.datasets import make_sparse_low_rank
from mtlcvx.terms import TermCheckError, check_term


def shrink_rows(V, threshold):
    """Block soft-thresholding of the rows of V."""
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    return np.maximum(1.0 - threshold / np.maximum(norms, 1e-300), 0.0) * V


def buggy_prox(V, step):
    return shrink_rows(V, step / 2)  # BUG: the prox of step * ||.||_21 shrinks by step


def fixed_prox(V, step):
    return shrink_rows(V, step)


def my_group_lasso(Xs, ys, lam, prox, n_iter=3000):
    """FISTA with step 1 / L, L the largest ||X_t||_2^2."""
    L = max(np.linalg.norm(X, 2) ** 2 for X in Xs)
    W = Z = np.zeros((Xs[0].shape[1], len(Xs)))
    t = 1.0
    for _ in range(n_iter):
        G = np.column_stack([X.T @ (X @ z - y) for X, y, z in zip(Xs, ys, Z.T)])
        W_next = prox(Z - G / L, lam / L)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        Z = W_next + (t - 1) / t_next * (W_next - W)
        W, t = W_next, t_next
    return W


data, _ = make_sparse_low_rank(n_tasks=8, n_features=30, n_samples=40, n_relevant=6, random_state=0)
lam = 20.0
model = mc.reference.group_lasso(data)  # no intercept, as the solver above

print("1. verify the solver's W against the CVXPY reference")
W_buggy = my_group_lasso(data.Xs, data.ys, lam, buggy_prox)
report = mc.verify(W_buggy, model, lam=lam)
print("buggy prox:")
print(report)
print(f"  (the buggy W is the optimum at lam / 2: verify at lam={lam / 2:g} passes: "
      f"{mc.verify(W_buggy, model, lam=lam / 2).passed})")
W_fixed = my_group_lasso(data.Xs, data.ys, lam, fixed_prox)
print("fixed prox:")
print(mc.verify(W_fixed, model, lam=lam))


print("2. check_term on the prox inside a Penalty")


class MyL21(mc.terms.Penalty):
    """sum_j ||W_j||_2 with the buggy prox."""

    degree = 1

    def expr(self, W):
        return cp.sum(cp.norm(W, 2, axis=1))

    def value(self, W):
        return float(np.linalg.norm(W, axis=1).sum())

    def prox(self, V, step):
        return buggy_prox(V, step)


class MyFixedL21(MyL21):
    def prox(self, V, step):
        return fixed_prox(V, step)


try:
    check_term(MyL21())
except TermCheckError as error:
    print(f"  check_term(MyL21()) -> TermCheckError, part={error.part!r}:\n    {error}")
print(f"  check_term(MyFixedL21()) ran {check_term(MyFixedL21())}: all passed")

try:
    mc.ConvexMTL([(lam, MyL21())], fit_intercept=False).fit(data)
except TermCheckError as error:
    print(f"  ConvexMTL.fit refuses it too: {str(error)[:60]}...")
est = mc.ConvexMTL([(lam, MyFixedL21())], fit_intercept=False, check=True).fit(data)
print(f"  the fixed term fits with {est.solver_info_.solver!r}; check=True: passed={est.verification_.passed}, "
      f"objective gap {est.verification_.objective_gap:.1e}")
