"""Accelerated proximal gradient (FISTA) with adaptive restart.

Minimises ``f(x) + g(x)`` with ``f`` smooth (gradient ``L``-Lipschitz) and
``g`` having a cheap proximal operator.  Generic: knows nothing of any
paper or of CVXPY.

Restart: the momentum is reset whenever it points against the last
proximal-gradient step (the gradient restart scheme of O'Donoghue and
Candes, 2015), which recovers linear convergence on problems that are
locally strongly convex, as the regularised least-squares problems here
are on their support.

Metric: optionally the iteration runs in a diagonal metric ``M`` (a
Jacobi preconditioning, the method applied to ``M^{1/2} x``): the step of
coordinate ``i`` is ``1 / (L M_i)``, with ``L`` the Lipschitz constant of
``M^{-1/2} grad f(M^{-1/2} .)``.  Without it the one step ``1/L`` is set by
the stiffest coordinate, and a feature 1e6 times larger than the others
makes ``L`` 1e12 times larger than their curvature: they never move (a
group lasso stopped at 20,000 iterations with a relative gap of 0.98).

Stopping: on an optimality measure supplied by the caller (a relative
duality gap where one is available) or, by default, on the norm of the
proximal-gradient residual ``(x - prox(x - grad(x)/L)) * L`` (in the metric,
``L M (x - x+)``), which is zero exactly at a minimiser, relative to
``||grad f(0)||``.  Never on "the iterate stopped moving".
"""

import numpy as np

from ._common import SolverInfo, not_converged

__all__ = ["accelerated_proximal_gradient", "gradient_mapping_norm"]

NAME = "accelerated proximal gradient"


def gradient_mapping_norm(x, grad_x, prox, step):
    """``||(x - prox(x - step*grad_x, step)) / step||``: zero iff ``x`` is
    optimal for ``f + g`` (``step`` a scalar, or an array of per-coordinate
    steps)."""
    return float(np.linalg.norm((x - prox(x - step * grad_x, step)) / step))


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
    metric=None,
):
    """Minimise ``f(x) + g(x)``.

    Parameters
    ----------
    grad : callable ``x -> grad f(x)``
    prox : callable ``(v, step) -> argmin_x 1/2||x - v||^2 + step g(x)``
        With ``metric``, ``step`` is the array ``1 / (lipschitz * metric)``
        and the prox is the one in that metric,
        ``argmin_x sum_i (x_i - v_i)^2 / (2 step_i) + g(x)``.
    x0 : ndarray
        Starting point (not modified).
    lipschitz : float
        Lipschitz constant ``L`` of ``grad`` (in the metric, of ``M^{-1/2}
        grad f(M^{-1/2} .)``).  0 (a constant ``f``) is accepted: every
        positive number is then a Lipschitz constant, and 1 is used.
    stop : callable ``x -> float``, optional
        Optimality measure (e.g. relative duality gap), checked every
        ``check_every`` iterations; the solver stops when it is ``<= tol``.
        Default: the proximal-gradient residual relative to ``||grad
        f(0)||`` (1 where that is 0), scale-free, unlike the former
        ``max(1, ||grad f(x0)||)``, which with data at 1e-8 accepted the
        first iterate.
    tol : float
    max_iter : int
    warn : bool
        Emit a :class:`~mtlcvx.ConvergenceWarning` when ``max_iter`` is hit.
    metric : ndarray, optional
        Positive diagonal metric ``M``, broadcastable against ``x``.

    Returns
    -------
    x : ndarray
    info : SolverInfo
    """
    if not (np.isfinite(lipschitz) and lipschitz >= 0):
        raise ValueError(f"lipschitz must be finite and >= 0, got {lipschitz}")
    lipschitz = lipschitz if lipschitz > 0 else 1.0
    if metric is None:
        step = 1.0 / lipschitz
        weights = 1.0
    else:
        metric = np.asarray(metric, dtype=float)
        if not np.all(np.isfinite(metric) & (metric > 0)):
            raise ValueError("metric must be finite and > 0")
        step = 1.0 / (lipschitz * metric)
        weights = metric
    if stop is None:
        scale = float(np.linalg.norm(grad(np.zeros_like(np.asarray(x0, dtype=float)))))
        scale = scale if scale > 0 and np.isfinite(scale) else 1.0

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
        if np.vdot(weights * (z - x_new), x_new - x) > 0:
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
        if it % check_every == 0 or it == max_iter:
            criterion = float(stop(x))
            if criterion <= tol:
                # one gradient per iteration, and one per check (the duality gap's or the residual's)
                return x, SolverInfo(it, True, criterion, name, NAME, gradient_evaluations=it + it // check_every)
    info = not_converged(NAME, max_iter, name, criterion, tol, warn)
    info.gradient_evaluations = max_iter + max_iter // check_every
    return x, info
