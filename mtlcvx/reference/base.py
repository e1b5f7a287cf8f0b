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

from .._errors import InaccurateSolutionWarning, SolverError
from ..data import as_multitask_data
from ..terms import Objective, make_loss

__all__ = [
    "ReferenceModel",
    "ReferenceResult",
    "Parameter",
    "Derived",
    "Entry",
    "LARGE_PROBLEM_ENTRIES",
    "SCS_TIGHT",
]

#: Above this many data entries (``sum_t n_t * d``) the default solver is
#: SCS: at 40k entries Clarabel takes 0.7 s, at 2.5M it takes 337 s.
LARGE_PROBLEM_ENTRIES = 200_000

#: SCS options applied whenever SCS is used (overridable by solver_opts):
#: eps 1e-8 gives objectives good to about 1e-9 relative; 1e-9 is too tight
#: on the semidefinite models (trace norm d=80, T=10, n=50: 0.3 s at 1e-8,
#: no convergence in 60 s at 1e-9, measured).
SCS_TIGHT = {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 100_000}

#: Cone programs up to this size (variables plus constraint rows) are
#: differentiated with diffcp's dense mode; larger ones with LSMR.  diffcp's
#: default, LSQR, stops early: on a pooled ridge of 10 features and 4
#: tasks it gave dL/dlam 2 % off the closed form, where dense and LSMR agreed
#: to 1e-9 and 6e-6 (measured).  Dense costs the cube of the size: on a
#: BiGMTL lower level of size 1986 it took 8.0 s and landed 1.9e-4 from the
#: exact hypergradient, LSMR 1.8 s and 2.3e-5 (LSQR 0.6 s and 1.4e-2).
DENSE_DERIVATIVE_SIZE = 1000


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
    _model: object = field(default=None, repr=False, compare=False)
    _solve_id: int = field(default=-1, repr=False, compare=False)

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
            (entry.term.bind(self._pick(entry.weight, values),
                             **{k: self._pick(ref, values) for k, ref in entry.params.items()}), entry.on)
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
        objective = 0 if self.loss is None else self.loss.expr(self._loss_argument(variables), self.data)
        constraints = []
        for entry in self.entries:
            expression, extra = self._entry_cvx(entry, variables[entry.on])
            objective = objective + expression
            constraints += extra
        for constraint, on in self.constraints:
            constraints += constraint.expr(variables[on])
        return objective, constraints

    def _entry_cvx(self, entry, X):
        params = {k: self.cp_parameter(ref) for k, ref in entry.params.items()}
        expression, constraints = entry.term.cvx(X, **params)
        if entry.weight is not None:
            expression = self.cp_parameter(entry.weight) * expression
        return expression, constraints

    def default_solver(self):
        """Clarabel for moderate LP/SOCP models, SCS for SDP or large ones."""
        entries = sum(n * self.data.n_features for n in self.data.n_samples)
        if self.uses_sdp or self.prefers_scs or entries > LARGE_PROBLEM_ENTRIES:
            return cp.SCS
        return cp.CLARABEL

    def solve(self, solver=None, solver_opts=None, verbose=False, requires_grad=False, **params):
        """Solve at the given hyperparameters (all of them: see
        :attr:`parameter_names`).

        Parameters
        ----------
        solver : str, optional
            Any solver installed for CVXPY; default from
            :meth:`default_solver`.  Clarabel and SCS give a certificate.
        solver_opts : dict, optional
            Options passed to the solver (e.g. ``{"time_limit": 60}`` for
            Clarabel, ``{"eps_abs": 1e-10}`` for SCS).
        requires_grad : bool
            Keep what :meth:`ReferenceResult.backward` needs (SCS only, and
            the ``diffcp`` package: ``pip install "mtlcvx[diff]"``).  The
            derivative is computed in diffcp's dense mode for cone programs
            up to :data:`DENSE_DERIVATIVE_SIZE`, LSMR above (``solver_opts``
            ``{"mode": ...}`` overrides).
        **params
            Hyperparameter values by name.

        Returns
        -------
        ReferenceResult

        Raises
        ------
        SolverError
            When the status is not ``optimal`` / ``optimal_inaccurate``
            (the latter only warns).
        """
        values = self._check_params(params)
        problem = self.problem
        for name, param in self._cp_params.items():
            param.value = values[name]
        solver = (solver or (cp.SCS if requires_grad else self.default_solver())).upper()
        opts = {**(SCS_TIGHT if solver == cp.SCS else {}), **self.solver_defaults.get(solver, {}),
                **(solver_opts or {})}
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
            raise SolverError(f"{type(self).__name__}: solver {solver} returned status {status!r}",
                              status=status, solver=solver)
        objective = float(problem.value)
        gap = abs(primal - dual) / max(1.0, abs(objective))
        if status == cp.OPTIMAL_INACCURATE:
            warnings.warn(
                f"{type(self).__name__}: solver {solver} returned optimal_inaccurate (certificate gap {gap:.1e})",
                InaccurateSolutionWarning,
                stacklevel=2,
            )
        solve_id = next(self._solve_counter)
        self._last_solve = (solve_id, values) if requires_grad else None
        result = ReferenceResult(
            W=None, objective=objective, status=status, solver=solver, solve_time=float(solve_time),
            compile_time=float(compile_time), gap=float(gap),
            parameters={name: values[name] for name in self.parameter_names},
            _model=self if requires_grad else None, _solve_id=solve_id,
        )
        self._fill_result(result)
        return result

    def _fill_result(self, result):
        """Variables by name (projected onto their constraints, which the
        solver meets only to its tolerance), ``W`` and the components."""
        variables = {name: np.array(var.value, dtype=float) for name, var in self._cp_variables.items()}
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
                var.gradient = var.gradient + self._check_variable(target, value)
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
