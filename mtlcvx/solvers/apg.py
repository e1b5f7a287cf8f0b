"""Accelerated proximal gradient (FISTA) with adaptive restart.

Minimises ``f(x) + g(x)`` with ``f`` smooth (gradient ``L``-Lipschitz) and
``g`` having a cheap proximal operator.  Generic: knows nothing of any
paper or of CVXPY.

Restart: the momentum is reset whenever it points against the last
proximal-gradient step (the gradient restart scheme of O'Donoghue and
Candes, 2015), which recovers linear convergence on problems that are
locally strongly convex, as the regularised least-squares problems here
are on their support.

Stopping: on an optimality measure supplied by the caller (a relative
duality gap where one is available) or, by default, on the relative norm
of the proximal-gradient residual ``(x - prox(x - grad(x)/L)) * L``,
which is zero exactly at a minimiser.  Never on "the iterate stopped
moving".
"""

import numpy as np

from ._common import SolverInfo, not_converged

__all__ = ["accelerated_proximal_gradient", "gradient_mapping_norm"]

NAME = "accelerated proximal gradient"


def gradient_mapping_norm(x, grad_x, prox, step):
    """``||x - prox(x - step*grad_x, step)|| / step``: zero iff ``x`` is
    optimal for ``f + g``."""
    return float(np.linalg.norm(x - prox(x - step * grad_x, step)) / step)


def accelerated_proximal_gradient(
    grad,
    prox,
    x0,
    lipschitz,
    stop=None,
    tol=1e-8,
    max_iter=10_000,
    check_every=10,
    warn=True,
):
    """Minimise ``f(x) + g(x)``.

    Parameters
    ----------
    grad : callable ``x -> grad f(x)``
    prox : callable ``(v, step) -> argmin_x 1/2||x - v||^2 + step g(x)``
    x0 : ndarray
        Starting point (not modified).
    lipschitz : float
        Lipschitz constant ``L`` of ``grad``; the step is ``1/L``.
    stop : callable ``x -> float``, optional
        Optimality measure (e.g. relative duality gap), checked every
        ``check_every`` iterations; the solver stops when it is ``<= tol``.
        Default: relative proximal-gradient residual
        ``||G(x)|| / max(1, ||grad f(x0)||)``.
    tol : float
    max_iter : int
    warn : bool
        Emit a :class:`~mtlcvx.ConvergenceWarning` when ``max_iter`` is hit.

    Returns
    -------
    x : ndarray
    info : SolverInfo
    """
    if not lipschitz > 0:
        raise ValueError(f"lipschitz must be > 0, got {lipschitz}")
    step = 1.0 / lipschitz
    if stop is None:
        scale = max(1.0, float(np.linalg.norm(grad(x0))))

        def stop(x):
            return gradient_mapping_norm(x, grad(x), prox, step) / scale

        name = "relative prox-gradient residual"
    else:
        name = getattr(stop, "name", "optimality measure")
    x = np.array(x0, dtype=float, copy=True)
    z = x.copy()
    t = 1.0
    criterion = np.inf
    for it in range(1, max_iter + 1):
        x_new = prox(z - step * grad(z), step)
        if np.vdot(z - x_new, x_new - x) > 0:
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
        if it % check_every == 0 or it == max_iter:
            criterion = float(stop(x))
            if criterion <= tol:
                return x, SolverInfo(it, True, criterion, name, NAME)
    return x, not_converged(NAME, max_iter, name, criterion, tol, warn)
