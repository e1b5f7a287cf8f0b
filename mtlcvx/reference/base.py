"""Shared machinery of the CVXPY reference models.

A reference model is built **once**: its hyperparameters are
``cp.Parameter`` objects (the problem is DPP), so an outer loop that
changes them re-solves without recompiling.  :meth:`ReferenceModel.solve`
returns a :class:`ReferenceResult` carrying the optimum and a certificate,
the relative primal-dual gap reported by the solver itself.

Solver choice (``solver=None``), from timings measured on 2 cores (see
DESIGN.md and ``mtlcvx bench``): Clarabel (interior point, accurate) for
linear and second-order cone problems of moderate size; SCS at tight
``eps`` when semidefinite cones appear (Clarabel took 19.5 s where SCS took
0.3 s on a small trace-norm problem) or when the data is large (L21 at
d=500, T=50, n=100: Clarabel 337 s, SCS 6.8 s).
"""

import time
import warnings
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from .._errors import InaccurateSolutionWarning, SolverError
from ..data import as_multitask_data

__all__ = ["ReferenceModel", "ReferenceResult", "LARGE_PROBLEM_ENTRIES", "SCS_TIGHT"]

#: Above this many data entries (``sum_t n_t * d``) the default solver is
#: SCS: at 40k entries Clarabel takes 0.7 s, at 2.5M it takes 337 s.
LARGE_PROBLEM_ENTRIES = 200_000

#: SCS options applied whenever SCS is used (overridable by solver_opts):
#: eps 1e-8 gives objectives good to about 1e-9 relative; 1e-9 is too tight
#: on the semidefinite models (trace norm d=80, T=10, n=50: 0.3 s at 1e-8,
#: no convergence in 60 s at 1e-9, measured).
SCS_TIGHT = {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 100_000}


@dataclass
class ReferenceResult:
    """Optimum of a reference model, with its certificate.

    Attributes
    ----------
    W : ndarray of shape (d, T) or None
        Optimal weights (None when the solve failed).
    objective : float
        The model's objective at ``W`` (CVXPY's value of the same
        expression that :meth:`ReferenceModel.objective_at` evaluates).
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
        Other optimal variables by name (e.g. ``M`` for clustered MTL).
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

    def __repr__(self):
        shape = None if self.W is None else self.W.shape
        return (
            f"ReferenceResult(status={self.status!r}, objective={self.objective:.10g}, "
            f"gap={self.gap:.2e}, solver={self.solver!r}, solve_time={self.solve_time:.3g}s, "
            f"W shape={shape})"
        )


@dataclass
class _ParamSpec:
    name: str
    shape: tuple
    nonneg: bool
    positive: bool
    doc: str
    broadcast: bool = False


class ReferenceModel:
    """Base of every reference model.

    Subclasses implement :meth:`_build` (declare the parameters with
    :meth:`_parameter`, create the variable ``self.W_var`` and return the
    objective expression and constraints) and :meth:`_objective_numpy`
    (the same objective in numpy).  A subclass whose user-facing
    hyperparameters are not themselves DPP-affine (a product of two
    hyperparameters, say) overrides :meth:`_bind` to map them onto the
    ``cp.Parameter`` values.

    Attributes
    ----------
    problem : cvxpy.Problem
        Built once, in ``__init__``.
    n_builds : int
        How many times the CVXPY problem was constructed (1 for the life of
        the model: re-solving never rebuilds).
    """

    #: True when the model contains semidefinite cones (default solver SCS).
    uses_sdp = False

    #: True when Clarabel proved unreliable on the model (default solver SCS).
    prefers_scs = False

    #: Options a model needs from a solver by default, ``{solver: {...}}``;
    #: ``solver_opts`` passed to :meth:`solve` override them.
    solver_defaults = {}

    def __init__(self, data):
        self.data = as_multitask_data(data)
        self._specs = {}
        self._cp_params = {}
        self._values = {}
        self.n_builds = 0
        self._default_solver = None
        objective, constraints = self._build()
        self.problem = cp.Problem(cp.Minimize(objective), constraints)
        self.n_builds += 1
        if not self.problem.is_dcp(dpp=True):
            raise AssertionError(f"{type(self).__name__} is not DPP: it would recompile at every solve")

    # -- to implement --------------------------------------------------
    def _build(self):
        raise NotImplementedError

    def _objective_numpy(self, W, params):
        raise NotImplementedError

    def _bind(self, params):
        for name, value in params.items():
            self._cp_params[name].value = value

    # -- parameters ----------------------------------------------------
    def _parameter(self, name, shape=(), nonneg=True, positive=False, doc="", direct=True, broadcast=False):
        """Declare a user-facing hyperparameter.  With ``direct=True`` it is
        also a ``cp.Parameter`` of the same name, which is returned and which
        the default :meth:`_bind` sets; with ``direct=False`` the subclass's
        :meth:`_bind` maps it onto its own ``cp.Parameter`` objects.  With
        ``broadcast=True`` a scalar value is accepted for a vector parameter
        (one value for every entry)."""
        self._specs[name] = _ParamSpec(name, tuple(shape), nonneg, positive, doc, broadcast)
        if not direct:
            return None
        param = cp.Parameter(shape, nonneg=nonneg or positive, name=name)
        self._cp_params[name] = param
        return param

    @property
    def parameter_names(self):
        """Names of the hyperparameters ``solve`` and ``objective_at`` accept."""
        return tuple(self._specs)

    def _check_params(self, params, argument="parameter"):
        unknown = sorted(set(params) - set(self._specs))
        if unknown:
            raise ValueError(
                f"unknown {argument}(s) {unknown} for {type(self).__name__}; "
                f"expected {list(self._specs)}"
            )
        checked = dict(self._values)
        for name, value in params.items():
            spec = self._specs[name]
            arr = np.asarray(value, dtype=float)
            if arr.shape == () and spec.shape != () and spec.broadcast:
                arr = np.full(spec.shape, float(arr))
            if arr.shape != spec.shape:
                raise ValueError(
                    f"parameter {name!r} must have shape {spec.shape}, got {arr.shape}"
                )
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"parameter {name!r} must be finite, got {value!r}")
            if spec.positive and np.any(arr <= 0):
                raise ValueError(f"parameter {name!r} must be > 0, got {value!r}")
            if spec.nonneg and np.any(arr < 0):
                raise ValueError(f"parameter {name!r} must be >= 0, got {value!r}")
            checked[name] = arr if arr.ndim else float(arr)
        missing = [name for name in self._specs if name not in checked]
        if missing:
            raise ValueError(
                f"{type(self).__name__} needs a value for parameter(s) {missing}"
            )
        return checked

    # -- numpy objective -----------------------------------------------
    def _check_W(self, W):
        W = np.asarray(W, dtype=float)
        d, T = self.data.n_features, self.data.n_tasks
        if W.shape != (d, T):
            hint = " (transpose it: scikit-learn stores coef_ as (n_tasks, n_features))" if W.shape == (T, d) else ""
            raise ValueError(f"W must have shape (n_features, n_tasks) = {(d, T)}, got {W.shape}{hint}")
        return W

    def objective_at(self, W, **params):
        """The model's objective at ``W`` in numpy (same equation as the
        CVXPY model); parameters not given keep their last values."""
        W = self._check_W(W)
        return float(self._objective_numpy(W, self._check_params(params)))

    # -- solving -------------------------------------------------------
    def default_solver(self):
        """Clarabel for moderate LP/SOCP models, SCS for SDP or large ones."""
        entries = sum(n * self.data.n_features for n in self.data.n_samples)
        if self.uses_sdp or self.prefers_scs or entries > LARGE_PROBLEM_ENTRIES:
            return cp.SCS
        return cp.CLARABEL

    def solve(self, solver=None, solver_opts=None, verbose=False, **params):
        """Solve at the given hyperparameters.

        Parameters
        ----------
        solver : str, optional
            Any solver installed for CVXPY; default from
            :meth:`default_solver`.  Clarabel and SCS give a certificate.
        solver_opts : dict, optional
            Options passed to the solver (e.g. ``{"time_limit": 60}`` for
            Clarabel, ``{"eps_abs": 1e-10}`` for SCS).
        **params
            Hyperparameter values by name (see :attr:`parameter_names`);
            those not given keep the values of the previous call.

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
        self._bind(values)
        self._values = values
        solver = (solver or self.default_solver()).upper()
        opts = {**(SCS_TIGHT if solver == cp.SCS else {}), **self.solver_defaults.get(solver, {}),
                **(solver_opts or {})}
        if solver in (cp.CLARABEL, cp.SCS):
            primal, dual, compile_time, solve_time = self._solve_split(solver, opts, verbose)
        else:
            start = time.perf_counter()
            self.problem.solve(solver=solver, verbose=verbose, **opts)
            primal = dual = np.nan
            stats = self.problem.solver_stats
            solve_time = stats.solve_time if stats and stats.solve_time else time.perf_counter() - start
            compile_time = self.problem.compilation_time or 0.0
        status = self.problem.status
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise SolverError(
                f"{type(self).__name__}: solver {solver} returned status {status!r}",
                status=status,
                solver=solver,
            )
        objective = float(self.problem.value)
        gap = abs(primal - dual) / max(1.0, abs(objective))
        if status == cp.OPTIMAL_INACCURATE:
            warnings.warn(
                f"{type(self).__name__}: solver {solver} returned optimal_inaccurate "
                f"(certificate gap {gap:.1e})",
                InaccurateSolutionWarning,
                stacklevel=2,
            )
        return self._result(
            objective=objective,
            status=status,
            solver=solver,
            solve_time=float(solve_time),
            compile_time=float(compile_time),
            gap=float(gap),
            parameters=dict(values),
        )

    def _result(self, **fields):
        return ReferenceResult(W=np.array(self.W_var.value, dtype=float), **fields)

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
        with warnings.catch_warnings():
            # CVXPY's generic "may be inaccurate" notice: solve() raises or
            # warns with the status and the certificate instead.
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            try:
                self.problem.unpack_results(raw, chain, inverse)
            except cp.error.SolverError as exc:
                raise SolverError(
                    f"{type(self).__name__}: solver {solver} failed ({exc})", status=cp.SOLVER_ERROR, solver=solver
                ) from None
        if solver == cp.CLARABEL:
            primal, dual = raw.obj_val, raw.obj_val_dual
            solve_time = getattr(raw, "solve_time", solve_time)
        else:
            primal, dual = raw["info"]["pobj"], raw["info"]["dobj"]
            solve_time = raw["info"].get("solve_time", solve_time * 1e3) / 1e3
        return float(primal), float(dual), compile_time, solve_time

    def __repr__(self):
        d = self.data
        return (
            f"{type(self).__name__}(n_tasks={d.n_tasks}, n_features={d.n_features}, "
            f"parameters={list(self._specs)})"
        )
