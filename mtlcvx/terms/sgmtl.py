"""The SG-MTL regulariser family (Kshirsagar, Yang, Lozano, ECML-PKDD
2017) as weights of the generic :class:`~mtlcvx.terms.ScaledGroupNorms`.

This module holds the paper-specific map from memberships ``U`` and group
weights ``lam`` to the column scalings ``P``; the penalty itself is
generic."""

import numpy as np

__all__ = ["sgmtl_weights", "sgmtl_power", "SGMTL_REGULARIZERS"]

SGMTL_REGULARIZERS = ("sqrt", "squared", "l1")


def sgmtl_power(regularizer):
    """The power of the group sums: 2 for eqs. (5) and (4), 1 for (2)."""
    if regularizer not in SGMTL_REGULARIZERS:
        raise ValueError(f"regularizer must be one of {SGMTL_REGULARIZERS}, got {regularizer!r}")
    return 1 if regularizer == "l1" else 2


def sgmtl_weights(U, lam, regularizer="sqrt"):
    r"""The SG-MTL regulariser as :class:`~mtlcvx.terms.ScaledGroupNorms`
    weights.

    ===============  ==================================================  ==============================  =====
    ``regularizer``  SG-MTL paper                                        ``P_g``                         power
    ===============  ==================================================  ==============================  =====
    ``"sqrt"``       eq. (5): ``sum_g lam_g (sum_j ||W_j sqrt(U_g)||)^2``  ``sqrt(lam_g) sqrt(u_g)``       2
    ``"squared"``    eq. (4): ``sum_g lam_g (sum_j ||W_j U_g||)^2``        ``sqrt(lam_g) u_g``             2
    ``"l1"``         eq. (2), relaxed, with the square-root
                     reparameterisation (Fig. 4b):
                     ``sum_g lam_g sum_j ||W_j sqrt(U_g)||``               ``lam_g sqrt(u_g)``             1
    ===============  ==================================================  ==============================  =====

    ``U`` is ``N x T`` (column t: task t's memberships, the paper's
    ``U_g = diag(u_g)`` for row g); ``lam`` a scalar or one value per
    group.  Folding ``lam_g`` into ``P_g`` keeps the CVXPY model DPP (a
    parameter times a parameter-dependent square would not be).

    Returns
    -------
    P : ndarray (N, T)
    power : int
    """
    power = sgmtl_power(regularizer)
    U = np.asarray(U, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (U.shape[0],))[:, None]
    if regularizer == "sqrt":
        return np.sqrt(lam) * np.sqrt(U), power
    if regularizer == "squared":
        return np.sqrt(lam) * U, power
    return lam * np.sqrt(U), power
