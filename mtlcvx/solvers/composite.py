"""Least squares plus a norm penalty, solved to a certified duality gap.

``min_W f(W) + ridge ||W||_F^2 + Omega(W)`` with ``f`` the squared loss
bound to data and ``Omega`` a weighted norm (a bound penalty) given by its
proximal operator, its value and its dual norm: the L21 group lasso, the
trace norm and the elastic net are all served by the two functions here.
"""

import numpy as np

from ._common import SolverInfo, not_converged
from .apg import accelerated_proximal_gradient
from .least_squares import norm_penalized_gap

__all__ = ["solve_norm_penalized", "solve_row_separable"]

GAP = "relative duality gap"


def solve_norm_penalized(ls, norm, W0, ridge=0.0, tol=1e-9, max_iter=20_000, warn=True):
    """Accelerated proximal gradient stopped on the relative duality gap
    ``gap / max(1, |P(W)|) <= tol``.

    Parameters
    ----------
    ls : the squared loss bound to data
    norm : bound penalty with ``prox``, ``value`` and ``dual_norm``
        ``Omega`` with its weight.
    W0 : ndarray (d, T)
    ridge : float
        Weight of ``||W||_F^2``, kept in the smooth part.

    Returns
    -------
    W : ndarray
    info : SolverInfo
        ``criterion`` is the last relative duality gap.
    """
    def grad(W):
        return ls.grad(W) + 2.0 * ridge * W if ridge else ls.grad(W)

    def stop(W):
        primal, gap = norm_penalized_gap(ls, W, norm, ridge)
        return gap / max(1.0, abs(primal))

    stop.name = GAP
    return accelerated_proximal_gradient(
        grad, norm.prox, W0, ls.lipschitz() + 2.0 * ridge,
        stop=stop if norm.weight > 0 else None, tol=tol, max_iter=max_iter, warn=warn,
    )


def solve_row_separable(ls, norm, W0, ridge=0.0, tol=1e-9, max_iter=20_000, initial_size=16, warn=True):
    """Working-set solver for norms separable over the rows of ``W``
    (``L21``, ``L1``): ``row_dual_norms`` gives the dual norm of each row,
    ``dual_norm`` their max.

    Outer loop: compute the global duality gap and, from the same gradient,
    the dual violation ``row_dual_norms(grad)_j`` of every row; stop when
    the relative gap is ``<= tol``; otherwise solve the problem restricted
    to a working set (the current support plus the most violating rows, at
    least doubling each time) with :func:`solve_norm_penalized`.  The rows
    outside the set stay at zero.  As the set grows to all rows if needed,
    the loop ends at a certified global optimum; on sparse solutions it
    solves only small problems (the strategy of celer and skglm).  A zero
    weight falls back to the full problem.

    Returns
    -------
    W : ndarray
    info : SolverInfo
        ``n_iter`` counts inner iterations; ``criterion`` is the last global
        relative duality gap.
    """
    d, _ = ls.shape
    if norm.weight <= 0 or 2 * initial_size >= d:
        return solve_norm_penalized(ls, norm, W0, ridge, tol, max_iter, warn)
    W = np.array(W0, dtype=float, copy=True)
    size = min(d, initial_size)
    n_iter = 0
    criterion = previous = np.inf
    name = "working-set proximal gradient"
    while True:
        primal, gap, grad = norm_penalized_gap(ls, W, norm, ridge, return_grad=True)
        criterion = gap / max(1.0, abs(primal))
        if criterion <= tol:
            return W, SolverInfo(n_iter, True, criterion, GAP, name)
        if n_iter >= max_iter:
            break
        scores = norm.row_dual_norms(grad)
        support = np.flatnonzero(np.any(W != 0, axis=1))
        scores[support] = np.inf
        if criterion > 0.5 * previous:
            size *= 2  # the last set did not halve the gap: let more rows in
        size = min(d, max(size, 2 * len(support)))
        if 2 * size >= d:
            # half the rows or more save little per iteration: go full
            size = d
        rows = np.sort(np.argpartition(-scores, size - 1)[:size]) if size < d else np.arange(d)
        # inner accuracy follows the outer gap (as celer does): early sets
        # are solved roughly, the full problem to tol / 10
        inner_tol = tol / 10 if size == d else max(tol / 10, 0.1 * criterion)
        sub_W, info = solve_norm_penalized(ls.restrict(rows), norm, W[rows], ridge, tol=inner_tol,
                                           max_iter=max_iter - n_iter, warn=False)
        n_iter += info.n_iter
        W = np.zeros_like(W)
        W[rows] = sub_W
        previous = criterion
    return W, not_converged(name, max_iter, GAP, criterion, tol, warn)
