"""The convex subproblems of SRML's ADMM (Bai, Torres, Wang, Zhao, Abad,
Vaca, "Sign-Regularized Multi-Task Learning", SDM 2023), eq. (4.4).

* the **w-step**: ``min_W L(W) + lam Omega(W) + <y, W - u> + rho/2 ||W -
  u||_F^2`` with ``Omega`` the squared l2 norm of (4.4) or the l1 norm of
  section 5.1, written ``rho/2 ||W||^2 - <rho u - y, W> + rho/2 ||u||^2 -
  <y, u>`` so that ``u``, ``y`` and ``rho`` are DPP parameters (the ADMM
  compiles it once);
* the two convex **halves of the u-step**: ``min_u rho/2 ||u - v||^2 + <C,
  u>`` over ``u >= 0`` (``C = c S-``, the mass of the negative neighbours)
  or over ``u <= 0`` (``C = -c S+``).  The u-step itself is not convex:
  per coordinate it is the lower of the two halves
  (:func:`mtlcvx.solvers.srml.sign_coordinate_minimizer`).
"""

import numpy as np

from .._validation import check_loss, check_option
from ..data import as_multitask_data
from ..terms import L1, SquaredFrobenius
from ..terms.srml import LinearTerm, NonNegative, NonPositive, ProximalQuadratic
from .base import Derived, Entry, Parameter, ReferenceModel

__all__ = ["SRMLWStep", "SRMLUStepHalf", "srml_wstep", "srml_ustep", "SRML_PENALTIES"]

SRML_PENALTIES = ("l2", "l1")

_QUADRATIC = {"rho": "rho", "shift": "shift", "constant": "constant"}


class SRMLWStep(ReferenceModel):
    """SRML's w-step; variable ``W``; parameters ``u`` and ``y`` (``d x T``,
    any sign), ``rho`` (> 0) and ``lam`` (>= 0).  ``penalty="l2"`` is
    ``lam ||W||_F^2`` (eq. 4.4: the paper's ``lam ||w_t||_2^2``, not halved),
    ``"l1"`` is ``lam ||W||_1``.  The derived ``shift = rho u - y`` and
    ``constant = rho/2 ||u||^2 - <y, u>`` carry their chain rule, so
    ``solve(..., requires_grad=True)`` differentiates with respect to ``u``,
    ``y``, ``rho`` and ``lam``."""

    def __init__(self, data, penalty="l2", loss="squared", scaling="sum"):
        data = as_multitask_data(data)
        check_loss(loss, scaling)
        self.penalty = check_option(penalty, "penalty", SRML_PENALTIES)
        shape = (data.n_features, data.n_tasks)
        omega = SquaredFrobenius() if penalty == "l2" else L1()
        super().__init__(
            data, ["W"], loss,
            terms=[("lam", omega, "W"), Entry(None, ProximalQuadratic(), "W", dict(_QUADRATIC))],
            parameters=[Parameter("u", shape=shape, nonneg=False, doc="the split copy of W"),
                        Parameter("y", shape=shape, nonneg=False, doc="the dual variable"),
                        Parameter("rho", positive=True, doc="the ADMM penalty"),
                        Parameter("lam", doc="weight of Omega")],
            derived=[
                Derived("shift", lambda v: v["rho"] * v["u"] - v["y"], ("u", "y", "rho"), shape=shape, nonneg=False,
                        vjp=lambda v, g: {"u": v["rho"] * g, "y": -g, "rho": float(np.sum(g * v["u"]))}),
                Derived("constant", lambda v: 0.5 * v["rho"] * np.sum(v["u"] ** 2) - np.sum(v["y"] * v["u"]),
                        ("u", "y", "rho"), nonneg=False,
                        vjp=lambda v, g: {"u": float(g) * (v["rho"] * v["u"] - v["y"]), "y": -float(g) * v["u"],
                                          "rho": 0.5 * float(g) * float(np.sum(v["u"] ** 2))}),
            ],
            scaling=scaling,
        )


class SRMLUStepHalf(ReferenceModel):
    """One convex half of SRML's u-step: ``min_u rho/2 ||u - v||^2 + <C, u>``
    over ``u >= 0`` (``half="nonneg"``) or ``u <= 0`` (``"nonpos"``);
    variable ``u``; parameters ``v`` (``W + Y/rho``), ``C`` (``c S-`` on the
    nonnegative half, ``-c S+`` on the other) and ``rho``.  No loss: the
    data only fix the shape ``(d, T)``."""

    def __init__(self, data, half="nonneg"):
        data = as_multitask_data(data)
        self.half = check_option(half, "half", ("nonneg", "nonpos"))
        shape = (data.n_features, data.n_tasks)
        super().__init__(
            data, ["u"], None,
            terms=[Entry(None, ProximalQuadratic(), "u", dict(_QUADRATIC)), Entry(None, LinearTerm(), "u", {"C": "C"})],
            parameters=[Parameter("v", shape=shape, nonneg=False, doc="W + Y / rho"),
                        Parameter("C", shape=shape, nonneg=False, doc="linear coefficient of the sign term"),
                        Parameter("rho", positive=True, doc="the ADMM penalty")],
            derived=[
                Derived("shift", lambda v: v["rho"] * v["v"], ("v", "rho"), shape=shape, nonneg=False),
                Derived("constant", lambda v: 0.5 * v["rho"] * np.sum(v["v"] ** 2), ("v", "rho"), nonneg=False),
            ],
            constraints=[(NonNegative() if half == "nonneg" else NonPositive(), "u")],
        )


def srml_wstep(data, penalty="l2", loss="squared", scaling="sum"):
    """SRML's w-step (4.4); see :class:`SRMLWStep`."""
    return SRMLWStep(data, penalty, loss, scaling)


def srml_ustep(data, half="nonneg"):
    """One convex half of SRML's u-step; see :class:`SRMLUStepHalf`."""
    return SRMLUStepHalf(data, half)
