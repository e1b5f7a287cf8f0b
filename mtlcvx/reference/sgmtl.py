"""SG-MTL W-step (Kshirsagar, Yang, Lozano, ECML-PKDD 2017), eq. (5).

For fixed memberships ``U`` (``N x T``, column t on the simplex) the
problem in ``W`` is convex:

    min_W  sum_t L(w_t; D_t) + sum_g lam_g (sum_j ||W_j sqrt(U_g)||_2)^2        (5)

with ``sqrt(U_g) = diag(sqrt(u_g1), ..., sqrt(u_gT))`` and ``W_j`` the j-th
row.  ``regularizer="squared"`` gives eq. (4) (``U_g`` instead of its square
root) and ``regularizer="l1"`` the relaxed eq. (2) with the square-root
reparameterisation (no square on the group sums); the fusion term of (6)
does not involve ``W``.
"""

import cvxpy as cp
import numpy as np

from ..terms import ScaledGroupNorms, make_loss, sgmtl_weights
from .base import ReferenceModel

__all__ = ["SGMTLWStep", "sgmtl_wstep"]


class SGMTLWStep(ReferenceModel):
    """Reference of the SG-MTL W-step; parameters ``U`` (``N x T``, >= 0)
    and ``lam`` (scalar or one value per group, >= 0).

    DPP: the model holds one parameter ``P`` (``N x T``) with ``P_g =
    sqrt(lam_g) sqrt(u_g)`` (``"sqrt"``), ``sqrt(lam_g) u_g`` (``"squared"``)
    or ``lam_g sqrt(u_g)`` (``"l1"``), set from ``U`` and ``lam`` at each
    solve (see :func:`mtlcvx.terms.sgmtl_weights`): ``lam_g (sum_j ||W_j
    diag(s)||)^2 = (sum_j ||W_j diag(sqrt(lam_g) s)||)^2``, and an outer loop
    that changes ``U`` re-solves without recompiling.

    Solver: SCS by default.  A group whose memberships are all 0 (an empty
    group, common during the alternation) makes its cones degenerate;
    Clarabel then fails with "solver_error" at its default static
    regularisation (observed; 1e-7, set here when Clarabel is asked for,
    cures eq. (5) but not always eq. (4)), while SCS solves the same
    instances to certified gaps below 1e-9.  SCS is also the faster of the
    two here (set-2 size: about 2 s against 17 s).
    """

    prefers_scs = True
    solver_defaults = {"CLARABEL": {"static_regularization_constant": 1e-7}}

    def __init__(self, data, n_groups, loss="squared", scaling="sum", regularizer="sqrt"):
        self.loss = make_loss(loss, scaling)
        self.n_groups = int(n_groups)
        if self.n_groups < 1:
            raise ValueError(f"n_groups must be >= 1, got {n_groups}")
        sgmtl_weights(np.ones((1, 1)), 1.0, regularizer)  # validates the name
        self.regularizer = regularizer
        super().__init__(data)

    def _build(self):
        d, T = self.data.n_features, self.data.n_tasks
        self._parameter("U", shape=(self.n_groups, T), direct=False, doc="memberships, N x T")
        self._parameter("lam", shape=(self.n_groups,), direct=False, broadcast=True, doc="lam_g")
        self._P = cp.Parameter((self.n_groups, T), nonneg=True, name="P")
        self.W_var = cp.Variable((d, T), name="W")
        _, power = sgmtl_weights(np.ones((1, 1)), 1.0, self.regularizer)
        penalty = ScaledGroupNorms(self._P, power)
        return self.loss.expr(self.W_var, self.data) + penalty.expr(self.W_var), []

    def _bind(self, params):
        self._P.value, _ = sgmtl_weights(params["U"], params["lam"], self.regularizer)

    def _objective_numpy(self, W, params):
        P, power = sgmtl_weights(params["U"], params["lam"], self.regularizer)
        return self.loss.value(W, self.data) + ScaledGroupNorms(P, power).value(W)


def sgmtl_wstep(data, n_groups, loss="squared", scaling="sum", regularizer="sqrt"):
    """The SG-MTL W-step, eq. (5) (or (4), (2) by ``regularizer``);
    parameters ``U`` and ``lam``.  See :class:`SGMTLWStep`."""
    return SGMTLWStep(data, n_groups, loss, scaling, regularizer)
