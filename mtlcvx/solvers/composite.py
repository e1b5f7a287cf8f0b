"""Least squares plus a norm penalty, solved to a certified duality gap.

``min_W f(W) + lam2 ||W||_F^2 + lam Omega(W)`` with ``f`` a
:class:`~mtlcvx.solvers.least_squares.BlockLeastSquares` and ``Omega`` any
norm given by its proximal operator, its value and its dual norm: the L21
group lasso, the trace norm and the elastic net are all this one solver.
"""

from .apg import accelerated_proximal_gradient
from .least_squares import norm_penalized_gap

__all__ = ["solve_norm_penalized"]


def solve_norm_penalized(
    ls, lam, prox, penalty_value, dual_norm, W0, lam2=0.0, tol=1e-9, max_iter=20_000, warn=True
):
    """Accelerated proximal gradient stopped on the relative duality gap
    ``gap / max(1, |P(W)|) <= tol``.

    Parameters
    ----------
    ls : BlockLeastSquares
    lam : float
        Weight of ``Omega``.
    prox : callable ``(V, threshold) -> prox_{threshold * Omega}(V)``
    penalty_value : callable ``W -> Omega(W)``
    dual_norm : callable ``G -> Omega^*(G)``
    W0 : ndarray (d, T)
    lam2 : float
        Weight of the ridge term, kept in the smooth part.

    Returns
    -------
    W : ndarray
    info : SolverInfo
        ``criterion`` is the last relative duality gap.
    """
    def grad(W):
        return ls.grad(W) + 2.0 * lam2 * W if lam2 else ls.grad(W)

    def stop(W):
        primal, gap = norm_penalized_gap(ls, W, lam, penalty_value(W), dual_norm, lam2)
        return gap / max(1.0, abs(primal))

    stop.name = "relative duality gap"
    return accelerated_proximal_gradient(
        grad,
        lambda V, step: prox(V, step * lam),
        W0,
        ls.lipschitz + 2.0 * lam2,
        stop=stop if lam > 0 else None,
        tol=tol,
        max_iter=max_iter,
        warn=warn,
    )
