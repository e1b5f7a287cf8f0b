"""Checks of a penalty term before it is used: is each half what it claims?

A user who writes a new regularizer writes its CVXPY expression, and
optionally a numpy ``value``, a ``prox`` and a ``degree``.  A wrong half
would silently give a wrong reference or a wrong fast path, so
:func:`check_term` tests each one against the others, on random points,
and raises :class:`TermCheckError` naming the part that is wrong:

=================  ==========================================================
check              what is compared
=================  ==========================================================
``"operator"``     an :class:`~mtlcvx.terms.OperatorNorm`'s matrix: 2-d, finite,
                   ``prod(shape)`` columns, rows a multiple of ``group_size``
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

import collections
import pickle

import numpy as np

from .base import Penalty, capabilities

__all__ = ["check_term", "TermCheckError"]


class TermCheckError(ValueError):
    """A part of a term does not do what the term declares.

    Attributes
    ----------
    part : str
        ``"operator"``, ``"expr"``, ``"value"``, ``"degree"`` or ``"prox"``.
    raised : bool
        True when the part raised an exception (rather than returned a
        wrong result): a term built for one shape of ``W`` raises on
        another.
    """

    def __init__(self, message, part, raised=False):
        super().__init__(message)
        self.part = part
        self.raised = raised


def _call(part, what, func, *args, **kwargs):
    """The user's code, its exception turned into a TermCheckError naming the part."""
    try:
        return func(*args, **kwargs)
    except TermCheckError:
        raise
    except Exception as exc:
        raise TermCheckError(f"{what} raised {exc!r}", part=part, raised=True) from exc


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
    if callable(getattr(term, "operator_matrix", None)):
        try:
            term.at_shape(shape)
        except (TypeError, ValueError, NotImplementedError) as exc:
            raise TermCheckError(str(exc), part="operator", raised=True) from None
        ran.append("operator")
    _check_expr(term, name, shape, params)
    ran.append("expr")
    if "value" in found:
        for X in points:
            numpy_value = _call("value", f"{name}.value on an X of shape {shape}", term.value, X, **params)
            cvx_value = _call("expr", f"{name}.expr on a constant of shape {shape}", _expr_value, term, X, params)
            if not _close(numpy_value, cvx_value, rtol):
                raise TermCheckError(
                    f"{name}.value disagrees with {name}.expr at a random X of shape {shape}: {numpy_value!r} "
                    f"(value) vs {cvx_value!r} (expr)", part="value")
        ran.append("value")
    if term.degree is not None:
        for X in points:
            base = _call("value", f"{name}.value on an X of shape {shape}", term.value, X, **params)
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
                             part="expr", raised=True) from exc
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
    Z = np.asarray(_call("prox", f"{name}.prox on a V of shape {V.shape}", term.prox, V, step, **params),
                   dtype=float)
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


#: Terms that passed, by class and pickled state and shape (bounded).
_PASSED = collections.OrderedDict()
_PASSED_MAX = 256


def check_term_once(term, shape, full_shape=None):
    """:func:`check_term` at ``shape`` (small, so that the CVXPY prox
    problems are cheap), skipped when a term of the same class and state
    (its pickle) already passed in this process: an estimator refitted in a
    grid search, on clones of the same term, checks it once.  A term that
    cannot be pickled is checked every time.

    A term that raises at ``shape`` (one built for a given number of
    features or tasks) is checked again at ``full_shape``, the shape of the
    model's variable, and passes if it passes there."""
    try:
        key = (type(term), pickle.dumps(term, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a user's term holding a lambda, a file...: no fingerprint, no cache
        key = None
    shapes = [tuple(shape)] + ([] if full_shape is None or tuple(full_shape) == tuple(shape)
                               else [tuple(full_shape)])
    if key is not None and any((*key, s) in _PASSED for s in shapes):
        return
    try:
        check_term(term, shape=shapes[0])
        passed = shapes[0]
    except TermCheckError as exc:
        if not (exc.raised and len(shapes) > 1):
            raise
        check_term(term, shape=shapes[1])
        passed = shapes[1]
    if key is not None:
        _PASSED[(*key, passed)] = True
        if len(_PASSED) > _PASSED_MAX:
            _PASSED.popitem(last=False)
