"""mtlcvx: structured multi-task learning with CVXPY reference models and
verified fast solvers."""

from . import reference, solvers, terms
from ._errors import ConvergenceWarning, InaccurateSolutionWarning, SolverError
from .data import MultiTaskData
from .models import SGMTL, SSMTL, STL, AllTasks, ClusMTL, GroupLasso, TraceNorm, TwoStageClusMTL
from .verify import VerificationReport, verify

__version__ = "0.1.0"

__all__ = [
    "MultiTaskData",
    "SolverError",
    "InaccurateSolutionWarning",
    "ConvergenceWarning",
    "STL",
    "AllTasks",
    "GroupLasso",
    "TraceNorm",
    "ClusMTL",
    "SGMTL",
    "TwoStageClusMTL",
    "SSMTL",
    "verify",
    "VerificationReport",
    "reference",
    "solvers",
    "terms",
]
