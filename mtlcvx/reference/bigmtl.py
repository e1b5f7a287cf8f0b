"""BiGMTL lower level (Frecon, Salzo, Pontil, "Unveiling Groups of Related
Tasks in Multi-Task Learning", ICPR 2020), eqs. (3)-(4):

    min_W  1/2 sum_t ||y_t - X_t w_t||^2 + eps/2 ||W||_F^2 + lam sum_l ||theta_l o W||_tr      (3)-(4)

``theta`` (``T x L``, the paper's ``[theta_1 .. theta_L]``) scales task
``t``'s column by ``theta[t, l]`` in group ``l``; on Theta its rows lie on
the simplex.
"""

import numpy as np

from .._validation import check_loss, check_scalar_param
from ..data import as_multitask_data
from ..terms import ScaledNuclearNorms, SquaredFrobenius
from .base import Derived, Entry, Parameter, ReferenceModel

__all__ = ["BiGMTLLower", "bigmtl_lower"]


class BiGMTLLower(ReferenceModel):
    """Reference of the BiGMTL lower level; parameters ``theta`` (``T x L``,
    >= 0), ``lam`` (>= 0) and ``eps`` (> 0).

    Declared as ``eps/2 ||W||_F^2 + ScaledNuclearNorms(W; P)`` with ``P =
    lam theta^T`` (``L x T``) derived: ``lam ||W diag(theta_l)||_* = ||W
    diag(lam theta_l)||_*`` keeps the model DPP in ``theta`` and ``lam``, so
    an outer loop compiles it once.  Both derived parameters carry their
    chain rule, so ``solve(..., requires_grad=True)`` then
    ``result.backward(W=...)`` gives the implicit hypergradient with respect
    to ``theta`` (and ``lam``, ``eps``).  Semidefinite: SCS by default.
    """

    def __init__(self, data, n_groups, scaling="sum"):
        data = as_multitask_data(data)
        check_loss("squared", scaling)
        # int() would turn 2.5 into 2 groups (and True into 1)
        self.n_groups = int(check_scalar_param(n_groups, "n_groups", low=1, high=data.n_tasks, integer=True))
        T, L = data.n_tasks, self.n_groups
        super().__init__(
            data, ["W"], "squared",
            terms=[("half_eps", SquaredFrobenius(), "W"), Entry(None, ScaledNuclearNorms(), "W", {"P": "P"})],
            parameters=[Parameter("theta", shape=(T, L), doc="group structure, T x L"),
                        Parameter("lam"), Parameter("eps", positive=True)],
            derived=[
                Derived("P", lambda v: v["lam"] * v["theta"].T, ("theta", "lam"), shape=(L, T), vjp=_scaling_vjp),
                Derived("half_eps", lambda v: 0.5 * v["eps"], ("eps",), vjp=lambda v, g: {"eps": 0.5 * float(g)}),
            ],
            scaling=scaling,
        )


def _scaling_vjp(values, cotangent):
    # P = lam theta^T
    return {"theta": values["lam"] * cotangent.T, "lam": float(np.sum(cotangent * values["theta"].T))}


def bigmtl_lower(data, n_groups, scaling="sum"):
    """The BiGMTL lower level (3)-(4) for ``n_groups`` groups (the paper's
    ``L``); parameters ``theta``, ``lam``, ``eps``.  ``scaling="mean"``
    divides each task's loss by ``n_t``.  See :class:`BiGMTLLower`."""
    return BiGMTLLower(data, n_groups, scaling)
