"""Dual forward-backward with Bregman distances for least squares plus a
sum of trace norms of column-scaled copies of ``W``, and its reverse mode:
the BiGMTL lower level (Frecon, Salzo, Pontil, ICPR 2020, eqs. 3-6,
Definition II.1, Algorithm 1).

Primal, eqs. (3)-(4)::

    min_W  f(W) + g(A_theta W),
    f(W) = sum_t 1/2 ||y_t - X_t w_t||^2 + eps/2 ||W||_F^2,
    g(Z_1..Z_L) = lam sum_l ||Z_l||_tr,   A_theta W = (theta_l o W)_l,

``theta_l o W`` scaling column ``t`` of ``W`` by ``theta[t, l]``.  The dual
variable ``U = (U_1..U_L)`` lives in the product of spectral balls of
radius ``lam`` (``g*`` is their indicator).  With the Legendre function
``phi(U) = sum_i kappa(sigma_i(U))``, ``kappa(t) = -sqrt(lam^2 - t^2)``, whose
domain is the ball, the Bregman proximal step of ``g*`` is ``grad phi*``
(eq. 13), a smooth map of the singular values, and the iteration (6) is::

    W^q     = grad f*(-A* U^q):  w_t = D_t^{-1} (X_t^T y_t - sum_l theta_tl u_tl),  D_t = X_t^T X_t + eps I
    V_l^q   = grad phi(U_l^q) + gamma theta_l o W^q
    U_l^q+1 = grad phi*(V_l^q),

``kappa'(t) = t / sqrt(lam^2 - t^2)``, ``kappa*'(s) = lam s / sqrt(1 + s^2)``.
Since ``grad phi`` inverts ``grad phi*``, ``grad phi(U^{q+1}) = V^q``: the
iteration accumulates ``V^{q+1} = V^q + gamma theta o W^{q+1}`` and needs
one SVD per group and iteration (mirror descent in the dual).

Step: ``gamma = eps / (2 lam)``.  Theorem II.1 asks for ``gamma < eps /
(lam ||A_theta||^2)`` and sets half of it; on Theta (rows on the simplex)
``||A_theta||^2 = max_t sum_l theta_tl^2 <= 1``, and a step that does not
depend on ``theta`` keeps the unrolled map smooth in ``theta`` (the
paper's ``||A_theta||`` is a max, not differentiable).

Stopping: every ``U^q`` is dual feasible, so ``P(W^q) - D(U^q)`` with
``D(U) = 1/2 ||y||^2 - 1/2 sum_t (X_t^T y_t - (A* U)_t)^T w_t`` is a
certified bound on the suboptimality of ``W^q``.
"""

from dataclasses import dataclass, field

import numpy as np

from ._common import SolverInfo, not_converged
from ..spectral import OddFunction, spectral_point

__all__ = ["TraceGroupsDual", "hellinger_maps"]

NAME = "dual forward-backward with Bregman distances"


def hellinger_maps(lam):
    """``(grad phi, grad phi*)`` of Definition II.1 as odd functions of the
    singular values: ``kappa'`` and ``kappa*'`` with their derivatives."""
    lam = float(lam)
    grad_phi = OddFunction(lambda t: t / np.sqrt(lam**2 - t**2), lambda t: lam**2 / (lam**2 - t**2) ** 1.5)
    grad_phi_conj = OddFunction(lambda s: lam * s / np.sqrt(1.0 + s**2), lambda s: lam / (1.0 + s**2) ** 1.5)
    return grad_phi, grad_phi_conj


@dataclass
class Tape:
    """What reverse mode needs of a forward run: the SVD of every ``V^q_l``
    (``U^{q+1}_l`` shares it), every ``W^q`` and ``U^q``."""

    V_points: list = field(default_factory=list)
    W: list = field(default_factory=list)
    U: list = field(default_factory=list)
    U0_point: object = None
    U_final: np.ndarray = None


class TraceGroupsDual:
    """The lower level on fixed training data.

    Parameters
    ----------
    Xs, ys : per-task training data
    eps : float > 0
    weights : ndarray (T,), optional
        Loss weights ``s_t`` (``1/2 s_t ||y_t - X_t w_t||^2``); default 1,
        the paper's.
    """

    def __init__(self, Xs, ys, eps, weights=None):
        if not eps > 0:
            raise ValueError(f"eps must be > 0 (it makes the lower level strongly convex), got {eps}")
        self.Xs, self.ys = list(Xs), list(ys)
        self.eps = float(eps)
        self.s = np.ones(len(Xs)) if weights is None else np.asarray(weights, dtype=float)
        P = Xs[0].shape[1]
        self.shape = (P, len(Xs))
        self.D_inv = np.stack([np.linalg.inv(s_t * (X.T @ X) + self.eps * np.eye(P)) for X, s_t in zip(Xs, self.s)])
        self.b = np.column_stack([s_t * (X.T @ y) for X, y, s_t in zip(Xs, ys, self.s)])
        self.yy = float(sum(s_t * (y @ y) for y, s_t in zip(ys, self.s)))

    def _solve_tasks(self, R):
        """``D_t^{-1} r_t`` for every column."""
        return np.einsum("tpq,qt->pt", self.D_inv, R)

    def primal_weights(self, U, theta):
        """``W = grad f*(-A*_theta U)``."""
        return self._solve_tasks(self.b - np.einsum("tl,lpt->pt", theta, U))

    def primal(self, W, theta, lam):
        """The lower-level objective (3) at ``W``."""
        loss = sum(0.5 * s_t * np.sum((y - X @ W[:, t]) ** 2)
                   for t, (X, y, s_t) in enumerate(zip(self.Xs, self.ys, self.s)))
        scaled = W[None] * theta.T[:, None, :]
        trace_norms = sum(np.linalg.svd(Z, compute_uv=False).sum() for Z in scaled)
        return float(loss + 0.5 * self.eps * np.sum(W * W) + lam * trace_norms)

    def dual(self, U, theta):
        """``D(U) = -f*(-A* U)`` for ``U`` in the spectral balls."""
        R = self.b - np.einsum("tl,lpt->pt", theta, U)
        return float(0.5 * self.yy - 0.5 * np.sum(R * self._solve_tasks(R)))

    def initial_dual(self, theta):
        return np.zeros((theta.shape[1], *self.shape))

    def forward(self, theta, lam, n_iter, U0=None, record=False):
        """``n_iter`` iterations of (6) from ``U0`` (default 0).

        Returns
        -------
        W : ndarray (P, T)
            ``W^Q``.
        U : ndarray (L, P, T)
            ``U^Q`` (to warm-restart from).
        tape : Tape or None
        """
        theta = np.asarray(theta, dtype=float)
        grad_phi, grad_phi_conj = hellinger_maps(lam)
        gamma = self.eps / (2.0 * lam)
        U = self.initial_dual(theta) if U0 is None else np.array(U0, dtype=float)
        tape = Tape() if record else None
        U0_point = spectral_point(U)
        V = U0_point.apply(grad_phi)
        if record:
            tape.U0_point = U0_point
        for _ in range(n_iter):
            W = self.primal_weights(U, theta)
            V = V + gamma * W[None] * theta.T[:, None, :]
            point = spectral_point(V)  # every group at once
            if record:
                tape.V_points.append(point)
                tape.W.append(W)
                tape.U.append(U)
            U = point.apply(grad_phi_conj)
        if record:
            tape.U_final = U
        return self.primal_weights(U, theta), U, tape

    def solve(self, theta, lam, tol=1e-6, max_iter=1_000_000, check_every=50, U0=None, warn=True):
        """Run (6) until the relative duality gap ``(P(W) - D(U)) / max(1,
        |P(W)|)`` is below ``tol``.

        Returns
        -------
        W : ndarray
        U : ndarray
        info : SolverInfo
        """
        theta = np.asarray(theta, dtype=float)
        U = U0
        gap = np.inf
        name = "relative duality gap"
        done = 0
        while done < max_iter:
            steps = min(check_every, max_iter - done)
            W, U, _ = self.forward(theta, lam, steps, U0=U)
            done += steps
            primal = self.primal(W, theta, lam)
            gap = max(primal - self.dual(U, theta), 0.0) / max(1.0, abs(primal))
            if gap <= tol:
                return W, U, SolverInfo(done, True, gap, name, NAME)
        return W, U, not_converged(NAME, max_iter, name, gap, tol, warn)

    def reverse(self, tape, theta, lam, W_bar):
        """Algorithm 1: the gradient with respect to ``theta`` of ``L(W^Q)``
        given ``W_bar = dL/dW^Q``, by reverse-mode differentiation through
        the recorded iterations (``U^0`` held fixed, as a warm restart is).

        Derived here, step by step adjoint to :meth:`forward`, and the same
        as the paper's Algorithm 1 (its ``Z`` carries ``gamma`` outside):

        * ``W^Q = D^{-1}(b - A* U^Q)``: ``U_bar^Q = -theta o Z``, ``theta_bar
          -= <u^Q_tl, z_t>`` with ``Z = D^{-1} W_bar^Q``;
        * for ``q = Q-1..0``: ``S = D grad phi*(V^q)[U_bar^{q+1}]``, then
          ``U_bar^q = D grad phi(U^q)[S] - theta o Z`` and ``theta_bar +=
          gamma <s_tl, w^q_t> - <u^q_tl, z_t>`` with ``Z = gamma D^{-1}
          sum_l theta_l o S_l``.

        The derivatives of the spectral maps are the Daleckii-Krein formula
        (:mod:`mtlcvx.solvers.spectral`); ``D grad phi(U^{q})`` uses the SVD
        of ``V^{q-1}`` (``U^q`` shares its singular vectors).
        """
        theta = np.asarray(theta, dtype=float)
        grad_phi, grad_phi_conj = hellinger_maps(lam)
        gamma = self.eps / (2.0 * lam)
        Z = self._solve_tasks(np.asarray(W_bar, dtype=float))
        U_bar = -Z[None] * theta.T[:, None, :]
        theta_bar = -np.einsum("lpt,pt->tl", tape.U_final, Z)
        for q in range(len(tape.W) - 1, -1, -1):
            S = tape.V_points[q].derivative(grad_phi_conj, U_bar)
            Z = gamma * self._solve_tasks(np.einsum("tl,lpt->pt", theta, S))
            # U^q = grad phi*(V^{q-1}) has the singular vectors of V^{q-1} and
            # singular values kappa*'(s): D grad phi is evaluated there (at
            # q = 0, at U^0 itself)
            if q > 0:
                previous = tape.V_points[q - 1]
                U_point = previous.with_values(grad_phi_conj.value(previous.s))
            else:
                U_point = tape.U0_point
            U_bar = U_point.derivative(grad_phi, S) - Z[None] * theta.T[:, None, :]
            theta_bar += gamma * np.einsum("lpt,pt->tl", S, tape.W[q]) - np.einsum("lpt,pt->tl", tape.U[q], Z)
        return theta_bar
