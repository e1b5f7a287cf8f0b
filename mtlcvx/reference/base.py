"""Declarative reference models.

A reference model **declares** its named variables, its loss (on one
variable or on the sum of several), a list of ``(parameter, term,
variable)`` entries and any constraints.  From that one declaration the
base derives

* the CVXPY problem, built once, on first use, with every hyperparameter a
  ``cp.Parameter`` (DPP is asserted, so re-solving never recompiles);
* :meth:`ReferenceModel.objective_at`, the same objective in numpy from the
  terms' numpy halves (:class:`mtlcvx.terms.Objective`; no model writes a
  numpy twin of its CVXPY problem);
* :meth:`ReferenceModel.numeric`, the numeric objective the fast solvers
  receive;
* results by variable name (``result["u"]``, ``result.W``), with a
  certificate, the relative primal-dual gap reported by the solver itself;
* differentiable solves: ``solve(..., requires_grad=True)`` then
  ``result.backward(W=dL_dW)`` gives ``dL/dparameter`` by parameter name
  (CVXPY's ``backward``, through diffcp and SCS).

No hidden state: :meth:`~ReferenceModel.solve`,
:meth:`~ReferenceModel.objective_at` and :func:`mtlcvx.verify` use exactly
the parameters passed in that call; a missing one is an error naming it.
Pickling or copying a model carries its declaration only: the copy (in a
worker process, say) builds its own problem on its first solve, once.

Solver choice (``solver=None``), from timings measured on 2 cores (see
DESIGN.md and ``mtlcvx bench``): Clarabel (interior point, accurate) for
linear and second-order cone problems of moderate size; SCS at tight
``eps`` when semidefinite cones appear (Clarabel took 19.5 s where SCS took
0.3 s on a small trace-norm problem) or when the data is large (L21 at
d=500, T=50, n=100: Clarabel 337 s, SCS 6.8 s).
"""

import itertools
import time
import warnings
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from .._errors import InaccurateSolutionWarning, ProblemTooLargeError, SolverError, UnknownSolverError
from ..data import as_multitask_data, once_per_array
from ..terms import LogisticLoss, Objective, SquaredLoss, make_loss

__all__ = [
    "ReferenceModel",
    "ReferenceResult",
    "Parameter",
    "Derived",
    "Entry",
    "LARGE_PROBLEM_ENTRIES",
    "SCS_TIGHT",
    "CLARABEL_TIGHT",
    "ACCURACY_LIMIT",
    "BYTES_PER_ENTRY",
]

#: Above this many data entries (``sum_t n_t * d``) the default solver is
#: SCS: at 40k entries Clarabel takes 0.7 s, at 2.5M it takes 337 s.
LARGE_PROBLEM_ENTRIES = 200_000

#: SCS options applied whenever SCS is used (overridable by solver_opts):
#: eps 1e-8 gives objectives good to about 1e-9 relative; 1e-9 is too tight
#: on the semidefinite models (trace norm d=80, T=10, n=50: 0.3 s at 1e-8,
#: no convergence in 60 s at 1e-9, measured).
SCS_TIGHT = {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 100_000}

#: Clarabel options for a second run, made when the first (at Clarabel's
#: defaults, gap tolerances 1e-8 on its own scaled objective) certifies a
#: relative gap above :data:`ACCURACY_LIMIT`: a logistic SRML W-step came
#: back at 1.8e-6 (1.4e-8 with these), an SSML W-step at 2.3e-6 (measured).
#: Not the default: on an L21 model they made Clarabel stop "almost solved"
#: (optimal_inaccurate) at a gap of 3e-14, so the tighter run replaces the
#: first only when it is optimal and tighter.  Passing either option in
#: ``solver_opts`` turns the second run off.
CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10}

#: Cone programs up to this size (variables plus constraint rows) are
#: differentiated with diffcp's dense mode; larger ones with LSMR.  diffcp's
#: default, LSQR, stops early: on a pooled ridge of 10 features and 4
#: tasks it gave dL/dlam 2 % off the closed form, where dense and LSMR agreed
#: to 1e-9 and 6e-6 (measured).  Dense costs the cube of the size: on a
#: BiGMTL lower level of size 1986 it took 8.0 s and landed 1.9e-4 from the
#: exact hypergradient, LSMR 1.8 s and 2.3e-5 (LSQR 0.6 s and 1.4e-2).
DENSE_DERIVATIVE_SIZE = 1000

#: A reference that loses to a feasible point it must beat (zero, or a
#: point passed as ``compare_with``) by more than this, relative, is
#: reported ``optimal_inaccurate`` (with a warning); below it, only its
#: ``gap`` is raised to the margin.  SCS at :data:`SCS_TIGHT` gives
#: objectives good to about 1e-9, but lost by 2.6e-8 to the fast solution
#: on a BiGMTL lower level (measured): still ten times tighter than
#: :func:`mtlcvx.verify`'s default ``rtol``, which also asks ``gap <=
#: rtol``.  SSMTL at gamma = 1e12 lost by 6e-5 before scaling.
ACCURACY_LIMIT = 1e-7

#: A point whose relative first-order optimality residual is at most this
#: is optimal to rounding: when it beats the reference it replaces it.
FIRST_ORDER_CERTIFICATE = 1e-12

#: Relative gaps divide by ``max(|f*|, OBJECTIVE_FLOOR * f_loss(0))``: the
#: floor only matters where the optimum is an almost perfect fit, and sits
#: near what Clarabel and SCS resolve relative to the problem's size (their
#: tolerances, 1e-8 to 1e-10, apply to data of the size of ``f(0)``).
OBJECTIVE_FLOOR = 1e-9

#: Memory CVXPY and the solver need per nonzero of the cone program,
#: measured: an L21 model with 1.0M data entries peaked 176 MB above the
#: data (173 bytes per entry), a trace-norm one with 108k nonzeros 38 MB.
BYTES_PER_ENTRY = 250

#: Which estimator is the fast path of a model, from its first term.
_FAST_PATHS = {
    "SquaredFrobenius": "mtlcvx.STL / mtlcvx.AllTasks",
    "L1": "mtlcvx.SSMTL(preset='lasso')",
    "L21": "mtlcvx.GroupLasso",
    "NuclearNorm": "mtlcvx.TraceNorm",
    "ClusteredPenalty": "mtlcvx.ClusMTL",
    "GenGLOperator": "mtlcvx.SSMTL",
    "ScaledGroupNorms": "mtlcvx.SGMTL",
    "ScaledNuclearNorms": "mtlcvx.BiGMTL",
    "DirichletEnergy": "mtlcvx.GGMTL",
    "NetworkLasso": "mtlcvx.GGMTL",
}


def _power_of_two(values):
    """The power of two nearest the largest ``|value|`` (1 for all zeros):
    dividing by it is exact in floating point, so scaling loses nothing."""
    top = max((float(np.abs(v).max(initial=0.0)) for v in values), default=0.0)
    if not (top > 0 and np.isfinite(top)):
        return 1.0
    return float(2.0 ** np.round(np.log2(top)))


def _available_memory():
    """Bytes the machine can give now (Linux ``MemAvailable``), else its
    physical memory, else infinity."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return np.inf


@dataclass(frozen=True)
class Parameter:
    """A user-facing hyperparameter: a ``cp.Parameter`` of the same name in
    the CVXPY problem.  ``broadcast=True`` accepts a scalar for a vector
    parameter (one value for every entry)."""

    name: str
    shape: tuple = ()
    nonneg: bool = True
    positive: bool = False
    broadcast: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Derived:
    """An internal parameter computed from the user-facing ones, for a
    model whose hyperparameters do not enter DPP-affinely themselves (a
    product of two parameters, say): ``function(values)`` maps the checked
    user values to its value.  ``depends`` names the user parameters it
    reads; ``vjp(values, cotangent)`` (optional) returns ``{user parameter:
    cotangent @ d derived / d parameter}``, the chain rule
    :meth:`ReferenceResult.backward` needs."""

    name: str
    function: object
    depends: tuple
    shape: tuple = ()
    nonneg: bool = True
    positive: bool = False
    vjp: object = None


@dataclass(frozen=True)
class Entry:
    """``weight * term(variable, **params)``: ``weight`` is None (1), a
    parameter name, or ``(name, index)`` for one entry of a vector
    parameter; ``params`` maps the term's own parameters to parameter
    names (or ``(name, index)``)."""

    weight: object
    term: object
    on: str
    params: dict = field(default_factory=dict)


def _holds_cvxpy(value):
    """A CVXPY expression or constraint, or a list, tuple or dict holding
    one directly."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else (value,)
    return any(isinstance(item, (cp.Expression, cp.Constraint)) for item in items)


def _as_entry(entry):
    if isinstance(entry, Entry):
        return entry
    if not isinstance(entry, (tuple, list)) or len(entry) not in (3, 4):
        raise TypeError(f"a term entry is (parameter, term, variable[, params]), got {entry!r}")
    return Entry(*entry)


@dataclass
class ReferenceResult:
    """Optimum of a reference model, with its certificate.

    Attributes
    ----------
    W : ndarray or None
        The optimal weights the loss sees: the variable, or the sum of the
        components for decomposed models.
    objective : float
        CVXPY's value of the model's objective at the optimum (the same
        objective :meth:`ReferenceModel.objective_at` evaluates).
    status : str
        CVXPY status (``"optimal"`` or ``"optimal_inaccurate"``).
    solver : str
    solve_time : float
        Seconds spent in the solver (compilation excluded).
    compile_time : float
        Seconds spent by CVXPY preparing the solver data (large on the
        first solve, milliseconds afterwards thanks to DPP).
    gap : float
        Certificate: ``|primal - dual| / max(1, |objective|)`` with the
        primal and dual objectives reported by the solver; NaN for solvers
        that report no dual objective.
    components : ndarray of shape (h, d, T) or None
        For decomposed models (``W = sum_l W_l``).
    variables : dict
        Every optimal variable by name, auxiliary ones included (``M`` for
        clustered MTL); ``result[name]`` reads it.
    parameters : dict
        The parameter values this result was solved at.
    certificate : str
        What backs ``gap``: ``"primal-dual"`` (the solver's own gap), or
        ``"first-order"`` when ``W = 0`` beat the solver's point (or the
        solver failed) and its optimality residual (at most 1e-12) proves
        it optimal, as at a weight beyond the one that zeroes the solution:
        zero is then the result, and ``gap`` its residual.
    compared : dict
        ``{point: objective}`` of the feasible points the reference was
        compared with (``"zero"`` and those passed as ``compare_with``);
        when one beats it by more than its claimed gap, ``gap`` is raised to
        that margin, and beyond :data:`ACCURACY_LIMIT` the status becomes
        ``optimal_inaccurate``.
    """

    W: object
    objective: float
    status: str
    solver: str
    solve_time: float
    compile_time: float
    gap: float
    components: object = None
    variables: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    certificate: str = "primal-dual"
    compared: dict = field(default_factory=dict)
    _model: object = field(default=None, repr=False, compare=False)
    _solve_id: int = field(default=-1, repr=False, compare=False)
    _lost_to: str = field(default="", repr=False, compare=False)

    def __getitem__(self, name):
        if name not in self.variables:
            raise KeyError(f"no variable {name!r}; the result has {sorted(self.variables)}")
        return self.variables[name]

    def backward(self, **cotangents):
        """Gradients of a scalar function ``L`` of the solution with respect
        to every user-facing parameter, by implicit differentiation of the
        optimality conditions (CVXPY ``backward``, diffcp, SCS).

        Pass ``dL/dvariable`` by variable name (``W=G``; for a decomposed
        model ``W`` means the sum of the components); variables not given
        count as zero.  Only for a result of ``solve(...,
        requires_grad=True)``, and only while it is the model's latest
        solve.

        Returns
        -------
        dict
            ``{parameter name: gradient}`` (float or array of the
            parameter's shape).
        """
        if self._model is None:
            raise ValueError("this result was not solved with requires_grad=True")
        return self._model._backward(self, cotangents)

    def __repr__(self):
        shape = None if self.W is None else self.W.shape
        return (
            f"ReferenceResult(status={self.status!r}, objective={self.objective:.10g}, "
            f"gap={self.gap:.2e}, solver={self.solver!r}, solve_time={self.solve_time:.3g}s, "
            f"W shape={shape})"
        )


class ReferenceModel:
    """A convex model declared once; see the module docstring.

    Parameters
    ----------
    data : MultiTaskData
    variables : dict or sequence of str
        ``{name: shape}``; names alone get the shape ``(n_features,
        n_tasks)``.
    loss : {"squared", "logistic"}, a loss term, or None
        None for a model without data-fit term (a proximal subproblem).
    terms : sequence of ``(parameter, term, variable[, params])`` or Entry
        ``parameter`` is None, a parameter name or ``(name, index)``.  A
        parameter name not declared in ``parameters`` or ``derived`` is
        declared as a nonnegative scalar.
    parameters : sequence of Parameter
    derived : sequence of Derived
    constraints : sequence of ``(Constraint, variable)``
    loss_on : str or sequence of str, optional
        The variable(s) whose sum the loss sees; default: all of them.
    scaling : {"sum", "mean"}
        Loss scaling when ``loss`` is a name.
    decomposed : bool
        Report ``result.components`` (the loss variables stacked).

    Attributes
    ----------
    problem : cvxpy.Problem
        Built on first use, once.
    n_builds : int
        How many times the CVXPY problem was constructed (0 before the
        first solve, then 1 for the life of the model).

    Notes
    -----
    **Scaling.**  The CVXPY problem is built on data divided by powers of
    two near their largest entries, ``X / s_x`` and ``y / s_y`` (``s_y =
    1`` for the logistic loss), over variables ``W' = W / c`` with ``c =
    s_y / s_x``; each penalty of degree ``p`` (:attr:`Penalty.degree
    <mtlcvx.terms.Penalty>`) is multiplied by ``c**p / s_y**2`` and the
    objective by ``s_y**2`` on return, so the problem the solver sees is
    of unit size and the result is the original problem's, exactly (powers
    of two divide without rounding).  Targets at 1e8 made Clarabel and SCS
    report ``infeasible`` before.  A model with a term of unknown degree,
    a non-cone constraint or no loss is solved unscaled.

    **Audit.**  A solver's certificate can be wrong where the problem is
    badly conditioned (SSMTL at ``gamma = 1e12`` came back ``optimal``
    with a gap of 1e-9, 6e-5 above the objective at ``W = 0``).  Every
    solve therefore evaluates, in numpy, the objective at the returned
    point and at feasible points it must beat: zero, and any passed as
    ``compare_with`` (:func:`mtlcvx.verify` passes the candidate).  See
    :attr:`ReferenceResult.compared`.

    **Size.**  Before building, :meth:`estimated_memory` is compared with
    the memory available; a problem that would not fit is refused with
    :class:`mtlcvx.ProblemTooLargeError`, naming the fast path.

    Pickling and copying (``copy.copy``, ``copy.deepcopy``) carry the
    declaration only, the arguments the model was constructed with, and
    re-declare the model from them: the copy is a new model with no problem
    built (``n_builds == 0``) that builds its own on its first solve, once.
    Nothing CVXPY built crosses over, see :meth:`__getstate__`, and neither
    does an attribute set after construction.  Pickling
    therefore needs picklable arguments: a declaration with a
    :class:`Derived` whose ``function`` or ``vjp`` is a lambda copies but
    does not pickle.  The builders' own lambdas are no obstacle: their
    constructor re-creates them.
    """

    #: True when Clarabel proved unreliable on the model (default solver SCS).
    prefers_scs = False

    #: Options a model needs from a solver by default, ``{solver: {...}}``;
    #: ``solver_opts`` passed to :meth:`solve` override them.
    solver_defaults = {}

    def __new__(cls, *args, **kwargs):
        # The arguments of the outermost constructor call (a builder's own,
        # not those it passes to ReferenceModel.__init__) are the model's
        # declaration: __getstate__ keeps them and nothing else.
        model = super().__new__(cls)
        model._declaration = (args, kwargs)
        return model

    def __init__(self, data, variables, loss="squared", terms=(), parameters=(), derived=(), constraints=(),
                 loss_on=None, scaling="sum", decomposed=False):
        self.data = as_multitask_data(data)
        shape = (self.data.n_features, self.data.n_tasks)
        if not isinstance(variables, dict):
            variables = {name: shape for name in variables}
        if not variables:
            raise ValueError("variables must declare at least one variable")
        self.variables = {name: tuple(int(n) for n in s) for name, s in variables.items()}
        self.loss = None if loss is None else make_loss(loss, scaling)
        loss_on = tuple(self.variables) if loss_on is None else (loss_on,) if isinstance(loss_on, str) else tuple(loss_on)
        self.loss_on = self._check_names(loss_on, "loss_on")
        self.decomposed = decomposed
        self.entries = [_as_entry(entry) for entry in terms]
        self.constraints = [(constraint, on) for constraint, on in constraints]
        self._check_names([entry.on for entry in self.entries] + [on for _, on in self.constraints], "variable")
        self._specs = {p.name: p for p in parameters}
        self._derived = {d.name: d for d in derived}
        for entry in self.entries:
            if isinstance(entry.weight, str) and entry.weight not in self._specs and entry.weight not in self._derived:
                self._specs[entry.weight] = Parameter(entry.weight, doc=f"weight of {entry.term!r}")
            for ref in [entry.weight, *entry.params.values()]:
                self._check_ref(ref)
        clash = set(self._specs) & set(self.variables)
        if clash:
            raise ValueError(f"names used both for a variable and a parameter: {sorted(clash)}")
        self.n_builds = 0
        self._scales = None
        self._objective_scale = None
        self._problem = None
        self._cp_params = {}
        self._datafit = None
        self._solve_counter = itertools.count()
        self._last_solve = None

    # -- declaration helpers -------------------------------------------
    def _check_names(self, names, what):
        unknown = [name for name in names if name not in self.variables]
        if unknown:
            raise ValueError(f"{what} refers to undeclared variable(s) {unknown}; declared: {list(self.variables)}")
        return tuple(names)

    def _check_ref(self, ref):
        if ref is None:
            return
        name = ref[0] if isinstance(ref, tuple) else ref
        if name not in self._specs and name not in self._derived:
            raise ValueError(f"term parameter {name!r} is not declared (declare it in parameters or derived)")

    @property
    def parameter_names(self):
        """Names of the hyperparameters ``solve`` and ``objective_at`` accept."""
        return tuple(self._specs)

    @property
    def variable_names(self):
        return tuple(self.variables)

    @property
    def uses_sdp(self):
        """True when a term has semidefinite cones (default solver SCS)."""
        return any(getattr(entry.term, "sdp", False) for entry in self.entries)

    # -- parameters ------------------------------------------------------
    def _check_params(self, params):
        """The user values of this call, checked, with the derived ones
        added; nothing is remembered between calls."""
        unknown = sorted(set(params) - set(self._specs))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} for {type(self).__name__}; expected {list(self._specs)}"
            )
        missing = [name for name in self._specs if name not in params]
        if missing:
            raise ValueError(f"{type(self).__name__} needs a value for parameter(s) {missing}")
        values = {}
        for name, value in params.items():
            spec = self._specs[name]
            try:
                arr = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"parameter {name!r} must be numeric, got {value!r}") from None
            if arr.shape == () and spec.shape != () and spec.broadcast:
                arr = np.full(spec.shape, float(arr))
            if arr.shape != spec.shape:
                raise ValueError(f"parameter {name!r} must have shape {spec.shape}, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"parameter {name!r} must be finite, got {value!r}")
            if spec.positive and np.any(arr <= 0):
                raise ValueError(f"parameter {name!r} must be > 0, got {value!r}")
            if spec.nonneg and np.any(arr < 0):
                raise ValueError(f"parameter {name!r} must be >= 0, got {value!r}")
            values[name] = arr if arr.ndim else float(arr)
        for name, derived in self._derived.items():
            values[name] = np.asarray(derived.function(values), dtype=float).reshape(derived.shape)
        return values

    @staticmethod
    def _pick(ref, table):
        if ref is None:
            return 1.0
        if isinstance(ref, tuple):
            name, index = ref
            return table[name][index]
        return table[ref]

    # -- scaling -----------------------------------------------------------
    @property
    def scalable(self):
        """True when the model can be solved on unit-size data (see the
        class notes): a squared or logistic loss, every term homogeneous
        (its ``degree`` declared) and every constraint a cone."""
        return (
            isinstance(self.loss, (SquaredLoss, LogisticLoss))
            and all(getattr(entry.term, "degree", None) is not None for entry in self.entries)
            and all(getattr(constraint, "cone", False) for constraint, _ in self.constraints)
        )

    @property
    def scales(self):
        """``(s_x, s_y, c)``: the data are divided by ``s_x`` and ``s_y`` in
        the CVXPY problem, whose variables are ``W / c``; all 1 for a
        model that is not :attr:`scalable`."""
        if self._scales is None:
            s_x = s_y = 1.0
            if self.scalable:
                s_x = _power_of_two(self.data.Xs)
                s_y = 1.0 if isinstance(self.loss, LogisticLoss) else _power_of_two(self.data.ys)
            self._scales = (s_x, s_y, s_y / s_x)
        return self._scales

    @property
    def objective_scale(self):
        """The floor of what relative gaps divide by (with ``|f*|``):
        :data:`OBJECTIVE_FLOOR` times the loss at ``W = 0``; 1 for a model
        without loss.  Not ``max(1, |f*|)``, which calls any candidate
        optimal when the targets are at 1e-8; not the loss at zero itself,
        which, with features at 1e6 fitting targets at 1e6, called a
        reference 8x above the optimum (307.8 vs 36.9, f(0) = 1.1e13) off
        by 2e-11 (measured)."""
        if self._objective_scale is None:
            scale = 1.0
            if self.datafit is not None:
                zero = np.zeros(self.variables[self.loss_on[0]])
                at_zero = OBJECTIVE_FLOOR * float(self.datafit.value(zero))
                if at_zero > 0 and np.isfinite(at_zero):
                    scale = at_zero
            self._objective_scale = scale
        return self._objective_scale

    def relative(self, difference, objective):
        """``difference / max(|objective|, objective_scale)``."""
        return float(difference) / max(abs(float(objective)), self.objective_scale)

    def _cvx_data(self):
        s_x, s_y, _ = self.scales
        if s_x == 1.0 and s_y == 1.0:
            return self.data
        return self.data._replace(once_per_array(lambda X: X / s_x, self.data.Xs), [y / s_y for y in self.data.ys])

    def _entry_factor(self, entry):
        _, s_y, c = self.scales
        return 1.0 if c == 1.0 and s_y == 1.0 else c ** entry.term.degree / s_y**2

    # -- size --------------------------------------------------------------
    def estimated_memory(self):
        """Bytes CVXPY and the solver are expected to need for this model:
        :data:`BYTES_PER_ENTRY` per nonzero of the cone program (the data
        entries, each variable, each operator's nonzeros, each semidefinite
        block of size ``(d + T)**2``) plus the dense blocks a direct
        factorisation fills in (``min(n_t, d)**2`` per task)."""
        d = self.data.n_features
        entries = sum(n * d for n in self.data.n_samples) if self.loss is not None else 0
        entries += sum(int(np.prod(shape)) for shape in self.variables.values())
        for entry in self.entries:
            term, shape = entry.term, self.variables[entry.on]
            size = int(np.prod(shape))
            if getattr(term, "operator", False):
                size = max(size, int(term.D.nnz))
            if getattr(term, "sdp", False):
                blocks = 1
                if "P" in entry.params:
                    ref = entry.params["P"]
                    spec = self._specs.get(ref) or self._derived.get(ref)
                    blocks = spec.shape[0] if spec is not None and spec.shape else 1
                size += blocks * int(sum(shape)) ** 2
            if getattr(term, "graph", False):
                size += len(term.edges) * shape[0]
            entries += size
        fill = sum(min(n, d) ** 2 for n in self.data.n_samples) if self.loss is not None else 0
        return float(BYTES_PER_ENTRY * entries + 8 * fill)

    def fast_path(self):
        """The estimator that solves this model without CVXPY, named for
        error messages."""
        for entry in self.entries:
            name = _FAST_PATHS.get(type(entry.term).__name__)
            if name:
                return name
        return "the estimator's fast solver"

    def _check_size(self, max_memory):
        if self._problem is not None:
            return
        limit = 0.8 * _available_memory() if max_memory is None else float(max_memory)
        estimate = self.estimated_memory()
        if estimate > limit:
            raise ProblemTooLargeError(
                f"{type(self).__name__}: the CVXPY problem would need about {estimate / 2**30:.1f} GiB "
                f"({sum(self.data.n_samples)} samples x {self.data.n_features} features x {self.data.n_tasks} "
                f"tasks), more than the {limit / 2**30:.1f} GiB available; fit {self.fast_path()} instead and "
                f"check it with model.objective_at / model.optimality_residual, which need no CVXPY (or pass "
                f"max_memory=float('inf') to try anyway)",
                estimated_bytes=estimate, limit_bytes=limit,
            )

    # -- numpy -------------------------------------------------------------
    @property
    def datafit(self):
        """The loss bound to the data (numpy), built once."""
        if self._datafit is None and self.loss is not None:
            self._datafit = self.loss.bind(self.data)
        return self._datafit

    def numeric(self, **params):
        """The objective at these parameter values, in numpy
        (:class:`mtlcvx.terms.Objective`): what ``objective_at`` evaluates
        and what a fast solver receives."""
        values = self._check_params(params)
        penalties = [
            (entry.term.at_shape(self.variables[entry.on]).bind(
                self._pick(entry.weight, values), **{k: self._pick(ref, values) for k, ref in entry.params.items()}),
             entry.on)
            for entry in self.entries
        ]
        return Objective(self.datafit, self.variables, self.loss_on, penalties, self.constraints)

    def _variables_from(self, candidate=None, given=None):
        """``{name: ndarray}`` from a candidate: a dict, the array of a
        single-variable model, the variables stacked ``(k, *shape)``, or
        keyword arguments; every shape checked."""
        given = dict(given or {})
        names = list(self.variables)
        if isinstance(candidate, dict):
            given.update(candidate)
        elif candidate is not None:
            arr = np.asarray(candidate, dtype=float)
            shapes = set(self.variables.values())
            if len(shapes) == 1 and arr.shape == (len(names), *next(iter(shapes))):
                given.update(zip(names, arr))
            elif len(names) == 1:
                given[names[0]] = arr
            else:
                raise ValueError(
                    f"{type(self).__name__} has {len(names)} variables {names}: pass them by name or stacked "
                    f"with shape {(len(names), *self.variables[names[0]])}, got an array of shape {arr.shape}"
                )
        missing = [name for name in names if name not in given]
        if missing:
            raise ValueError(f"{type(self).__name__} needs a value for variable(s) {missing}")
        return {name: self._check_variable(name, given[name]) for name in names}

    def _check_variable(self, name, value):
        arr = np.asarray(value, dtype=float)
        shape = self.variables[name]
        if arr.shape != shape:
            hint = ""
            if len(shape) == 2 and arr.shape == shape[::-1]:
                hint = " (transpose it: scikit-learn stores coef_ as (n_tasks, n_features))"
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}{hint}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        return arr

    def _split_values(self, values):
        variables = {k: v for k, v in values.items() if k in self.variables}
        return variables, {k: v for k, v in values.items() if k not in self.variables}

    def objective_at(self, candidate=None, **values):
        """The model's objective in numpy, at ``candidate`` (an array for a
        single-variable model, the variables stacked, or a dict) or at
        variables given by name, and at the parameters given by name: all
        of them, every call.  ``inf`` at a point violating a constraint."""
        variables, params = self._split_values(values)
        return self.numeric(**params).value(self._variables_from(candidate, variables))

    def optimality_residual(self, candidate=None, **values):
        """The relative first-order optimality residual at the candidate
        (:meth:`mtlcvx.terms.Objective.optimality_residual`; NaN where the
        terms do not provide it)."""
        variables, params = self._split_values(values)
        return self.numeric(**params).optimality_residual(self._variables_from(candidate, variables))

    # -- CVXPY -------------------------------------------------------------
    @property
    def problem(self):
        """The CVXPY problem, built on first use (DPP asserted)."""
        if self._problem is None:
            self._cp_variables = {name: cp.Variable(shape, name=name) for name, shape in self.variables.items()}
            objective, constraints = self._build(self._cp_variables)
            problem = cp.Problem(cp.Minimize(objective), constraints)
            self.n_builds += 1
            if not problem.is_dcp(dpp=True):
                raise AssertionError(f"{type(self).__name__} is not DPP: it would recompile at every solve")
            self._problem = problem
        return self._problem

    def cp_parameter(self, ref):
        """The ``cp.Parameter`` of a parameter name (or ``(name, index)``),
        created the first time the build asks for it."""
        name, index = ref if isinstance(ref, tuple) else (ref, None)
        if name not in self._cp_params:
            spec = self._specs.get(name) or self._derived[name]
            self._cp_params[name] = cp.Parameter(spec.shape, nonneg=spec.nonneg or spec.positive, name=name)
        param = self._cp_params[name]
        return param if index is None else param[index]

    def _loss_argument(self, variables):
        return sum(variables[name] for name in self.loss_on[1:]) + variables[self.loss_on[0]]

    def _build(self, variables):
        """``(objective, constraints)`` from the declaration; a model with a
        reparameterisation overrides :meth:`_entry_cvx`."""
        objective = 0 if self.loss is None else self.loss.expr(self._loss_argument(variables), self._cvx_data())
        constraints = []
        for entry in self.entries:
            expression, extra = self._entry_cvx(entry, variables[entry.on], self._entry_factor(entry))
            objective = objective + expression
            constraints += extra
        for constraint, on in self.constraints:
            constraints += constraint.expr(variables[on])
        return objective, constraints

    def _entry_cvx(self, entry, X, factor=1.0):
        """The entry's ``(expression, constraints)``, times ``factor`` (the
        scaling of the class notes), folded into the term's
        ``scale_parameter`` where it has one."""
        params = {k: self.cp_parameter(ref) for k, ref in entry.params.items()}
        folded = getattr(entry.term, "scale_parameter", None)
        if factor != 1.0 and folded is not None and folded[0] in params:
            name, degree = folded
            params[name] = factor ** (1.0 / degree) * params[name]
            factor = 1.0
        expression, constraints = entry.term.cvx(X, **params)
        if entry.weight is not None:
            expression = self.cp_parameter(entry.weight) * expression
        return (expression if factor == 1.0 else factor * expression), constraints

    def default_solver(self):
        """Clarabel for moderate LP/SOCP models, SCS for SDP or large ones."""
        entries = sum(n * self.data.n_features for n in self.data.n_samples)
        if self.uses_sdp or self.prefers_scs or entries > LARGE_PROBLEM_ENTRIES:
            return cp.SCS
        return cp.CLARABEL

    def solve(self, solver=None, solver_opts=None, verbose=False, requires_grad=False, compare_with=(),
              max_memory=None, **params):
        """Solve at the given hyperparameters (all of them: see
        :attr:`parameter_names`).

        Parameters
        ----------
        solver : str, optional
            Any solver installed for CVXPY (``cvxpy.installed_solvers()``);
            default from :meth:`default_solver`.  Clarabel and SCS give a
            certificate.
        solver_opts : dict, optional
            Options passed to the solver (e.g. ``{"time_limit": 60}`` for
            Clarabel, ``{"eps_abs": 1e-10}`` for SCS).
        requires_grad : bool
            Keep what :meth:`ReferenceResult.backward` needs (SCS only, and
            the ``diffcp`` package: ``pip install "mtlcvx[diff]"``).  The
            derivative is computed in diffcp's dense mode for cone programs
            up to :data:`DENSE_DERIVATIVE_SIZE`, LSMR above (``solver_opts``
            ``{"mode": ...}`` overrides).
        compare_with : sequence, optional
            Feasible points the reference must beat (a fast solver's
            answer, a candidate), each as :meth:`objective_at` accepts it;
            zero is always tried.  See :attr:`ReferenceResult.compared`.
        max_memory : float, optional
            Bytes the CVXPY build may take; default 80 % of the memory
            available now.  ``float("inf")`` disables the check.
        **params
            Hyperparameter values by name.

        Returns
        -------
        ReferenceResult

        Raises
        ------
        SolverError
            When the status is not ``optimal`` / ``optimal_inaccurate``
            (the latter only warns), or the solver is not installed.
        ProblemTooLargeError
            When the problem is not built yet and :meth:`estimated_memory`
            exceeds ``max_memory``.
        """
        values = self._check_params(params)
        solver = self._check_solver(solver, requires_grad)
        if solver_opts is not None and not isinstance(solver_opts, dict):
            raise TypeError(f"solver_opts must be a dict of solver options, got {type(solver_opts).__name__}")
        points = self._comparison_points(compare_with)
        self._check_size(max_memory)
        self.problem  # noqa: B018  (builds the problem, creating its parameters, on the first solve)
        for name, param in self._cp_params.items():
            param.value = values[name]
        opts = {**(SCS_TIGHT if solver == cp.SCS else {}), **self.solver_defaults.get(solver, {}),
                **(solver_opts or {})}
        try:
            status, objective, gap, compile_time, solve_time = self._solve_once(solver, opts, verbose,
                                                                                requires_grad)
        except SolverError:
            fallback = None if requires_grad else self._certified_zero_result(values, points, solver)
            if fallback is None:
                raise
            return fallback
        if (solver == cp.CLARABEL and not requires_grad and gap > ACCURACY_LIMIT
                and not set(CLARABEL_TIGHT) & set(solver_opts or {})):
            tight = self._solve_once(solver, {**opts, **CLARABEL_TIGHT}, verbose, requires_grad, check=False)
            if tight[0] == cp.OPTIMAL and tight[2] < gap:
                status, objective, gap = tight[:3]
                compile_time, solve_time = compile_time + tight[3], solve_time + tight[4]
            else:  # the tighter run did worse: solve again as asked (deterministic)
                status, objective, gap, compile_time, solve_time = self._solve_once(solver, opts, verbose, False)
        solve_id = next(self._solve_counter)
        self._last_solve = (solve_id, values) if requires_grad else None
        result = ReferenceResult(
            W=None, objective=objective, status=status, solver=solver, solve_time=float(solve_time),
            compile_time=float(compile_time), gap=float(gap),
            parameters={name: values[name] for name in self.parameter_names},
            _model=self if requires_grad else None, _solve_id=solve_id,
        )
        self._fill_result(result)
        self._audit(result, points)
        if result.status == cp.OPTIMAL_INACCURATE:
            warnings.warn(
                f"{type(self).__name__}: solver {solver} returned optimal_inaccurate "
                f"(certificate gap {result.gap:.1e}){result._lost_to}",
                InaccurateSolutionWarning,
                stacklevel=2,
            )
        return result

    def _solve_once(self, solver, opts, verbose, requires_grad, check=True):
        """``(status, objective, gap, compile_time, solve_time)`` of one run
        of the solver, in the original units; the variables hold its
        point."""
        problem = self.problem
        if requires_grad:
            primal, dual, compile_time, solve_time = self._solve_differentiable(solver, opts, verbose)
        elif solver in (cp.CLARABEL, cp.SCS):
            primal, dual, compile_time, solve_time = self._solve_split(solver, opts, verbose)
        else:
            start = time.perf_counter()
            self._run_cvxpy(lambda: problem.solve(solver=solver, verbose=verbose, **opts), solver)
            primal = dual = np.nan
            stats = problem.solver_stats
            solve_time = stats.solve_time if stats and stats.solve_time else time.perf_counter() - start
            compile_time = problem.compilation_time or 0.0
        status = problem.status
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            if not check:
                return status, np.nan, np.inf, compile_time, solve_time
            raise SolverError(f"{type(self).__name__}: solver {solver} returned status {status!r}",
                              status=status, solver=solver)
        s_y = self.scales[1]
        objective = float(problem.value) * s_y**2
        gap = self.relative(abs(primal - dual) * s_y**2, objective)
        return status, objective, float(gap), float(compile_time), float(solve_time)

    def _check_solver(self, solver, requires_grad):
        if solver is None:
            return cp.SCS if requires_grad else self.default_solver()
        if not isinstance(solver, str):
            raise TypeError(f"solver must be a solver name (str) or None, got {solver!r}")
        installed = cp.installed_solvers()
        if solver.upper() not in installed:
            raise UnknownSolverError(f"{type(self).__name__}: solver={solver!r} is not installed for CVXPY; "
                                     f"installed: {installed}", status=cp.SOLVER_ERROR, solver=solver)
        return solver.upper()

    def _comparison_points(self, compare_with):
        """``{label: variables}``: zero and the points the caller passed,
        checked before anything is built (a point outside the constraints
        gets the objective ``inf`` in the audit)."""
        if compare_with is None:
            compare_with = ()
        if isinstance(compare_with, (np.ndarray, dict)) or not isinstance(compare_with, (list, tuple)):
            raise TypeError("compare_with must be a list or tuple of candidate points (wrap a single point in "
                            f"a list), got {type(compare_with).__name__}")
        points = {"zero": {name: np.zeros(shape) for name, shape in self.variables.items()}}
        for k, point in enumerate(compare_with):
            try:
                points[f"compare_with[{k}]"] = self._variables_from(point)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"compare_with[{k}]: {exc}") from None
        return points

    def _audit(self, result, points):
        """Hold the result to the feasible points it must beat (class
        notes, *Audit*): record their objectives; replace the result by
        zero where zero beats it and its first-order residual proves it
        optimal; else raise ``gap`` to any margin the reference lost by,
        and mark it ``optimal_inaccurate`` beyond :data:`ACCURACY_LIMIT`.
        A point passed by the caller never replaces the reference (a
        candidate must not become its own judge): it can only expose it."""
        objective = self.numeric(**result.parameters)
        own = objective.value(result.variables)
        if np.isfinite(own):
            result.objective = float(own)
        values = result.compared = self._objectives(objective, points)
        if values["zero"] < result.objective:
            residual = self._zero_residual(objective, points)
            if residual is not None:
                self._take_point(result, points["zero"], values["zero"], residual)
                return
        feasible = {label: value for label, value in values.items() if np.isfinite(value)}
        if not feasible:
            return
        best = min(feasible, key=feasible.get)
        margin = self.relative(result.objective - feasible[best], result.objective)
        # a solver without certificate (NaN gap) keeps NaN for small losses
        if not margin > 0 or margin <= result.gap:
            return
        if np.isfinite(result.gap) or margin > ACCURACY_LIMIT:
            result.gap = float(margin)
        if margin > ACCURACY_LIMIT:
            result.status = cp.OPTIMAL_INACCURATE
            result._lost_to = (f"; the point {best!r} has an objective lower by {margin:.1e} (relative), more "
                               f"than the solver's certificate claimed: it does not hold here")

    def _zero_residual(self, objective, points):
        """The first-order residual of zero when it proves zero optimal (at
        most :data:`FIRST_ORDER_CERTIFICATE`; zero feasible; a model whose
        result has no auxiliary variables), else None."""
        if type(self)._fill_result is not ReferenceModel._fill_result:
            return None
        residual = objective.optimality_residual(points["zero"])
        return float(residual) if residual <= FIRST_ORDER_CERTIFICATE else None

    def _take_point(self, result, point, value, residual):
        result.variables = {name: np.array(v, dtype=float) for name, v in point.items()}
        result.W = self._loss_argument(result.variables)
        if self.decomposed:
            result.components = np.array([result.variables[name] for name in self.loss_on])
        result.objective = float(value)
        result.gap = float(residual)
        result.certificate = "first-order"
        result.status = cp.OPTIMAL

    def _certified_zero_result(self, values, points, solver):
        """When the solver fails: the result ``W = 0`` if zero is proven
        optimal by its first-order residual (a huge weight), else None."""
        result = ReferenceResult(W=None, objective=np.nan, status=cp.OPTIMAL, solver=solver, solve_time=0.0,
                                 compile_time=0.0, gap=np.nan,
                                 parameters={name: values[name] for name in self.parameter_names})
        objective = self.numeric(**result.parameters)
        value = objective.value(points["zero"])
        residual = self._zero_residual(objective, points) if np.isfinite(value) else None
        if residual is None:
            return None
        self._take_point(result, points["zero"], value, residual)
        result.compared = self._objectives(objective, points)
        return result

    @staticmethod
    def _objectives(objective, points):
        """``{label: objective at the point}`` (``inf`` outside the
        constraints)."""
        return {label: float(objective.value(point)) for label, point in points.items()}

    def _fill_result(self, result):
        """Variables by name (projected onto their constraints, which the
        solver meets only to its tolerance), ``W`` and the components."""
        c = self.scales[2]
        variables = {name: c * np.array(var.value, dtype=float) for name, var in self._cp_variables.items()}
        for constraint, on in self.constraints:
            variables[on] = constraint.project(variables[on])
        result.variables = variables
        result.W = self._loss_argument(variables)
        if self.decomposed:
            result.components = np.array([variables[name] for name in self.loss_on])

    def _run_cvxpy(self, call, solver):
        try:
            with warnings.catch_warnings():
                # CVXPY's generic "may be inaccurate" notice: solve() raises
                # or warns with the status and the certificate instead
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                return call()
        except cp.error.SolverError as exc:
            raise SolverError(f"{type(self).__name__}: solver {solver} failed ({exc})", status=cp.SOLVER_ERROR,
                              solver=solver) from None

    def _solve_split(self, solver, opts, verbose):
        """Solve through CVXPY's public split API, to read the solver's own
        primal and dual objectives (Clarabel's are not in CVXPY's
        ``solver_stats``).  Touches ``SolverInverseData.solver_options``,
        which ``unpack_results`` reads in cvxpy 1.9 (tested)."""
        start = time.perf_counter()
        data, chain, inverse = self.problem.get_problem_data(solver)
        compile_time = time.perf_counter() - start
        start = time.perf_counter()
        raw = chain.solver.solve_via_data(data, warm_start=False, verbose=verbose, solver_opts=opts)
        solve_time = time.perf_counter() - start
        if hasattr(inverse[-1], "solver_options"):
            inverse[-1].solver_options = opts
        self._run_cvxpy(lambda: self.problem.unpack_results(raw, chain, inverse), solver)
        if solver == cp.CLARABEL:
            primal, dual = raw.obj_val, raw.obj_val_dual
            solve_time = getattr(raw, "solve_time", solve_time)
        else:
            primal, dual = raw["info"]["pobj"], raw["info"]["dobj"]
            solve_time = raw["info"].get("solve_time", solve_time * 1e3) / 1e3
        return float(primal), float(dual), compile_time, solve_time

    def _solve_differentiable(self, solver, opts, verbose):
        if solver != cp.SCS:
            raise ValueError(f"requires_grad=True differentiates through SCS only, got solver={solver!r}")
        try:
            import diffcp  # noqa: F401
        except ImportError:
            raise ImportError('requires_grad=True needs the diffcp package: pip install "mtlcvx[diff]"') from None
        if "mode" not in opts:
            A = self.problem.get_problem_data(solver)[0]["A"]
            opts = {**opts, "mode": "dense" if sum(A.shape) <= DENSE_DERIVATIVE_SIZE else "lsmr"}
        start = time.perf_counter()
        self._run_cvxpy(lambda: self.problem.solve(solver=solver, requires_grad=True, verbose=verbose, **opts), solver)
        elapsed = time.perf_counter() - start
        stats = self.problem.solver_stats
        info = (stats.extra_stats or {}).get("info", {}) if stats else {}
        solve_time = info.get("solve_time", elapsed * 1e3) / 1e3
        return (float(info.get("pobj", np.nan)), float(info.get("dobj", np.nan)),
                float(self.problem.compilation_time or 0.0), solve_time)

    def _backward(self, result, cotangents):
        if self._last_solve is None or self._last_solve[0] != result._solve_id:
            raise ValueError("backward needs the model's latest solve, made with requires_grad=True: solve again")
        _, values = self._last_solve
        names = set(self.variables) | {"W"}
        unknown = sorted(set(cotangents) - names)
        if unknown:
            raise ValueError(f"unknown variable(s) {unknown}; expected some of {sorted(names)}")
        # every variable, auxiliary ones included: CVXPY does not read an
        # unset gradient as zero (an auxiliary M left unset gave a wrong
        # dL/drho, measured)
        for var in self.problem.variables():
            var.gradient = np.zeros(var.shape)
        for name, value in cotangents.items():
            targets = [name] if name in self.variables else list(self.loss_on)
            for target in targets:
                var = self._cp_variables[target]
                # the problem's variable is W / c (class notes, scaling)
                var.gradient = var.gradient + self.scales[2] * self._check_variable(target, value)
        self.problem.backward()
        gradients = {name: np.zeros(spec.shape) if spec.shape else 0.0 for name, spec in self._specs.items()}
        for name, param in self._cp_params.items():
            grad = np.asarray(param.gradient, dtype=float).reshape(param.shape)
            if name in self._specs:
                gradients[name] = gradients[name] + (grad if grad.ndim else float(grad))
                continue
            derived = self._derived[name]
            if derived.vjp is None:
                raise TypeError(f"{type(self).__name__}: derived parameter {name!r} has no derivative (vjp): "
                                f"the gradient with respect to {list(derived.depends)} is not available")
            for user, contribution in derived.vjp(values, grad).items():
                gradients[user] = gradients[user] + contribution
        return gradients

    # -- pickling and copying ----------------------------------------------
    def __getstate__(self):
        """The declaration alone: the constructor's arguments.

        No CVXPY object is carried: CVXPY gives a deep-copied variable a new
        id but leaves the problem's cached compilation keyed by the old ones
        (the copy's next solve with the same solver raised KeyError), and
        that cache holds the solver's compiled C++ objects (with the other
        solver the interpreter died, SIGSEGV or SIGABRT); an unpickled leaf
        keeps an id that a worker process hands out again.  The receiving
        side re-declares the model, which builds a fresh problem on its
        first solve.
        """
        self._refuse_cvxpy_in_terms()
        args, kwargs = self._declaration
        return {"args": args, "kwargs": kwargs}

    def __setstate__(self, state):
        self._declaration = (state["args"], state["kwargs"])
        self.__init__(*state["args"], **state["kwargs"])

    def _refuse_cvxpy_in_terms(self):
        """A term holds numbers and creates its CVXPY objects in ``expr`` /
        ``cvx``, during the build, so a re-declared model gets fresh ones.
        One given a CVXPY object at construction (a ``cp.Parameter`` as its
        weight, say) sits outside the model's parameters: a deep copy would
        hold a duplicate that the caller's object no longer sets, an
        unpickled one a leaf whose id the worker hands out again.  Refused,
        naming the term and its attribute."""
        holders = [entry.term for entry in self.entries] + [constraint for constraint, _ in self.constraints]
        for holder in holders:
            for name, value in getattr(holder, "__dict__", {}).items():
                if _holds_cvxpy(value):
                    raise TypeError(
                        f"{type(self).__name__} cannot be pickled or copied: {holder!r} holds a CVXPY object in "
                        f"{name!r}; declare it as a parameter of the model (Parameter, or an Entry's params) instead"
                    )

    def __repr__(self):
        d = self.data
        return (
            f"{type(self).__name__}(n_tasks={d.n_tasks}, n_features={d.n_features}, "
            f"variables={list(self.variables)}, parameters={list(self._specs)})"
        )
