"""Graph-smoothed multi-task least squares: GGMTL's lower level, fast.

    f(W) = 1/2 sum_t s_t ||X_t w_t - y_t||^2 + Omega_c(W),
    Omega_c = 1/2 sum_k c_k ||w_i - w_j||^2   (squared)   or   sum_k c_k ||w_i - w_j||   (not squared)

over the edges ``k = (i, j)`` (``c = lam e`` in GGMTL).  With the tasks'
models stacked task by task (``v = [w_1; ...; w_T]``, the paper's ``V``),
the squared problem is the sparse symmetric positive (semi)definite system

    (blockdiag(s_t X_t^T X_t) + L_c kron I_d) v = [s_t X_t^T y_t]_t      (GGMTL eq. 12)

solved by a sparse LU factorisation (small systems) or by conjugate
gradients preconditioned by the diagonal blocks (large ones; the block of
task ``t`` is ``s_t X_t^T X_t + deg_c(t) I``).  The matrix is never formed
for CG: a product costs one batched ``d x d`` product per task and two
sparse products with the incidence matrix.  The same factorisation (or
preconditioner) serves the adjoint solve of the hypergradient.

The non-squared problem is solved by iteratively reweighted least squares
(GGMTL eq. 8): ``c_k ||D_k|| <= c_k (||D_k||^2 / (2 n_k) + n_k / 2)`` at
``n_k = ||D_k^old||``, so each step solves the squared system with edge
weights ``c_k / n_k`` and never increases the objective (a
majorise-minimise scheme); Newton steps finish it
(:meth:`GraphLeastSquares.solve_norm`).  The safeguard replaces ``n_k`` by ``max(n_k,
delta)``: the iterates then minimise exactly the Huber-smoothed penalty
``c_k h_delta(||D_k||)``, ``h_delta(r) = r`` for ``r >= delta`` and ``r^2
/ (2 delta) + delta / 2`` below, which is within ``sum_k c_k delta / 2`` of
the norm; its Hessian is what the hypergradient differentiates.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._common import SolverInfo, not_converged

__all__ = ["GraphLeastSquares", "DIRECT_SIZE", "DIRECT_SIZE_NORM"]

#: Squared systems of at most this many unknowns are factorised (sparse
#: LU); larger ones are solved by preconditioned conjugate gradients: on a
#: k-NN graph of 100 tasks with 30 features (3000 unknowns) the LU's fill
#: made it 0.9 s, slower than Clarabel (0.28 s), where CG takes milliseconds
#: (measured).
DIRECT_SIZE = 1000

#: The non-squared problem's systems (IRLS weights and Newton Hessians,
#: whose fused edges weigh ``c / delta``, far beyond what CG's block
#: preconditioner can handle) are factorised up to this many unknowns.
DIRECT_SIZE_NORM = 4000


def incidence_matrix(edges, n_tasks):
    """``E`` (``m x T``, sparse): row ``k`` is ``d_i - d_j`` for edge ``(i,
    j)``.  (The terms layer has its own: the solvers never import it.)"""
    m = len(edges)
    return sp.csr_matrix((np.tile([1.0, -1.0], m), (np.repeat(np.arange(m), 2), np.asarray(edges).ravel())),
                         shape=(m, n_tasks))


class _Block:
    """One SPD system ``blockdiag(G) + sum_k kron(B_k, M_k)`` with ``M_k =
    a_k I - g_k u_k u_k^T`` (``B_k`` the Laplacian of edge ``k`` alone),
    factorised or preconditioned once, solved for any right-hand side."""

    def __init__(self, owner, a, U=None, g=None, method="direct"):
        self.owner, self.a, self.U, self.g = owner, a, U, g
        self.method = method
        self.n_matvec = 0
        if method == "dense":
            try:
                self.cho = scipy.linalg.cho_factor(self.dense_matrix(), check_finite=False)
            except np.linalg.LinAlgError:
                self.method = "cg"
        if method == "direct":
            try:
                self.lu = spla.splu(self.matrix().tocsc(), permc_spec="MMD_AT_PLUS_A")
            except RuntimeError:
                # exactly singular (an isolated task with fewer samples than
                # features): CG from zero still finds the minimum-norm solution
                self.method = "cg"
        if self.method == "cg":
            self._preconditioner()

    # -- the operator -----------------------------------------------------
    def apply(self, Z):
        """``A z`` for ``Z`` of shape ``(T, d)``."""
        o = self.owner
        self.n_matvec += 1
        out = np.einsum("tij,tj->ti", o.G, Z)
        if len(o.edges):
            D = o.E @ Z
            M = self.a[:, None] * D
            if self.U is not None:
                M -= (self.g * np.einsum("kj,kj->k", self.U, D))[:, None] * self.U
            out += o.ET @ M
        return out

    def dense_matrix(self):
        """The matrix as a dense array (``Td x Td``, task-major)."""
        o = self.owner
        T, d = o.T, o.d
        A = np.zeros((T, d, T, d))
        t = np.arange(T)
        A[t, :, t, :] = o.G
        if len(o.edges):
            i, j = o.edges[:, 0], o.edges[:, 1]
            blocks = self.a[:, None, None] * np.eye(d)
            if self.U is not None:
                blocks = blocks - self.g[:, None, None] * self.U[:, :, None] * self.U[:, None, :]
            # the (i, d, j, d) layout puts block (p, q) at A[p, :, q, :]
            A_view = A.transpose(0, 2, 1, 3)
            np.add.at(A_view, (i, i), blocks)
            np.add.at(A_view, (j, j), blocks)
            np.add.at(A_view, (i, j), -blocks)
            np.add.at(A_view, (j, i), -blocks)
        return A.reshape(T * d, T * d)

    def matrix(self):
        """The sparse matrix (``Td x Td``, task-major)."""
        o = self.owner
        T, d = o.T, o.d
        A = sp.block_diag(list(o.G), format="csr") + sp.kron(o.laplacian(self.a), sp.identity(d), format="csr")
        if self.U is not None and len(o.edges):
            i, j = o.edges[:, 0], o.edges[:, 1]
            blocks = self.g[:, None, None] * self.U[:, :, None] * self.U[:, None, :]  # (m, d, d)
            rows, cols, vals = [], [], []
            r, c = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
            for p, q, sign in ((i, i, -1.0), (j, j, -1.0), (i, j, 1.0), (j, i, 1.0)):
                rows.append((p[:, None, None] * d + r).ravel())
                cols.append((q[:, None, None] * d + c).ravel())
                vals.append(sign * blocks.ravel())
            A = A + sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                  shape=(T * d, T * d))
        return A

    def _preconditioner(self):
        o = self.owner
        degree = np.abs(o.E).T @ self.a if len(o.edges) else np.zeros(o.T)
        P = o.G + degree[:, None, None] * np.eye(o.d)
        if self.U is not None and len(o.edges):
            rank_one = self.g[:, None, None] * self.U[:, :, None] * self.U[:, None, :]
            np.subtract.at(P, o.edges[:, 0], rank_one)
            np.subtract.at(P, o.edges[:, 1], rank_one)
        # a tiny shift keeps an isolated, rank-deficient task's block invertible
        scale = np.maximum(np.trace(P, axis1=1, axis2=2) / o.d, 1e-300)
        self.P_inv = np.linalg.inv(P + 1e-12 * scale[:, None, None] * np.eye(o.d))

    # -- solving ----------------------------------------------------------
    def solve(self, R, x0=None, rtol=1e-11, max_iter=None):
        """``A^{-1} R`` (``R`` of shape ``(T, d)``)."""
        o = self.owner
        if self.method == "dense":
            return scipy.linalg.cho_solve(self.cho, np.asarray(R, dtype=float).ravel(),
                                          check_finite=False).reshape(o.T, o.d)
        if self.method == "direct":
            return self.lu.solve(np.ascontiguousarray(R, dtype=float).ravel()).reshape(o.T, o.d)
        n = o.T * o.d
        A = spla.LinearOperator((n, n), matvec=lambda v: self.apply(v.reshape(o.T, o.d)).ravel(), dtype=float)
        M = spla.LinearOperator((n, n), matvec=lambda v: np.einsum("tij,tj->ti", self.P_inv,
                                                                   v.reshape(o.T, o.d)).ravel(), dtype=float)
        b = np.asarray(R, dtype=float).ravel()
        if not np.any(b):
            return np.zeros((o.T, o.d))
        x, info = spla.cg(A, b, x0=None if x0 is None else np.asarray(x0, dtype=float).ravel(), rtol=rtol,
                          atol=0.0, maxiter=max_iter or 10 * n, M=M)
        if info > 0:
            not_converged("conjugate gradients", info, "relative residual",
                          float(np.linalg.norm(b - A.matvec(x)) / np.linalg.norm(b)), rtol, warn=True, stacklevel=4)
        return x.reshape(o.T, o.d)


class GraphLeastSquares:
    """The data of a graph-smoothed least squares, kept for repeated solves
    with changing edge weights (an outer loop's).

    Parameters
    ----------
    Xs, ys : lists of arrays
        The tasks' designs ``(n_t, d)`` and targets.
    edges : ndarray (m, 2)
    task_weights : ndarray (T,), optional
        ``s_t`` (1: the "sum" scaling).
    method : {"auto", "dense", "direct", "cg"}
        Dense Cholesky, sparse LU or preconditioned CG; ``"auto"`` picks
        the sparse LU up to :data:`DIRECT_SIZE` unknowns (squared) or
        :data:`DIRECT_SIZE_NORM` (not squared), CG above, never the dense
        Cholesky: on the Tree set with fused tasks (Hessian entries ``c /
        delta ~ 1e10``) its Newton steps were less accurate than the sparse
        LU's and the non-squared fits took twice as long (measured); it is
        for well-conditioned systems.

    Notes
    -----
    Shapes follow the rest of mtlcvx at the boundary (``W`` is ``d x T``)
    and the paper's ``V`` inside (``(T, d)``, one row per task).
    """

    def __init__(self, Xs, ys, edges, task_weights=None, method="auto"):
        if method not in ("auto", "dense", "direct", "cg"):
            raise ValueError(f"method must be 'auto', 'dense', 'direct' or 'cg', got {method!r}")
        self.T, self.d = len(Xs), Xs[0].shape[1]
        s = np.ones(self.T) if task_weights is None else np.asarray(task_weights, dtype=float)
        self.G = np.stack([s_t * (X.T @ X) for s_t, X in zip(s, Xs)])
        self.b = np.stack([s_t * (X.T @ y) for s_t, X, y in zip(s, Xs, ys)])
        self.yy = float(sum(s_t * (y @ y) for s_t, y in zip(s, ys)))
        self.edges = np.asarray(edges, dtype=int).reshape(-1, 2)
        self.E = incidence_matrix(self.edges, self.T)
        self.ET = self.E.T.tocsr()
        self.method = method

    def laplacian(self, c):
        return (self.ET @ sp.diags(c) @ self.E).tocsr()

    def _weights(self, c):
        c = np.asarray(c, dtype=float).reshape(-1)
        if c.shape != (len(self.edges),) or np.any(c < 0) or not np.all(np.isfinite(c)):
            raise ValueError(f"edge weights must be {len(self.edges)} finite numbers >= 0")
        return c

    def system(self, a, U=None, g=None, stiff=False):
        """The system ``blockdiag(G) + sum_k kron(B_k, a_k I - g_k u_k
        u_k^T)``, ready to solve; ``stiff`` for the non-squared problem's
        (factorised up to :data:`DIRECT_SIZE_NORM` unknowns)."""
        method = self.method
        if method == "auto":
            size = self.T * self.d
            method = "direct" if size <= (DIRECT_SIZE_NORM if stiff else DIRECT_SIZE) else "cg"
        return _Block(self, np.asarray(a, dtype=float), U, g, method)

    # -- squared ----------------------------------------------------------
    def solve_squared(self, c, W0=None, rtol=1e-11):
        """The minimiser of the squared problem (``W``, ``d x T``) and the
        factorised system (for the adjoint solve)."""
        system = self.system(self._weights(c))
        V = system.solve(self.b, x0=None if W0 is None else np.asarray(W0).T, rtol=rtol)
        return V.T.copy(), system

    # -- not squared ------------------------------------------------------
    def huber_delta(self, W):
        """The safeguard ``delta``: ``1e-9`` times the scale of ``W`` (at
        least ``1e-9``), fixed for a whole solve."""
        return 1e-9 * max(1.0, float(np.abs(W).max(initial=0.0)))

    def smoothed_gradient(self, V, c, delta):
        """The gradient of :meth:`smoothed_value` at ``V`` (``(T, d)``)."""
        D = self.E @ V
        n = np.linalg.norm(D, axis=1)
        return np.einsum("tij,tj->ti", self.G, V) - self.b + self.ET @ ((c / np.maximum(n, delta))[:, None] * D)

    def solve_norm(self, c, W0=None, delta=None, tol=1e-10, max_iter=1000, warn=True, n_irls=None):
        """The minimiser of the non-squared problem (``W``, ``d x T``), with
        :class:`SolverInfo` (criterion: the norm of the smoothed objective's
        gradient relative to ``||X^T y||``; a Newton decrement below ``tol``
        times the objective also stops) and ``delta``.

        ``n_irls`` reweighted steps (monotone, robust far from the
        solution; default 10 from a cold start, 1 from a warm start ``W0``),
        then Newton steps on the smoothed objective with Armijo
        backtracking (its Hessian is the system the hypergradient solves).
        IRLS alone converges linearly and slowly once tasks fuse: on the
        Line set (20 tasks, the k-NN graph, lam = 5) it needed 330
        iterations for ``tol = 1e-10`` where Newton needs a few tens
        (measured)."""
        c = self._weights(c)
        if n_irls is None:
            n_irls = 10 if W0 is None else 1
        V = self.solve_squared(c)[0].T if W0 is None else np.asarray(W0, dtype=float).T.copy()
        delta = self.huber_delta(V.T) if delta is None else float(delta)
        scale = max(float(np.linalg.norm(self.b)), 1e-300)
        criterion = np.inf
        value = self.smoothed_value(V.T, c, delta)
        for it in range(1, max_iter + 1):
            grad = self.smoothed_gradient(V, c, delta)
            criterion = float(np.linalg.norm(grad)) / scale
            if criterion <= tol:
                return V.T.copy(), SolverInfo(it - 1, True, criterion, "relative gradient", "IRLS+Newton"), delta
            if it <= n_irls:
                norms = np.linalg.norm(self.E @ V, axis=1)
                V = self.system(c / np.maximum(norms, delta), stiff=True).solve(self.b, x0=V)
                value = self.smoothed_value(V.T, c, delta)
                continue
            step = -self.hessian(V.T, c, False, delta).solve(grad)
            slope = float(np.sum(grad * step))
            # the Newton decrement: with heavy fused edges (curvature c /
            # delta) the gradient cannot be resolved to tol in floating
            # point, the predicted decrease can
            if -slope <= tol * max(1.0, abs(value)):
                return V.T.copy(), SolverInfo(it - 1, True, criterion, "relative gradient", "IRLS+Newton"), delta
            t = 1.0
            for _ in range(50):
                trial = V + t * step
                trial_value = self.smoothed_value(trial.T, c, delta)
                if trial_value <= value + 1e-4 * t * slope:
                    break
                t /= 2.0
            else:
                # no decrease left in floating point: the solution
                return V.T.copy(), SolverInfo(it - 1, True, criterion, "relative gradient", "IRLS+Newton"), delta
            V, value = trial, trial_value
        info = not_converged("IRLS+Newton", max_iter, "relative gradient", criterion, tol, warn)
        return V.T.copy(), info, delta

    def smoothed_value(self, W, c, delta):
        """The Huber-smoothed non-squared objective IRLS minimises."""
        V = np.asarray(W, dtype=float).T
        r = np.einsum("tij,tj->ti", self.G, V)
        n = np.linalg.norm(self.E @ V, axis=1)
        h = np.where(n >= delta, n, n**2 / (2 * delta) + delta / 2)
        return float(0.5 * np.sum(r * V) - np.sum(self.b * V) + 0.5 * self.yy) + float(np.sum(c * h))

    # -- the hypergradient --------------------------------------------------
    def hessian(self, W, c, squared, delta=None):
        """The Hessian of the lower-level objective at ``W`` as a system."""
        c = self._weights(c)
        if squared:
            return self.system(c)
        D = self.E @ np.asarray(W, dtype=float).T
        n = np.linalg.norm(D, axis=1)
        smooth = n < delta
        a = c / np.maximum(n, delta)
        U = np.where(smooth[:, None], 0.0, D / np.maximum(n, delta)[:, None])
        return self.system(a, U, np.where(smooth, 0.0, a), stiff=True)

    def edge_gradient(self, W, G, c, squared, delta=None, system=None, z0=None):
        """``dC/dc`` (one entry per edge) for a scalar ``C`` of the solution
        with ``grad_W C = G`` (``d x T``), by implicit differentiation:
        ``z = H^{-1} grad C`` and ``dC/dc_k = -(z_i - z_j)^T d_k`` with
        ``d_k = w_i - w_j`` (squared) or its smoothed unit direction
        ``(w_i - w_j) / max(||w_i - w_j||, delta)``.  Returns ``(dC/dc,
        z)``; ``system`` reuses a factorised Hessian, ``z0`` warm-starts
        CG."""
        if system is None:
            system = self.hessian(W, c, squared, delta)
        z = system.solve(np.asarray(G, dtype=float).T, x0=z0)
        D = self.E @ np.asarray(W, dtype=float).T
        if not squared:
            D = D / np.maximum(np.linalg.norm(D, axis=1), delta)[:, None]
        return -np.einsum("kj,kj->k", self.E @ z, D), z
