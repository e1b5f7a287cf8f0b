"""What the bilevel methods share, and their hypergradients.

A bilevel method learns hyperparameters ``theta`` (BiGMTL's group
structure, GGMTL's edge weights) by minimising a validation error at the
solution of a training problem:

    min_theta  U(theta) = C(W_hat(theta)),   W_hat(theta) = argmin_W L_train(W, theta),
    C(W) = 1/2 sum_t ||y_t^val - X_t^val w_t||^2.

The **hypergradient** ``grad U(theta)`` is ``(dW_hat/dtheta)^T grad C(W_hat)``.
Two ways to compute it are offered for each method, and a third to check
them:

* ``method="reverse"``: differentiate the fast solver's iterations (for
  BiGMTL, Algorithm 1 of the paper: reverse mode through ``n_inner``
  iterations of the dual solver), which gives the exact gradient of the
  *unrolled* objective ``U^(Q)``, converging to ``grad U`` as ``Q`` grows;
* ``method="implicit"``: implicit differentiation of the optimality
  conditions of the CVXPY reference (:meth:`ReferenceResult.backward`):
  the gradient of ``U`` itself, to the reference solver's accuracy;
* ``method="fixed-point"`` (BiGMTL): implicit differentiation of the fast
  exact solver's fixed point (the ADMM), in numpy: the gradient of ``U``
  itself, solved to ``1e-10``;
* ``method="closed-form"`` (GGMTL): Theorem 1, implicit differentiation of
  the lower level's sparse linear system (or of the reweighted fixed point
  for the non-squared version), in numpy;
* :func:`central_differences`: of either objective, for a check of your own.
"""

from ._common import central_differences, project_rows_to_simplex, project_to_box, validation_error
from .bigmtl import BiGMTLHypergradient, bigmtl_hypergradient
from .ggmtl import GGMTLHypergradient, ggmtl_hypergradient, theorem2_edges

__all__ = [
    "validation_error",
    "central_differences",
    "project_rows_to_simplex",
    "project_to_box",
    "BiGMTLHypergradient",
    "bigmtl_hypergradient",
    "GGMTLHypergradient",
    "ggmtl_hypergradient",
    "theorem2_edges",
]
