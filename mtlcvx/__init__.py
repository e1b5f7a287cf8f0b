"""mtlcvx: structured multi-task learning with CVXPY reference models and
verified fast solvers."""

from . import reference, terms
from ._errors import ConvergenceWarning, InaccurateSolutionWarning, SolverError
from .data import MultiTaskData

__version__ = "0.1.0"

__all__ = [
    "MultiTaskData",
    "SolverError",
    "InaccurateSolutionWarning",
    "ConvergenceWarning",
    "reference",
    "terms",
]
