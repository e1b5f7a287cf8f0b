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

from .._validation import check_loss, check_option, check_scalar_param
from ..data import as_multitask_data
from ..terms import SGMTL_REGULARIZERS, ScaledGroupNorms, sgmtl_power, sgmtl_weights
from .base import Derived, Entry, Parameter, ReferenceModel

__all__ = ["SGMTLWStep", "sgmtl_wstep"]


class SGMTLWStep(ReferenceModel):
    """Reference of the SG-MTL W-step; parameters ``U`` (``N x T``, >= 0)
    and ``lam`` (scalar or one value per group, >= 0).

    Declared as ``ScaledGroupNorms(W; P)`` with ``P`` (``N x T``) derived
    from ``U`` and ``lam``: ``P_g = sqrt(lam_g) sqrt(u_g)`` (``"sqrt"``),
    ``sqrt(lam_g) u_g`` (``"squared"``) or ``lam_g sqrt(u_g)`` (``"l1"``), see
    :func:`mtlcvx.terms.sgmtl_weights`: ``lam_g (sum_j ||W_j diag(s)||)^2 =
    (sum_j ||W_j diag(sqrt(lam_g) s)||)^2``, and an outer loop that changes
    ``U`` re-solves without recompiling.  (``P`` is not differentiable in
    ``U`` at 0, so this model offers no gradients.)

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
        data = as_multitask_data(data)
        check_loss(loss, scaling)
        # int() would turn 2.5 into 2 groups; more groups than tasks leave
        # some empty whatever U is
        self.n_groups = int(check_scalar_param(n_groups, "n_groups", low=1, high=data.n_tasks, integer=True))
        self.regularizer = check_option(regularizer, "regularizer", SGMTL_REGULARIZERS)
        shape = (self.n_groups, data.n_tasks)
        super().__init__(
            data, ["W"], loss,
            terms=[Entry(None, ScaledGroupNorms(power=sgmtl_power(regularizer)), "W", {"P": "P"})],
            parameters=[Parameter("U", shape=shape, doc="memberships, N x T"),
                        Parameter("lam", shape=(self.n_groups,), broadcast=True, doc="lam_g")],
            derived=[Derived("P", lambda v: sgmtl_weights(v["U"], v["lam"], regularizer)[0], ("U", "lam"),
                             shape=shape)],
            scaling=scaling,
        )


def sgmtl_wstep(data, n_groups, loss="squared", scaling="sum", regularizer="sqrt"):
    """The SG-MTL W-step, eq. (5) (or (4), (2) by ``regularizer``);
    parameters ``U`` and ``lam``.  See :class:`SGMTLWStep`."""
    return SGMTLWStep(data, n_groups, loss, scaling, regularizer)
