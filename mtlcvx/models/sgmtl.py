"""SG-MTL: sparsity-grouped multi-task learning with learned task groups
(Kshirsagar, Yang and Lozano, ECML-PKDD 2017).

Objective, eq. (6) (eq. (5) with ``mu = 0``)::

    min_{W, U}  sum_t L(w_t; D_t) + sum_g lam_g (sum_j ||W_j sqrt(U_g)||_2)^2
                + mu sum_{t < t'} ||V_t - V_t'||_F^2
    s.t.        sum_g U_g = I,  0 <= [U_g]_tt <= 1

``U`` is stored as an ``N x T`` matrix whose column ``t`` (task t's
memberships ``u_t``, the paper's ``V_t = diag(u_t)``) lies on the simplex;
``U_g = diag(row g)``; ``||V_t - V_t'||_F^2 = ||u_t - u_t'||_2^2``.

Algorithm 1 (alternating minimisation):

* **U-step** (non-convex): projected gradient on the simplex, columnwise,
  with a backtracking (Armijo) step so that it never increases the
  objective.  Gradient from the paper's appendix C (derived again here;
  checked against finite differences in the tests)::

      dR/du_gt = lam_g A_g sum_j W_jt^2 / a_gj,
      a_gj = sqrt(sum_t u_gt W_jt^2),  A_g = sum_j a_gj,

  plus the fusion term's ``2 mu sum_{t' != t} (u_gt - u_gt')`` (the sign
  matters: the original code had it reversed, which pushes memberships
  apart; a test holds that a larger ``mu`` pulls them together).  Where
  ``a_gj = 0`` while ``W_jt != 0`` (so ``u_gt = 0``) in a non-empty group,
  the one-sided derivative is ``+inf`` (``sqrt(u)`` at 0): the coordinate
  stays at 0.  Where ``W_jt = 0`` the term does not depend on ``u_gt`` and
  contributes 0.  For an empty group (all its memberships 0) the term is
  linear in one task's membership, ``lam_g u (sum_j |W_jt|)^2``, so its
  derivative is finite and an empty group can be re-populated.
* **W-step** (convex for fixed ``U``): the reference model
  :func:`mtlcvx.reference.sgmtl_wstep` (``solver="reference"``, compiled
  once per fit, ``U`` a DPP parameter) or the ADMM of
  :func:`mtlcvx.solvers.admm_scaled_group_norms` (default; it stops on a
  duality gap and is held to the reference by the tests).  We do not use
  the paper's coordinate descent (7)-(8): a scalar loop in Python is slow,
  and the ADMM solves the same convex problem exactly.
* **Task moves** (ours): after projected gradient, single tasks moved to one
  group with ``W`` fixed (:func:`reassign_tasks`); and, once the restart with
  the lowest objective has converged, moves of a task *with its weights
  re-fitted* (:func:`move_tasks_refit`) whenever the alternation stalls.
  With ``W`` fixed, a task put in a wrong group early keeps weights fitted
  to that group's features and every move looks costly (issue 14;
  docs/sgmtl.md, group recovery).
"""

import warnings

import numpy as np
from joblib import delayed
from scipy.special import expit
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import reference
from .._errors import ConvergenceWarning
from .._parallel import run_parallel
from .._validation import Integer, NJobs, Options, Real, RealArray
from ..solvers import dispatch, project_columns_to_simplex, ridge_closed_form
from ..terms import SGMTL_REGULARIZERS, ScaledGroupNorms, make_loss, sgmtl_weights
from ..terms.losses import LogisticLoss, pad_tasks
from .base import LinearMultiTaskModel
from .baselines import refuse_separable

__all__ = ["SGMTL", "sgmtl_u_gradient", "sgmtl_u_objective", "fusion_penalty", "u_step", "reassign_tasks",
           "move_tasks_refit", "merge_groups", "REASSIGN"]

#: ``SGMTL(reassign=...)``: task moves after projected gradient in each U-step.
REASSIGN = ("refit", "fixed", "none")

#: Majorise-minimise steps of the re-fit of a moved task's weights (from zero).
REFIT_STEPS = 1


def fusion_penalty(U, mu):
    """``mu sum_{t < t'} ||u_t - u_t'||^2 = mu (T sum_t ||u_t||^2 - ||sum_t u_t||^2)``."""
    T = U.shape[1]
    return float(mu * (T * np.sum(U * U) - np.sum(U.sum(axis=1) ** 2)))


def _row_norms_per_group(W, U, regularizer):
    """``a_gj``: the norm of row j of ``W diag(v_g)`` with ``v = sqrt(U)``
    (``"sqrt"``, ``"l1"``) or ``v = U`` (``"squared"``)."""
    V = U if regularizer == "squared" else np.sqrt(U)
    return np.sqrt(np.einsum("gt,jt->gj", V * V, W * W))


def sgmtl_u_objective(W, U, lam, mu=0.0, regularizer="sqrt"):
    """The part of (6) that depends on ``U``: regulariser plus fusion."""
    P, power = sgmtl_weights(U, lam, regularizer)
    return ScaledGroupNorms(P, power).value(W) + fusion_penalty(U, mu)


def sgmtl_u_gradient(W, U, lam, mu=0.0, regularizer="sqrt"):
    """Gradient of :func:`sgmtl_u_objective` with respect to ``U`` (N x T).

    Entries whose one-sided derivative is ``+inf`` (``a_gj = 0`` with
    ``W_jt != 0``) are returned as ``np.inf``.
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (U.shape[0],))
    a = _row_norms_per_group(W, U, regularizer)  # (N, d)
    W2 = W * W  # (d, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(a[:, :, None] > 0, W2[None] / a[:, :, None], np.where(W2[None] > 0, np.inf, 0.0))
    S = ratio.sum(axis=1)  # (N, T): sum_j W_jt^2 / a_gj
    A = a.sum(axis=1)[:, None]  # (N, 1)
    empty = A[:, 0] == 0
    if regularizer == "sqrt":
        # d/du (sum_j sqrt(sum_t u W^2))^2 = 2 A * sum_j W^2 / (2 a)
        G = np.where(empty[:, None], 0.0, lam[:, None] * A * np.where(empty[:, None], 0.0, S))
        # an empty group is linear in one task's membership:
        # lam (sum_j sqrt(u) |W_jt|)^2 = lam u (sum_j |W_jt|)^2
        G[empty] = lam[empty, None] * np.abs(W).sum(axis=0)[None] ** 2
    elif regularizer == "squared":
        # a_gj = sqrt(sum_t u^2 W^2): d a / d u_gt = u_gt W_jt^2 / a_gj; an
        # empty group is lam u^2 (sum_j |W_jt|)^2, of derivative 0 at u = 0
        with np.errstate(invalid="ignore"):
            G = np.where(empty[:, None] | (U == 0), 0.0, 2.0 * lam[:, None] * A * U * S)
    else:
        G = lam[:, None] * S / 2.0
    T = U.shape[1]
    G = G + 2.0 * mu * (T * U - U.sum(axis=1, keepdims=True))
    return G


def u_step(W, U, lam, mu=0.0, regularizer="sqrt", n_steps=50, step=None, tol=1e-10):
    """Projected gradient on the simplex (columnwise) with Armijo
    backtracking: the objective never increases.

    Returns
    -------
    U : ndarray (N, T)
    step : float
        The last accepted step (to warm-start the next U-step).
    """
    def objective(V):
        return sgmtl_u_objective(W, V, lam, mu, regularizer)

    f = objective(U)
    step = 1.0 if step is None else step
    for _ in range(n_steps):
        G = sgmtl_u_gradient(W, U, lam, mu, regularizer)
        finite = np.isfinite(G)
        # +inf: the coordinate is at 0 and must stay there
        big = 1e6 * (1.0 + np.abs(G[finite]).max(initial=0.0))
        G = np.where(finite, G, big)
        step *= 2.0
        while True:
            U_new = project_columns_to_simplex(U - step * G)
            move = U_new - U
            f_new = objective(U_new)
            if f_new <= f - np.sum(move * move) / (2.0 * step) or step < 1e-20:
                break
            step /= 2.0
        if f_new > f:
            break
        converged = np.linalg.norm(move) <= tol * max(1.0, np.linalg.norm(U))
        U, f = U_new, f_new
        if converged:
            break
    return U, step


def reassign_tasks(W, U, lam, mu=0.0, regularizer="sqrt", max_sweeps=20):
    """Greedy polish of ``U``: move single tasks to a vertex of the simplex
    (one group) whenever that lowers the U-objective, sweeping over the
    tasks until no move helps.  Never increases the objective.

    Why: projected gradient on the square-root parameterisation reaches a
    vertex in a few steps and stays there (leaving a vertex for a group
    whose rows miss some of the task's features has an infinite one-sided
    derivative), so from random starts it stalls in poor groupings even when
    the true grouping has a lower objective (measured on set-2: from a
    ridge W, 20 random starts all ended above the objective of the true
    U).  Single-task moves, evaluated exactly and incrementally, escape
    those points.

    Returns
    -------
    U : ndarray (N, T)
    n_moves : int
    """
    N, T = U.shape
    lam = np.broadcast_to(np.asarray(lam, dtype=float), (N,))
    power = 1 if regularizer == "l1" else 2
    transform = (lambda V: V * V) if regularizer == "squared" else (lambda V: V)
    W2 = W * W
    U = U.copy()
    Q = transform(U) @ W2.T  # (N, d): per group, sum_t v(u_gt) W_jt^2
    column_sum = U.sum(axis=1)
    n_moves = 0
    for _ in range(max_sweeps):
        moved = False
        for t in range(T):
            base = np.maximum(Q - np.outer(transform(U[:, t]), W2[:, t]), 0.0)
            sums = np.sqrt(base).sum(axis=1)
            current = lam @ (np.sqrt(Q).sum(axis=1) ** power)
            gained = np.sqrt(base + W2[:, t]).sum(axis=1)
            # candidate h: group h gets task t entirely
            regs = lam @ (sums**power) - lam * sums**power + lam * gained**power
            others = column_sum - U[:, t]
            fusion_now = mu * (T * U[:, t] @ U[:, t] - column_sum @ column_sum)
            fusion = mu * (T * 1.0 - (others @ others + 2 * others + 1.0))
            gain = (current + fusion_now) - (regs + fusion)
            h = int(np.argmax(gain))
            # relative to the objective, not max(1, .): with targets at 1e-8 every gain is below 1e-12
            if gain[h] > 1e-12 * abs(current + fusion_now) and U[h, t] < 1.0:
                vertex = np.zeros(N)
                vertex[h] = 1.0
                Q = base + np.outer(transform(vertex), W2[:, t])
                column_sum = others + vertex
                U[:, t] = vertex
                n_moves += 1
                moved = True
        if not moved:
            break
    return U, n_moves


class _RefitMoves:
    """Task moves with the moved task's weights re-fitted: the data, padded
    once per fit (and the Gram matrices ``X_t^T X_t`` when no task has fewer
    samples than features, as the W-step's ADMM keeps them).  See
    :func:`move_tasks_refit`."""

    def __init__(self, data, loss="squared", scaling="sum"):
        self.logistic = loss == "logistic"
        self.s = make_loss(loss, scaling).task_weights(data)
        self.Xs = list(data.Xs)
        if self.logistic:
            self.ys = [LogisticLoss.signed_labels(y, t) for t, y in enumerate(data.ys)]
        else:
            self.ys = [np.asarray(y, dtype=float) for y in data.ys]
        # the squared loss's Hessian is s X^T X; the logistic loss's is bounded by s X^T X / 4
        self.curvature = self.s * (0.25 if self.logistic else 1.0)
        self.X, self.Y = pad_tasks(self.Xs, self.ys)
        self.gram = self.X.transpose(0, 2, 1) @ self.X if self.X.shape[1] >= self.X.shape[2] else None

    def losses(self, C):
        """Loss of task ``t`` at each row of ``C[t]`` (``T x K x d``): ``T x K``."""
        out = np.empty(C.shape[:2])
        for t, (X, y) in enumerate(zip(self.Xs, self.ys)):
            Z = C[t] @ X.T
            if self.logistic:
                out[t] = self.s[t] * np.logaddexp(0.0, -y * Z).sum(axis=1)
            else:
                out[t] = 0.5 * self.s[t] * ((y - Z) ** 2).sum(axis=1)
        return out

    def _refit(self, tasks, features, base, lam_h, power, n_steps):
        """Weights of ``tasks`` (restricted to ``features``) when each joins a
        group whose other tasks contribute ``base`` (``k x m``) to the squared
        row norms: majorise-minimise from ``w = 0``.  With ``a_j = sqrt(base_j
        + w_j^2)``, ``(sum_j a_j)^2 <= sum_j a_j^2 / eta_j`` for ``eta`` on the
        simplex (equality at ``eta_j = a_j / sum a``) and ``a_j <= (a_j^2 /
        eta_j + eta_j) / 2`` (equality at ``eta_j = a_j``): each step is a
        ridge regression with weights ``c_j = lam sum(a) / a_j`` (power 2) or
        ``lam / (2 a_j)`` (power 1), on the working response ``z`` (``y``; for
        the logistic loss ``X w + 4 y sigmoid(-y X w)``, its quadratic bound),
        which lowers the task's part of the objective.  A feature the group
        does not use (``base_j = 0``) stays at 0.  Solved in the ``m x m``
        form ``(s X^T X + 2 diag(c)) w = s X^T z``, or, with fewer samples
        than features, in the ``n x n`` one ``w = E X^T (I / s + X E X^T)^{-1}
        z``, ``E = diag(1 / (2 c))``."""
        active = base > 0
        X = self.X[tasks][:, :, features]  # (k, n, m); padded rows are zero
        Xt = X.transpose(0, 2, 1)
        Y = self.Y[tasks]
        s = self.curvature[tasks]
        dual = X.shape[1] < X.shape[2]
        if not dual:
            G = self.gram[np.ix_(tasks, features, features)] if self.gram is not None else Xt @ X
            G = s[:, None, None] * G * (active[:, :, None] & active[:, None, :])
        w = np.zeros(base.shape)
        for _ in range(n_steps):
            a = np.sqrt(base + w * w)
            if self.logistic:
                Xw = (X @ w[..., None])[..., 0]
                z = Xw + 4.0 * Y * expit(-Y * Xw)
            else:
                z = Y
            # 1 / (2 c_j), 0 where the group does not use the feature (and w = 0 if it uses none)
            scale = 2.0 * lam_h * a.sum(axis=1, keepdims=True) if power == 2 else np.full((len(a), 1), lam_h)
            E = np.divide(a, scale, out=np.zeros_like(a), where=scale > 0)
            if dual:
                K = (X * E[:, None, :]) @ Xt
                K[:, np.arange(K.shape[1]), np.arange(K.shape[1])] += 1.0 / s[:, None]
                w = E * (Xt @ np.linalg.solve(K, z[..., None]))[..., 0]
            else:
                with np.errstate(divide="ignore"):
                    M = G + np.where(active, 1.0 / E, 1.0)[:, :, None] * np.eye(len(features))
                rhs = np.where(active, s[:, None] * (Xt @ z[..., None])[..., 0], 0.0)
                w = np.linalg.solve(M, rhs[..., None])[..., 0]
        return w

    def __call__(self, W, U, lam, mu=0.0, regularizer="sqrt", n_steps=REFIT_STEPS):
        N, T = U.shape
        d = W.shape[0]
        lam = np.broadcast_to(np.asarray(lam, dtype=float), (N,))
        power = 1 if regularizer == "l1" else 2
        transform = (lambda V: V * V) if regularizer == "squared" else (lambda V: V)
        W, U = W.copy(), U.copy()
        W2 = W * W
        Q = transform(U) @ W2.T  # (N, d)
        # base[t, h]: group h's squared row norms without task t
        base = np.maximum(Q[None] - transform(U).T[:, :, None] * W2.T[:, None, :], 0.0)
        current = np.argmax(U, axis=0)
        C = np.zeros((T, N, d))
        candidate = np.zeros((T, N), dtype=bool)
        for h in range(N):
            tasks = np.flatnonzero(current != h)
            features = np.flatnonzero(Q[h] > 0)
            # an unpenalised group has no unique refit; the fixed-W moves cover it
            if lam[h] == 0 or not tasks.size or not features.size:
                continue
            C[np.ix_(tasks, [h], features)] = self._refit(tasks, features, base[np.ix_(tasks, [h], features)][:, 0],
                                                          lam[h], power, n_steps)[:, None]
            candidate[tasks, h] = True
        candidate_loss = self.losses(C)
        loss = self.losses(W.T[:, None])[:, 0]

        def regularization(Q):
            return (np.sqrt(Q).sum(axis=-1) ** power) @ lam

        column_sum = U.sum(axis=1)
        n_moves = 0
        for t in np.flatnonzero(candidate.any(axis=1)):
            rest = np.maximum(Q - np.outer(transform(U[:, t]), W2[:, t]), 0.0)
            others = column_sum - U[:, t]
            now = loss[t] + regularization(Q) + mu * (T * U[:, t] @ U[:, t] - column_sum @ column_sum)
            Q_moved = np.repeat(rest[None], N, axis=0)
            Q_moved[np.arange(N), np.arange(N)] += C[t] ** 2
            moved = (candidate_loss[t] + regularization(Q_moved)
                     + mu * (T - (others @ others + 2.0 * others + 1.0)))
            moved[~candidate[t]] = np.inf
            h = int(np.argmin(moved))
            if moved[h] < now - 1e-12 * abs(now):
                vertex = np.zeros(N)
                vertex[h] = 1.0
                U[:, t], W[:, t], W2[:, t] = vertex, C[t, h], C[t, h] ** 2
                Q, column_sum, loss[t] = Q_moved[h], others + vertex, candidate_loss[t, h]
                n_moves += 1
        return W, U, n_moves


def move_tasks_refit(data, W, U, lam, mu=0.0, regularizer="sqrt", loss="squared", scaling="sum",
                     n_steps=REFIT_STEPS):
    """Move single tasks to one group (a vertex) *together with their
    weights*: for each task ``t`` and each group ``h`` other than its
    current one, ``w_t`` is re-fitted for membership in ``h`` with the other
    tasks' weights fixed (``n_steps`` majorise-minimise steps from 0, each a
    weighted ridge regression), and the move with the lowest objective (6)
    is made when it lowers the current one, computed exactly and
    incrementally; one sweep over the tasks.  Never increases the objective.

    Why: after a W-step, a task's weights are fitted to the features of the
    group it is in, so every move with ``W`` fixed (:func:`reassign_tasks`)
    looks costly, and the alternation keeps a misassigned task there even
    when the grouping with it moved (and ``W`` re-fitted) has a lower
    objective.  With fewer samples than features this is the usual case on
    set-1-like data (``docs/sgmtl.md``, group recovery).

    ``data`` is the (centred) :class:`~mtlcvx.MultiTaskData` the weights were
    fitted on.  Returns ``(W, U, n_moves)``: only the moved tasks' columns
    of ``W`` and ``U`` change.
    """
    return _RefitMoves(data, loss, scaling)(W, U, lam, mu, regularizer, n_steps)


def merge_groups(W, U, lam, mu=0.0, regularizer="sqrt", rtol=1e-12):
    """Fold whole groups into others (``U[a] += U[b]``, ``U[b] = 0``)
    whenever that does not raise the U-objective by more than ``rtol``
    (relative), until no merge is accepted.  Never increases the objective
    beyond that tolerance.

    Why: under the relaxed (2) the U-objective is concave in ``U`` and, sqrt
    being subadditive, merging groups never raises it; every grouping that
    keeps each true group together ties with the single group (the paper's
    Figure 4 caption), and single-task moves cannot walk from one tie to
    another without climbing.  Merging breaks the tie toward fewer groups.

    Returns
    -------
    U : ndarray (N, T)
    n_merges : int
    """
    U = U.copy()
    n_merges = 0
    current = sgmtl_u_objective(W, U, lam, mu, regularizer)
    merged = True
    while merged:
        merged = False
        active = np.flatnonzero(U.any(axis=1))
        for a in active:
            for b in active:
                if a == b or not U[b].any() or not U[a].any():
                    continue
                V = U.copy()
                V[a] += V[b]
                V[b] = 0.0
                value = sgmtl_u_objective(W, V, lam, mu, regularizer)
                if value <= current + rtol * abs(current):
                    U, current, merged = V, value, True
                    n_merges += 1
    return U, n_merges


class SGMTL(LinearMultiTaskModel):
    """Sparsity-grouped multi-task learning (SG-MTL), eq. (5)/(6) of
    Kshirsagar, Yang and Lozano (2017); see the module docstring for the
    objective and the algorithm.

    Parameters
    ----------
    n_groups : int, default=2
        ``N``, the number of groups (1 <= N <= number of tasks).
    lam : float or array of shape (n_groups,), default=1.0
        ``lam_g``, >= 0.  At 0 the W-step is least squares (closed form,
        minimum norm where ``n < d``); with ``loss="logistic"`` and every
        ``lam_g = 0``, separable labels (no minimiser) are refused.
    mu : float, default=0.0
        Weight of the fusion term of (6); 0 gives (5).
    loss : {"squared", "logistic"}
        Logistic labels in {-1, +1} or {0, 1}; requires
        ``fit_intercept=False`` (an intercept is fitted by centring, exact
        for the squared loss only).
    regularizer : {"sqrt", "squared", "l1"}
        Eq. (5), eq. (4), or the relaxed eq. (2) (for teaching: Figure 4).
    n_init : int, default=3
        Random restarts of ``U``; the lowest objective is kept.
    max_iter : int, default=100
        Alternations (one U-step and one W-step each); a
        :class:`~mtlcvx.ConvergenceWarning` says when the kept restart
        reached it before ``tol``.
    tol : float, default=1e-6
        Stop when the relative objective change over one alternation is
        below ``tol``.
    solver : {"fast", "reference"}
        W-step by ADMM (default) or by the CVXPY reference.
    scaling : {"sum", "mean"}
    fit_intercept : bool, default=True
    wstep_tol : float, default=1e-8
        Relative duality gap of the W-step (fast solver).
    ustep_iter : int, default=50
        Projected-gradient iterations per U-step.
    reassign : {"refit", "fixed", "none"}, default="refit"
        Task moves in the U-step after projected gradient, each accepted
        only when it lowers the objective.  ``"fixed"``: single tasks moved
        to one group with ``W`` fixed (:func:`reassign_tasks`), the
        behaviour before issue 14.  ``"refit"``: those, and then the restart
        with the lowest objective goes on: whenever an alternation has
        changed the objective by less than ``tol``, the next U-step starts
        with a sweep of moves of tasks with their weights re-fitted
        (:func:`move_tasks_refit`, which also changes the moved tasks'
        columns of ``W``), and it stops when such a sweep moves no task.
        Without these, a task put in a wrong group early keeps weights
        fitted to that group and stays there (docs/sgmtl.md, group
        recovery).  ``"none"``: projected gradient only, the paper's U-step.
    random_state : int, RandomState or None
    n_jobs : int or None, default=None
        Restarts run in parallel through joblib (``-1``: all cores).  The
        starting memberships are drawn in the parent, in order, so the
        result does not depend on ``n_jobs``.

    Attributes
    ----------
    coef_ : ndarray (n_features, n_tasks)
    groups_ : ndarray (n_groups, n_tasks)
        Soft memberships ``U``; each column sums to 1.
    labels_ : ndarray (n_tasks,)
        Hard group of each task, ``argmax_g U[g, t]``.
    objective_ : float
        Objective (6) at ``(coef_, groups_)``.
    n_iter_ : int
    objective_path_ : list of float
        Objective of the kept restart at the start and after every
        half-step (U-step, W-step, U-step, ...).
    restart_objectives_ : list of float
        Final objective of each restart.
    """

    _hyperparameters = {
        "n_groups": Integer(low=1, high="n_tasks"),
        "lam": RealArray(length=lambda est, data: est.n_groups, low=0),
        "mu": Real(low=0),
        "loss": Options("squared", "logistic"),
        "regularizer": Options(*SGMTL_REGULARIZERS),
        "n_init": Integer(low=1),
        "max_iter": Integer(low=1),
        "tol": Real(low=0),
        "wstep_tol": Real(low=0, low_inclusive=False),
        "ustep_iter": Integer(low=1),
        "reassign": Options(*REASSIGN),
        "n_jobs": NJobs(),
    }

    def __init__(self, n_groups=2, lam=1.0, mu=0.0, loss="squared", regularizer="sqrt", n_init=3,
                 max_iter=100, tol=1e-6, solver="fast", scaling="sum", fit_intercept=True,
                 wstep_tol=1e-8, ustep_iter=50, reassign="refit", random_state=None, n_jobs=None):
        self.n_groups = n_groups
        self.lam = lam
        self.mu = mu
        self.loss = loss
        self.regularizer = regularizer
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.scaling = scaling
        self.fit_intercept = fit_intercept
        self.wstep_tol = wstep_tol
        self.ustep_iter = ustep_iter
        self.reassign = reassign
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- validation -----------------------------------------------------
    def _check_hyperparameters(self, data):
        super()._check_hyperparameters(data)
        if self.loss == "logistic" and not np.any(self._lam_vector()):
            refuse_separable(self, data)

    def _lam_vector(self):
        return np.broadcast_to(np.asarray(self.lam, dtype=float), (self.n_groups,)).copy()

    # -- the convex W-step ------------------------------------------------
    def _reference_model(self, data):
        return reference.sgmtl_wstep(data, self.n_groups, loss=self.loss, scaling=self.scaling,
                                     regularizer=self.regularizer)

    def _reference_params(self):
        return {"lam": self._lam_vector()}

    def _fitted_reference_params(self):
        return {"U": self.groups_}

    def _w_step_solver(self, data):
        """A function ``(U, W0) -> W`` solving the W-step: the reference
        (compiled once, ``U`` a parameter) or the fast solver the dispatcher
        picks for the same declaration, warm-started at ``W0``."""
        model = self._reference_model(data)
        lam = self._lam_vector()
        if self.solver == "reference":
            return lambda U, W0: model.solve(U=U, lam=lam).W

        def solve(U, W0):
            variables, _ = dispatch.solve(model.numeric(U=U, lam=lam), tol=self.wstep_tol, start={"W": W0})
            return variables["W"]

        return solve

    def _objective_parts(self, data, W, U):
        loss = make_loss(self.loss, self.scaling)
        return loss.value(W, data) + sgmtl_u_objective(W, U, self._lam_vector(), self.mu, self.regularizer)

    # -- Algorithm 1 ------------------------------------------------------
    def _initial_W(self, data):
        """Single-task learning (per-task ridge, lam = 1) as in Algorithm 1."""
        if self.loss == "squared":
            s = make_loss("squared", self.scaling).task_weights(data)
            return np.column_stack([ridge_closed_form(X, y, 1.0, s_t) for (X, y), s_t in zip(data, s)])
        return np.zeros((data.n_features, data.n_tasks))

    def _alternate(self, data):
        """Algorithm 1 with restarts; sets the group attributes, returns
        ``(W, n_iter)`` of the restart with the lowest objective."""
        rng = check_random_state(self.random_state)
        starts = [rng.dirichlet(np.ones(self.n_groups), size=data.n_tasks).T for _ in range(self.n_init)]
        W_init = self._initial_W(data)
        w_step = None
        if self.n_jobs in (None, 1) or self.n_init == 1:
            # one W-step solver for every restart: the reference compiles once
            w_step = self._w_step_solver(data)
            runs = [self._restart(data, U, W_init, w_step) for U in starts]
        else:
            runs = run_parallel((delayed(_restart_in_worker)(self, data, U, W_init) for U in starts), self.n_jobs)
        best = int(np.argmin([path[-1] for _, _, path, _, _ in runs]))
        W, U, path, n_iter, converged = runs[best]
        if self.reassign == "refit" and converged and n_iter < self.max_iter:
            # the restart with the lowest objective goes on, with moves of tasks and their weights
            moves = _RefitMoves(data, self.loss, self.scaling)
            runs[best] = self._restart(data, U, W, w_step or self._w_step_solver(data), moves, path, n_iter)
        self.restart_objectives_ = [path[-1] for _, _, path, _, _ in runs]
        W, U, path, n_iter, converged = runs[int(np.argmin(self.restart_objectives_))]
        if not converged:
            change = abs(path[-3] - path[-1]) / max(abs(path[-1]), np.finfo(float).tiny)
            warnings.warn(
                f"SGMTL: the alternation stopped at max_iter={self.max_iter} with a relative objective change "
                f"of {change:.2e} over the last alternation > tol={self.tol:.1e} (objective {path[-1]:.6g})",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.groups_ = U
        self.labels_ = np.argmax(U, axis=0)
        self.objective_path_ = path
        self.objective_ = path[-1]
        return W, n_iter

    def _restart(self, data, U, W, w_step, moves=None, path=None, n_done=0):
        """One run of Algorithm 1 from memberships ``U`` and weights ``W``:
        ``(W, U, objective path, n_iter, converged)``.

        With ``moves`` (the :class:`_RefitMoves` of ``data``), the run goes on
        from a converged one (its ``path`` and ``n_done`` alternations): each
        U-step starts with one sweep of moves with re-fitted weights when the
        alternation before it changed the objective by less than ``tol``,
        and the run stops when such a sweep moves no task (the state is then
        unchanged)."""
        lam = self._lam_vector()
        sweep = moves is not None
        path = [self._objective_parts(data, W, U)] if path is None else list(path)
        step = None
        n_iter = n_done
        for n_iter in range(n_done + 1, self.max_iter + 1):
            if sweep:
                W_moved, U_moved, n_moved = moves(W, U, lam, self.mu, self.regularizer)
                if not n_moved:
                    return W, U, path, n_iter - 1, True
                W, U = W_moved, U_moved
            U, step = u_step(W, U, lam, self.mu, self.regularizer, self.ustep_iter, step)
            if self.reassign != "none":
                U, _ = reassign_tasks(W, U, lam, self.mu, self.regularizer)
            path.append(self._objective_parts(data, W, U))
            W = w_step(U, W)
            path.append(self._objective_parts(data, W, U))
            # relative, so that the fit does not depend on the scale of the data (max(1, .) stopped every
            # fit on targets at 1e-8 after one alternation)
            sweep = abs(path[-3] - path[-1]) <= self.tol * abs(path[-1])
            if sweep and moves is None:
                return W, U, path, n_iter, True
        return W, U, path, n_iter, False

    def _fit_weights(self, data):
        """Algorithm 1 with ``n_init`` random restarts of ``U``."""
        W, self.n_iter_ = self._alternate(data)
        return W

    def objective(self, Xs, ys=None):
        """Objective (6) at ``(coef_, groups_)`` (on centred data when
        ``fit_intercept=True``)."""
        check_is_fitted(self, "coef_")
        data = self._check_fitted_data(self._prepare(Xs, ys)[0])
        return float(self._objective_parts(data, self.coef_, self.groups_))


def _restart_in_worker(estimator, data, U, W):
    # the W-step solver is a closure (not picklable): each worker builds its own
    return estimator._restart(data, U, W, estimator._w_step_solver(data))
