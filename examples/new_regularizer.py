"""Prototype a new regularizer in a few lines, fit it, and check the fit.

(a) ``||W||_1 + mu ||W||_*`` (sparse and low-rank W) written as ONE term of
    your own with a CVXPY ``expr`` and a numpy ``value``: no fast solver
    knows it, so ConvexMTL fits it with the CVXPY reference and says so.
(b) The same model as two built-in terms, ``L1()`` and ``NuclearNorm()``:
    each has a prox, so the primal-dual splitting (Condat-Vu) fits it, and
    ``check=True`` verifies the fit against the reference.
(c) A fused lasso along the order of the tasks, ``sum_t ||w_{t+1} - w_t||_1``,
    declared as an ``OperatorNorm`` (its matrix D only, no prox), fitted with
    an l1 term on the primal-dual path and verified.

The learned W are drawn next to the true ones in two PNG files.
"""

import pathlib
import time
import warnings

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

import mtlcvx as mc
from mtlcvx.datasets import make_sparse_low_rank
from mtlcvx.plotting import have_matplotlib, plot_heatmaps
from mtlcvx.terms import L1, NuclearNorm, OperatorNorm


# -- the user's code: two new penalties ----------------------------------------
class SparseLowRank(mc.terms.Penalty):
    """||W||_1 + mu ||W||_* as one term: an expression and a value, nothing else."""

    degree = 1  # a norm: Omega(c W) = c Omega(W)

    def __init__(self, mu=1.0):
        self.mu = mu

    def expr(self, W):
        return cp.sum(cp.abs(W)) + self.mu * cp.normNuc(W)

    def value(self, W):
        return float(np.abs(W).sum() + self.mu * np.linalg.svd(W, compute_uv=False).sum())


class TaskChain(OperatorNorm):
    """sum_t ||w_{t+1} - w_t||_1: neighbouring tasks (in their order) share weights."""

    group_size = 1  # every row of D vec(W) is a group of its own: the l1 norm of D vec(W)

    def operator_matrix(self, shape):
        d, T = shape
        diff = sp.diags([-np.ones(T - 1), np.ones(T - 1)], [0, 1], shape=(T - 1, T))
        return sp.kron(diff, sp.identity(d))  # acts on vec(W), the columns of W stacked
# -------------------------------------------------------------------------------


def timed_fit(est, data):
    start = time.perf_counter()
    est.fit(data)
    return est, time.perf_counter() - start


def relative_error(W, W_true):
    return np.linalg.norm(W - W_true) / np.linalg.norm(W_true)


data, W_true = make_sparse_low_rank(n_tasks=8, n_features=30, n_samples=40, n_relevant=6, rank=2, random_state=0)
lam, mu = 2.0, 5.0

print("(a) one term of your own, expr and value only")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", mc.ReferenceFallbackWarning)
    one, time_one = timed_fit(mc.ConvexMTL([(lam, SparseLowRank(mu))]), data)
for warning in caught:
    print(f"  {warning.category.__name__}: {warning.message}")
result = one.reference_result_
print(f"  CVXPY reference: {result.status} ({result.solver}, certificate gap {result.gap:.1e}), "
      f"fit in {time_one:.2f} s")

print("(b) the same model as two built-in terms, L1() and NuclearNorm()")
pair = [(lam, L1()), (lam * mu, NuclearNorm())]
_, time_fast = timed_fit(mc.ConvexMTL(pair), data)
two, time_checked = timed_fit(mc.ConvexMTL(pair, check=True), data)
print(f"  solver: {two.solver_info_.solver}, {two.solver_info_.n_iter} iterations")
print(f"  fit in {time_fast:.2f} s ({time_checked:.2f} s with check=True, which solves the CVXPY reference), "
      f"against {time_one:.2f} s for (a)")
print(two.verification_)
# (a) and (b) are one problem written twice: the one-term fit passes the two-term model's check
model, params = two.reference_model(data)
cross = mc.verify(one, model, **params)
print(f"  (a)'s W in (b)'s model: passed={cross.passed}, objective gap {cross.objective_gap:.1e}")
print(f"  relative error to the true W: (a) {relative_error(one.coef_, W_true):.3f}, "
      f"(b) {relative_error(two.coef_, W_true):.3f}")

print("(c) an OperatorNorm of your own: the lasso fused along the task order")
rng = np.random.default_rng(0)
n_features, n_tasks = 30, 8
W_chain = np.zeros((n_features, n_tasks))
for first, stop in ((0, 3), (3, 6), (6, 8)):  # three runs of tasks with equal weights
    W_chain[:6, first:stop] = rng.choice([-1.0, 1.0], size=(6, 1)) * rng.uniform(1, 2, size=(6, 1))
Xs = [rng.normal(size=(30, n_features)) for _ in range(n_tasks)]
chain_data = mc.MultiTaskData(Xs, [X @ w + rng.normal(size=30) for X, w in zip(Xs, W_chain.T)])
lasso = mc.ConvexMTL([(2.0, L1())]).fit(chain_data)
fused, time_fused = timed_fit(mc.ConvexMTL([(2.0, L1()), (5.0, TaskChain())], check=True), chain_data)
print(f"  solver: {fused.solver_info_.solver}, {fused.solver_info_.n_iter} iterations, "
      f"{time_fused:.2f} s with check=True")
print(fused.verification_)
print(f"  relative error to the true W: lasso {relative_error(lasso.coef_, W_chain):.3f}, "
      f"fused lasso {relative_error(fused.coef_, W_chain):.3f}")

if have_matplotlib():
    path = pathlib.Path("new_regularizer_sparse_low_rank.png")
    plot_heatmaps({"true W": W_true, "(a) SparseLowRank, reference": one.coef_,
                   "(b) L1 + NuclearNorm, primal-dual": two.coef_}, path, shared_scale=True)
    print(f"figure: {path}")
    path = pathlib.Path("new_regularizer_task_chain.png")
    plot_heatmaps({"true W (3 runs of tasks)": W_chain, "L1": lasso.coef_, "L1 + TaskChain": fused.coef_}, path,
                  shared_scale=True)
    print(f"figure: {path}")
