"""Penalties ``Omega(W)`` on a weight matrix ``W`` of shape ``(d, T)``.

Each is one class (see :class:`~mtlcvx.terms.base.Penalty` for what a
term may declare).  The weights (``lam``, ``rho``...) are *not* part of a
penalty: models pair penalties with their hyperparameters, so that the same
term serves the numpy path and a CVXPY model whose weight is a
``cp.Parameter``.

A group (a row of ``W`` for the L21 norm, an entry for L1) whose norm is
below :data:`ZERO_TOL` times the largest is read as zero by
``subdiff_distance``: solvers that never return exact zeros leave such
values where the optimum has zeros (Clarabel left a row at 5e-7 of the
largest on a small group lasso, SCS at ``eps = 1e-8`` rows at 1e-10).
"""

import numpy as np

from ..spectral import soft_threshold_function, spectral_point
from .base import Penalty, _cvxpy
from .proximal import (
    group_norms,
    group_soft_threshold,
    group_subdiff_distance,
    singular_value_threshold,
    soft_threshold,
    squared_group_threshold,
)

__all__ = [
    "L1",
    "L21",
    "SquaredL21",
    "SquaredFrobenius",
    "NuclearNorm",
    "ClusteredPenalty",
    "ColumnScaledNorms",
    "ScaledGroupNorms",
    "ScaledNuclearNorms",
    "lambda_max",
    "ZERO_TOL",
]

#: Relative size below which a group of a candidate counts as zero in
#: ``subdiff_distance``.
ZERO_TOL = 1e-6


def _zero_tol(norms):
    return ZERO_TOL * float(np.max(norms, initial=0.0))


class L1(Penalty):
    r"""``||W||_1 = sum_{j,t} |W_jt|`` (lasso)."""

    degree = 1

    def value(self, W):
        return float(np.abs(W).sum())

    def expr(self, W):
        return _cvxpy().sum(_cvxpy().abs(W))

    def prox(self, V, step):
        return soft_threshold(V, step)

    def dual_norm(self, G):
        """``max_{j,t} |G_jt|``, the dual norm of ``||.||_1``."""
        return float(np.abs(G).max(initial=0.0))

    def row_dual_norms(self, G):
        """``max_t |G_jt|`` for each row ``j`` (the penalty is row-separable)."""
        return np.abs(G).max(axis=1)

    def subdiff_distance(self, W, G):
        W = np.asarray(W, dtype=float)
        return group_subdiff_distance(W[..., None], np.asarray(G, dtype=float)[..., None], _zero_tol(np.abs(W)))


class L21(Penalty):
    r"""``||W||_{2,1} = sum_j ||W_j||_2``, the l2 norm of each row (feature)
    across tasks, summed (group lasso of Obozinski et al., MALSAR
    ``Least_L21``).  Works on stacks ``(..., d, T)`` too."""

    degree = 1
    row_l2 = True

    def value(self, W):
        return float(group_norms(W).sum())

    def expr(self, W):
        cp = _cvxpy()
        return cp.sum(cp.norm(W, 2, axis=1))

    def prox(self, V, step):
        return group_soft_threshold(V, step)

    def dual_norm(self, G):
        """``max_j ||G_j||_2``, the dual norm of ``||.||_{2,1}``."""
        return float(group_norms(G).max(initial=0.0))

    def row_dual_norms(self, G):
        """``||G_j||_2`` for each row ``j`` (the penalty is row-separable)."""
        return group_norms(G)

    def conjugate(self, G):
        """The indicator of the dual ball: 0 if ``max_j ||G_j|| <= 1``
        (relative ``1e-12``), else ``inf``."""
        return 0.0 if self.dual_norm(G) <= 1.0 + 1e-12 else np.inf

    def subdiff_distance(self, W, G):
        return group_subdiff_distance(W, G, _zero_tol(group_norms(W)))


class SquaredL21(Penalty):
    r"""``(sum_j ||W_j||_2)^2``, the squared L21 norm (SG-MTL's group term
    (5)).  ``prox`` works on stacks ``(..., d, T)``, one threshold per stack
    entry."""

    degree = 2

    def value(self, W):
        return float(np.sum(group_norms(W).sum(axis=-1) ** 2))

    def expr(self, W):
        cp = _cvxpy()
        return cp.square(cp.sum(cp.norm(W, 2, axis=1)))

    def prox(self, V, step):
        theta = squared_group_threshold(group_norms(V), step)
        return group_soft_threshold(V, np.asarray(theta)[..., None])

    def dual_norm(self, G):
        """``max_j ||G_j||``: ``(sum_j ||.||)^2`` is the square of a norm
        whose dual this is."""
        return float(group_norms(G).max(initial=0.0))

    def conjugate(self, G):
        """``(max_j ||G_j||)^2 / 4``: the conjugate of ``q(||.||)`` with
        ``q(a) = a^2`` is ``q*(||.||_*)``, ``q*(b) = b^2 / 4``."""
        return float(group_norms(G).max(initial=0.0) ** 2 / 4.0)


class SquaredFrobenius(Penalty):
    r"""``||W||_F^2 = sum_{j,t} W_jt^2`` (ridge; note: no factor 1/2)."""

    degree = 2
    ridge = True

    def value(self, W):
        return float(np.sum(np.square(W)))

    def expr(self, W):
        return _cvxpy().sum_squares(W)

    def grad(self, W):
        return 2.0 * W

    def lipschitz(self):
        return 2.0

    def prox(self, V, step):
        return V / (1.0 + 2.0 * step)


class NuclearNorm(Penalty):
    r"""``||W||_* = sum_i sigma_i(W)``, the trace norm (MALSAR ``Least_Trace``).

    In CVXPY it becomes a semidefinite block of size ``(d + T)``: see the
    reference layer's notes on solver choice."""

    degree = 1
    sdp = True

    def value(self, W):
        return float(np.linalg.svd(W, compute_uv=False).sum())

    def expr(self, W):
        return _cvxpy().normNuc(W)

    def prox(self, V, step):
        """Singular value thresholding (of every matrix of a stack)."""
        return singular_value_threshold(np.asarray(V, dtype=float), step)

    def prox_derivative(self, V, step, E):
        """The derivative of :meth:`prox` at ``V`` in the direction ``E``
        (every matrix of a stack): the Daleckii-Krein formula for ``h(s) =
        (s - step)_+`` (:mod:`mtlcvx.spectral`).  A prox is the gradient of
        a Moreau envelope, so this derivative is self-adjoint: it serves
        reverse mode as it is."""
        return spectral_point(V).derivative(soft_threshold_function(step), E)

    def dual_norm(self, G):
        """``sigma_max(G)``, the spectral norm, dual of the trace norm."""
        return float(np.linalg.norm(G, 2))

    def subdiff_distance(self, W, G):
        r"""Distance of ``-G`` to ``d||W||_* = {U V^T + Z : U^T Z = 0, Z V =
        0, ||Z||_2 <= 1}`` (``W = U S V^T``, singular values below
        :data:`ZERO_TOL` times the largest read as zero).  With ``M = -G -
        U V^T`` split into ``P = (I - UU^T) M (I - VV^T)`` and the rest,
        the distance is ``sqrt(||M - P||^2 + sum_i (sigma_i(P) - 1)_+^2)``."""
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        rank = int(np.sum(s > _zero_tol(s)))
        U, Vt = U[:, :rank], Vt[:rank]
        M = -np.asarray(G, dtype=float) - U @ Vt
        P = M - U @ (U.T @ M)
        P = P - (P @ Vt.T) @ Vt
        excess = np.maximum(np.linalg.svd(P, compute_uv=False) - 1.0, 0.0)
        return float(np.sqrt(np.sum((M - P) ** 2) + np.sum(excess**2)))


class ClusteredPenalty(Penalty):
    r"""Convex clustered-MTL penalty of Jacob, Bach and Vert (2009), as in
    MALSAR's ``CMTL``:

    .. math::

        \Omega_k(W) = \min_{M} \operatorname{tr}\big(W (\eta I + M)^{-1} W^T\big)
        \quad \text{s.t.} \quad \operatorname{tr} M = k,\; 0 \preceq M \preceq I,

    with ``M`` of size ``T x T`` (``k`` = number of clusters, ``eta > 0``).
    Models multiply it by ``rho1 * eta * (1 + eta)``, ``eta = rho2 / rho1``.

    Closed form used by :meth:`value` and :meth:`grad` (derived here, checked
    against the CVXPY model in the tests): with ``W^T W = Q diag(sigma^2)
    Q^T``, the optimal ``M`` shares the eigenvectors ``Q`` and has
    eigenvalues ``lambda_i = clip(sigma_i * tau - eta, 0, 1)``, where ``tau``
    makes ``sum_i lambda_i = k`` (KKT of ``min sum_i sigma_i^2 / (eta +
    lambda_i)`` over the capped simplex).  The value is ``sum_i sigma_i^2 /
    (eta + lambda_i)`` and, by Danskin's theorem, the gradient is ``2 W
    (eta I + M*)^{-1}``; it is ``(2/eta)``-Lipschitz.

    Parameters
    ----------
    n_clusters : float
        ``k``, with ``0 < k <= T``.
    eta : float or cvxpy.Parameter, optional
        ``eta > 0``, the term's parameter: given here, or to each method as
        the keyword ``eta`` (which takes precedence).
    """

    degree = 2
    parameters = ("eta",)

    def __init__(self, n_clusters, eta=None):
        if not n_clusters > 0:
            raise ValueError(f"n_clusters must be > 0, got {n_clusters}")
        self.n_clusters = n_clusters
        self.eta = eta

    def __repr__(self):
        return f"ClusteredPenalty(n_clusters={self.n_clusters}, eta={self.eta!r})"

    @staticmethod
    def weights(rho1, rho2):
        """MALSAR's parametrisation: ``(c, eta)`` with ``eta = rho2 / rho1``
        and ``c = rho1 eta (1 + eta)``, the factor of the penalty."""
        eta = rho2 / rho1
        return rho1 * eta * (1.0 + eta), eta

    def _eta(self, eta):
        eta = self._param("eta", eta)
        if not float(eta) > 0:
            raise ValueError(f"eta must be > 0, got {eta}")
        return float(eta)

    def _check_tasks(self, T):
        if self.n_clusters > T:
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of tasks {T}")

    def optimal_M_spectrum(self, W, eta=None):
        """Eigenvectors ``Q`` and eigenvalues ``lambda`` of the minimising ``M``,
        and ``sigma^2``, the eigenvalues of ``W^T W``."""
        T = W.shape[1]
        self._check_tasks(T)
        eta, k = self._eta(eta), float(self.n_clusters)
        sigma2, Q = np.linalg.eigh(W.T @ W)
        sigma2 = np.maximum(sigma2, 0.0)
        sigma = np.sqrt(sigma2)
        positive = sigma > 0
        if positive.sum() <= k:
            # Every direction W uses can take lambda=1; the rest of the trace
            # goes to directions where sigma=0 and does not change the value.
            lam = np.where(positive, 1.0, 0.0)
            spare = k - positive.sum()
            free = np.flatnonzero(~positive)
            lam[free] = min(1.0, spare / max(len(free), 1)) if len(free) else 0.0
            return Q, lam, sigma2
        lam = _capped_simplex_spectrum(sigma[positive], eta, k)
        out = np.zeros(T)
        out[positive] = lam
        return Q, out, sigma2

    def value(self, W, eta=None):
        _, lam, sigma2 = self.optimal_M_spectrum(W, eta)
        return float(np.sum(sigma2 / (self._eta(eta) + lam)))

    def grad(self, W, eta=None):
        Q, lam, _ = self.optimal_M_spectrum(W, eta)
        return 2.0 * ((W @ Q) / (self._eta(eta) + lam)) @ Q.T

    def lipschitz(self, eta=None):
        return 2.0 / self._eta(eta)

    def cvx(self, W, eta=None):
        expression, constraints, _ = self.cvx_with_M(W, eta)
        return expression, constraints

    def cvx_with_M(self, W, eta=None):
        """``(expression, constraints, M)``, with the auxiliary variable."""
        cp = _cvxpy()
        T = W.shape[1]
        self._check_tasks(T)
        eta = self._param("eta", eta)
        M = cp.Variable((T, T), symmetric=True, name="M")
        constraints = [cp.trace(M) == self.n_clusters, M >> 0, np.eye(T) - M >> 0]
        # matrix_frac(X, P) = tr(X^T P^{-1} X); with X = W^T it is
        # tr(W P^{-1} W^T).  P = eta I + M is parameter-affine, so DPP holds.
        return cp.matrix_frac(W.T, eta * np.eye(T) + M), constraints, M


def _capped_simplex_spectrum(sigma, eta, k):
    """``lambda_i = clip(sigma_i tau - eta, 0, 1)`` with ``sum lambda = k``
    (all ``sigma_i > 0``, ``k < len(sigma)``).  The sum is continuous and
    non-decreasing in ``tau``, piecewise linear: bisection brackets the
    piece, then the linear equation on that piece is solved exactly."""
    def total(tau):
        return np.clip(sigma * tau - eta, 0.0, 1.0).sum()

    lo, hi = 0.0, (eta + 1.0) / sigma.min()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) < k:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    tau = 0.5 * (lo + hi)
    raw = sigma * tau - eta
    active = (raw > 0) & (raw < 1)
    if active.any():
        n_one = np.sum(raw >= 1)
        tau = (k - n_one + eta * active.sum()) / sigma[active].sum()
    return np.clip(sigma * tau - eta, 0.0, 1.0)


class ColumnScaledNorms(Penalty):
    r"""``sum_g h(W diag(p_g))``: ``h`` (:attr:`inner`) applied to ``N``
    column-scaled copies of ``W``, homogeneous of degree :attr:`power`.

    ``P`` (``N x T``, nonnegative; row ``g`` is ``p_g``) scales the tasks'
    columns separately in each group: the term's parameter, given here or
    to each method as the keyword ``P``.  In CVXPY, ``W @ diag(P_g)`` is
    parameter-affine times a variable, so a ``cp.Parameter`` ``P`` keeps a
    model DPP.  The ADMM of :func:`mtlcvx.solvers.admm_scaled_group_norms`
    solves any such term from ``inner``'s prox and dual norm (flag
    ``column_scaled``).
    """

    parameters = ("P",)
    column_scaled = True
    inner = None
    power = 1

    @property
    def scale_parameter(self):
        return ("P", self.power)

    @property
    def degree(self):
        return self.power

    def __init__(self, P=None):
        self.P = P

    def __repr__(self):
        return f"{type(self).__name__}(power={self.power})"

    def group_values(self, W, P=None):
        """``h(W diag(p_g))`` for each group ``g``."""
        P = np.asarray(self._param("P", P), dtype=float)
        return np.array([self.inner.value(W * p) for p in P])

    def value(self, W, P=None):
        return float(self.group_values(W, P).sum())

    def expr(self, W, P=None):
        cp = _cvxpy()
        P = self._param("P", P)
        total = 0
        for g in range(P.shape[0]):
            total = total + self.inner.expr(W @ cp.diag(P[g]))
        return total


class ScaledGroupNorms(ColumnScaledNorms):
    r"""``sum_g h(W diag(p_g))`` with ``h`` the L21 norm (``power=1``) or its
    square (``power=2``, :class:`SquaredL21`): a sum of task-weighted L21
    norms, or of their squares, the SG-MTL regulariser family
    (:mod:`mtlcvx.terms.sgmtl`)."""

    def __init__(self, P=None, power=2):
        if power not in (1, 2):
            raise ValueError(f"power must be 1 or 2, got {power!r}")
        super().__init__(P)
        self.power = power
        self.inner = L21() if power == 1 else SquaredL21()


class ScaledNuclearNorms(ColumnScaledNorms):
    r"""``sum_l ||W diag(p_l)||_*``: trace norms of column-scaled copies of
    ``W`` (BiGMTL's ``lam sum_l ||theta_l o W||_tr`` with ``P = lam
    theta^T``).  Semidefinite in CVXPY, one block per group."""

    sdp = True
    inner = NuclearNorm()


def lambda_max(penalty, datafit):
    """The smallest weight ``lam`` at which ``W = 0`` minimises ``f(W) + lam
    Omega(W)`` for a norm ``Omega``: the dual norm of ``-grad f(0)``.

    ``datafit`` is a loss bound to data (``loss.bind(data)``)."""
    return float(penalty.dual_norm(-datafit.grad(np.zeros(datafit.shape))))
