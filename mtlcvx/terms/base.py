"""What every term declares, and the capability machinery.

A **term** is a loss or a penalty, written once as a CVXPY expression
(:meth:`Penalty.expr`, built only when a reference model asks for it) and
once in numpy (:meth:`Penalty.value` and, where closed forms exist,
``prox``, ``grad``, ``lipschitz``, ``dual_norm``, ``row_dual_norms``,
``subdiff_distance``).  cvxpy is imported inside the methods that build an
expression, never at module level, so the fast solvers can use the numpy
halves without loading it (tested in a subprocess).

A term **declares its capabilities** by the methods it defines; solvers
declare what they need (:mod:`mtlcvx.solvers.dispatch`), and one
dispatcher matches the two, in the manner of skglm's datafits and
penalties.

Weights (``lam``...) are not part of a term: a model pairs each term with
a weight, and :meth:`Penalty.bind` returns the numpy object a solver sees,
``weight * term``, with every capability rescaled accordingly.  Some terms
also take parameters of their own (the column scalings of
:class:`~mtlcvx.terms.ScaledGroupNorms`, ``eta`` of the clustered penalty):
they list them in :attr:`Penalty.parameters` and receive them as keyword
arguments of every method.
"""

import numpy as np

__all__ = ["Penalty", "BoundPenalty", "Constraint", "CAPABILITIES", "capabilities"]

#: Numpy capabilities a penalty may offer, as method names.
CAPABILITIES = ("prox", "grad", "lipschitz", "dual_norm", "row_dual_norms", "subdiff_distance", "conjugate",
                "prox_derivative")

#: Declarations a penalty may make as class attributes set to True:
#: ``ridge`` (it is ``||X||_F^2``), ``sdp`` (its CVXPY form has semidefinite
#: cones), ``operator`` (it is ``sum_g ||(D vec(X))_g||_2``, with ``D``,
#: ``group_prox``, ``project_dual``, ``gram_structure``), ``column_scaled``
#: (it is ``sum_g h(X diag(p_g))``, with ``inner`` = ``h``, ``power``, and
#: its parameter ``P``), ``quadratic`` (it is ``rho/2 ||X||^2 - <shift, X> +
#: constant``, with those parameters), ``graph`` (it smooths the tasks along
#: ``edges``, squared or not, with per-edge ``weights``), ``row_l2`` (it
#: is ``sum_j ||X_j||_2`` over the rows, which block coordinate descent
#: minimises row by row exactly).
FLAGS = ("ridge", "sdp", "operator", "column_scaled", "quadratic", "graph", "row_l2")


def _cvxpy():
    import cvxpy

    return cvxpy


def _defines(obj, name, base):
    method = getattr(type(obj), name, None)
    return method is not None and method is not getattr(base, name, None)


def capabilities(term):
    """The capabilities ``term`` declares: ``"expr"`` and ``"value"`` when
    it has them (a value can be derived from the expression), the numpy
    methods of :data:`CAPABILITIES` it defines, and its flags."""
    base = Penalty
    found = set()
    if _defines(term, "expr", base) or _defines(term, "cvx", base):
        found.add("expr")
    if _defines(term, "value", base) or ("expr" in found and not _defines(term, "cvx", base)):
        found.add("value")
    found |= {name for name in CAPABILITIES if callable(getattr(term, name, None))}
    found |= {flag for flag in FLAGS if getattr(term, flag, False)}
    return frozenset(found)


class Penalty:
    """Base of the penalties ``Omega(X)`` on one variable ``X``.

    A subclass defines at least :meth:`expr` (its CVXPY expression) or
    :meth:`cvx` (expression and auxiliary constraints, for a penalty defined
    by a partial minimisation).  Everything else is optional and declares a
    capability: :meth:`value` (else derived from :meth:`expr`, slowly but
    correctly), ``prox(V, step)`` (``argmin_Z 1/2||Z - V||^2 + step
    Omega(Z)``), ``grad`` with ``lipschitz``, ``dual_norm(G)`` for norms,
    ``row_dual_norms(G)`` for norms separable over the rows of ``X``,
    ``subdiff_distance(X, G)`` (distance of ``-G`` to the subdifferential at
    ``X``, the first-order optimality residual :func:`mtlcvx.verify`
    reports), ``conjugate(G)`` (the convex conjugate, for duality gaps),
    ``prox_derivative(V, step, E)`` (the derivative of the prox, for
    differentiating a solver's fixed point).

    Attributes
    ----------
    parameters : tuple of str
        Names of the term's own parameters, passed as keyword arguments to
        every method (empty for most terms).
    degree : int or None
        Degree of positive homogeneity, ``Omega(c X) = c**degree
        Omega(X)`` for ``c > 0`` (1 for norms, 2 for squared norms), at any
        value of the term's parameters; None (the default) when it is not
        homogeneous or says nothing.  A reference model rescales its data
        and variables to unit size only when every term declares a degree
        (:class:`mtlcvx.reference.ReferenceModel`), so leaving it None is
        always safe.
    """

    parameters = ()
    degree = None

    #: ``(name, k)`` when the term is homogeneous of degree ``k`` in its
    #: parameter ``name`` as well (the column scalings ``P`` of
    #: :class:`~mtlcvx.terms.ColumnScaledNorms`, the edge weights of a graph
    #: term): a reference model then folds a constant factor into that
    #: parameter (``f Omega(X; P) = Omega(X; f**(1/k) P)``), so the
    #: semidefinite or conic blocks it builds stay of unit size.
    scale_parameter = None

    @property
    def capabilities(self):
        return capabilities(self)

    def expr(self, X, **params):
        """The CVXPY expression of ``Omega(X)`` (``X`` a CVXPY expression)."""
        if not _defines(self, "cvx", Penalty):
            raise TypeError(
                f"{type(self).__name__} defines no CVXPY expression: a term needs expr(X) "
                "(or cvx(X) returning (expression, constraints))"
            )
        expression, constraints = self.cvx(X, **params)
        if constraints:
            raise TypeError(f"{type(self).__name__} needs auxiliary constraints: use .cvx(X)")
        return expression

    def cvx(self, X, **params):
        """``(expression, constraints)``; the constraints are empty unless
        the penalty is a partial minimisation over auxiliary variables."""
        return self.expr(X, **params), []

    def value(self, X, **params):
        """``Omega(X)`` in numpy; by default the value of :meth:`expr` on a
        CVXPY constant (slow: define ``value`` for speed)."""
        if _defines(self, "cvx", Penalty):
            raise TypeError(
                f"{type(self).__name__} is a partial minimisation (it defines cvx): "
                "it must define value(X) in numpy"
            )
        cp = _cvxpy()
        return float(self.expr(cp.Constant(np.asarray(X, dtype=float)), **params).value)

    def bind(self, weight=1.0, **params):
        """The numpy term ``weight * Omega`` at these parameter values."""
        return BoundPenalty(self, weight, params)

    def at_shape(self, shape):
        """The term a model of variable shape ``shape`` binds: itself, except
        for terms whose numpy form depends on the shape (an
        :class:`~mtlcvx.terms.OperatorNorm` builds its matrix ``D``)."""
        return self

    def _param(self, name, value):
        """A term parameter: the value passed to the method, else the one
        given to the constructor; missing is an error naming it."""
        value = getattr(self, name, None) if value is None else value
        if value is None:
            raise ValueError(f"{type(self).__name__} needs its parameter {name!r}")
        return value

    def __repr__(self):
        return f"{type(self).__name__}()"


class BoundPenalty:
    """``weight * Omega(X)`` with numeric weight and parameters: what a fast
    solver and the numpy objective see.

    Every capability of the term is offered, rescaled by ``weight``:
    ``prox(V, step)`` is the term's prox at ``step * weight``,
    ``dual_norm(G)`` the dual norm of ``weight * Omega``, i.e. the term's
    divided by ``weight``; ``subdiff_distance(X, G)`` the distance of
    ``-G`` to ``weight * d Omega(X)``.  Calling a capability the term lacks
    raises ``AttributeError``; :attr:`capabilities` says which it has.
    """

    def __init__(self, term, weight, params):
        self.term = term
        self.weight = float(weight)
        self.params = dict(params)
        # read once: solvers ask at every iteration
        self.capabilities = capabilities(term)

    def __getattr__(self, name):
        # capabilities the term lacks stay missing; flags and term-specific
        # attributes (gram structure, group size...) are the term's own.
        # Reading __dict__ directly keeps copy and pickle (which look up
        # attributes before __init__ ran) out of infinite recursion.
        term = self.__dict__.get("term")
        if term is None or name in CAPABILITIES or name.startswith("__"):
            raise AttributeError(name)
        return getattr(term, name)

    def value(self, X):
        return float(self.weight * self.term.value(X, **self.params))

    def _require(self, name):
        if name not in self.capabilities:
            raise AttributeError(f"{type(self.term).__name__} offers no {name}")
        return getattr(self.term, name)

    def prox(self, V, step):
        return self._require("prox")(V, step * self.weight, **self.params)

    def grad(self, X):
        return self.weight * self._require("grad")(X, **self.params)

    def lipschitz(self):
        return float(self.weight * self._require("lipschitz")(**self.params))

    def dual_norm(self, G):
        norm = self._require("dual_norm")(G, **self.params)
        return float(norm / self.weight) if self.weight > 0 else (0.0 if norm == 0 else np.inf)

    def row_dual_norms(self, G):
        norms = self._require("row_dual_norms")(G, **self.params)
        return norms / self.weight if self.weight > 0 else np.where(norms == 0, 0.0, np.inf)

    def subdiff_distance(self, X, G):
        distance = self._require("subdiff_distance")
        if self.weight == 0:
            return float(np.linalg.norm(G))
        return float(self.weight * distance(X, np.asarray(G) / self.weight, **self.params))

    def __repr__(self):
        return f"{self.weight!r} * {self.term!r}"


class Constraint:
    """A convex constraint on one variable, declared once for both paths:
    :meth:`expr` (a list of CVXPY constraints), :meth:`violation` (how far a
    numpy candidate is from the set, ``>= 0``) and :meth:`project` (the
    nearest feasible point, used to clean a solver's slightly infeasible
    output).

    ``cone = True`` declares the set a cone (``X`` feasible implies ``c X``
    feasible for every ``c > 0``), which lets a reference model rescale the
    variable it constrains."""

    cone = False

    def expr(self, X):
        raise NotImplementedError

    def violation(self, X):
        raise NotImplementedError

    def project(self, X):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"
