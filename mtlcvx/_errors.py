"""Exceptions and warnings raised by mtlcvx."""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning


class SolverError(RuntimeError):
    """A reference solve did not reach an optimal status.

    Attributes
    ----------
    status : str
        The CVXPY status string (``"infeasible"``, ``"unbounded"``,
        ``"solver_error"``, ``"user_limit"``...).
    solver : str
        Name of the solver that was used.
    """

    def __init__(self, message, status, solver=None):
        super().__init__(message)
        self.status = status
        self.solver = solver


class UnknownSolverError(SolverError, ValueError):
    """The solver asked for is not installed for CVXPY: a :class:`SolverError`
    (status ``"solver_error"``) that is also a ``ValueError``, the error of a
    wrong argument value."""


class InaccurateSolutionWarning(UserWarning):
    """The solver returned ``optimal_inaccurate``: the result is usable but
    its certificate is weak, and :func:`mtlcvx.verify` will not pass it."""


class ConvergenceWarning(_SklearnConvergenceWarning):
    """A fast solver or an outer loop stopped at ``max_iter`` before its
    optimality measure reached ``tol``.

    A subclass of scikit-learn's ``ConvergenceWarning``, so filters written
    for scikit-learn catch it too."""


class ProblemTooLargeError(MemoryError):
    """A reference model refused to build a CVXPY problem that its estimate
    says would not fit in memory.  The message names the fast path.

    Attributes
    ----------
    estimated_bytes, limit_bytes : float
    """

    def __init__(self, message, estimated_bytes, limit_bytes):
        super().__init__(message)
        self.estimated_bytes = estimated_bytes
        self.limit_bytes = limit_bytes


class ReferenceFallbackWarning(UserWarning):
    """An estimator with ``solver="auto"`` found no fast solver for its terms
    and fitted with the CVXPY reference instead (correct, and slower)."""


class VerificationWarning(UserWarning):
    """An estimator asked to check itself (``check=True``) failed
    :func:`mtlcvx.verify`: its coefficients are not the reference optimum
    to the stated tolerance (the report, in ``verification_``, says by how
    much)."""
