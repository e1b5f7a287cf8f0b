"""A working set for a penalty known only by its prox, certified on the full problem.

``min_W f(W) + ridge ||W||_F^2 + Omega(W)`` with ``f`` the squared loss and
``Omega`` any convex penalty with a ``prox`` (a user's term, say, that
declares nothing else: no dual norm, no row separability).  Plain
accelerated proximal gradient pays a full gradient per iteration; on
row-sparse solutions (d = 500 features, 10 relevant) nine in ten of those
products multiply zeros.

The working-set solver of :mod:`mtlcvx.solvers.composite` restricts the
problem to a few rows using the dual norm of each row, which a prox-only
term does not have.  This one uses only the prox:

* **Outer step, on the full problem.**  ``G = grad f(W)`` and ``W+ =
  prox(W - G/L, 1/L)``.  The residual ``L ||W - W+||``, relative to
  ``||grad f(0)||``, is the stopping test (zero exactly at a minimiser, the
  test of :func:`~mtlcvx.solvers.apg.accelerated_proximal_gradient`).  The
  rows where ``W`` is nonzero, plus the rows whose residual is largest,
  form the working set ``S``, which at least doubles when the last set did
  not halve the residual (the strategy of
  :func:`~mtlcvx.solvers.solve_row_separable`, with the residual's rows in
  place of the dual norms).
* **Inner solve, restricted.**  APG on ``W_S`` with the other rows at
  zero, using ``Z -> prox(pad(Z), step)[S]`` as the restricted prox.  That
  is the prox of the restricted problem **exactly when** the full prox of
  the zero-padded point is itself zero outside ``S`` (it is then feasible
  for the restricted prox problem and optimal for the larger one).  This
  holds for row-separable penalties and for the trace norm, and is checked
  at every call: the first call where it fails ("leaks" outside ``S``)
  abandons the working set and plain APG finishes from the current point.

The answer is therefore certified on the full problem whatever the
penalty; the working set only decides how much work that takes.
"""

import numpy as np

from ._common import SolverInfo, not_converged
from .apg import accelerated_proximal_gradient, gradient_mapping_norm
from .composite import next_working_set

__all__ = ["solve_prox_working_set"]

NAME = "prox working set"
CRITERION = "relative prox-gradient residual"


#: Entries of the prox outside the set up to this fraction of its largest
#: entry are rounding, not a leak.
LEAK_TOL = 1e-13


class _Leak(Exception):
    """The penalty's prox of a zero-padded point is nonzero outside the set."""


def _restricted_prox(prox, rows, shape):
    outside = np.ones(shape[0], dtype=bool)
    outside[rows] = False

    def restricted(V, step):
        padded = np.zeros(shape)  # fresh: a user's prox may work in place
        padded[rows] = V
        Z = np.asarray(prox(padded, step))
        # an SVD-based prox leaves rounding (1e-17) in rows that are exactly zero in theory
        if np.abs(Z[outside]).max(initial=0.0) > LEAK_TOL * np.abs(Z).max(initial=0.0):
            raise _Leak
        return Z[rows]

    return restricted


def solve_prox_working_set(ls, penalty, W0, ridge=0.0, tol=1e-9, max_iter=20_000, initial_size=16, warn=True):
    """Minimise ``f(W) + ridge ||W||_F^2 + Omega(W)`` (module docstring).

    Parameters
    ----------
    ls : the squared loss bound to data (with ``restrict``)
    penalty : bound penalty with ``prox``
    W0 : ndarray (d, T)
        Starting point (not modified).
    ridge : float
    tol : float
        On the relative prox-gradient residual of the full problem.
    max_iter : int
        Total inner iterations.

    Returns
    -------
    W : ndarray
    info : SolverInfo
        ``algorithm`` says whether the working set held to the end or plain
        APG finished the solve.
    """
    d, _ = ls.shape
    W = np.array(W0, dtype=float, copy=True)

    def grad_full(V):
        return ls.grad(V) + 2.0 * ridge * V if ridge else ls.grad(V)

    L = ls.lipschitz() + 2.0 * ridge
    L = L if L > 0 else 1.0
    scale = float(np.linalg.norm(grad_full(np.zeros_like(W))))
    scale = scale if scale > 0 and np.isfinite(scale) else 1.0

    def full_apg(start, n_done, algorithm):
        def stop(V):
            return gradient_mapping_norm(V, grad_full(V), penalty.prox, 1.0 / L) / scale

        stop.name = CRITERION
        out, info = accelerated_proximal_gradient(grad_full, penalty.prox, start, L, stop=stop, tol=tol,
                                                  max_iter=max(max_iter - n_done, 1), warn=warn)
        info.n_iter += n_done
        info.solver, info.algorithm = NAME, algorithm
        return out, info

    if 2 * initial_size >= d:
        return full_apg(W, 0, "APG (few features)")
    size = initial_size
    n_iter = 0
    criterion = previous = np.inf
    while True:
        G = grad_full(W)
        W_plus = penalty.prox(W - G / L, 1.0 / L)
        residual = L * (W - W_plus)
        criterion = float(np.linalg.norm(residual)) / scale
        if criterion <= tol:
            return W, SolverInfo(n_iter, True, criterion, CRITERION, NAME, algorithm="APG on a prox working set")
        if n_iter >= max_iter:
            break
        # the rows W+ would switch on are ranked by their residual, not all taken: from W = 0 at a tenth of
        # lam_max the first prox step switches on most rows of a row-sparse solution's problem
        rows, size = next_working_set(np.linalg.norm(residual, axis=1), W, size, stalled=criterion > 0.5 * previous)
        if rows is None:
            return full_apg(W, n_iter, "APG (the working set grew to half the features)")
        sub = ls.restrict(rows)
        L_sub = sub.lipschitz() + 2.0 * ridge
        L_sub = L_sub if L_sub > 0 else 1.0
        prox = _restricted_prox(penalty.prox, rows, W.shape)

        def grad_sub(V, sub=sub):
            return sub.grad(V) + 2.0 * ridge * V if ridge else sub.grad(V)

        def stop(V, prox=prox, grad_sub=grad_sub, L_sub=L_sub):
            # relative to the full problem's scale: the restricted gradient at zero is smaller
            return gradient_mapping_norm(V, grad_sub(V), prox, 1.0 / L_sub) / scale

        stop.name = CRITERION
        try:
            sub_W, info = accelerated_proximal_gradient(grad_sub, prox, W[rows], L_sub, stop=stop,
                                                        tol=max(tol / 10, 0.1 * criterion),
                                                        max_iter=max_iter - n_iter, warn=False)
        except _Leak:
            return full_apg(W, n_iter, "APG (the penalty's prox does not keep zero rows at zero)")
        n_iter += info.n_iter
        W = np.zeros_like(W)
        W[rows] = sub_W
        previous = criterion
    return W, not_converged(NAME, max_iter, CRITERION, criterion, tol, warn)
