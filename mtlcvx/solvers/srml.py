"""The non-convex ADMM of sign-regularised MTL (SRML) and its strict
variant (SSML), Bai et al., SDM 2023, eqs. (4.3)-(4.4).

Splitting ``W = U``, the augmented Lagrangian is

    L_rho(W, U, Y) = f(W) + g(U) + <Y, W - U> + rho/2 ||W - U||_F^2

with ``f`` the loss plus ``lam Omega`` and ``g`` the sign term: ``c sum
relu(-U_jt U_jt')`` over the pairs (SRML) or the indicator of sign
consistency (SSML).  One iteration:

1. **u-step** ``U = argmin g(U) + rho/2 ||U - V||^2``, ``V = W + Y/rho``:
   separable over features; over tasks, exact coordinate minimisation in
   Gauss-Seidel order (SRML, :func:`sign_coordinate_minimizer`) or the
   exact projection (SSML, :func:`mtlcvx.terms.project_sign_consistent`);
2. **w-step** ``W = argmin f(W) + <Y, W> + rho/2 ||W - U||^2`` (convex:
   the caller's solver, e.g. the dispatcher on the declared reference);
3. **dual step** ``Y += rho (W - U)``.

The order (u, then w, then the dual) is ours: the paper's appendix, which
fixes it, is not public.  It is the order the non-convex ADMM theory
(Wang, Yin, Zeng 2019) needs for its ``rho > 2H`` condition (Theorem 5.2):
the block updated last before the dual step must be the smooth one, so that
``Y = -grad f(W)`` after every iteration and the dual is controlled by the
primal.
"""

import numpy as np

from ._common import SolverInfo, not_converged

__all__ = ["sign_coordinate_minimizer", "task_colouring", "sign_ustep", "srml_admm", "ADMMHistory"]


def sign_coordinate_minimizer(v, s_plus, s_minus, c, rho):
    """Exact minimiser of the univariate, piecewise quadratic

        h(x) = rho/2 (x - v)^2 + c sum_s relu(-x u_s)

    given the neighbours' values ``u_s`` through ``s_plus = sum_s
    max(u_s, 0)`` and ``s_minus = sum_s max(-u_s, 0)``; elementwise on
    arrays.

    On ``x >= 0`` the penalty is ``c s_minus x`` (only negative neighbours
    disagree), on ``x <= 0`` it is ``-c s_plus x``: each half is a convex
    quadratic with minimiser ``x+ = max(0, v - c s_minus / rho)``, ``x- =
    min(0, v + c s_plus / rho)``, and the lower of the two values wins.
    A tie between two different points cannot happen: ``x+ > 0`` needs ``v
    > 0`` and then ``x- = 0``, a point of the other half, which ``x+``
    beats or equals only by being 0 itself (symmetrically for ``v < 0``).
    So ``x = sign(v) max(0, |v| - c S / rho)``, ``S`` the mass of the
    neighbours of the opposite sign; ties (``v = 0``, an empty threshold)
    return 0.

    Returns
    -------
    x : ndarray
    value : ndarray
        ``h(x)`` up to the constant-free form above.
    """
    v, s_plus, s_minus = (np.asarray(a, dtype=float) for a in (v, s_plus, s_minus))
    x_pos = np.maximum(0.0, v - c * s_minus / rho)
    x_neg = np.minimum(0.0, v + c * s_plus / rho)
    h_pos = 0.5 * rho * (x_pos - v) ** 2 + c * s_minus * x_pos
    h_neg = 0.5 * rho * (x_neg - v) ** 2 - c * s_plus * x_neg
    take_pos = (h_pos < h_neg) | ((h_pos == h_neg) & (v >= 0))
    return np.where(take_pos, x_pos, x_neg), np.minimum(h_pos, h_neg)


def task_colouring(pairs, n_tasks):
    """Tasks split into classes with no pair inside a class (greedy
    colouring, tasks in order): a class is updated at once, exactly as a
    one-by-one Gauss-Seidel sweep would, since its tasks do not see each
    other.  The chain needs two classes (even and odd tasks); all pairs
    need ``T``.

    Returns
    -------
    classes : list of int arrays
    adjacency : ndarray (T, T)
        The pairs' 0/1 adjacency matrix.
    """
    adjacency = np.zeros((n_tasks, n_tasks))
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    adjacency[pairs[:, 0], pairs[:, 1]] = adjacency[pairs[:, 1], pairs[:, 0]] = 1.0
    colour = np.full(n_tasks, -1)
    for t in range(n_tasks):
        used = set(colour[adjacency[t] > 0].tolist())
        colour[t] = next(k for k in range(n_tasks) if k not in used)
    return [np.flatnonzero(colour == k) for k in range(colour.max() + 1)], adjacency


def sign_ustep(V, U, classes, adjacency, c, rho, n_sweeps=1):
    """SRML's u-step: ``n_sweeps`` Gauss-Seidel sweeps of exact coordinate
    minimisation of ``c sum relu(-U_jt U_jt') + rho/2 ||U - V||^2``, class
    by class (:func:`task_colouring`), every feature at once.  Each
    coordinate update is exact, so no sweep increases the objective; the
    starting neighbours are ``U`` (the previous iterate)."""
    U = np.array(U, dtype=float, copy=True)
    for _ in range(n_sweeps):
        for tasks in classes:
            A = adjacency[:, tasks]
            s_plus = np.maximum(U, 0.0) @ A
            s_minus = np.maximum(-U, 0.0) @ A
            U[:, tasks], _ = sign_coordinate_minimizer(V[:, tasks], s_plus, s_minus, c, rho)
    return U


class ADMMHistory:
    """Per-iteration record of the ADMM: ``objective`` (the caller's
    objective at ``U``), ``primal`` (``||W - U||_F``) and ``dual``
    (``rho ||W^k - W^{k-1}||_F``) residuals, as Figure 2 plots them."""

    def __init__(self):
        self.objective, self.primal, self.dual = [], [], []

    def residuals(self):
        return np.column_stack([self.primal, self.dual]) if self.primal else np.zeros((0, 2))


def srml_admm(u_step, w_step, objective, rho, W0, Y0, tol=1e-6, max_iter=2000, warn=True):
    """Run the ADMM from ``(W0, U0 = W0, Y0)``.

    Parameters
    ----------
    u_step : callable ``(V, U_previous) -> U``
        ``argmin g(U) + rho/2 ||U - V||^2`` (or a step that does not
        increase it): :func:`sign_ustep` for SRML, the projection for SSML.
    w_step : callable ``(U, Y, W_previous) -> W``
        Solves the w-step ``argmin f(W) + <Y, W> + rho/2 ||W - U||^2``.
    objective : callable ``U -> float``
        Recorded at every iteration (eq. 4.3 at ``W = U``).
    rho : float
    tol : float
        Stop when the relative primal residual ``||W - U|| / max(||W||,
        ||U||)`` and the relative change ``||W^k - W^{k-1}|| / max(||W||,
        ||U||)`` (the dual residual over ``rho`` times that scale) are both
        ``<= tol``.

    Returns
    -------
    W, U, Y : ndarray
        The last iterates; the dual the last w-step saw is ``Y - rho (W -
        U)``.
    info : SolverInfo
    history : ADMMHistory
    """
    W, Y = np.array(W0, dtype=float), np.array(Y0, dtype=float)
    U = W.copy()
    history = ADMMHistory()
    tiny = np.finfo(float).tiny
    criterion = np.inf
    for k in range(1, max_iter + 1):
        U = u_step(W + Y / rho, U)
        W_new = w_step(U, Y, W)
        Y = Y + rho * (W_new - U)
        primal = float(np.linalg.norm(W_new - U))
        change = float(np.linalg.norm(W_new - W))
        W = W_new
        history.objective.append(float(objective(U)))
        history.primal.append(primal)
        history.dual.append(rho * change)
        scale = max(float(np.linalg.norm(W)), float(np.linalg.norm(U)), tiny)
        criterion = max(primal, change) / scale
        if criterion <= tol:
            return W, U, Y, SolverInfo(k, True, criterion, "relative residual", "non-convex ADMM"), history
    info = not_converged("the non-convex ADMM", max_iter, "relative residual", criterion, tol, warn, stacklevel=4)
    info.solver = "non-convex ADMM"
    return W, U, Y, info, history
