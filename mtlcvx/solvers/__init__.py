"""Fast numpy solvers, generic and paper-agnostic.

They take the terms' numpy halves (a loss bound to data, bound penalties)
and never import cvxpy (tested in a subprocess): the fast path must stay
independent of the reference it is checked against.  Which solver runs is
decided in one place, :mod:`mtlcvx.solvers.dispatch`, from the
capabilities the terms declare.
"""

from ._common import SolverInfo
from .admm import admm_scaled_group_norms
from .admm_laplacian import admm_task_laplacian
from .apg import accelerated_proximal_gradient, gradient_mapping_norm
from .composite import solve_norm_penalized, solve_row_separable
from .dispatch import SOLVERS, FastSolver, NoFastSolver, SmoothingGradient, select, solve
from .graph import GraphLeastSquares
from .least_squares import TaskSystems, norm_penalized_gap, ridge_closed_form
from .primal_dual import operator_norm_squared, primal_dual_group_norms, primal_dual_splitting
from .prox_working_set import solve_prox_working_set
from .projections import project_columns_to_simplex
from .separation import separating_direction
from .smoothing import smoothing_proximal_gradient

__all__ = [
    "SolverInfo",
    "select",
    "solve",
    "SOLVERS",
    "FastSolver",
    "NoFastSolver",
    "SmoothingGradient",
    "admm_scaled_group_norms",
    "admm_task_laplacian",
    "accelerated_proximal_gradient",
    "gradient_mapping_norm",
    "solve_norm_penalized",
    "solve_row_separable",
    "GraphLeastSquares",
    "TaskSystems",
    "norm_penalized_gap",
    "ridge_closed_form",
    "operator_norm_squared",
    "primal_dual_group_norms",
    "primal_dual_splitting",
    "solve_prox_working_set",
    "project_columns_to_simplex",
    "separating_direction",
    "smoothing_proximal_gradient",
]
