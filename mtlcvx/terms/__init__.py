"""Losses and penalties, each written once in CVXPY and once in numpy.

The one parametrized test ``tests/test_terms.py`` holds, for every term,
the numpy value equal to the CVXPY value and each prox equal to the CVXPY
solution of its prox problem.
"""

from .losses import LogisticLoss, SquaredLoss, make_loss
from .penalties import (
    L1,
    L21,
    ClusteredPenalty,
    SGMTL_REGULARIZERS,
    NuclearNorm,
    Penalty,
    ScaledGroupNorms,
    SquaredFrobenius,
    prox_l12,
    row_soft_threshold,
    sgmtl_weights,
    singular_value_threshold,
)

__all__ = [
    "SquaredLoss",
    "LogisticLoss",
    "make_loss",
    "Penalty",
    "L1",
    "L21",
    "SquaredFrobenius",
    "NuclearNorm",
    "ClusteredPenalty",
    "ScaledGroupNorms",
    "sgmtl_weights",
    "SGMTL_REGULARIZERS",
    "prox_l12",
    "row_soft_threshold",
    "singular_value_threshold",
]
