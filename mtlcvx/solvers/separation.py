"""Whether an unpenalised logistic loss has a minimiser.

``sum_i log(1 + exp(-y_i x_i^T w))`` has no minimiser exactly when the
data are separable or quasi-separable: some ``w`` has ``y_i x_i^T w >= 0``
for every sample and ``> 0`` for one (Albert and Anderson, 1984).  Along
such a ``w`` the loss decreases to its infimum without reaching it, so a
solver can only return an arbitrary large ``w`` (measured: 20,000
iterations, ``|w|`` 66 and growing, a ConvergenceWarning).  One linear
program per task says which case holds.
"""

import numpy as np
from scipy.optimize import linprog

__all__ = ["separating_direction"]


def separating_direction(X, y):
    """A direction ``w`` (in the unit box) with ``y_i x_i^T w >= 0`` for every
    ``i`` and ``sum_i y_i x_i^T w > 0``, or None when there is none.

    Solves ``max sum_i y_i x_i^T w`` s.t. ``y_i x_i^T w >= 0``, ``-1 <= w <= 1``
    (HiGHS); a maximum above ``1e-7 sum_ij |y_i X_ij|`` (above the solver's
    feasibility tolerance, which lets each margin go 1e-7 negative) is a
    separation.  ``y`` in ``{-1, +1}``.
    """
    A = np.asarray(y, dtype=float)[:, None] * np.asarray(X, dtype=float)
    n, d = A.shape
    result = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * d, method="highs")
    if result.status != 0 or -result.fun <= 1e-7 * np.abs(A).sum():
        return None
    return result.x
