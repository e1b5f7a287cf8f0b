"""Smoothing proximal gradient (SPG; Chen et al. 2012), the solver of the
SSMTL paper (eqs. 12-15), for the problem of
:mod:`mtlcvx.solvers.primal_dual`.

Each ``gamma ||D x||_ggl`` is replaced by its Nesterov smoothing
``max_{||beta_g|| <= 1} gamma beta^T D x - mu/2 ||beta||^2``, whose gradient
is ``gamma D^T beta*`` with ``beta*`` the group-wise projection of ``gamma D
x / mu`` onto unit balls; accelerated gradient with restart then runs on the
smoothed problem (Lipschitz ``L + max gamma^2 ||K||^2 / mu``), stopped on
its gradient norm.  It solves the *smoothed* problem: the gap to the true
optimum is at most ``mu`` times half the number of groups (times
``gamma``), and does not vanish with more iterations.
"""

import numpy as np

from .apg import accelerated_proximal_gradient
from .primal_dual import ComponentLoss, operator_norm_squared

__all__ = ["smoothing_proximal_gradient"]


def smoothing_proximal_gradient(datafit, n_components, penalties, mu, tol=1e-8, max_iter=50_000, warn=True):
    """Minimise the smoothed problem; ``penalties`` as in
    :func:`~mtlcvx.solvers.primal_dual_group_norms`, ``mu > 0`` the
    smoothing.

    Returns
    -------
    X : ndarray (h, d*T)
    info : SolverInfo
    """
    F = ComponentLoss(datafit, n_components)
    K2 = operator_norm_squared(penalties, n_components)
    gmax = max((op.weight for op, _ in penalties), default=0.0)

    def smooth_grad(x_flat):
        X = x_flat.reshape(n_components, -1)
        G = F.grad(X)
        for op, l in penalties:
            beta = op.project_dual(op.weight * (op.D @ X[l]) / mu, 1.0)
            G[l] += op.weight * (op.D.T @ beta)
        return G.ravel()

    x, info = accelerated_proximal_gradient(
        smooth_grad, lambda v, step: v, np.zeros(n_components * F.d * F.T), F.lipschitz() + gmax**2 * K2 / mu,
        tol=tol, max_iter=max_iter, warn=warn,
    )
    info.solver = "smoothing proximal gradient"
    return x.reshape(n_components, -1), info
