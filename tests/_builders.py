"""Every builder of :mod:`mtlcvx.reference` with parameters at a scale
``s``, on a small sparse low-rank instance: shared by the tests that walk
all of them (pickling, reliability, properties)."""

import cvxpy as cp
import numpy as np

from mtlcvx import reference
from mtlcvx.datasets import make_sparse_low_rank
from mtlcvx.terms import L1, Penalty, gengl_preset
from mtlcvx.terms.proximal import soft_threshold

D, T = 5, 3


def builder_data():
    data, _ = make_sparse_low_rank(n_tasks=T, n_features=D, n_samples=12, n_relevant=3, rank=2, random_state=0)
    return data


def _ssmtl_gamma(scale):
    return gengl_preset("ssmtl_m", D, T, h=2)[1](scale, 0.5 * scale, 2.0)


_SHIFT = np.random.default_rng(0).normal(size=(D, T))

# name: (builder, parameters at a scale s): every builder of mtlcvx.reference
BUILDERS = {
    "ridge": (reference.ridge, lambda s: {"lam": 0.7 * s}),
    "ridge_pooled": (lambda d: reference.ridge(d, pooled=True), lambda s: {"lam": 0.7 * s}),
    "elastic_net": (reference.elastic_net, lambda s: {"lam1": 0.5 * s, "lam2": 0.3 * s}),
    "group_lasso": (reference.group_lasso, lambda s: {"lam": 2.0 * s}),
    "trace_norm": (reference.trace_norm, lambda s: {"lam": 3.0 * s}),
    "clustered": (lambda d: reference.clustered(d, 2), lambda s: {"rho1": 0.5 * s, "rho2": 2.0}),
    "sgmtl_wstep": (lambda d: reference.sgmtl_wstep(d, 2),
                    lambda s: {"U": np.array([[0.8, 0.5, 0.1], [0.2, 0.5, 0.9]]), "lam": 0.3 * s}),
    "gengl": (lambda d: reference.gengl(d, gengl_preset("ssmtl_m", D, T, h=2)[0]),
              lambda s: {"gamma": _ssmtl_gamma(s)}),
    "bigmtl_lower": (lambda d: reference.bigmtl_lower(d, 2),
                     lambda s: {"theta": np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]), "lam": 0.3 * s, "eps": 0.1}),
    "srml_wstep": (reference.srml_wstep,
                   lambda s: {"u": s * _SHIFT, "y": 0.1 * _SHIFT, "rho": 1.0, "lam": 0.3}),
    "srml_ustep": (reference.srml_ustep, lambda s: {"v": s * _SHIFT, "C": 0.2 * np.abs(_SHIFT), "rho": 1.0}),
    "ggmtl_lower": (lambda d: reference.ggmtl_lower(d, [(0, 1), (1, 2)]),
                    lambda s: {"edge_weights": [1.0, 0.5], "lam": 0.4 * s}),
}


# every estimator with hyperparameters that fit the instance above quickly
# (max_iter cut: what these serve to test is not convergence)
CHEAP = {
    "STL": dict(lam=0.5),
    "AllTasks": dict(lam=0.5),
    "GroupLasso": dict(lam=1.0),
    "TraceNorm": dict(lam=1.0),
    "ClusMTL": dict(rho1=0.5, rho2=2.0),
    "TwoStageClusMTL": dict(random_state=0),
    "SGMTL": dict(n_groups=2, lam=0.3, n_init=1, max_iter=3, random_state=0),
    "SSMTL": dict(random_state=0),
    "BiGMTL": dict(n_groups=2, lam=0.1, max_iter=3, random_state=0),
    "SRML": dict(lam=0.5, max_iter=20),
    "SSML": dict(lam=0.5, max_iter=20),
    "GGMTL": dict(lam=1.0, k=2, max_iter=3, random_state=0),
}


class SparseLowRank(Penalty):
    """A user's term as the docs write one: l1 plus trace norm, expr and
    value only."""

    degree = 1

    def expr(self, W):
        return cp.sum(cp.abs(W)) + cp.normNuc(W)

    def value(self, W):
        return float(np.abs(W).sum() + np.linalg.svd(W, compute_uv=False).sum())


class HalfThreshold(L1):
    """A lasso whose prox thresholds at step / 2: the classic bug."""

    def prox(self, V, step):
        return soft_threshold(V, step / 2)
