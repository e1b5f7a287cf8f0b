"""The one place where a fast solver is chosen, from what the terms declare.

A problem reaches the solvers as a numeric objective
(:class:`mtlcvx.terms.Objective`: a loss bound to the data, applied to one
variable or to the sum of several, plus weighted penalties on named
variables, plus constraints).  Each solver below declares what it
**requires** of the datafit and of the penalties' capabilities
(:attr:`mtlcvx.terms.Penalty.capabilities`), as skglm's solvers do; the
dispatcher takes the first, in this order, whose requirements hold:

=============================  ====================================================================
solver                         requires
=============================  ====================================================================
closed-form ridge              one variable; squared loss; only ``ridge`` and ``quadratic`` penalties
graph least squares            one variable; squared loss; one ``graph`` penalty (sparse solve,
                               or IRLS when not squared)
block coordinate descent       one variable; squared loss; one ``row_l2`` norm (L21) of weight
                               ``> 0``; ``ridge`` penalties (exact row minimisation on working
                               sets, Gap Safe screening, Anderson extrapolation,
                               :mod:`mtlcvx.solvers.block_cd`)
working-set proximal gradient  one variable; squared loss; one norm with ``prox``,
                               ``row_dual_norms``, ``dual_norm``; ``ridge`` penalties (APG in the
                               Jacobi row metric, :mod:`mtlcvx.solvers.composite`)
APG, duality-gap stop          one variable; squared loss; one norm with ``prox``, ``dual_norm``;
                               ``ridge`` penalties (ADMM instead on badly scaled features,
                               ``info.algorithm`` says which ran)
ADMM, task-Laplacian           squared loss on the sum of the variables; only ``operator``
                               penalties whose ``gram_structure`` is identity or task fusion
ADMM, column-scaled groups     one variable; squared loss, or any loss with ``grad`` and
                               ``lipschitz``; one ``column_scaled`` penalty; ``ridge`` penalties
APG, gradient-mapping stop     one variable; a loss with ``grad`` and ``lipschitz``; at most one
                               penalty with ``prox``, the others smooth (``grad``, ``lipschitz``)
                               (in the Jacobi row metric for the squared loss and a row-separable
                               or no prox penalty)
primal-dual splitting          a loss with ``grad`` and ``lipschitz`` on the sum of the
                               variables; only ``operator`` penalties
smoothing proximal gradient    as primal-dual; only on request (``method="spg"``): it solves a
                               smoothed problem
=============================  ====================================================================

No solver handles constraints: an estimator with a constrained reference
(AllTasks' equal columns) reduces its problem before dispatching.
"""

import weakref

import numpy as np

from .admm import admm_scaled_group_norms
from . import block_cd
from .admm_laplacian import admm_task_laplacian
from .apg import accelerated_proximal_gradient
from .composite import solve_norm_penalized, solve_row_separable
from .graph import GraphLeastSquares
from .least_squares import TaskSystems, metric_lipschitz, ridge_closed_form, row_metric
from .primal_dual import ComponentLoss, primal_dual_splitting
from .prox_working_set import solve_prox_working_set
from .smoothing import smoothing_proximal_gradient
from ._common import SolverInfo

__all__ = ["FastSolver", "SOLVERS", "select", "solve", "NoFastSolver"]


class NoFastSolver(ValueError):
    """No fast solver's requirements hold for the objective."""


def _caps(term):
    return term.capabilities


def _is_smooth(term):
    return {"grad", "lipschitz"} <= _caps(term)


def _squared(objective):
    return getattr(objective.datafit, "kind", None) == "squared"


def _smooth_loss(objective):
    datafit = objective.datafit
    return callable(getattr(datafit, "grad", None)) and callable(getattr(datafit, "lipschitz", None))


def _single(objective):
    return len(objective.shapes) == 1 and not objective.constraints


def _all_on_loss(objective):
    """Several variables (or one) whose sum the loss sees, unconstrained."""
    return set(objective.loss_on) == set(objective.shapes) and not objective.constraints


def _terms(objective):
    return [term for term, _ in objective.penalties]


def _ridge_and_rest(objective):
    ridge = sum(term.weight for term in _terms(objective) if "ridge" in _caps(term))
    rest = [term for term in _terms(objective) if "ridge" not in _caps(term)]
    return ridge, rest


class FastSolver:
    """A fast solver and its declared requirements.

    Subclasses define :meth:`accepts` (the requirements, read off the
    objective's datafit and its terms' capabilities) and :meth:`run`,
    returning ``({variable name: value}, SolverInfo)``."""

    name = ""
    requires = ""
    on_request_only = False

    def accepts(self, objective):
        raise NotImplementedError

    def run(self, objective, tol, max_iter, warn, start=None):
        raise NotImplementedError

    def __repr__(self):
        return f"<{self.name}: {self.requires}>"


class _Single(FastSolver):
    def _variable(self, objective):
        return objective.names[0]

    def _start(self, objective, start):
        """The starting point: ``start[name]`` (a warm start) or zeros."""
        name = self._variable(objective)
        if start is not None and name in start:
            return np.array(start[name], dtype=float, copy=True)
        return np.zeros(objective.shapes[name])


class ClosedFormRidge(_Single):
    name = "closed-form ridge"
    requires = "one variable; squared loss; only ridge and quadratic penalties"

    def accepts(self, objective):
        return _single(objective) and _squared(objective) and not _ridge_quadratic_and_rest(objective)[2]

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, quadratic, _ = _ridge_quadratic_and_rest(objective)
        ls = objective.datafit
        if not quadratic:
            W = np.column_stack([ridge_closed_form(X, y, ridge, s_t) for X, y, s_t in zip(ls.Xs, ls.ys, ls.s)])
        else:
            # rho/2 ||W||^2 - <shift, W>: (s X^T X + (2 ridge + rho) I) w = s X^T y + shift, factorised once per
            # (datafit, curvature) so an ADMM that re-solves with a new shift pays one product per call
            rho = sum(term.weight * term.params["rho"] for term in quadratic)
            shift = sum(term.weight * np.asarray(term.params["shift"]) for term in quadratic)
            systems = _SYSTEMS.get(ls)
            if systems is None:
                systems = _SYSTEMS[ls] = TaskSystems(ls)
            a = np.full(ls.shape[1], 2.0 * ridge + rho)
            W = systems.solve(systems.b0 + shift, a)
        return {self._variable(objective): W}, SolverInfo(1, True, 0.0, "closed form", self.name)


def _ridge_quadratic_and_rest(objective):
    ridge, rest = _ridge_and_rest(objective)
    quadratic = [term for term in rest if "quadratic" in _caps(term)]
    return ridge, quadratic, [term for term in rest if "quadratic" not in _caps(term)]


#: the factorised task systems of the datafits the closed form has seen
_SYSTEMS = weakref.WeakKeyDictionary()


class GraphSolver(_Single):
    name = "graph least squares"
    requires = "one variable; squared loss; one graph penalty"

    def accepts(self, objective):
        terms = _terms(objective)
        return _single(objective) and _squared(objective) and len(terms) == 1 and "graph" in _caps(terms[0])

    def run(self, objective, tol, max_iter, warn, start=None):
        (term,) = _terms(objective)
        ls = objective.datafit
        # the Gram matrices of a datafit are kept for the refits of an outer loop
        cached = _GRAPHS.get(ls)
        if cached is None or cached[0] is not term.term:
            cached = _GRAPHS[ls] = (term.term, GraphLeastSquares(ls.Xs, ls.ys, term.edges, ls.s))
        graph = cached[1]
        c = term.weight * np.asarray(term.params["weights"], dtype=float)
        W0 = None if start is None or self._variable(objective) not in start else start[self._variable(objective)]
        if term.squared:
            W, _ = graph.solve_squared(c, W0=W0)
            info = SolverInfo(1, True, 0.0, "closed form", self.name)
        else:
            W, info, _ = graph.solve_norm(c, W0=W0, tol=tol, max_iter=max_iter, warn=warn)
        return {self._variable(objective): W}, info


#: the graph systems of the datafits the graph solver has seen
_GRAPHS = weakref.WeakKeyDictionary()


class _OneNorm(_Single):
    needs = frozenset()

    def accepts(self, objective):
        if not (_single(objective) and _squared(objective)):
            return False
        _, rest = _ridge_and_rest(objective)
        return len(rest) == 1 and self.needs <= _caps(rest[0])


class WorkingSet(_OneNorm):
    name = "working-set proximal gradient"
    requires = "one variable; squared loss; one norm with prox, row_dual_norms, dual_norm; ridge penalties"
    needs = frozenset({"prox", "row_dual_norms", "dual_norm"})

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, (norm,) = _ridge_and_rest(objective)
        W, info = solve_row_separable(objective.datafit, norm, self._start(objective, start), ridge, tol, max_iter,
                                      warn=warn)
        return {self._variable(objective): W}, info


class BlockCD(_OneNorm):
    name = "block coordinate descent"
    requires = "one variable; squared loss; one row_l2 norm (L21) of weight > 0; ridge penalties"
    needs = frozenset({"row_l2"})

    def accepts(self, objective):
        if not (block_cd.available() and super().accepts(objective)):
            return False
        _, (norm,) = _ridge_and_rest(objective)
        return norm.weight > 0

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, (norm,) = _ridge_and_rest(objective)
        W, info = block_cd.solve_group_lasso_bcd(objective.datafit, norm, self._start(objective, start), ridge, tol,
                                                 max_iter, warn=warn)
        return {self._variable(objective): W}, info


class GapAPG(_OneNorm):
    name = "APG, duality-gap stop"
    requires = "one variable; squared loss; one norm with prox, dual_norm; ridge penalties"
    needs = frozenset({"prox", "dual_norm"})

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, (norm,) = _ridge_and_rest(objective)
        W, info = solve_norm_penalized(objective.datafit, norm, self._start(objective, start), ridge, tol, max_iter,
                                       warn)
        info.solver = self.name
        return {self._variable(objective): W}, info


class _Operators(FastSolver):
    def _operators(self, objective):
        """``(term, component index)`` for every penalty."""
        index = {name: l for l, name in enumerate(objective.names)}
        return [(term, index[name]) for term, name in objective.penalties]

    def _all_operators(self, objective):
        return bool(objective.penalties) and all("operator" in _caps(term) for term in _terms(objective))

    def _components(self, objective, X):
        components = ComponentLoss(objective.datafit, len(objective.names)).to_components(X)
        return dict(zip(objective.names, components))


class TaskLaplacianADMM(_Operators):
    name = "ADMM, task-Laplacian operators"
    requires = ("squared loss on the sum of the variables; only operator penalties whose gram_structure "
                "is identity or task fusion")

    def accepts(self, objective):
        return (_squared(objective) and _all_on_loss(objective) and self._all_operators(objective)
                and all(term.gram_structure in ("identity", "task_fusion") for term in _terms(objective)))

    def run(self, objective, tol, max_iter, warn, start=None):
        components, info = admm_task_laplacian(objective.datafit, len(objective.names), self._operators(objective),
                                               tol=tol, max_iter=max_iter, warn=warn)
        return dict(zip(objective.names, components)), info


class ColumnScaledADMM(_Single):
    name = "ADMM, column-scaled group norms"
    requires = ("one variable; squared loss, or any loss with grad and lipschitz; one column_scaled penalty; "
                "ridge penalties")

    def accepts(self, objective):
        _, rest = _ridge_and_rest(objective)
        return (_single(objective) and _smooth_loss(objective) and len(rest) == 1
                and "column_scaled" in _caps(rest[0]))

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, (penalty,) = _ridge_and_rest(objective)
        W, info = admm_scaled_group_norms(objective.datafit, penalty, self._start(objective, start), ridge=ridge,
                                          tol=tol, max_iter=max_iter, warn=warn)
        return {self._variable(objective): W}, info


class ProxWorkingSet(_Single):
    name = "prox working set"
    requires = ("one variable; squared loss; one penalty with prox only (no row_dual_norms), not smooth; "
                "ridge penalties")

    def accepts(self, objective):
        if not (_single(objective) and _squared(objective) and hasattr(objective.datafit, "restrict")):
            return False
        _, rest = _ridge_and_rest(objective)
        return (len(rest) == 1 and "prox" in _caps(rest[0]) and "row_dual_norms" not in _caps(rest[0])
                and not _is_smooth(rest[0]))

    def run(self, objective, tol, max_iter, warn, start=None):
        ridge, (penalty,) = _ridge_and_rest(objective)
        W, info = solve_prox_working_set(objective.datafit, penalty, self._start(objective, start), ridge=ridge,
                                         tol=tol, max_iter=max_iter, warn=warn)
        return {self._variable(objective): W}, info


class MappingAPG(_Single):
    name = "APG, gradient-mapping stop"
    requires = ("one variable; a loss with grad and lipschitz; at most one penalty with prox, "
                "the others smooth (grad, lipschitz)")

    def _split(self, objective):
        smooth = [term for term in _terms(objective) if _is_smooth(term)]
        return smooth, [term for term in _terms(objective) if not _is_smooth(term)]

    def accepts(self, objective):
        if not (_single(objective) and _smooth_loss(objective)):
            return False
        _, rough = self._split(objective)
        return len(rough) <= 1 and all("prox" in _caps(term) for term in rough)

    def run(self, objective, tol, max_iter, warn, start=None):
        smooth, rough = self._split(objective)
        datafit = objective.datafit

        def grad(W):
            return datafit.grad(W) + sum(term.grad(W) for term in smooth)

        prox = rough[0].prox if rough else (lambda V, step: V)
        smooth_lipschitz = sum(term.lipschitz() for term in smooth)
        metric = None
        if _squared(objective) and all("row_dual_norms" in _caps(term) for term in rough):
            # Jacobi row metric (see solvers.composite): the loss's curvature per feature plus the smooth
            # penalties' bound on theirs, so that the metric never makes them stiff; a row-separable norm
            # keeps its prox, rescaled row by row (homogeneity)
            metric = row_metric(datafit) + smooth_lipschitz
            lipschitz = metric_lipschitz(datafit, metric) + smooth_lipschitz / metric.min()
            metric = metric[:, None]
            if rough:
                norm = rough[0]

                def prox(V, steps):
                    return steps * norm.prox(V / steps, 1.0)
        else:
            lipschitz = datafit.lipschitz() + smooth_lipschitz
        W, info = accelerated_proximal_gradient(grad, prox, self._start(objective, start), lipschitz, tol=tol,
                                                max_iter=max_iter, warn=warn, metric=metric)
        info.solver = self.name
        info.algorithm = "APG" if metric is None else "APG in the Jacobi row metric"
        return {self._variable(objective): W}, info


class PrimalDual(_Operators):
    name = "primal-dual splitting (Condat-Vu)"
    requires = ("a loss with grad and lipschitz on the sum of the variables; every penalty an operator, "
                "or with prox, or smooth")

    def _kinds(self, objective):
        kinds = {"operator": [], "prox": [], "smooth": []}
        for term, component in self._operators(objective):
            caps = _caps(term)
            kind = ("operator" if "operator" in caps else "smooth" if _is_smooth(term)
                    else "prox" if "prox" in caps else None)
            if kind is None:
                return None
            kinds[kind].append((term, component))
        return kinds

    def accepts(self, objective):
        return (_smooth_loss(objective) and _all_on_loss(objective) and bool(objective.penalties)
                and self._kinds(objective) is not None)

    def run(self, objective, tol, max_iter, warn, start=None):
        kinds = self._kinds(objective)
        X, info = primal_dual_splitting(objective.datafit, len(objective.names), operators=kinds["operator"],
                                        proxed=kinds["prox"], smooth=kinds["smooth"], tol=tol, max_iter=max_iter,
                                        warn=warn)
        return self._components(objective, X), info


class SmoothingGradient(_Operators):
    name = "smoothing proximal gradient"
    requires = ("a loss with grad and lipschitz on the sum of the variables; only operator penalties; "
                "on request only (it solves a smoothed problem)")
    on_request_only = True

    def __init__(self, smoothing=1e-3):
        self.smoothing = smoothing

    def accepts(self, objective):
        return _smooth_loss(objective) and _all_on_loss(objective) and self._all_operators(objective)

    def run(self, objective, tol, max_iter, warn, start=None):
        X, info = smoothing_proximal_gradient(objective.datafit, len(objective.names), self._operators(objective),
                                              self.smoothing, tol=tol, max_iter=max_iter, warn=warn)
        return self._components(objective, X), info


#: The solvers in the order the dispatcher tries them.
SOLVERS = [ClosedFormRidge(), GraphSolver(), BlockCD(), WorkingSet(), GapAPG(), TaskLaplacianADMM(), ColumnScaledADMM(),
           ProxWorkingSet(), MappingAPG(), PrimalDual()]


def _describe(objective):
    terms = ", ".join(f"{type(term.term).__name__} {sorted(_caps(term))}" for term in _terms(objective))
    loss = getattr(objective.datafit, "kind", type(objective.datafit).__name__)
    return f"loss {loss} on {list(objective.loss_on)}, variables {list(objective.names)}, penalties: {terms or 'none'}"


def select(objective, method=None):
    """The fast solver for ``objective``: the first of :data:`SOLVERS` whose
    requirements hold, or ``method`` (a :class:`FastSolver`, e.g.
    :class:`SmoothingGradient`) after checking that it applies.

    Raises
    ------
    NoFastSolver
        (a ``ValueError``) when none applies, saying what the objective
        offers.
    """
    if method is not None:
        if not method.accepts(objective):
            raise NoFastSolver(f"{method.name} requires: {method.requires}; got {_describe(objective)}")
        return method
    for solver in SOLVERS:
        if solver.accepts(objective):
            return solver
    raise NoFastSolver(f"no fast solver applies to {_describe(objective)}")


def solve(objective, tol=1e-9, max_iter=20_000, method=None, warn=True, start=None):
    """Minimise ``objective`` with the solver :func:`select` picks.

    ``start`` (``{variable name: array}``) warm-starts the solvers that
    iterate on one variable; the others start from zero.

    Returns
    -------
    variables : dict
        ``{variable name: ndarray}``.
    info : SolverInfo
        ``info.solver`` names the solver that ran.
    """
    solver = select(objective, method)
    variables, info = solver.run(objective, tol, max_iter, warn, start)
    info.solver = solver.name
    return variables, info
