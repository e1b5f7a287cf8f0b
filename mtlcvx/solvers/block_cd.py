"""Block coordinate descent for the multi-task group lasso, on working sets.

``min_W sum_t s_t/2 ||y_t - X_t w_t||^2 + ridge ||W||_F^2 + lam sum_j ||W_j||_2``

(``W_j`` the j-th row, one coefficient per task), with one design shared by
the tasks or one per task (unequal ``n_t``).  The pieces, each one an idea
of the multi-task literature (Obozinski et al. 2010; celer, Massias et al.
2018-2020; skglm, Bertrand et al. 2022), written here from their papers:

* **Exact block minimisation of a row.**  With the other rows fixed, row
  ``j`` minimises ``sum_t a_t/2 w_t^2 - beta_t w_t + lam ||w||_2`` with
  ``a_t = s_t ||X_t[:, j]||^2 + 2 ridge`` (per task: unequal ``n_t`` and
  ``s_t = 1/n_t`` make the curvatures differ) and ``beta_t = a_t w_t -
  grad_t``.  Zero when ``||beta|| <= lam``; otherwise ``w_t = beta_t rho /
  (a_t rho + lam)`` with ``rho = ||w||`` the root of ``psi(rho) = sum_t
  beta_t^2 / (a_t rho + lam)^2 = 1``, decreasing and convex, found by
  Newton's method from ``(||beta|| - lam) / max_t a_t``, where ``psi >= 1``
  (so the iterates increase to the root).  Equal curvatures give the
  closed form ``rho = (||beta|| - lam) / a``.
* **Working sets.**  The outer loop computes the full gradient once (one
  product of each design with its residual, no padded copy of the tasks),
  the duality gap of :func:`~mtlcvx.solvers.least_squares.norm_penalized_gap`
  (dual point ``alpha s_t r_t``) and, from the same dual point, Gap Safe
  screening (Ndiaye et al. 2017): the dual objective is ``1 / max_t s_t``
  strongly concave, so the dual optimum lies within ``sqrt(2 max_t s_t
  gap)`` of the point, and a row whose constraint cannot be active in that
  ball is zero at every optimum and never enters a set.  The next set is
  the support plus the rows closest to their constraint, ``(lam - alpha
  ||grad_j||) / ||X_j||``, at least twice the support, doubled when the
  last set did not halve the gap.
* **Inner solve in the set's Gram matrices, or on the residuals.**  On a
  set of ``k`` rows the gradient is kept up to date through ``A_t = X_t[:,
  S]^T X_t[:, S]`` (``k x k``, one for a shared design), so an update of
  row ``j`` costs ``O(k T)`` instead of ``O(n T)``, where that pays
  (:func:`_gram_pays`); otherwise the residuals are updated, on a
  transposed copy of the set's columns when it is small (a shared design;
  per-task sets up to :data:`GATHER_SHARE` of the features), else on the
  per-task designs in place, block by block (:func:`_sweeps_tasks_blocks`):
  a fit never copies the tasks' data.  The inner problem stops on its own
  duality gap, below a fraction of the outer one.
* **Anderson extrapolation** (celer's, on the primal iterates): every
  :data:`ANDERSON` sweeps, the affine combination of the last iterates
  that minimises the norm of their differences is tried, and kept when it
  lowers the objective.

The sweeps run in compiled loops (numba, compiled once and cached on
disk); the certificate is the duality gap of the full problem, computed in
numpy, whatever the inner loops did.
"""

import numpy as np

from ._common import SolverInfo, not_converged
from .composite import solve_row_separable
from .least_squares import CORRECTION_SPREAD, GAP_FLOOR

__all__ = ["solve_group_lasso_bcd", "available"]

NAME = "block coordinate descent"
GAP = "relative duality gap"

#: Sweeps between two Anderson extrapolations (and inner gap checks).
ANDERSON = 5
#: Rows of the first working set.
INITIAL_SIZE = 50
#: The inner problem stops when its relative gap is below this fraction of
#: the outer one (or below tol / 10) ...
INNER_FRACTION = 0.3
#: ... or below this fraction when a sweep costs under CHEAP_SWEEP outer
#: gradients (at (1000, 5000, 10), alpha_max / 10: 0.01 against 0.4 ms per
#: sweep, 17 ms per outer gradient).
DEEP_FRACTION = 0.01
CHEAP_SWEEP = 0.1
#: Up to this many features every sweep covers all rows.
ALL_ROWS_BELOW = 128
#: A set whose solution has nonzero rows on this share of it is saturated:
#: the next one is :data:`SATURATED_GROWTH` times the support, not twice.
SATURATED = 0.9
SATURATED_GROWTH = 4
#: Sweeps a working set is expected to take (the Gram matrices' set-up is
#: paid once per set, the sweeps' savings every sweep).
EXPECTED_SWEEPS = 10
#: Sets of per-task designs up to this share of the features are copied
#: (transposed) once; larger ones are swept in place, block by block
#: (:func:`_sweeps_tasks_blocks`).
GATHER_SHARE = 0.15
#: ... or up to this many bytes (small problems: the copy costs little and
#: its contiguous columns are swept fastest).
GATHER_BYTES = 1 << 20
#: Data (all tasks' designs) up to this size count as small: the Gram
#: matrices of :data:`GATHER_BYTES` are taken whatever their share.
SMALL_DATA_BYTES = 4 << 20
#: Rows per block of the in-place sweeps of a large per-task set (at most;
#: and at most BLOCK_SHARE of the mean samples per task, as the blocks' Gram
#: matrices take ``B / n`` of the data's memory).
BLOCK = 16
BLOCK_SHARE = 0.08
#: Share of the data's memory the per-task Gram matrices may take.
GRAM_MEMORY_SHARE = 0.15


def _gram_pays(k, n, T, d, shared):
    """Whether a set of ``k`` rows is swept through its Gram matrices.

    Flops, with ``n`` samples per task and ``S`` = :data:`EXPECTED_SWEEPS`:
    the Gram matrices cost ``n k^2`` to build (BLAS, about twice the
    sweeps' rate), once for a shared design and once per task otherwise,
    and ``2 k^2 T`` per sweep; the residuals ``4 n k T`` per sweep.  The
    Gram matrices pay while ``n k^2 G / 2 + 2 S k^2 T < 4 S n k T`` (``G``
    Gram matrices), i.e. ``k < 4 S n T / (n G / 2 + 2 S T)``: for a shared
    design about ``0.4 n`` at ``(n, T) = (1000, 10)``, ``n`` at ``(500,
    20)``, ``1.9 n`` at ``(100, 50)``; for per-task designs about ``8 S``
    whatever ``T`` (measured at ``(d, T, n) = (2000, 100, 200)``: building
    them for 316 rows cost 50 gradients).  Per-task matrices (``T k^2``
    numbers) must also fit in :data:`GRAM_MEMORY_SHARE` of the data
    (``n d T``).  Matrices of at most :data:`GATHER_BYTES` in all are always
    taken when the data are under :data:`SMALL_DATA_BYTES`: on such small
    problems the interpreter's calls, which the
    compiled Gram-layout solve avoids, cost more than the flops (the bench's
    per-task L21 at ``(d, T, n) = (80, 10, 50)``: 2.7 against 1.0 ms)."""
    if 8 * k * k * (1 if shared else T) <= GATHER_BYTES and 8 * n * d * T <= SMALL_DATA_BYTES:
        return True
    S = EXPECTED_SWEEPS
    grams = 1 if shared else T
    if k * (n * grams / 2 + 2 * S * T) >= 4 * S * n * T:
        return False
    return shared or k * k <= GRAM_MEMORY_SHARE * n * d
try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; a platform without it falls back to APG
    numba = None


def available():
    """True when the compiled sweeps can run (numba imports)."""
    return numba is not None


#: Floating-point licence of the sweeps: reassociation lets the compiler
#: vectorise the inner products' sums (their rounding changes, within the
#: usual 1e-16 relative); no assumption about NaN or infinity.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


def _jit(func):
    return numba.njit(cache=True, nogil=True, fastmath=FASTMATH)(func) if numba is not None else func


@_jit
def _row_minimiser(beta, a, lam, out):
    """``argmin_w sum_t a_t/2 w_t^2 - beta_t w_t + lam ||w||`` into ``out``."""
    T = beta.shape[0]
    nb = 0.0
    amax = 0.0
    amin = np.inf
    for t in range(T):
        nb += beta[t] * beta[t]
        amax = max(amax, a[t])
        amin = min(amin, a[t])
    nb = np.sqrt(nb)
    if nb <= lam:
        for t in range(T):
            out[t] = 0.0
        return
    if amax - amin <= 1e-15 * amax:
        f = (1.0 - lam / nb) / amax
        for t in range(T):
            out[t] = f * beta[t]
        return
    rho = (nb - lam) / amax
    for _ in range(100):
        psi = -1.0
        slope = 0.0
        for t in range(T):
            q = a[t] * rho + lam
            v = beta[t] * beta[t] / (q * q)
            psi += v
            slope -= 2.0 * v * a[t] / q
        # from the left psi - 1 >= 0 falls quadratically; below 1e-15 it is rounding
        if psi <= 1e-15 or slope >= 0.0:
            break
        step = psi / slope
        rho -= step
        if -step <= 1e-13 * rho:
            break
    for t in range(T):
        out[t] = beta[t] * rho / (a[t] * rho + lam)


@_jit
def _sweeps_gram(A, shared, s, W, grad, curv, lam, ridge, history):
    """Sweeps of exact row minimisation keeping ``grad = s_t (A_t w_t - b_t)
    + 2 ridge w_t`` current through the Gram matrices ``A`` (``(1, k, k)``
    shared or ``(T, k, k)``).  One sweep per ``history[1:]``, each
    recording ``W`` after it (the sweeps below do the same)."""
    k, T = W.shape
    beta = np.empty(T)
    new = np.empty(T)
    delta = np.empty(T)
    for sweep in range(history.shape[0] - 1):
        for j in range(k):
            for t in range(T):
                beta[t] = curv[j, t] * W[j, t] - grad[j, t]
            _row_minimiser(beta, curv[j], lam, new)
            moved = False
            for t in range(T):
                delta[t] = new[t] - W[j, t]
                if delta[t] != 0.0:
                    moved = True
            if not moved:
                continue
            for t in range(T):
                W[j, t] = new[t]
                grad[j, t] += 2.0 * ridge * delta[t]
                delta[t] *= s[t]
            if shared:
                for i in range(k):
                    Aij = A[0, j, i]
                    for t in range(T):
                        grad[i, t] += Aij * delta[t]
            else:
                for t in range(T):
                    if delta[t] != 0.0:
                        for i in range(k):
                            grad[i, t] += A[t, j, i] * delta[t]
        history[sweep + 1] = W


@_jit
def _sweeps_shared_residual(XST, s, W, R, curv, lam, ridge, history):
    """Sweeps keeping the residual ``R = Y - X_S W`` current (one design
    shared by the tasks; ``XST`` the set's columns transposed, so that a
    column is contiguous)."""
    k, T = W.shape
    n = XST.shape[1]
    g = np.empty(T)
    beta = np.empty(T)
    new = np.empty(T)
    delta = np.empty(T)
    for sweep in range(history.shape[0] - 1):
        for jj in range(k):
            for t in range(T):
                g[t] = 0.0
            for i in range(n):
                x = XST[jj, i]
                for t in range(T):
                    g[t] += x * R[i, t]
            for t in range(T):
                beta[t] = curv[jj, t] * W[jj, t] + s[t] * g[t] - 2.0 * ridge * W[jj, t]
            _row_minimiser(beta, curv[jj], lam, new)
            moved = False
            for t in range(T):
                delta[t] = new[t] - W[jj, t]
                W[jj, t] = new[t]
                if delta[t] != 0.0:
                    moved = True
            if moved:
                for i in range(n):
                    x = XST[jj, i]
                    for t in range(T):
                        R[i, t] -= x * delta[t]
        history[sweep + 1] = W


@_jit
def _sweeps_tasks_residual(XST, offsets, s, W, r, curv, lam, ridge, history):
    """Sweeps keeping each task's residual ``r_t = y_t - X_t[:, S] w_t``
    current (one design per task) on a copy of the set's columns:
    ``XST`` is ``[X_1[:, S]; ...; X_T[:, S]]`` transposed (a column
    contiguous), task ``t`` at columns ``offsets[t]:offsets[t + 1]``, as are
    the stacked residuals ``r``.  Taken for sets of at most
    :data:`GATHER_SHARE` of the features (or :data:`GATHER_BYTES`); larger
    ones are swept in place by :func:`_sweeps_tasks_blocks`."""
    k, T = W.shape
    beta = np.empty(T)
    new = np.empty(T)
    for sweep in range(history.shape[0] - 1):
        for jj in range(k):
            row = XST[jj]
            for t in range(T):
                a, b = offsets[t], offsets[t + 1]
                # np.dot (BLAS) on the slices: the plain loop's sum was not vectorised, 3.5x slower
                g = np.dot(row[a:b], r[a:b])
                beta[t] = curv[jj, t] * W[jj, t] + s[t] * g - 2.0 * ridge * W[jj, t]
            _row_minimiser(beta, curv[jj], lam, new)
            for t in range(T):
                delta = new[t] - W[jj, t]
                if delta != 0.0:
                    W[jj, t] = new[t]
                    for i in range(offsets[t], offsets[t + 1]):
                        r[i] -= row[i] * delta
        history[sweep + 1] = W


@_jit
def _block_grams(Xs, rows, out):
    """``out[t, b] = X_t[:, S_b]^T X_t[:, S_b]`` for the consecutive blocks
    ``S_b`` of ``len(out[0, 0])`` set rows, reading each design row by row
    (row-major: a sample's block of features is a few cache lines)."""
    k = rows.shape[0]
    B = out.shape[2]
    for t in range(len(Xs)):
        X = Xs[t]
        for blk in range(out.shape[1]):
            j0 = blk * B
            m = min(B, k - j0)
            G = out[t, blk]
            G[:, :] = 0.0
            for i in range(X.shape[0]):
                for a in range(m):
                    xa = X[i, rows[j0 + a]]
                    for b in range(a, m):
                        G[a, b] += xa * X[i, rows[j0 + b]]
            for a in range(m):
                for b in range(a):
                    G[a, b] = G[b, a]


@_jit
def _sweeps_tasks_blocks(Xs, rows, offsets, s, W, r, curv, lam, ridge, history, grams):
    """Sweeps on per-task designs read in place, row-major, without copies:
    the set's rows in consecutive blocks of ``B`` (``grams[t, b]`` their Gram
    matrix in task ``t``, from :func:`_block_grams`).  For a block, ``X_t[:,
    S_b]^T r_t`` is read sample by sample (a few cache lines each); its rows
    are minimised in turn, each update of row ``j`` correcting the block's
    products through the Gram matrix (exact coordinate descent, as row by
    row); the residuals take the block's changes in one more pass.  Two
    passes over the data per sweep, like a gradient, where a column-by-column
    read of a row-major design touches ``n_t`` pages per column."""
    k, T = W.shape
    B = grams.shape[2]
    g = np.empty((T, B))
    delta = np.empty((T, B))
    beta = np.empty(T)
    new = np.empty(T)
    for sweep in range(history.shape[0] - 1):
        for blk in range(grams.shape[1]):
            j0 = blk * B
            m = min(B, k - j0)
            c0 = rows[j0]
            # consecutive features (a dense set): slices, which vectorise, in place of the indirection
            contiguous = rows[j0 + m - 1] - c0 == m - 1
            for t in range(T):
                X = Xs[t]
                a = offsets[t]
                gt = g[t]
                for bb in range(m):
                    gt[bb] = 0.0
                    delta[t, bb] = 0.0
                if contiguous:
                    for i in range(X.shape[0]):
                        ri = r[a + i]
                        xrow = X[i, c0:c0 + m]
                        for bb in range(m):
                            gt[bb] += xrow[bb] * ri
                else:
                    for i in range(X.shape[0]):
                        ri = r[a + i]
                        for bb in range(m):
                            gt[bb] += X[i, rows[j0 + bb]] * ri
            for bb in range(m):
                jj = j0 + bb
                for t in range(T):
                    beta[t] = curv[jj, t] * W[jj, t] + s[t] * g[t, bb] - 2.0 * ridge * W[jj, t]
                _row_minimiser(beta, curv[jj], lam, new)
                for t in range(T):
                    step = new[t] - W[jj, t]
                    if step != 0.0:
                        W[jj, t] = new[t]
                        delta[t, bb] += step
                        G = grams[t, blk]
                        for b2 in range(m):
                            g[t, b2] -= G[b2, bb] * step
            for t in range(T):
                moved = False
                for bb in range(m):
                    if delta[t, bb] != 0.0:
                        moved = True
                if not moved:
                    continue
                X = Xs[t]
                a = offsets[t]
                dt = delta[t]
                if contiguous:
                    for i in range(X.shape[0]):
                        xrow = X[i, c0:c0 + m]
                        acc = 0.0
                        for bb in range(m):
                            acc += xrow[bb] * dt[bb]
                        r[a + i] -= acc
                else:
                    for i in range(X.shape[0]):
                        acc = 0.0
                        for bb in range(m):
                            acc += X[i, rows[j0 + bb]] * dt[bb]
                        r[a + i] -= acc
        history[sweep + 1] = W


class _Problem:
    """The data of one fit, read in place: the designs, per-task statistics,
    and the products the outer loop needs."""

    def __init__(self, ls, ridge, lam):
        self.Xs, self.ys = ls.Xs, ls.ys
        self.shared = ls.shared
        self.s = np.ascontiguousarray(ls.s, dtype=float)
        self.yy = np.asarray(ls.yy, dtype=float)
        self.ridge, self.lam = float(ridge), float(lam)
        self.d, self.T = ls.shape
        if self.shared:
            self.X = self.Xs[0]
            # the datafit's own Y, Gram matrix and X^T Y where it made them (n >= d)
            self.Y = ls.Y if "Y" in vars(ls) else np.column_stack(self.ys)
            self.H, self.C = (ls.H, ls.C) if ls.gram else (None, None)
            colsq = np.diagonal(self.H).copy() if ls.gram else np.einsum("nd,nd->d", self.X, self.X)
            self.curv = colsq[:, None] * self.s + 2.0 * self.ridge
            self.n_mean = self.X.shape[0]
        else:
            colsq = np.column_stack([np.einsum("nd,nd->d", X, X) for X in self.Xs])
            self.curv = colsq * self.s + 2.0 * self.ridge
            self.n_mean = float(np.mean([X.shape[0] for X in self.Xs]))
            self.offsets = np.concatenate([[0], np.cumsum([X.shape[0] for X in self.Xs])])
        self.f0 = 0.5 * float(self.s @ self.yy)
        self._typed = None
        # ||X_j|| of the ridge-augmented design, the dual's operator norm per row (Gap Safe)
        self.row_norms = np.sqrt(np.max(self.curv / self.s, axis=1))
        # mtlcvx.solvers.least_squares.curvature_spread, from the column norms at hand (for a shared design
        # max_t s_t scales every feature alike)
        seen = colsq if self.shared else (colsq * self.s).max(axis=1)
        seen = seen[seen > 0]
        self.spread = float(seen.max() / seen.min()) if seen.size else 1.0

    def typed_designs(self):
        """The designs as a numba typed list (C-contiguous float64: held as
        they are; another layout is copied once), built once per fit."""
        if self._typed is None:
            self._typed = numba.typed.List([np.ascontiguousarray(X, dtype=float) for X in self.Xs])
        return self._typed

    def residuals(self, W):
        """``r_t = y_t - X_t w_t`` from the support's columns only."""
        support = np.flatnonzero(np.any(W != 0, axis=1))
        if self.shared:
            return self.Y - self.X[:, support] @ W[support]
        return [y - X[:, support] @ W[support, t] for t, (X, y) in enumerate(zip(self.Xs, self.ys))]

    def gradient(self, R, W):
        """``s_t X_t^T (X_t w_t - y_t) + 2 ridge w_t`` for every row."""
        if self.shared:
            G = -(self.X.T @ R) * self.s
        else:
            G = -np.column_stack([X.T @ r for X, r in zip(self.Xs, R)]) * self.s
        return G + 2.0 * self.ridge * W if self.ridge else G

    def residual_stats(self, R, W):
        """``(||r_t||^2 + 2 ridge ||w_t||^2 / s_t, <r_t, y_t>)``: the
        ridge-augmented residual's statistics."""
        if self.shared:
            rr, ry = np.einsum("nt,nt->t", R, R), np.einsum("nt,nt->t", R, self.Y)
        else:
            if isinstance(R, np.ndarray):  # stacked tasks
                R = np.split(R, self.offsets[1:-1])
            rr = np.array([r @ r for r in R])
            ry = np.array([r @ y for r, y in zip(R, self.ys)])
        if self.ridge:
            rr = rr + 2.0 * self.ridge * np.einsum("dt,dt->t", W, W) / self.s
        return rr, ry

    def gap(self, W, G, rr, ry):
        """``(P(W), duality gap, alpha)`` with the dual point ``alpha s_t r_t``."""
        norms = np.sqrt(np.einsum("dt,dt->d", G, G))
        primal = 0.5 * float(self.s @ rr) + self.lam * float(np.sqrt(np.einsum("dt,dt->d", W, W)).sum())
        top = norms.max(initial=0.0)
        alpha = 1.0 if top <= self.lam else self.lam / top
        dual = alpha * float(self.s @ ry) - 0.5 * alpha * alpha * float(self.s @ rr)
        return primal, max(primal - dual, 0.0), alpha, norms

    def relative(self, primal, gap):
        # the denominator of mtlcvx.solvers.least_squares.relative_gap
        return gap / max(abs(primal), GAP_FLOOR * self.f0, np.finfo(float).tiny)


class _Inner:
    """The problem restricted to the rows ``rows``: sweeps, objective, gap,
    and the state the sweeps keep current (the gradient through the set's
    Gram matrices, or the residuals)."""

    def __init__(self, problem, rows, W_rows):
        p = self.p = problem
        self.rows = rows
        self.k = len(rows)
        self.curv = np.ascontiguousarray(p.curv[rows])
        self.W = np.array(W_rows, dtype=float, order="C", copy=True)
        self.gram = _gram_pays(self.k, p.n_mean, p.T, p.d, p.shared)
        every = self.k == p.d  # all rows, in order: the designs themselves, no gathered copy
        if p.shared:
            XS = p.X if every else p.X[:, rows]
            if self.gram and p.H is not None:
                self.A = (p.H if every else p.H[np.ix_(rows, rows)])[None]
                self.b = p.C if every else p.C[rows]
            elif self.gram:
                self.A, self.b = (XS.T @ XS)[None], XS.T @ p.Y
            else:
                self.XST = np.ascontiguousarray(XS.T)  # a column of the set contiguous for the sweeps
        else:
            if self.gram:
                # one task's set columns at a time: the copies never add up to the data's size
                self.A = np.empty((p.T, self.k, self.k))
                self.b = np.empty((self.k, p.T))
                for t, (X, y) in enumerate(zip(p.Xs, p.ys)):
                    XS = X if every else X[:, rows]
                    self.A[t] = XS.T @ XS
                    self.b[:, t] = XS.T @ y
            else:
                # a copy of the set's columns is taken when it is small next to the data, or small outright
                self.fill = self.k > GATHER_SHARE * p.d and 8 * self.k * p.offsets[-1] > GATHER_BYTES
                if self.fill:
                    self.designs = p.typed_designs()
                    # in place, block by block: T k B numbers of block Gram matrices, B / n of the data
                    size = int(np.clip(BLOCK_SHARE * p.n_mean, 4, BLOCK))
                    self.grams = np.empty((p.T, -(-self.k // size), size, size))
                    _block_grams(self.designs, np.ascontiguousarray(rows), self.grams)
                else:
                    # the set's columns of every task, transposed, once: at most GATHER_SHARE of the data
                    self.buf = np.empty((self.k, int(p.offsets[-1])))
                    for t, X in enumerate(p.Xs):
                        self.buf[:, p.offsets[t]:p.offsets[t + 1]] = X[:, rows].T
        self.refresh()

    def _residuals(self, W):
        p = self.p
        if p.shared:
            return np.ascontiguousarray(p.Y - (W.T @ self.XST).T)
        return np.concatenate([y - self._columns(X) @ W[:, t] for t, (X, y) in enumerate(zip(p.Xs, p.ys))])

    def _columns(self, X):
        """A task's set columns (the design itself when the set is every row)."""
        return X if self.k == self.p.d else X[:, self.rows]

    def refresh(self, R=None):
        """Recompute the kept state from ``W`` (after an extrapolation);
        ``R``: the residuals at ``W`` where they are known."""
        p = self.p
        if self.gram:
            if not self.W.any():  # a cold start: the gradient is -s_t b_t
                self.grad = np.ascontiguousarray(self.b * -p.s)
                return
            AW = self.A[0] @ self.W if p.shared else np.einsum("tij,jt->it", self.A, self.W)
            self.grad = np.ascontiguousarray((AW - self.b) * p.s + 2.0 * p.ridge * self.W)
            return
        self.R = self._residuals(self.W) if R is None else R

    def sweep(self, history):
        """``len(history) - 1`` sweeps, each recording the iterate."""
        p = self.p
        if self.gram:
            _sweeps_gram(self.A, p.shared, p.s, self.W, self.grad, self.curv, p.lam, p.ridge, history)
        elif p.shared:
            _sweeps_shared_residual(self.XST, p.s, self.W, self.R, self.curv, p.lam, p.ridge, history)
        else:
            if self.fill:
                _sweeps_tasks_blocks(self.designs, self.rows, p.offsets, p.s, self.W, self.R, self.curv, p.lam,
                                     p.ridge, history, self.grams)
            else:
                _sweeps_tasks_residual(self.buf, p.offsets, p.s, self.W, self.R, self.curv, p.lam, p.ridge, history)

    def _products(self, W):
        """``A_t w_t``: from the kept gradient at the iterate, else by products."""
        p = self.p
        out = np.empty(W.shape)
        if W is self.W:
            _products_from_gradient(self.grad, W, p.s, self.b, p.ridge, out)
        else:
            _gram_products(self.A, p.shared, np.ascontiguousarray(W), out)
        return out

    def objective(self, W=None):
        """The restricted objective at ``W`` (default: the iterate), and the
        residuals computed on the way (for :meth:`refresh`; None in the Gram
        layout, whose compiled formulas :func:`_gram_solve` uses too)."""
        p = self.p
        W = self.W if W is None else W
        if self.gram:
            return _gram_objective_and_gap(self._products(W), self.b, p.s, p.yy, p.f0, W, None, p.lam,
                                           p.ridge)[0], None
        R = self.R if W is self.W else self._residuals(W)
        rr, _ = p.residual_stats(R, W)
        return 0.5 * float(p.s @ rr) + p.lam * float(np.sqrt(np.einsum("jt,jt->j", W, W)).sum()), R

    def relative_gap(self):
        p = self.p
        if self.gram:
            return _gram_objective_and_gap(self._products(self.W), self.b, p.s, p.yy, p.f0, self.W, self.grad,
                                           p.lam, p.ridge)[1]
        R = self.R
        if p.shared:
            grad = -(self.XST @ R) * p.s
        else:
            o = p.offsets
            grad = -np.column_stack([self._columns(X).T @ R[o[t]:o[t + 1]] for t, X in enumerate(p.Xs)]) * p.s
        grad = grad + 2.0 * p.ridge * self.W if p.ridge else grad
        primal, gap, _, _ = p.gap(self.W, grad, *p.residual_stats(R, self.W))
        return p.relative(primal, gap)

    def _gradient_flops(self):
        # one full gradient, X^T (X W - Y) over every task: two products of 2 n d T flops
        p = self.p
        return 4.0 * p.n_mean * p.T * p.d

    def setup_work(self):
        """Building the set's state, in full-gradient equivalents (flops
        over a full gradient's): the Gram matrices (``2 n k^2`` flops each,
        one or one per task) and ``X_S^T Y``, or the residuals."""
        p = self.p
        if self.gram:
            tasks = 1 if p.shared else p.T
            flops = 2.0 * p.n_mean * self.k * self.k * tasks + 2.0 * p.n_mean * self.k * p.T
        else:
            flops = 2.0 * p.n_mean * self.k * p.T
        return flops / self._gradient_flops()

    def work(self):
        """One sweep in full-gradient equivalents: a row costs ``2 k T``
        flops through the Gram matrices, ``4 n T`` (a product and an update
        per task) on the residuals."""
        p = self.p
        per_row = 2.0 * self.k * p.T if self.gram else 4.0 * p.n_mean * p.T
        return self.k * per_row / self._gradient_flops()


@_jit
def _anderson(history, out):
    """Into ``out``, the affine combination ``sum_i c_i history[i + 1]``
    (``sum_i c_i = 1``) minimising ``||sum_i c_i (history[i + 1] -
    history[i])||``; False (``out`` untouched) when that system is
    singular."""
    K = history.shape[0] - 1
    U = np.empty((K, history[0].size))
    for i in range(K):
        U[i] = (history[i + 1] - history[i]).ravel()
    M = U @ U.T
    shift = 1e-14 * np.trace(M)
    for i in range(K):
        M[i, i] += shift
    z = np.ones(K)
    # Gaussian elimination with partial pivoting (K is a handful)
    for col in range(K):
        pivot = col
        for i in range(col + 1, K):
            if abs(M[i, col]) > abs(M[pivot, col]):
                pivot = i
        if not abs(M[pivot, col]) > 1e-300:
            return False
        if pivot != col:
            for j in range(K):
                M[col, j], M[pivot, j] = M[pivot, j], M[col, j]
            z[col], z[pivot] = z[pivot], z[col]
        for i in range(col + 1, K):
            f = M[i, col] / M[col, col]
            for j in range(col, K):
                M[i, j] -= f * M[col, j]
            z[i] -= f * z[col]
    for i in range(K - 1, -1, -1):
        acc = z[i]
        for j in range(i + 1, K):
            acc -= M[i, j] * z[j]
        z[i] = acc / M[i, i]
    total = z.sum()
    if not (np.isfinite(total) and total != 0.0):
        return False
    out[:] = 0.0
    for i in range(K):
        out += (z[i] / total) * history[i + 1]
    return True


@_jit
def _gram_products(A, shared, W, out):
    """``out[:, t] = A_t W[:, t]`` (``A`` shared when ``shared``)."""
    k, T = W.shape
    for t in range(T):
        At = A[0] if shared else A[t]
        out[:, t] = At @ np.ascontiguousarray(W[:, t])


@_jit
def _gram_objective_and_gap(AW, b, s, yy, f0, W, grad, lam, ridge):
    """The restricted objective at ``W`` (``AW`` its Gram products) and, with
    ``grad`` the gradient there (None: objective only, gap NaN), the
    relative duality gap of :meth:`_Problem.gap` and :meth:`_Problem.relative`."""
    k, T = W.shape
    primal = 0.0
    sry = 0.0
    srr = 0.0
    for t in range(T):
        bw = 0.0
        wAw = 0.0
        ww = 0.0
        for j in range(k):
            bw += b[j, t] * W[j, t]
            wAw += AW[j, t] * W[j, t]
            ww += W[j, t] * W[j, t]
        rr = max(wAw - 2.0 * bw + yy[t], 0.0) + 2.0 * ridge * ww / s[t]
        srr += s[t] * rr
        sry += s[t] * (yy[t] - bw)
    penalty = 0.0
    top = 0.0
    for j in range(k):
        nw = 0.0
        ng = 0.0
        for t in range(T):
            nw += W[j, t] * W[j, t]
            if grad is not None:
                ng += grad[j, t] * grad[j, t]
        penalty += np.sqrt(nw)
        top = max(top, np.sqrt(ng))
    primal = 0.5 * srr + lam * penalty
    if grad is None:
        return primal, np.nan
    alpha = 1.0 if top <= lam else lam / top
    dual = alpha * sry - 0.5 * alpha * alpha * srr
    return primal, max(primal - dual, 0.0) / max(abs(primal), GAP_FLOOR * f0, 1e-300)


@_jit
def _gram_solve(A, shared, b, s, yy, f0, W, grad, curv, lam, ridge, target, max_sweeps, history, check_first):
    """:func:`_inner_solve` of a Gram-layout set, compiled whole (on small
    problems the interpreter's calls cost more than the sweeps): sweeps,
    Anderson extrapolation every ``len(history) - 1`` sweeps, and the
    restricted gap after every sweep (``O(k T)`` from the kept gradient,
    against ``O(k^2 T)`` for the sweep).  Returns ``(sweeps, gap)``."""
    k, T = W.shape
    K = history.shape[0] - 1
    AW = np.empty((k, T))
    current = np.empty((k, T))
    extrapolated = np.empty((k, T))
    done = 0
    gap = np.inf
    if check_first:
        _products_from_gradient(grad, W, s, b, ridge, AW)
        gap = _gram_objective_and_gap(AW, b, s, yy, f0, W, grad, lam, ridge)[1]
    filled = 0
    history[0] = W
    while done < max_sweeps and gap > target:
        _sweeps_gram(A, shared, s, W, grad, curv, lam, ridge, history[filled:filled + 2])
        done += 1
        filled += 1
        if filled == K:
            filled = 0
            if _anderson(history, extrapolated):
                _gram_products(A, shared, extrapolated, AW)
                value, _ = _gram_objective_and_gap(AW, b, s, yy, f0, extrapolated, None, lam, ridge)
                _products_from_gradient(grad, W, s, b, ridge, current)
                if value < _gram_objective_and_gap(current, b, s, yy, f0, W, None, lam, ridge)[0]:
                    W[:] = extrapolated
                    for t in range(T):
                        grad[:, t] = (AW[:, t] - b[:, t]) * s[t] + 2.0 * ridge * W[:, t]
            history[0] = W
        _products_from_gradient(grad, W, s, b, ridge, AW)
        gap = _gram_objective_and_gap(AW, b, s, yy, f0, W, grad, lam, ridge)[1]
    return done, gap


@_jit
def _products_from_gradient(grad, W, s, b, ridge, out):
    """``A_t w_t`` recovered from the kept gradient ``s_t (A_t w_t - b_t) +
    2 ridge w_t``."""
    for t in range(W.shape[1]):
        out[:, t] = (grad[:, t] - 2.0 * ridge * W[:, t]) / s[t] + b[:, t]


def _inner_solve(inner, target, max_sweeps, check_first=False):
    """Sweeps with Anderson extrapolation until the restricted relative gap
    is ``<= target`` or ``max_sweeps`` were made (``check_first``: the gap
    is also checked before the first sweep); returns the sweeps made and
    the last gap."""
    history = np.empty((ANDERSON + 1,) + inner.W.shape)
    if inner.gram:
        p = inner.p
        return _gram_solve(inner.A, p.shared, inner.b, p.s, p.yy, p.f0, inner.W, inner.grad, inner.curv, p.lam,
                           p.ridge, target, max_sweeps, history, check_first)
    extrapolated = np.empty(inner.W.shape)
    done = 0
    gap = inner.relative_gap() if check_first else np.inf
    while done < max_sweeps and gap > target:
        n = min(ANDERSON, max_sweeps - done)
        history[0] = inner.W
        inner.sweep(history[:n + 1])
        done += n
        if n == ANDERSON and _anderson(history, extrapolated):
            value, R = inner.objective(extrapolated)
            if value < inner.objective()[0]:
                inner.W = extrapolated.copy()
                inner.refresh(R)
        gap = inner.relative_gap()
        if gap <= target:
            break
    return done, gap


def _algorithm(size, d):
    return "Anderson-accelerated sweeps over " + ("all rows" if size >= d else "working sets")


def solve_group_lasso_bcd(ls, norm, W0, ridge=0.0, tol=1e-9, max_iter=20_000, warn=True, screen=True):
    """Minimise ``f(W) + ridge ||W||_F^2 + lam sum_j ||W_j||_2`` to a relative
    duality gap ``<= tol`` (module docstring).

    Parameters
    ----------
    ls : the squared loss bound to data (:class:`mtlcvx.terms.LeastSquares`)
        Its designs are read in place (``Xs``; one array when ``ls.shared``).
    norm : bound L21 penalty
        ``lam ||.||_{2,1}``, ``lam = norm.weight > 0``.  On features whose
        curvatures spread over more than
        :data:`~mtlcvx.solvers.least_squares.CORRECTION_SPREAD` the
        working-set solver of :func:`~mtlcvx.solvers.solve_row_separable`
        runs instead: its duality gap has the second dual point such
        features need to reach a small ``tol`` (``info.algorithm`` says so).
    W0 : ndarray (d, T)
        Starting point (not modified).
    ridge : float >= 0
    tol : float
        On :func:`~mtlcvx.solvers.least_squares.relative_gap`.
    max_iter : int
        Total sweeps over the working sets.
    screen : bool
        Gap Safe screening of rows.

    Returns
    -------
    W : ndarray (d, T)
    info : SolverInfo
        ``n_iter`` counts sweeps; ``gradient_evaluations`` the work in
        full-gradient equivalents (outer gradients plus sweeps weighted by
        their cost).
    """
    if numba is None:  # pragma: no cover
        raise RuntimeError("block coordinate descent needs numba")
    lam = float(norm.weight)
    if not lam > 0:
        raise ValueError(f"the norm's weight must be > 0, got {lam!r}")
    p = _Problem(ls, ridge, lam)
    if p.spread > CORRECTION_SPREAD:
        W, info = solve_row_separable(ls, norm, W0, ridge, tol, max_iter, warn=warn)
        info.algorithm = "APG in the Jacobi row metric (badly scaled features)"
        return W, info
    d = p.d
    W = np.array(W0, dtype=float, copy=True)
    active = np.ones(d, dtype=bool)
    # on few features a working set saves less than its outer iterations cost
    size = d if d <= ALL_ROWS_BELOW else INITIAL_SIZE
    sweeps = 0
    evaluations = 0.0
    criterion = previous = previous_size = np.inf
    # every row from the start: the first solve needs no outer pass, the inner gap being the global one
    rows = np.arange(d) if size >= d else None
    while True:
        outer = rows is None
        if outer:
            R = p.residuals(W)
            G = p.gradient(R, W)
            evaluations += 1.0
            rr, ry = p.residual_stats(R, W)
            primal, gap, alpha, norms = p.gap(W, G, rr, ry)
            criterion = p.relative(primal, gap)
            if criterion <= tol:
                return W, SolverInfo(sweeps, True, criterion, GAP, NAME, algorithm=_algorithm(size, d),
                                     gradient_evaluations=evaluations)
            if sweeps >= max_iter:
                break
            support = np.any(W != 0, axis=1)
            distance = (lam - alpha * norms) / np.where(p.row_norms > 0, p.row_norms, 1.0)
            if screen:
                radius = np.sqrt(2.0 * gap * p.s.max())
                active &= (distance < radius) | support
            n_support = int(support.sum())
            # twice the support (a set sized on its support shrinks with it: 608 rows swept for 157 nonzero
            # ones cost 4x); a set the last solution filled was too small by an unknown factor: grow faster;
            # one that did not halve the gap: at least double it
            grow = SATURATED_GROWTH if n_support >= SATURATED * previous_size else 2
            stalled = 2 * size if criterion > 0.5 * previous else 0
            size = min(int(active.sum()), max(INITIAL_SIZE, grow * n_support, stalled))
            previous_size = size
            score = np.where(active, distance, np.inf)
            score[support] = -np.inf
            rows = np.sort(np.argpartition(score, size - 1)[:size]) if size < d else np.arange(d)
        inner = _Inner(p, rows, W[rows])
        evaluations += inner.setup_work()
        previous = criterion
        if size >= d:
            # every row: the inner gap is the global one, and certifies the answer (or max_iter was reached)
            n, criterion = _inner_solve(inner, tol, max_iter - sweeps, check_first=not outer)
            sweeps += n
            evaluations += n * inner.work()
            W = inner.W
            if criterion <= tol:
                return W, SolverInfo(sweeps, True, criterion, GAP, NAME, algorithm=_algorithm(size, d),
                                     gradient_evaluations=evaluations)
            break
        # a set holding every row that may be nonzero is the whole problem: solve it to the end
        whole = size >= int(active.sum())
        # a sweep far cheaper than the outer gradient: solve the set deeper and save outer iterations
        fraction = INNER_FRACTION if inner.work() > CHEAP_SWEEP else DEEP_FRACTION
        target = tol / 10 if whole else max(tol / 10, fraction * criterion)
        n, _ = _inner_solve(inner, target, max_iter - sweeps)
        sweeps += n
        evaluations += n * inner.work()
        W = np.zeros_like(W)
        W[rows] = inner.W
        rows = None
    info = not_converged(NAME, max_iter, GAP, criterion, tol, warn)
    info.gradient_evaluations = evaluations
    return W, info
