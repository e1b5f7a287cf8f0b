"""mtlcvx: structured multi-task learning with CVXPY reference models and
verified fast solvers.

The estimators, the reference models and everything that needs CVXPY load
on first use: ``import mtlcvx`` (and ``mtlcvx.terms``, ``mtlcvx.solvers``)
does not import cvxpy.
"""

import importlib

from . import solvers, terms
from ._errors import (ConvergenceWarning, InaccurateSolutionWarning, ProblemTooLargeError, ReferenceFallbackWarning,
                      SolverError, VerificationWarning)
from .data import MultiTaskData
from .verify import VerificationReport, verify

__version__ = "0.1.0"

_SUBMODULES = ("reference", "models", "metrics", "datasets", "experiments", "plotting", "bilevel", "model_selection")
_FROM = {name: "models" for name in ("STL", "AllTasks", "GroupLasso", "TraceNorm", "ClusMTL", "TwoStageClusMTL",
                                     "SGMTL", "SSMTL", "BiGMTL", "SRML", "SSML", "GGMTL", "ConvexMTL")}

__all__ = [
    "MultiTaskData",
    "SolverError",
    "ProblemTooLargeError",
    "ReferenceFallbackWarning",
    "VerificationWarning",
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
    "BiGMTL",
    "SRML",
    "SSML",
    "GGMTL",
    "ConvexMTL",
    "verify",
    "VerificationReport",
    "reference",
    "solvers",
    "terms",
    "metrics",
    "datasets",
    "bilevel",
    "model_selection",
]


def __getattr__(name):
    # PEP 562: submodules and estimator names load on first access, so that
    # `mc.metrics` works without `import mtlcvx.metrics` and the numpy-only
    # layers stay free of cvxpy
    if name in _FROM:
        value = getattr(importlib.import_module(f".{_FROM[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'mtlcvx' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
