"""Penalties ``Omega(W)`` on the weight matrix ``W`` of shape ``(d, T)``.

Each penalty gives

* :meth:`value` -- its value in numpy;
* :meth:`cvx` -- ``(expression, constraints)`` in CVXPY (the constraints
  list is empty except for penalties defined by a partial minimisation,
  such as :class:`ClusteredPenalty`); :meth:`expr` returns the expression
  alone where no constraint is needed;
* :meth:`prox` -- ``argmin_Z 1/2 ||Z - V||_F^2 + step * Omega(Z)`` where a
  closed form exists;
* :meth:`grad` -- where the penalty is differentiable.

The weights (``lam``, ``rho``...) are *not* part of a penalty: models
multiply penalties by their hyperparameters, so that the same term serves
the numpy path and a CVXPY model whose weight is a ``cp.Parameter``.
"""

import cvxpy as cp
import numpy as np

__all__ = [
    "Penalty",
    "L1",
    "L21",
    "SquaredFrobenius",
    "NuclearNorm",
    "ClusteredPenalty",
    "ScaledGroupNorms",
    "sgmtl_weights",
    "SGMTL_REGULARIZERS",
    "prox_l12",
    "row_soft_threshold",
    "singular_value_threshold",
]


class Penalty:
    """Base class: subclasses define :meth:`value` and :meth:`cvx`."""

    smooth = False

    def value(self, W):
        raise NotImplementedError

    def cvx(self, W):
        return self.expr(W), []

    def expr(self, W):
        expression, constraints = self.cvx(W)
        if constraints:
            raise TypeError(
                f"{type(self).__name__} needs auxiliary constraints: use .cvx(W)"
            )
        return expression

    def __repr__(self):
        return f"{type(self).__name__}()"


def soft_threshold(V, threshold):
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)


def row_soft_threshold(V, threshold):
    """Block soft-thresholding of the rows of ``V``: the prox of
    ``threshold * sum_j ||V_j||_2``."""
    norms = np.sqrt(np.einsum("ij,ij->i", V, V))
    scale = 1.0 - threshold / np.maximum(norms, np.finfo(float).tiny)
    np.maximum(scale, 0.0, out=scale)
    return V * scale[:, None]


def singular_value_threshold(V, threshold):
    """Soft-thresholding of the singular values: the prox of
    ``threshold * ||V||_*``.

    For a tall or wide ``V`` (one side at least twice the other) the
    singular pairs come from the eigendecomposition of the small Gram
    matrix, several times cheaper than an SVD.  Squaring the spectrum loses
    relative accuracy only on singular values far below the largest, so
    this route is taken only when every value it keeps is at least
    ``1e-4 sigma_max`` (``threshold >= 1e-4 sigma_max``); otherwise, and for
    square-ish ``V``, a full SVD.
    """
    d, T = V.shape
    if max(d, T) >= 2 * min(d, T):
        wide = d < T
        gram = V @ V.T if wide else V.T @ V
        eigenvalues, Q = np.linalg.eigh(gram)
        s = np.sqrt(np.maximum(eigenvalues, 0.0))
        if threshold >= 1e-4 * s[-1]:
            keep = s > threshold
            factor = np.zeros_like(s)
            factor[keep] = 1.0 - threshold / s[keep]
            Qk = Q[:, keep]
            return (Qk * factor[keep]) @ (Qk.T @ V) if wide else (V @ Qk) * factor[keep] @ Qk.T
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    s = np.maximum(s - threshold, 0.0)
    keep = s > 0
    return (U[:, keep] * s[keep]) @ Vt[keep]


class L1(Penalty):
    r"""``||W||_1 = sum_{j,t} |W_jt|`` (lasso)."""

    def value(self, W):
        return float(np.abs(W).sum())

    def expr(self, W):
        return cp.sum(cp.abs(W))

    def prox(self, V, step):
        return soft_threshold(V, step)

    @staticmethod
    def dual_norm(G):
        """``max_{j,t} |G_jt|``, the dual norm of ``||.||_1``."""
        return float(np.abs(G).max())

    @staticmethod
    def row_dual_norms(G):
        """``max_t |G_jt|`` for each row ``j`` (the penalty is row-separable)."""
        return np.abs(G).max(axis=1)


class L21(Penalty):
    r"""``||W||_{2,1} = sum_j ||W_j||_2``, the l2 norm of each row (feature)
    across tasks, summed (group lasso of Obozinski et al., MALSAR
    ``Least_L21``)."""

    def value(self, W):
        return float(np.linalg.norm(W, axis=1).sum())

    def expr(self, W):
        return cp.sum(cp.norm(W, 2, axis=1))

    def prox(self, V, step):
        return row_soft_threshold(V, step)

    @staticmethod
    def dual_norm(G):
        """``max_j ||G_j||_2``, the dual norm of ``||.||_{2,1}``."""
        return float(np.linalg.norm(G, axis=1).max())

    @staticmethod
    def row_dual_norms(G):
        """``||G_j||_2`` for each row ``j`` (the penalty is row-separable)."""
        return np.linalg.norm(G, axis=1)


class SquaredFrobenius(Penalty):
    r"""``||W||_F^2 = sum_{j,t} W_jt^2`` (ridge; note: no factor 1/2)."""

    smooth = True

    def value(self, W):
        return float(np.sum(W * W))

    def expr(self, W):
        return cp.sum_squares(W)

    def grad(self, W):
        return 2.0 * W

    def prox(self, V, step):
        return V / (1.0 + 2.0 * step)


class NuclearNorm(Penalty):
    r"""``||W||_* = sum_i sigma_i(W)``, the trace norm (MALSAR ``Least_Trace``).

    In CVXPY it becomes a semidefinite block of size ``(d + T)``: see the
    reference layer's notes on solver choice."""

    def value(self, W):
        return float(np.linalg.svd(W, compute_uv=False).sum())

    def expr(self, W):
        return cp.normNuc(W)

    def prox(self, V, step):
        return singular_value_threshold(V, step)

    @staticmethod
    def dual_norm(G):
        """``sigma_max(G)``, the spectral norm, dual of the trace norm."""
        return float(np.linalg.norm(G, 2))


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
    eta : float or cvxpy.Parameter
        ``eta > 0``.  A ``cp.Parameter`` is accepted so that a reference
        model can change it without recompiling; :meth:`value` then reads
        the parameter's current value.
    """

    smooth = True

    def __init__(self, n_clusters, eta):
        if not n_clusters > 0:
            raise ValueError(f"n_clusters must be > 0, got {n_clusters}")
        self.n_clusters = n_clusters
        self.eta = eta

    def __repr__(self):
        return f"ClusteredPenalty(n_clusters={self.n_clusters}, eta={self._eta()})"

    @staticmethod
    def weights(rho1, rho2):
        """MALSAR's parametrisation: ``(c, eta)`` with ``eta = rho2 / rho1``
        and ``c = rho1 eta (1 + eta)``, the factor of the penalty."""
        eta = rho2 / rho1
        return rho1 * eta * (1.0 + eta), eta

    def _eta(self):
        eta = self.eta.value if isinstance(self.eta, cp.Parameter) else self.eta
        if eta is None or not float(eta) > 0:
            raise ValueError(f"eta must be > 0, got {eta}")
        return float(eta)

    def _check_tasks(self, T):
        if self.n_clusters > T:
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of tasks {T}")

    def optimal_M_spectrum(self, W):
        """Eigenvectors ``Q`` and eigenvalues ``lambda`` of the minimising ``M``,
        and ``sigma^2``, the eigenvalues of ``W^T W``."""
        T = W.shape[1]
        self._check_tasks(T)
        eta, k = self._eta(), float(self.n_clusters)
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

    def value(self, W):
        _, lam, sigma2 = self.optimal_M_spectrum(W)
        return float(np.sum(sigma2 / (self._eta() + lam)))

    def grad(self, W):
        Q, lam, _ = self.optimal_M_spectrum(W)
        return 2.0 * ((W @ Q) / (self._eta() + lam)) @ Q.T

    def lipschitz(self):
        return 2.0 / self._eta()

    def cvx(self, W):
        expression, constraints, _ = self.cvx_with_M(W)
        return expression, constraints

    def cvx_with_M(self, W):
        """``(expression, constraints, M)``, with the auxiliary variable."""
        T = W.shape[1]
        self._check_tasks(T)
        M = cp.Variable((T, T), symmetric=True, name="M")
        constraints = [cp.trace(M) == self.n_clusters, M >> 0, np.eye(T) - M >> 0]
        # matrix_frac(X, P) = tr(X^T P^{-1} X); with X = W^T it is
        # tr(W P^{-1} W^T).  P = eta I + M is parameter-affine, so DPP holds.
        return cp.matrix_frac(W.T, self.eta * np.eye(T) + M), constraints, M


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


def _l12(Z):
    """``sum_j ||Z_j||_2`` over the rows of ``Z`` (last two axes)."""
    return np.sqrt(np.einsum("...jt,...jt->...j", Z, Z)).sum(axis=-1)


def prox_l12(V, step, power):
    """Prox of ``step * h`` with ``h(Z) = (sum_j ||Z_j||_2)^power``,
    ``power`` 1 (block soft-thresholding) or 2.

    For ``power = 2`` (derived here, checked against CVXPY in the tests):
    the optimality conditions give ``Z_j = V_j max(0, 1 - theta / ||V_j||)``
    with ``theta = 2 step sum_k ||Z_k|| = 2 step sum_k (||V_k|| - theta)_+``;
    the right-hand side is decreasing in ``theta``, so the fixed point is
    found exactly by sorting the row norms.
    """
    if power == 1:
        return row_soft_threshold(V, step)
    norms = np.sqrt(np.einsum("jt,jt->j", V, V))
    theta = _squared_group_threshold(norms, step)
    return row_soft_threshold(V, theta)


def _squared_group_threshold(norms, step):
    """Solve ``theta = 2 step sum_k (n_k - theta)_+`` for ``theta >= 0``."""
    n = np.sort(norms)[::-1]
    csum = np.cumsum(n)
    # with the k largest active: theta = 2 step (S_k - k theta)
    k = np.arange(1, n.size + 1)
    theta = 2.0 * step * csum / (1.0 + 2.0 * step * k)
    valid = theta < n  # the k-th largest stays active
    if not valid.any():
        return 0.0
    return float(theta[np.flatnonzero(valid)[-1]])


class ScaledGroupNorms(Penalty):
    r"""``sum_g h(W diag(P_g))`` with ``h(Z) = (sum_j ||Z_j||_2)^power``.

    ``P`` (``N x T``, nonnegative) scales the tasks' columns separately in
    each of the ``N`` groups; ``power`` is 1 (a sum of weighted L21 norms)
    or 2 (their squares).  This is the SG-MTL regulariser family, see
    :func:`sgmtl_weights`.  ``P`` may be a ``cp.Parameter`` (DPP: ``W @
    diag(P_g)`` is parameter-affine times a variable).
    """

    def __init__(self, P, power=2):
        if power not in (1, 2):
            raise ValueError(f"power must be 1 or 2, got {power!r}")
        self.P = P
        self.power = power

    def __repr__(self):
        return f"ScaledGroupNorms(power={self.power})"

    def _P(self):
        P = self.P.value if isinstance(self.P, cp.Parameter) else self.P
        return np.asarray(P, dtype=float)

    def group_values(self, W):
        """``h(W diag(P_g))`` for each group ``g``."""
        P = self._P()
        return _l12(W[None, :, :] * P[:, None, :]) ** self.power

    def value(self, W):
        return float(self.group_values(W).sum())

    def expr(self, W):
        N = self.P.shape[0]
        total = 0
        for g in range(N):
            norms = cp.sum(cp.norm(W @ cp.diag(self.P[g]), 2, axis=1))
            total = total + (norms if self.power == 1 else cp.square(norms))
        return total


SGMTL_REGULARIZERS = ("sqrt", "squared", "l1")


def sgmtl_weights(U, lam, regularizer="sqrt"):
    r"""The SG-MTL regulariser as :class:`ScaledGroupNorms` weights.

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
    U = np.asarray(U, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (U.shape[0],))[:, None]
    if regularizer == "sqrt":
        return np.sqrt(lam) * np.sqrt(U), 2
    if regularizer == "squared":
        return np.sqrt(lam) * U, 2
    if regularizer == "l1":
        return lam * np.sqrt(U), 1
    raise ValueError(f"regularizer must be one of {SGMTL_REGULARIZERS}, got {regularizer!r}")
