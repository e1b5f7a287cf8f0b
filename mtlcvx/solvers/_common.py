"""What every fast solver reports, and the pieces several of them share."""

import warnings
from dataclasses import dataclass

import numpy as np

from .._errors import ConvergenceWarning

__all__ = ["SolverInfo", "not_converged", "balance_rho"]


@dataclass
class SolverInfo:
    """What a fast solver reports besides its solution.

    Attributes
    ----------
    n_iter : int
    converged : bool
        The optimality measure reached ``tol``.
    criterion : float
        Last value of the optimality measure.
    criterion_name : str
    solver : str
        Which solver ran (the dispatcher's choice, see
        :func:`mtlcvx.solvers.dispatch.select`).
    algorithm : str
        The method inside it, where a solver chooses among several (e.g.
        the duality-gap solver runs ADMM on badly scaled features); empty
        otherwise.
    gradient_evaluations : float
        Work in full-gradient equivalents (one product of every task's
        design with its weights and back), where the solver counts it: a
        gradient restricted to a working set of ``k`` of ``d`` rows counts
        ``k / d``, a sweep of coordinate descent over ``k`` rows the same.
        NaN where it is not counted.
    """

    n_iter: int
    converged: bool
    criterion: float
    criterion_name: str
    solver: str = ""
    algorithm: str = ""
    gradient_evaluations: float = float("nan")


def not_converged(solver, max_iter, criterion_name, criterion, tol, warn, stacklevel=3):
    """The info of a solver that stopped at ``max_iter``, with a
    :class:`~mtlcvx.ConvergenceWarning` saying what it reached."""
    if warn:
        warnings.warn(
            f"{solver} stopped at max_iter={max_iter} with {criterion_name} {criterion:.2e} > tol={tol:.1e}",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    return SolverInfo(max_iter, False, float(criterion), criterion_name, solver)


def balance_rho(r_primal, r_dual):
    """The factor by which an ADMM multiplies its penalty ``rho`` (its scaled
    duals divide by it): OSQP's rule ``sqrt`` of the ratio of the normalised
    primal and dual residuals, clipped to ``[0.01, 100]``, applied only when
    they are more than 5x apart; 1 otherwise."""
    if r_primal == 0 and r_dual == 0:
        # nothing to balance (no split variable, or an exact fixed point): shrinking rho by 100 at every check
        # drove it to 0
        return 1.0
    ratio = r_primal / max(r_dual, 1e-300)
    if 0.2 <= ratio <= 5.0:
        return 1.0
    return float(np.clip(np.sqrt(ratio), 0.01, 100.0))
