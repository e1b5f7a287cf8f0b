"""Fast numpy solvers, generic and paper-agnostic.

This package never imports :mod:`cvxpy` (tested): the fast path must stay
independent of the reference it is checked against.
"""

from .admm import admm_scaled_group_norms, scaled_group_norms_value
from .apg import SolverInfo, accelerated_proximal_gradient, gradient_mapping_norm
from .composite import solve_norm_penalized, solve_row_separable
from .gengl_admm import admm_gengl_squared
from .least_squares import BlockLeastSquares, norm_penalized_gap, ridge_closed_form
from .primal_dual import operator_norm_squared, primal_dual_group_norms
from .projections import project_columns_to_simplex

__all__ = [
    "admm_scaled_group_norms",
    "scaled_group_norms_value",
    "project_columns_to_simplex",
    "primal_dual_group_norms",
    "admm_gengl_squared",
    "operator_norm_squared",
    "SolverInfo",
    "accelerated_proximal_gradient",
    "gradient_mapping_norm",
    "solve_norm_penalized",
    "solve_row_separable",
    "BlockLeastSquares",
    "norm_penalized_gap",
    "ridge_closed_form",
]
