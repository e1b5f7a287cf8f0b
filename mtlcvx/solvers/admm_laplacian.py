"""ADMM for group norms of linear maps whose normal matrices are built from
the task Laplacian: every operator ``D`` satisfies ``D^T D = I`` (selection
along features or tasks, element-wise or vector-wise) or ``D^T D = L_T kron
I_d`` with ``L_T = T I - 1 1^T`` (pairwise task fusion, vector- or
element-wise), the operators' declared ``gram_structure``.  With the
squared loss the W-update is then a linear system solved in closed form.
The GenGL problem of the SSMTL paper (eq. 10) with any Table 1 preset is of
this kind.

Problem: ``min_{W_1..W_h} f(sum_l W_l) + sum_i gamma_i ||D_i vec(W_{l(i)})||_ggl``
with ``f(W) = sum_t s_t/2 ||y_t - X_t w_t||^2``.  Splitting ``z_i = D_i
vec(W_l)`` (scaled duals ``u_i``), the W-update is a linear system that this
structure solves exactly: per component ``sum_{i in l} D_i^T D_i`` acts on
``W_l`` as right-multiplication by ``M_l = a_l I + b_l L_T``, whose inverse is
``P_1 / a_l + P_perp / (a_l + b_l T)`` (``P_1 = 1 1^T / T``).  Writing the
optimality conditions ``grad f(W) + rho (W_l M_l - B_l) = 0`` for every
``l`` and summing ``W = sum_l W_l`` leaves, per task, ``(I + k_t H_t) w_t =
q_t - kappa g`` with ``k_t = beta s_t / rho``, ``H_t = X_t^T X_t``, and one
``d``-vector ``g = sum_t grad_t`` shared by the tasks, found from a ``d x
d`` system.  The per-task inverses are those of
:class:`~mtlcvx.solvers.least_squares.TaskSystems`: ``d x d`` and
equilibrated where ``n_t >= d`` or the features are badly scaled,
``n_t x n_t`` (Woodbury) otherwise, never padded to the largest ``n_t``
(two tasks of 1 and 5,000 samples used to invert two ``5000 x 5000``
matrices at every change of ``rho``: over a minute at ``d = 10``, now a
third of a second); they are recomputed only when ``rho`` changes.  A
component with only fusion
operators (``a_l = 0``, e.g. MeTaG) gets a proximal term ``(eps/2) ||W_l -
W_l^k||^2`` (proximal ADMM: same fixed points, well-posed update).

Stopped on the relative primal and dual ADMM residuals.

Operators of weight 0 constrain nothing and are dropped (left in, their
zero duals made the dual residual's scale vanish and the residual balancing
drove ``rho`` to 0: NaN).  With every weight 0 the problem is least squares
on ``W = sum_l W_l``: the answer is each task's minimum-norm least-squares
solution, split evenly over the components (the split of least norm).
"""

import numpy as np

from ._common import SolverInfo, balance_rho, not_converged
from .least_squares import TaskSystems, check_operator_weights, least_squares_components

__all__ = ["admm_task_laplacian"]

NAME = "ADMM (task-Laplacian operators)"

#: Over-relaxation of the split variables' updates (1: plain ADMM).
#: Measured on SSMTL_m (h = 2) at tol 1e-8, iterations at 1.0 / 1.5 / 1.8:
#: GL scenario 1920 / 1790 / 2000, MeTaG 910 / 570 / 430, rMTFL 570 / 430 /
#: 350 (same objectives to 1e-8 relative).
RELAX = 1.5
RESIDUAL = "relative ADMM residual"


class _Structure:
    def __init__(self, penalties, n_components, T):
        self.a = np.zeros(n_components)
        self.b = np.zeros(n_components)
        for op, l in penalties:
            if op.gram_structure == "identity":
                self.a[l] += 1.0
            elif op.gram_structure == "task_fusion":
                self.b[l] += 1.0
            else:
                raise ValueError(f"unsupported operator structure {op.gram_structure!r}")
        self.T = T
        # proximal weight (relative to rho) for components without identity part
        self.eps = np.where(self.a > 0, 0.0, 1e-2 * np.maximum(self.b, 1.0) * T)

    def inverse_right(self, X, l):
        """``X M_l^{-1}`` with ``M_l = (a_l + eps_l) I + b_l L_T``."""
        a = self.a[l] + self.eps[l]
        mean = X.mean(axis=1, keepdims=True)
        return mean / a + (X - mean) / (a + self.b[l] * self.T)

    def alpha_beta(self):
        a = self.a + self.eps
        return float(np.sum(1.0 / a)), float(np.sum(1.0 / (a + self.b * self.T)))


def _sparsest(datafit, blocks, Wl, Z, tol):
    """The W-iterate is never exactly sparse; the Z-iterate is.  A component
    whose only operator is a selection (``D^T D = I``) is read off its
    ``z`` as ``D^T z`` (exact zeros where the groups are), kept when the
    objective is not worse than ``W``'s by more than ``tol`` (relative).
    Likewise ``W = 0`` (every component), which the iterate only
    approaches when the weights are above the point where it is optimal
    (at ``gamma = 1e12`` it ended at 1e-163, not 0)."""
    def objective(components):
        return datafit.value(components.sum(axis=0)) + sum(op.value(components[l]) for l, *_, op in blocks)

    count = np.bincount([l for l, *_ in blocks], minlength=len(Wl))
    sparse = Wl.copy()
    d, T = Wl.shape[1:]
    for (l, _, DT, _, op), z in zip(blocks, Z):
        if count[l] == 1 and op.gram_structure == "identity":
            sparse[l] = (DT @ z).reshape(T, d).T
    current = objective(Wl)
    slack = tol * abs(current)
    zero = np.zeros_like(Wl)
    for candidate in (zero, sparse):
        if objective(candidate) <= current + slack:
            return candidate
    return Wl


def admm_task_laplacian(datafit, n_components, penalties, tol=1e-8, max_iter=20_000, check_every=10, warn=True):
    """Solve ``min_{W_1..W_h} f(sum_l W_l) + sum_i gamma_i ||D_i vec(W_{l(i)})||_ggl``.

    Parameters
    ----------
    datafit : the squared loss bound to data
    n_components : int
        ``h``.
    penalties : list of ``(operator, component)``
        Bound :class:`~mtlcvx.terms.GenGLOperator` (weight ``gamma_i``) whose
        ``gram_structure`` is ``"identity"`` or ``"task_fusion"``.

    Returns
    -------
    components : ndarray (h, d, T)
    info : SolverInfo
    """
    penalties = check_operator_weights(penalties)
    d, T = datafit.shape
    if not penalties:
        return least_squares_components(datafit, n_components), SolverInfo(1, True, 0.0, "closed form", NAME)
    s = datafit.s
    # (I + k_t H_t)^{-1} = a_t (H_t + a_t I)^{-1} with a_t = 1 / k_t: the unweighted task systems
    systems = TaskSystems(Xs=datafit.Xs, s=np.ones(T))
    C = -datafit.grad(np.zeros((d, T))) / s  # c_t = X_t^T y_t
    structure = _Structure(penalties, n_components, T)
    h = n_components
    # D^T once as CSR: the transposed products are half of every iteration
    blocks = [(l, op.D, op.D.T.tocsr(), op.weight, op) for op, l in penalties]

    def mat(v):  # vec (column-major) -> (d, T)
        return v.reshape(T, d).T

    def vec(W):
        return W.T.ravel()

    Wl = np.zeros((h, d, T))
    Z = [D @ vec(Wl[l]) for l, D, *_ in blocks]
    U = [np.zeros_like(z) for z in Z]
    rho = float(np.mean([s_t * np.einsum("nd,nd->", X, X) for X, s_t in zip(datafit.Xs, s)])) / d
    # no curvature at all (every X_t zero): the loss is constant and any rho serves; 1e-12 made gamma / rho
    # overflow in the group prox
    rho = rho if rho > 0 else 1.0
    factors = None

    def factor(rho):
        alpha, beta = structure.alpha_beta()
        k = beta * s / rho
        a = 1.0 / k
        S = systems.gram_inverse_sum(a, s * a)  # sum_t s_t H_t A_t^{-1}, A_t = I + k_t H_t
        kappa = (alpha - beta) / (rho * T)
        return dict(k=k, a=a, kappa=kappa, F=np.linalg.inv(np.eye(d) + kappa * S), beta=beta)

    def apply_Ainv(B, f):  # A_t^{-1} b_t, B (d, T)
        return f["a"] * systems.solve(B, f["a"])

    criterion = np.inf
    for it in range(1, max_iter + 1):
        if factors is None:
            factors = factor(rho)
        B = np.zeros((h, d, T))
        for (l, _, DT, *_), z, u in zip(blocks, Z, U):
            B[l] += mat(DT @ (z - u))
        B += structure.eps[:, None, None] * Wl
        R = sum(structure.inverse_right(B[l], l) for l in range(h))
        q = R + factors["k"] * C  # (d, T)
        # sum_t s_t H_t A_t^{-1} q_t - s_t c_t, with H_t A_t^{-1} q_t = H_t (A_t^{-1} q_t)
        rhs = (s * systems.gram_times(apply_Ainv(q, factors))).sum(axis=1) - (s * C).sum(axis=1)
        g = factors["F"] @ rhs
        W = apply_Ainv(q - factors["kappa"] * g[:, None], factors)  # (d, T)
        G = s * (systems.gram_times(W) - C)
        Wl = np.array([structure.inverse_right(B[l] - G / rho, l) for l in range(h)])
        Z_old = Z
        DW = [D @ vec(Wl[l]) for l, D, *_ in blocks]
        # over-relaxation (Boyd et al. 2011, 3.4.3): the split variables see a mix of the new D W and the old z
        DWr = [RELAX * dw + (1.0 - RELAX) * zo for dw, zo in zip(DW, Z_old)]
        Z = [op.group_prox(dw + u, gamma / rho) for dw, u, (*_, gamma, op) in zip(DWr, U, blocks)]
        U = [u + dw - z for u, dw, z in zip(U, DWr, Z)]
        if it % check_every == 0 or it == max_iter:
            r_primal = np.sqrt(sum(np.sum((dw - z) ** 2) for dw, z in zip(DW, Z)))
            dual = np.zeros((h, d, T))
            scaled_u = np.zeros((h, d, T))
            for (l, _, DT, *_), z, zo, u in zip(blocks, Z, Z_old, U):
                dual[l] += mat(DT @ (z - zo))
                scaled_u[l] += mat(DT @ u)
            p_scale = max(np.sqrt(sum(np.sum(dw**2) for dw in DW)), np.sqrt(sum(np.sum(z**2) for z in Z)), 1e-300)
            r_primal /= p_scale
            r_dual = rho * np.linalg.norm(dual) / max(rho * np.linalg.norm(scaled_u), 1e-300)
            criterion = max(r_primal, r_dual)
            if criterion <= tol:
                return _sparsest(datafit, blocks, Wl, Z, tol), SolverInfo(it, True, float(criterion), RESIDUAL, NAME)
            factor_ = balance_rho(r_primal, r_dual)
            if factor_ != 1.0:
                rho *= factor_
                U = [u / factor_ for u in U]
                factors = None
    return Wl, not_converged(NAME, max_iter, RESIDUAL, criterion, tol, warn)
