"""Estimators with scikit-learn conventions; one module per formulation.

The non-convex outer loops of the structured methods live here, around
the reference models (:mod:`mtlcvx.reference`) and the fast solvers
(:mod:`mtlcvx.solvers`).
"""

from .base import LinearMultiTaskModel, MultiTaskEstimator
from .bigmtl import BiGMTL
from .convex import ConvexMTL
from .baselines import STL, AllTasks, ClusMTL, GroupLasso, TraceNorm, TwoStageClusMTL
from .gengl import SSMTL
from .ggmtl import GGMTL
from .sgmtl import SGMTL
from .srml import SRML, SSML

__all__ = ["MultiTaskEstimator", "LinearMultiTaskModel", "ConvexMTL", "STL", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL",
           "TwoStageClusMTL", "SGMTL", "SSMTL", "BiGMTL", "SRML", "SSML", "GGMTL"]
