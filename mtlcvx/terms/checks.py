"""Checks of a penalty term before it is used: is each half what it claims?

A user who writes a new regularizer writes its CVXPY expression, and
optionally a numpy ``value``, a ``prox`` and a ``degree``.  A wrong half
would silently give a wrong reference or a wrong fast path, so
:func:`check_term` tests each one against the others, on random points,
and raises :class:`TermCheckError` naming the part that is wrong:

=================  ==========================================================
check              what is compared
=================  ==========================================================
``"expr"``         the expression is convex (DCP) and DPP in the term's
                   parameters: a model could not otherwise be solved, or
                   would recompile at every solve
``"value"``        ``value(X)`` against the expression's value at ``X``
``"degree"``       ``Omega(c X) = c**degree Omega(X)`` for ``c`` in ``{0.5, 3}``
``"prox"``         ``prox(V, step)`` against the CVXPY prox problem
                   ``min_Z 1/2 ||Z - V||^2 + step Omega(Z)``: the objective
                   at the user's point may exceed the optimum by ``rtol``
                   (relative) only
=================  ==========================================================
"""

import numpy as np

from .base import Penalty, capabilities

__all__ = ["check_term", "TermCheckError"]


class TermCheckError(ValueError):
    """A part of a term does not do what the term declares.

    Attributes
    ----------
    part : str
        ``"expr"``, ``"value"``, ``"degree"`` or ``"prox"``.
    """

    def __init__(self, message, part):
        super().__init__(message)
        self.part = part


def _cvxpy():
    import cvxpy

    return cvxpy


def check_term(term, shape=(4, 3), params=None, n_points=3, rtol=1e-6, random_state=0):
    """Check a penalty's halves against each other (see the module table).

    Parameters
    ----------
    term : Penalty
    shape : tuple
        The shape of the variable ``X`` the checks use.
    params : dict, optional
        Values of the term's own parameters (:attr:`Penalty.parameters`),
        required when it has some.
    n_points : int
        Random points per check.
    rtol : float
        Relative tolerance of the comparisons.
    random_state : int, Generator or None

    Returns
    -------
    list of str
        The checks that ran (a term without ``prox`` skips ``"prox"``...).

    Raises
    ------
    TermCheckError
        Naming the part that failed and the point where it did.
    TypeError
        When ``term`` is not a :class:`~mtlcvx.terms.Penalty`.
    """
    if not isinstance(term, Penalty):
        raise TypeError(f"term must be a mtlcvx.terms.Penalty, got {type(term).__name__}")
    params = dict(params or {})
    missing = [name for name in term.parameters if name not in params and getattr(term, name, None) is None]
    if missing:
        raise ValueError(f"{type(term).__name__} has parameters {missing}: pass their values as params")
    rng = np.random.default_rng(random_state)
    name = type(term).__name__
    found = capabilities(term)
    points = [rng.normal(size=shape) * scale for scale in np.logspace(-1, 1, n_points)]
    ran = []
    if "expr" not in found:
        raise TermCheckError(f"{name} defines no CVXPY expression (expr or cvx)", part="expr")
    _check_expr(term, name, shape, params)
    ran.append("expr")
    if "value" in found:
        for X in points:
            numpy_value = term.value(X, **params)
            cvx_value = _expr_value(term, X, params)
            if not _close(numpy_value, cvx_value, rtol):
                raise TermCheckError(
                    f"{name}.value disagrees with {name}.expr at a random X of shape {shape}: {numpy_value!r} "
                    f"(value) vs {cvx_value!r} (expr)", part="value")
        ran.append("value")
    if term.degree is not None:
        for X in points:
            base = term.value(X, **params)
            for c in (0.5, 3.0):
                scaled = term.value(c * X, **params)
                if not _close(scaled, c**term.degree * base, rtol):
                    raise TermCheckError(
                        f"{name} declares degree={term.degree}, but Omega({c} X) = {scaled!r} where "
                        f"{c}**{term.degree} Omega(X) = {c**term.degree * base!r}", part="degree")
        ran.append("degree")
    if "prox" in found:
        for X in points:
            for step in (0.1, 1.0):
                _check_prox(term, name, X, step, params, rtol)
        ran.append("prox")
    return ran


def _close(a, b, rtol):
    return abs(float(a) - float(b)) <= rtol * max(1.0, abs(float(a)), abs(float(b)))


def _cvx_params(term, params):
    """The term's parameters as ``cp.Parameter`` s with the given values."""
    cp = _cvxpy()
    out = {}
    for key in term.parameters:
        value = np.asarray(params.get(key, getattr(term, key, None)), dtype=float)
        # declared nonnegative when it is, as a model declares its weights
        out[key] = cp.Parameter(value.shape, value=value, name=key, nonneg=bool(np.all(value >= 0)))
    return out


def _check_expr(term, name, shape, params):
    cp = _cvxpy()
    X = cp.Variable(shape)
    cvx_params = _cvx_params(term, params)
    try:
        expression, constraints = term.cvx(X, **cvx_params)
    except Exception as exc:  # the user's code: say where it failed
        raise TermCheckError(f"{name}.expr failed on a CVXPY variable of shape {shape}: {exc!r}",
                             part="expr") from exc
    problem = cp.Problem(cp.Minimize(expression), constraints)
    if not problem.is_dcp():
        raise TermCheckError(f"{name}.expr is not convex under CVXPY's rules (DCP): {expression}", part="expr")
    if cvx_params and not problem.is_dcp(dpp=True):
        raise TermCheckError(
            f"{name}.expr is convex but not DPP in its parameters {list(cvx_params)}: a model would recompile at "
            "every solve (a product of two parameters, or a parameter inside a non-affine atom, is not DPP)",
            part="expr")


def _expr_value(term, X, params):
    cp = _cvxpy()
    expression, constraints = term.cvx(cp.Constant(X), **params)
    if not constraints:
        return float(expression.value)
    # a partial minimisation: its value at X is a small problem of its own
    problem = cp.Problem(cp.Minimize(expression), constraints)
    problem.solve()
    return float(problem.value)


def _check_prox(term, name, V, step, params, rtol):
    cp = _cvxpy()
    Z = np.asarray(term.prox(V, step, **params), dtype=float)
    if Z.shape != V.shape:
        raise TermCheckError(f"{name}.prox returned shape {Z.shape} for V of shape {V.shape}", part="prox")
    variable = cp.Variable(V.shape)
    expression, constraints = term.cvx(variable, **params)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(variable - V) + step * expression), constraints)
    problem.solve(solver=cp.CLARABEL)
    theirs = 0.5 * float(np.sum((Z - V) ** 2)) + step * term.value(Z, **params)
    optimum = float(problem.value)
    if theirs - optimum > rtol * max(1.0, abs(optimum)):
        distance = float(np.linalg.norm(Z - variable.value))
        raise TermCheckError(
            f"{name}.prox(V, step={step}) is not the proximal point: its prox objective is {theirs!r}, the CVXPY "
            f"prox problem's optimum {optimum!r} (distance {distance:.2e} from the CVXPY point)", part="prox")
