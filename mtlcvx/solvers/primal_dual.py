"""Primal-dual splitting (Condat 2013, Vu 2013) for a smooth loss of a sum
of components plus non-smooth penalties, each on one component, each
known either by a linear operator and a group norm or by its prox:

    min_{x_1..x_h}  f(x_1 + ... + x_h) + sum_l s_l(x_l) + sum_i g_i(K_i x_{l(i)})

* ``f`` smooth (``grad``, ``lipschitz``), ``s_l`` smooth penalties on the
  components (``grad``, ``lipschitz``);
* an **operator** penalty is ``g_i(K_i x) = gamma_i sum_g ||(D_i x)_g||_2``
  with ``D_i`` sparse, its rows in consecutive groups of equal size (the
  GenGL problem, eq. 10 of the SSMTL paper, for any operators; and a
  user's :class:`~mtlcvx.terms.OperatorNorm`): ``K_i = D_i``, and the
  prox of ``sigma g_i^*`` is the projection of each group onto the l2 ball
  of radius ``gamma_i``;
* a **prox** penalty (an l1 norm plus a trace norm, say, where neither
  prox knows the other) has ``K_i = I``, and the prox of ``sigma g_i^*`` is
  Moreau's identity, ``v - sigma prox_{g_i / sigma}(v / sigma)``.

Every step is a gradient, products with the ``K_i`` and their transposes,
and the penalties' own proxes: exact for any operators, no linear system.

Iteration (Condat's algorithm, relaxation 1)::

    x+ = x - tau (grad F(x) + sum_i K_i^T y_i)
    y_i+ = prox_{sigma g_i^*}(y_i + sigma K_i (2 x+ - x))

with ``1/tau - sigma ||K||^2 >= L/2`` (``K`` the stacked ``K_i``, ``L`` the
Lipschitz constant of ``grad F``).  Stopped on the relative primal and
dual residuals of the saddle-point system, which vanish exactly at a
solution (penalties of weight 0 are dropped; with none left and the
squared loss, least squares in closed form, see
:func:`~mtlcvx.solvers.least_squares.least_squares_components`):

    r_primal = (x - x+)/tau - K^T (y - y+),   r_dual = (y - y+)/sigma - K (x - x+)
"""

import numpy as np
import scipy.sparse.linalg as spla

from ._common import SolverInfo, not_converged
from .least_squares import check_operator_weights, least_squares_components

__all__ = ["primal_dual_splitting", "primal_dual_group_norms", "operator_norm_squared", "ComponentLoss"]

NAME = "primal-dual splitting (Condat-Vu)"


class ComponentLoss:
    """``F(x_1, ..., x_h) = f(sum_l W_l)`` on the stacked vectors ``x_l =
    vec(W_l)`` (column-major): every component sees the gradient of the
    loss at the sum; ``F`` is ``h L``-Lipschitz when ``f`` is
    ``L``-Lipschitz."""

    def __init__(self, datafit, n_components):
        self.datafit = datafit
        self.h = n_components
        self.d, self.T = datafit.shape

    def to_components(self, X):
        """``(h, d*T)`` stack -> ``(h, d, T)`` matrices."""
        return X.reshape(self.h, self.T, self.d).transpose(0, 2, 1)

    def vec(self, W):
        """``(d, T)`` -> ``vec(W)`` (column-major)."""
        return W.T.ravel()

    def grad(self, X):
        G = self.datafit.grad(self.to_components(X).sum(axis=0))
        return np.tile(self.vec(G), (self.h, 1))

    def lipschitz(self):
        return self.h * self.datafit.lipschitz()


def operator_norm_squared(penalties, n_components, n_identity=None):
    """``||K||^2`` for ``K`` block-diagonal over components, the operators of
    a component stacked: the largest eigenvalue of ``sum_i D_i^T D_i`` (plus
    ``n_identity[l]`` for the identity blocks of the prox penalties of
    component ``l``) over the components (ARPACK, then 1 % of margin for
    its tolerance)."""
    n_identity = [0] * n_components if n_identity is None else n_identity
    top = 0.0
    for l in range(n_components):
        mats = [op.D for op, component in penalties if component == l]
        value = 0.0
        if mats:
            A = sum(D.T @ D for D in mats)
            if A.shape[0] <= 200:
                value = float(np.linalg.eigvalsh(A.toarray())[-1])
            else:
                value = float(spla.eigsh(A, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0])
        top = max(top, value + n_identity[l])
    return 1.01 * top


class _OperatorBlock:
    """``gamma sum_g ||(D x)_g||_2``: ``K = D``, the dual prox a projection."""

    def __init__(self, op, component):
        self.op, self.component = op, component
        self.size = op.D.shape[0]

    def apply(self, x):
        return self.op.D @ x

    def adjoint(self, y):
        return self.op.D.T @ y

    def dual_prox(self, v, sigma):
        return self.op.project_dual(v, self.op.weight)


class _ProxBlock:
    """A penalty known by its prox: ``K = I`` on ``vec(W_l)``, the dual prox
    by Moreau's identity."""

    def __init__(self, term, component, F):
        self.term, self.component, self.F = term, component, F
        self.size = F.d * F.T

    def apply(self, x):
        return x

    def adjoint(self, y):
        return y

    def dual_prox(self, v, sigma):
        F = self.F
        W = F.to_components(v[None] / sigma)[0]
        return v - sigma * F.vec(self.term.prox(W, 1.0 / sigma))


def primal_dual_splitting(datafit, n_components, operators=(), proxed=(), smooth=(), x0=None, tol=1e-8,
                          max_iter=50_000, check_every=20, warn=True):
    """Solve the problem of the module docstring.

    Parameters
    ----------
    datafit : the loss bound to data (``grad``, ``lipschitz``)
    n_components : int
        ``h``.
    operators : list of ``(operator, component)``
        Bound operator penalties (``D``, ``project_dual``, ``weight``), e.g.
        :class:`~mtlcvx.terms.GenGLOperator`.
    proxed : list of ``(term, component)``
        Bound penalties with a ``prox``.
    smooth : list of ``(term, component)``
        Bound smooth penalties (``grad``, ``lipschitz``).
    x0 : ndarray (h, d*T), optional

    Returns
    -------
    X : ndarray (h, d*T)
        The components, stacked as ``vec`` s (``ComponentLoss.to_components``
        unstacks them).
    info : SolverInfo
    """
    operators = check_operator_weights(operators)
    for term, _ in list(proxed) + list(smooth):
        if not (np.isfinite(term.weight) and term.weight >= 0):
            raise ValueError(f"every penalty weight must be finite and >= 0, got {term.weight!r}")
    proxed = [(term, l) for term, l in proxed if term.weight > 0]
    smooth = [(term, l) for term, l in smooth if term.weight > 0]
    F = ComponentLoss(datafit, n_components)
    if not operators and not proxed and not smooth and getattr(datafit, "kind", None) == "squared":
        # every weight 0: least squares on the sum, in closed form (gradient steps on it stall on badly
        # scaled features)
        components = least_squares_components(datafit, n_components)
        return components.transpose(0, 2, 1).reshape(n_components, -1), SolverInfo(1, True, 0.0, "closed form", NAME)
    blocks = ([_OperatorBlock(op, l) for op, l in operators] + [_ProxBlock(term, l, F) for term, l in proxed])
    size = F.d * F.T
    X = np.zeros((n_components, size)) if x0 is None else np.array(x0, dtype=float, copy=True)
    identities = [sum(1 for _, l in proxed if l == c) for c in range(n_components)]
    K2 = operator_norm_squared(operators, n_components, identities)
    # the smooth penalties of one component add their constants; the components are decoupled in them
    smooth_L = max([sum(term.lipschitz() for term, l in smooth if l == c) for c in range(n_components)])
    L = max(F.lipschitz() + smooth_L, 1e-12)
    tau = 1.0 / L
    sigma = (1.0 / tau - L / 2.0) / max(K2, 1e-300)

    def grad(X):
        G = F.grad(X)
        for term, l in smooth:
            G[l] += F.vec(term.grad(F.to_components(X[l][None])[0]))
        return G

    def KT(Ys):
        out = np.zeros_like(X)
        for block, y in zip(blocks, Ys):
            out[block.component] += block.adjoint(y)
        return out

    Y = [np.zeros(block.size) for block in blocks]
    KTY = KT(Y)
    criterion = np.inf
    name = "relative primal-dual residual"
    for it in range(1, max_iter + 1):
        X_new = X - tau * (grad(X) + KTY)
        extrapolated = 2.0 * X_new - X
        Y_new = [block.dual_prox(y + sigma * block.apply(extrapolated[block.component]), sigma)
                 for block, y in zip(blocks, Y)]
        KTY_new = KT(Y_new)
        if it % check_every == 0 or it == max_iter:
            r_primal = (X - X_new) / tau - (KTY - KTY_new)
            r_dual = np.concatenate([
                (y - yn) / sigma - block.apply(X[block.component] - X_new[block.component])
                for block, y, yn in zip(blocks, Y, Y_new)
            ]) if blocks else np.zeros(1)
            scale_p = max(np.linalg.norm(grad(X_new)), np.linalg.norm(KTY_new), 1e-12)
            scale_d = max(np.linalg.norm(np.concatenate(Y_new)) if blocks else 0.0, 1e-12)
            criterion = max(np.linalg.norm(r_primal) / scale_p, np.linalg.norm(r_dual) / scale_d / np.sqrt(K2 + 1e-300))
        X, Y, KTY = X_new, Y_new, KTY_new
        if criterion <= tol:
            return X, SolverInfo(it, True, float(criterion), name, NAME)
    return X, not_converged(NAME, max_iter, name, criterion, tol, warn)


def primal_dual_group_norms(datafit, n_components, penalties, x0=None, tol=1e-8, max_iter=50_000, check_every=20,
                            warn=True):
    """:func:`primal_dual_splitting` with operator penalties only (GenGL).

    Parameters
    ----------
    datafit : the loss bound to data (``grad``, ``lipschitz``)
    n_components : int
    penalties : list of ``(operator, component)``
        Bound :class:`~mtlcvx.terms.GenGLOperator`, weight ``gamma_i``.
    x0 : ndarray (h, d*T), optional

    Returns
    -------
    X : ndarray (h, d*T)
    info : SolverInfo
    """
    return primal_dual_splitting(datafit, n_components, operators=penalties, x0=x0, tol=tol, max_iter=max_iter,
                                 check_every=check_every, warn=warn)
