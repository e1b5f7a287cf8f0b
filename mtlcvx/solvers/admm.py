"""ADMM for a smooth loss plus norms of column-scaled copies of ``W``:

    min_W  f(W) + ridge ||W||_F^2 + sum_g h(W diag(p_g)),

``p_g`` (row g of ``P``, ``N x T``) nonnegative, ``h`` a norm or a squared
norm: the terms :class:`mtlcvx.terms.ColumnScaledNorms`, whose ``inner``
``h`` supplies the prox and the dual norm used here.  The SG-MTL W-step
(``h`` the squared L21 norm) and the BiGMTL lower level (``h`` the trace
norm, with a ridge) are this problem.

Splitting ``Z_g = W diag(p_g)`` (scaled dual ``Y_g``):

* W-update, squared loss: for each task the system
  ``(s_t X_t^T X_t + rho c_t I) w_t = s_t X_t^T y_t + rho sum_g p_gt (Z_g - Y_g)_t``,
  ``c_t = sum_g p_gt^2`` (:class:`~mtlcvx.solvers.least_squares.TaskSystems`,
  refactored only when ``rho`` changes);  any other smooth loss: the
  linearised update (one gradient step on ``f``, exact in the rest);
* Z-update: the prox of ``h / rho`` on every group at once;
* ``rho`` by residual balancing.

Stopping, squared loss: the relative duality gap.  The dual point is
``nu_t = -s_t r_t`` (residuals) and ``theta_g = rho Y_g``, corrected along
``p_g`` so that the dual constraint ``X_t^T nu_t + sum_g p_gt theta_gt = 0``
holds exactly, then scaled by the best ``alpha >= 0``:
``D = alpha sum_t s_t <r_t, y_t> - alpha^2 (sum_t s_t ||r_t||^2 / 2 + sum_g
h^*(theta_g))`` with ``h^*(theta) = max_j ||theta_j||^2 / 4`` (power 2), or
the indicator of ``max_j ||theta_j|| <= 1`` (power 1, alpha capped).  Other
losses: relative primal and dual ADMM residuals.
"""

import numpy as np

from scipy.sparse.linalg import LinearOperator, gmres

from ._common import SolverInfo, balance_rho, not_converged
from .apg import accelerated_proximal_gradient
from .least_squares import TaskSystems, relative_gap, ridge_closed_form, ridge_stats

__all__ = ["admm_scaled_group_norms"]

NAME = "ADMM (column-scaled group norms)"

#: GMRES restart length of :func:`column_scaled_fixed_point_vjp`.
CYCLE = 30


def _scaled_value(h, W, P):
    return h.value(W[None] * P[:, None, :])


def _dual_gap(ls, h, power, W, theta, P, ridge, free_systems=None):
    """Relative duality gap at ``W`` with group duals ``theta`` (N, d, T).

    A ridge ``ridge ||W||_F^2`` is folded into the loss
    (:func:`~mtlcvx.solvers.least_squares.ridge_stats`).  A task that no
    group penalises (``c_t = 0``: SG-MTL with ``lam_g = 0`` for its group)
    is least squares (plus the ridge) on its own, and ``theta`` cannot
    absorb its gradient: its part of the gap is its own suboptimality
    ``s_t/2 ||proj_{X_t} r_t||^2 = g_t^T (s_t X_t^T X_t + 2 ridge I)^+ g_t / 2``
    (``free_systems``, a :class:`TaskSystems` of the datafit, solves
    it), and the dual point of the others is built without it.  (Before,
    such a task made the gap infinite unless its gradient was exactly 0,
    so the solver never stopped.)"""
    grad, rr, ry = ridge_stats(ls, W, ridge)
    c = np.einsum("gt,gt->t", P, P)
    primal = 0.5 * ls.s @ rr + _scaled_value(h, W, P)
    # correct theta along p_g: sum_g p_gt theta_g[:, t] = -grad[:, t]
    mismatch = -grad - np.einsum("gt,gjt->jt", P, theta)
    delta = np.divide(mismatch, c, out=np.zeros_like(mismatch), where=c > 0)
    theta = theta + P[:, None, :] * delta[None]
    free = c == 0
    gap_free = 0.0
    if free.any():
        G = np.where(free, grad, 0.0)
        projected = free_systems.solve(G, np.where(free, 2.0 * ridge, 1.0))
        gap_free = 0.5 * float(np.einsum("jt,jt->", G, projected))
    penalised = ~free
    linear = ls.s[penalised] @ ry[penalised]
    quadratic = 0.5 * ls.s[penalised] @ rr[penalised]
    dual_norms = np.array([h.dual_norm(theta_g) for theta_g in theta])
    if power == 2:
        quadratic += float(np.sum(dual_norms**2) / 4.0)
    alpha = max(0.0, linear / (2.0 * quadratic)) if quadratic > 0 else 1.0
    if power == 1:
        top = dual_norms.max(initial=0.0)
        alpha = min(alpha, 1.0 / top if top > 0 else np.inf)
    dual = alpha * linear - alpha * alpha * quadratic
    primal_penalised = primal - 0.5 * ls.s[free] @ rr[free]
    gap = max(primal_penalised - dual, 0.0) + max(gap_free, 0.0)
    return primal, relative_gap(ls, primal, gap)


def _sparsest(objective, W, Z, P, c):
    """The W-iterate is never exactly sparse; the Z-iterate is.  Return
    ``w_t = sum_g p_gt Z_g[:, t] / c_t`` (zero wherever every ``Z_g`` row is)
    when its objective is not worse than ``W``'s."""
    penalised = c > 0
    W_z = W.copy()
    W_z[:, penalised] = np.einsum("gt,gjt->jt", P[:, penalised], Z[:, :, penalised]) / c[penalised]
    return W_z if objective(W_z) <= objective(W) else W


def _effective_scalings(penalty):
    """``P`` with the weight folded in, and the groups that are not empty."""
    # weight * h(W diag p) = h(W diag(weight^(1/power) p)) for h of degree power
    P = np.asarray(penalty.params["P"], dtype=float) * penalty.weight ** (1.0 / penalty.power)
    return P, np.flatnonzero(P.any(axis=1))


def admm_scaled_group_norms(datafit, penalty, W0, ridge=0.0, tol=1e-9, max_iter=20_000, rho=None, check_every=10,
                            warn=True, keep_state=False):
    """Solve ``min_W f(W) + ridge ||W||_F^2 + weight * sum_g h(W diag(p_g))``.

    Parameters
    ----------
    datafit : the loss bound to data
        The squared loss (``kind == "squared"``) gets exact W-updates and
        the duality-gap stop; any other needs ``grad`` and ``lipschitz``
        (linearised W-updates, residual stop).
    penalty : bound :class:`~mtlcvx.terms.ColumnScaledNorms`
        With its parameter ``P`` (``N x T``) and weight.
    W0 : ndarray (d, T)
    ridge : float
        Weight of ``||W||_F^2``, solved exactly in the W-update.
    keep_state : bool
        Keep the final split variables, duals and ``rho`` in
        ``info.state`` (for :func:`column_scaled_fixed_point_vjp`).

    Returns
    -------
    W : ndarray
    info : SolverInfo
    """
    h, power = penalty.inner, penalty.power
    P_full, active = _effective_scalings(penalty)
    P = P_full[active]  # empty groups contribute nothing
    W = np.array(W0, dtype=float, copy=True)
    c = np.einsum("gt,gt->t", P, P)
    exact = datafit.kind == "squared"
    if not c.any():
        # nothing penalised (SG-MTL at lam = 0): least squares plus the ridge, the minimum-norm solution where
        # it is not unique; the splitting had no residuals to balance and drove rho to 0 (ZeroDivisionError)
        return _unpenalised(datafit, W, ridge, tol, max_iter, warn, keep_state)
    if exact:
        systems = TaskSystems(datafit)
        curvature = systems.curvature() + 2.0 * ridge
    else:
        curvature = datafit.lipschitz() + 2.0 * ridge
        step = 1.0 / curvature
    if rho is None:
        # no curvature (every X_t zero): the loss is constant and any rho serves
        rho = (curvature if curvature > 0 else 1.0) / c.mean() if c.any() else 1.0
    Z = W[None] * P[:, None, :]
    Y = np.zeros_like(Z)
    free_systems = None
    criterion = np.inf
    name = "relative duality gap" if exact else "relative ADMM residual"
    for it in range(1, max_iter + 1):
        B = np.einsum("gt,gjt->jt", P, Z - Y)
        if exact:
            W = systems.solve(systems.b0 + rho * B, rho * c + 2.0 * ridge)
        else:
            W = (W / step - datafit.grad(W) + rho * B) / (1.0 / step + rho * c + 2.0 * ridge)
        WP = W[None] * P[:, None, :]
        # over-relaxation (Eckstein and Bertsekas), 1.6 as commonly advised
        WP_relaxed = 1.6 * WP - 0.6 * Z
        Z_old = Z
        Z = h.prox(WP_relaxed + Y, 1.0 / rho)
        Y += WP_relaxed - Z
        if it % check_every == 0 or it == max_iter:
            r_primal = np.linalg.norm(WP - Z) / max(np.linalg.norm(WP), np.linalg.norm(Z), 1e-300)
            r_dual = (rho * np.linalg.norm(np.einsum("gt,gjt->jt", P, Z - Z_old))
                      / max(rho * np.linalg.norm(np.einsum("gt,gjt->jt", P, Y)), 1e-300))
            if exact:
                if free_systems is None and not c.all():
                    free_systems = TaskSystems(datafit)
                _, criterion = _dual_gap(datafit, h, power, W, rho * Y, P, ridge, free_systems)
            else:
                criterion = max(r_primal, r_dual)
            if criterion <= tol:
                info = SolverInfo(it, True, float(criterion), name, NAME)
                if keep_state:
                    info.state = dict(Z=Z, Y=Y, rho=rho)
                if exact:
                    W = _sparsest(lambda V: datafit.value(V) + ridge * np.sum(V * V) + _scaled_value(h, V, P),
                                  W, Z, P, c)
                return W, info
            factor = balance_rho(r_primal, r_dual)
            rho *= factor
            Y /= factor
    info = not_converged(NAME, max_iter, name, criterion, tol, warn)
    if keep_state:
        info.state = dict(Z=Z, Y=Y, rho=rho)
    return W, info


def _unpenalised(datafit, W0, ridge, tol, max_iter, warn, keep_state):
    """``min_W f(W) + ridge ||W||_F^2`` with no group penalty: per-task ridge
    (minimum-norm least squares at ``ridge = 0``) for the squared loss,
    accelerated gradient for another smooth loss."""
    if datafit.kind == "squared":
        W = np.column_stack([ridge_closed_form(X, y, ridge, s_t)
                             for X, y, s_t in zip(datafit.Xs, datafit.ys, datafit.s)])
        info = SolverInfo(1, True, 0.0, "closed form", NAME, algorithm="closed-form ridge")
    else:
        W, info = accelerated_proximal_gradient(lambda V: datafit.grad(V) + 2.0 * ridge * V, lambda V, step: V, W0,
                                                datafit.lipschitz() + 2.0 * ridge, tol=tol, max_iter=max_iter,
                                                warn=warn)
        info.solver, info.algorithm = NAME, "accelerated gradient (no penalty)"
    if keep_state:
        info.state = dict(Z=np.zeros((0,) + W.shape), Y=np.zeros((0,) + W.shape), rho=1.0)
    return W, info


def column_scaled_fixed_point_vjp(datafit, penalty, ridge, state, W_bar, tol=1e-9, max_iter=20_000, warn=True):
    """The gradient with respect to ``P`` of ``L(W*)``, given ``W_bar =
    dL/dW*``, by implicit differentiation of the ADMM's fixed point (squared
    loss; ``inner`` with ``prox_derivative``).

    At the solution ``(Z, Y)`` is a fixed point of the plain ADMM map (the
    over-relaxed iteration has the same fixed points, those of the KKT
    conditions) at the final ``rho``::

        W(Z, Y)  = argmin_W f(W) + ridge ||W||^2 + rho/2 sum_g ||W diag(p_g) - Z_g + Y_g||^2
                 : (s_t X_t^T X_t + (2 ridge + rho c_t) I) w_t = s_t X_t^T y_t + rho sum_g p_gt (z_gt - y_gt)
        V_g      = W diag(p_g) + Y_g
        Z_g+     = prox_{h / rho}(V_g),   Y_g+ = V_g - Z_g+

    so ``d(Z, Y)/dP = (I - J)^{-1} dT/dP``.  The adjoint ``u`` solves ``(I -
    J^T) u = a`` (``a`` the adjoint of ``W(Z, Y)`` at ``W_bar``) by GMRES on
    matrix-free products with ``J^T``, the map's adjoint (the prox's
    derivative is self-adjoint).  Then ``dL/dP = dW/dP^T W_bar + dT/dP^T u``.

    ``J`` has the eigenvalue 1 exactly (measured by power iteration at the
    BiGMTL synthetic size): the split of the subgradient among groups that
    share a task is not unique, so the fixed points form a continuum with
    one ``W``, the system is singular, and its residual stalls while ``u``
    drifts along the continuum without changing the gradient.  So the
    solve stops on the gradient itself: GMRES restarted every
    :data:`CYCLE` products until ``dL/dP`` changes by less than ``tol``
    (relative) over a cycle.  Measured at the synthetic size (``lam =
    0.1``): 150 products reach the CVXPY reference's gradient to its own
    accuracy (4e-5), where the Neumann series ``u <- J^T u + a`` took 1000
    and stalled near the vertices of Theta (20,000 short of ``1e-7``).

    Returns
    -------
    P_bar : ndarray of ``P``'s shape (zero on empty groups)
    info : SolverInfo
        The Neumann iteration's convergence.
    """
    h = penalty.inner
    P_full, active = _effective_scalings(penalty)
    P = P_full[active]
    Z, Y, rho = state["Z"], state["Y"], state["rho"]
    systems = TaskSystems(datafit)
    c = np.einsum("gt,gt->t", P, P)
    shift = rho * c + 2.0 * ridge
    W = systems.solve(systems.b0 + rho * np.einsum("gt,gjt->jt", P, Z - Y), shift)
    V = W[None] * P[:, None, :] + Y

    def through_W(W_adj):
        """Adjoints of ``W(Z, Y, P)`` at ``W_adj``: ``(Z_bar, Y_bar, P_bar)``."""
        r = systems.solve(W_adj, shift)
        Z_bar = rho * P[:, None, :] * r[None]
        P_bar = rho * np.einsum("gjt,jt->gt", Z - Y, r) - 2.0 * rho * P * np.einsum("jt,jt->t", r, W)[None]
        return Z_bar, -Z_bar, P_bar

    def transpose(u_Z, u_Y):
        """``J^T u`` and ``dT/dP^T u``."""
        V_bar = h.prox_derivative(V, 1.0 / rho, u_Z - u_Y) + u_Y
        Z_bar, Y_bar, P_bar = through_W(np.einsum("gt,gjt->jt", P, V_bar))
        return Z_bar, Y_bar + V_bar, P_bar + np.einsum("gjt,jt->gt", V_bar, W)

    a_Z, a_Y, P_bar_W = through_W(np.asarray(W_bar, dtype=float))
    half = a_Z.size

    def split(u):
        return u[:half].reshape(a_Z.shape), u[half:].reshape(a_Y.shape)

    def matvec(u):
        Z_bar, Y_bar, _ = transpose(*split(u))
        return u - np.concatenate([Z_bar.ravel(), Y_bar.ravel()])

    a = np.concatenate([a_Z.ravel(), a_Y.ravel()])
    operator = LinearOperator((a.size, a.size), matvec=matvec, dtype=float)
    u, previous = a.copy(), P_bar_W + transpose(*split(a))[2]
    name = f"relative change of the gradient over {CYCLE} GMRES steps"
    criterion, products = np.inf, 0
    while products < max_iter:
        u, _ = gmres(operator, a, x0=u, rtol=0.0, atol=0.0, restart=CYCLE, maxiter=1)
        products += CYCLE
        P_bar = P_bar_W + transpose(*split(u))[2]
        criterion = np.linalg.norm(P_bar - previous) / max(np.linalg.norm(P_bar), 1e-300)
        previous = P_bar
        if criterion <= tol:
            info = SolverInfo(products, True, float(criterion), name, "ADMM fixed-point adjoint (GMRES)")
            break
    else:
        info = not_converged("ADMM fixed-point adjoint (GMRES)", products, name, criterion, tol, warn)
    out = np.zeros_like(P_full)
    out[active] = P_bar * penalty.weight ** (1.0 / penalty.power)
    return out, info
