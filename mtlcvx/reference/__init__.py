"""CVXPY reference models: one builder per convex subproblem.

Every builder takes the data (a :class:`~mtlcvx.MultiTaskData`) first and
returns a :class:`~mtlcvx.reference.base.ReferenceModel`, declared once:
``.solve(**parameters)`` gives a :class:`ReferenceResult` with a
certificate, ``.objective_at(W, **parameters)`` evaluates the same
objective in numpy.  ``ReferenceModel`` itself takes a declaration of your
own (variables, loss, ``(parameter, term, variable)`` entries).

This package never imports :mod:`mtlcvx.solvers`: a reference that shared
code with the fast path would check nothing.
"""

from .base import Derived, Entry, Parameter, ReferenceModel, ReferenceResult
from .baselines import ClusteredModel, PenalizedModel, clustered, elastic_net, group_lasso, ridge, trace_norm
from .bigmtl import BiGMTLLower, bigmtl_lower
from .gengl import GenGLModel, gengl
from .ggmtl import GGMTLLower, ggmtl_lower
from .sgmtl import SGMTLWStep, sgmtl_wstep
from .srml import SRMLUStepHalf, SRMLWStep, srml_ustep, srml_wstep

__all__ = [
    "ReferenceModel",
    "ReferenceResult",
    "Parameter",
    "Derived",
    "Entry",
    "PenalizedModel",
    "ClusteredModel",
    "ridge",
    "elastic_net",
    "group_lasso",
    "trace_norm",
    "clustered",
    "SGMTLWStep",
    "sgmtl_wstep",
    "GenGLModel",
    "gengl",
    "BiGMTLLower",
    "bigmtl_lower",
    "SRMLWStep",
    "srml_wstep",
    "SRMLUStepHalf",
    "srml_ustep",
    "GGMTLLower",
    "ggmtl_lower",
]
