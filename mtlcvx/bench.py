"""``mtlcvx bench``: fast solvers against the CVXPY references, side by side
in one run, on the same instance, at the same objective.

For each problem and size:

* the reference model is solved with Clarabel and with SCS at tight
  ``eps``.  Its time is reported in two parts.  The *setup*
  (``reference_setup_s``) is what the first call costs beyond the solve:
  building the CVXPY problem (shared by the two solvers, counted in both
  rows), CVXPY's canonicalisation and compilation for this solver
  (``reference_compile_s`` is this CVXPY share alone) and the solver's own
  setup (SCS factorises its linear system before iterating and does not
  count it in its solve time).  The *solve* (``reference_s``) is the time
  the solver reports for its solve: when the first took under
  :data:`REPEAT_BELOW` seconds it is repeated twice more, compiled, and the
  best kept.  A solver whose solve exceeds the budget is stopped by its own
  time limit (Clarabel ``time_limit``, SCS ``time_limit_secs``) and
  reported as such, without times;
* the fast estimator is timed (best of 3, whole ``fit``) with its
  duality-gap tolerance at :data:`FAST_TOL`, and its objective is compared
  with the best certified reference objective.  ``speedup`` is the solve
  time over the fast time, ``speedup_with_setup`` the setup and solve over
  it (what a first ``solve()`` costs against a first ``fit``).

Plus a peer row: scikit-learn's ``MultiTaskLasso`` against our
``GroupLasso`` on a shared-X instance, both at a relative objective gap
``<= 1e-6`` from the optimum; the generic paths of ``ConvexMTL`` (the
L21 and trace-norm problems with the norm declared by its expression,
value and prox only, as a user's new term would be, beside the dedicated
estimator's time: ``vs_dedicated`` is generic / dedicated; and l1 + trace
norm as two terms, the primal-dual splitting); the SG-MTL W-step (eq. 5, random memberships)
at the sizes of the paper's synthetic sets against its reference; the
time of a whole SG-MTL fit on set-2; SSMTL_m on the GenGL scenarios; the
BiGMTL lower level (ADMM) at the synthetic size and at T = 200 and, in the
full run, the paper's dual solver and the BiGMTL hypergradients (ADMM
fixed point and Algorithm 1) against CVXPY's backward.  The rows whose
reference is not one CVXPY solve (the peer, CVXPY's backward, the SRML fit
with CVXPY w-steps) time one whole call and have no setup column.

``mtlcvx bench --plot FILE`` (:func:`run_convergence`) draws convergence
curves instead of the table: on each problem of :data:`CURVE_CASES` the
relative suboptimality ``(P(W) - P*) / |P*|`` of every solver against
time, ``P*`` the lowest objective of CVXPY's certified runs; the data come
from :func:`convergence_curves`, the figure from :func:`plot_convergence`.
"""

import functools
import os
import time
import warnings

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from . import reference
from ._errors import ConvergenceWarning, SolverError
from ._validation import check_bool, check_scalar_param
from .bilevel import BiGMTLHypergradient, GGMTLHypergradient
from .data import MultiTaskData
from .datasets import (
    make_bigmtl_synthetic,
    make_gengl_scenario,
    make_sgmtl_set1,
    make_sgmtl_set2,
    make_sparse_low_rank,
    make_srml_synthetic,
)
from .experiments._common import format_table
from .metrics import adjusted_rand
from .models import SGMTL, SRML, SSMTL, ConvexMTL, GroupLasso, TraceNorm
from .models.ggmtl import knn_task_graph
from .solvers import dispatch
from .terms import L1, L21, NuclearNorm, Penalty, SquaredLoss, check_term, gengl_preset, lambda_max

__all__ = ["run_bench", "convergence_curves", "plot_convergence", "run_convergence", "CASES", "QUICK_CASES"]

#: An interior-point reference whose dense semidefinite blocks would take
#: more than this share of the machine's memory is not run.
MEMORY_SHARE = 0.25
#: A reference solve faster than this is repeated (best of 3).
REPEAT_BELOW = 5.0
#: Relative duality gap at which the fast solvers stop in the bench (a
#: certified bound, 100x below the 1e-6 objective gap the rows must meet).
FAST_TOL = 1e-8

CASES = [
    ("L21", (80, 10, 50)),
    ("L21", (500, 50, 100)),
    ("trace", (80, 10, 50)),
    ("trace", (150, 20, 50)),
]
QUICK_CASES = [("L21", (80, 10, 50)), ("trace", (40, 8, 30))]
GENGL_CASES = [("gl", (80, 10, 50)), ("metag", (100, 32, 50)), ("rmtfl", (200, 30, 50))]
SGMTL_CASES = [("set-1", make_sgmtl_set1, 3, (21, 30, 15)), ("set-2", make_sgmtl_set2, 5, (150, 30, 100))]
BIGMTL_CASES = [("synthetic", 3, 10), ("T=200", 4, 50)]
BIGMTL_LAM, BIGMTL_EPS, BIGMTL_Q = 0.1, 1e-3, 500
#: SRML w-steps: (label, loss, penalty, tasks, samples per task), 25 features
SRML_CASES = [("squared, l2", "squared", "l2", 20, 100), ("logistic, l1", "logistic", "l1", 5, 100)]
SRML_FIT_ITERATIONS = 50
#: GGMTL lower level: (label, squared, tasks), Line-like tasks, 30 features,
#: 20 samples per task, the k-NN graph (k = 10) with random weights
GGMTL_CASES = [("squared", True, 100), ("not squared", False, 100)]
GGMTL_LAM = 10.0
#: Tasks of the scaling study of one GGMTL outer iteration (d = 30)
GGMTL_SCALING = (100, 250, 500, 1000, 2000)
PEER_SIZE = (500, 50, 100)
QUICK_PEER_SIZE = (200, 20, 50)
#: The generic paths of ConvexMTL (a norm declared as a user would, by its
#: expression, value and prox only) against the dedicated solvers
GENERIC_CASES = CASES
QUICK_GENERIC_CASES = [("L21", (500, 50, 100)), ("trace", (80, 10, 50))]
#: l1 + trace norm as two terms (the primal-dual splitting), weights at this
#: fraction of each norm's lam_max
SPARSE_LOW_RANK_CASES = [(80, 10, 50), (150, 20, 50)]
SPARSE_LOW_RANK_FRACTION = 0.05

_PROBLEMS = {
    "L21": (reference.group_lasso, GroupLasso, L21()),
    "trace": (reference.trace_norm, TraceNorm, NuclearNorm()),
}


#: Table header -> row key.  The reference's time is split in two: ``ref_setup_s`` (what its first
#: call costs beyond the solve) and ``ref_solve_s`` (the JSON rows' ``reference_s``).
TABLE_COLUMNS = {
    "problem": "problem", "size": "size", "reference_solver": "reference_solver",
    "ref_setup_s": "reference_setup_s", "ref_solve_s": "reference_s", "fast_s": "fast_s",
    "speedup": "speedup", "speedup_w_setup": "speedup_with_setup", "rel_objective_gap": "rel_objective_gap",
    "rel_gradient_difference": "rel_gradient_difference", "vs_dedicated": "vs_dedicated",
    "reference_status": "reference_status",
}
TABLE_TITLE = ("speed: reference (CVXPY / peer) vs mtlcvx fast solver, same instance, same objective\n"
               "speedup = ref_solve_s / fast_s (solve time only); speedup_w_setup = (ref_setup_s + ref_solve_s) / "
               "fast_s\nref_setup_s = the reference's first call minus its solve time: CVXPY's build and compile, "
               "the solver's own setup (SCS's factorisation)")


def _instance(size, shared_X=False, seed=0):
    d, T, n = size
    data, _ = make_sparse_low_rank(n_tasks=T, n_features=d, n_samples=n, n_relevant=min(10, d),
                                   rank=3, shared_X=shared_X, random_state=seed)
    return data


def _lam(data, norm, fraction=0.1, scaling="sum"):
    return fraction * lambda_max(norm, SquaredLoss(scaling).bind(data))


def _time_limit_opts(solver, budget):
    return {"time_limit": budget} if solver == "CLARABEL" else {"time_limit_secs": budget}


def _dense_psd_bytes(model, solver):
    """Memory of the dense blocks an interior-point solver keeps for the
    model's semidefinite cones: ``8 (k(k+1)/2)^2`` bytes for a cone of
    order ``k`` (Clarabel's KKT system holds each PSD block dense)."""
    data, _, _ = model.problem.get_problem_data(solver)
    return sum(8.0 * (k * (k + 1) / 2) ** 2 for k in data["dims"].psd)


def _total_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return float("inf")


def _timed_reference(model, solver, budget, params):
    """``(result, status, setup_s, compile_s)`` of a reference solver on a
    model: ``result.solve_time`` is the best solve of up to three, while
    ``setup_s`` is everything else the first call cost (its wall time minus
    its solve time: CVXPY's compilation for this solver, the solver's own
    setup such as SCS's factorisation, unpacking) and ``compile_s`` its
    CVXPY share (``get_problem_data``).  Building the CVXPY problem is
    shared by the solvers and timed by the caller.  A failed or stopped
    solve gives ``(None, status, None, None)``."""
    start = time.perf_counter()
    if solver == "CLARABEL" and model.uses_sdp:
        # a time limit does not bound memory: at T = 200 Clarabel's dense PSD blocks took the
        # machine's 24 GB and the bench was killed (measured); skip what cannot fit
        need = _dense_psd_bytes(model, solver)
        if need > MEMORY_SHARE * _total_memory():
            return None, f"not run: its dense PSD blocks need {need / 2**30:.0f} GiB", None, None
    # the memory check compiles for Clarabel, so the first solve finds it compiled: count it
    checked_s = time.perf_counter() - start
    opts = _time_limit_opts(solver, budget)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = model.solve(solver=solver, solver_opts=opts, **params)
            first_call_s = time.perf_counter() - start
            results = [first]
            if first.solve_time < REPEAT_BELOW:
                results += [model.solve(solver=solver, solver_opts=opts, **params) for _ in range(2)]
    except SolverError as exc:
        return None, exc.status, None, None
    best = min(results, key=lambda r: r.solve_time)
    return best, best.status, first_call_s - first.solve_time, checked_s + first.compile_time


def _time_reference(model, solver, budget, params):
    """``(result, status)`` of :func:`_timed_reference`."""
    return _timed_reference(model, solver, budget, params)[:2]


def _build_time(model):
    """Seconds to build the model's CVXPY problem (expression tree and DPP
    check), once per model; 0 when it was built before."""
    start = time.perf_counter()
    model.problem  # noqa: B018  (the property builds the problem on first use)
    return time.perf_counter() - start


def _best_of(func, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def _baseline_case(problem, size):
    """``(model, params, fast)`` for the L21 and trace-norm rows; ``fast()``
    returns ``(W, n_iter)``."""
    build, estimator_cls, norm = _PROBLEMS[problem]
    data = _instance(size)
    lam = _lam(data, norm)

    def fast():
        est = estimator_cls(lam=lam, fit_intercept=False, tol=FAST_TOL).fit(data)
        return est.coef_, est.n_iter_

    return build(data), {"lam": lam}, fast


class _ProxOnly(Penalty):
    """A built-in norm as a user writes a new one: its CVXPY expression, its
    value and its prox, nothing else (no dual norm, no row separability),
    so that ``ConvexMTL`` takes the generic path a new term would take."""

    degree = 1

    def __init__(self, norm):
        self.norm = norm

    def expr(self, W):
        return self.norm.expr(W)

    def value(self, W):
        return self.norm.value(W)

    def prox(self, V, step):
        return self.norm.prox(V, step)

    def __repr__(self):
        return f"prox-only {self.norm!r}"


def _generic_case(problem, size):
    """The L21 / trace-norm rows' problem through ``ConvexMTL`` with the
    norm known by its prox only; also returns the dedicated estimator's
    ``fit`` and the term check's time (once per term and shape, outside
    the timed fits)."""
    model, params, dedicated = _baseline_case(problem, size)
    data = model.data
    term = _ProxOnly(_PROBLEMS[problem][2])
    start = time.perf_counter()
    check_term(term, shape=(4, 3))
    check_s = time.perf_counter() - start

    def fast():
        est = ConvexMTL([(params["lam"], term)], fit_intercept=False, tol=FAST_TOL).fit(data)
        return est.coef_, est.n_iter_

    return model, params, fast, dedicated, check_s


def _generic_rows(problem, size, budget, progress):
    model, params, fast, dedicated, check_s = _generic_case(problem, size)
    dedicated_s, _ = _best_of(dedicated)
    rows = _reference_rows(f"{problem}, generic path (prox only)", size, model, params, fast, budget, progress)
    for row in rows:
        row["dedicated_s"] = dedicated_s
        row["vs_dedicated"] = row["fast_s"] / dedicated_s
        row["term_check_s"] = check_s
    progress(f"[bench] {problem} {size} generic: {rows[0]['fast_s']:.4f} s, dedicated {dedicated_s:.4f} s")
    return rows


def _sparse_low_rank_case(size):
    """``a ||W||_1 + b ||W||_*`` as two terms: the primal-dual splitting."""
    data = _instance(size)
    a = _lam(data, L1(), SPARSE_LOW_RANK_FRACTION)
    b = _lam(data, NuclearNorm(), SPARSE_LOW_RANK_FRACTION)
    estimator = ConvexMTL([(a, L1()), (b, NuclearNorm())], fit_intercept=False, tol=FAST_TOL)

    def fast():
        est = clone(estimator).fit(data)
        return est.coef_, est.n_iter_

    model, params = estimator.reference_model(data)
    return model, params, fast


def _sgmtl_case(maker, n_groups):
    """The SG-MTL W-step at a set's size: random memberships (seed 0),
    ``lam = 0.1``, eq. (5)."""
    data, _, _ = maker(random_state=0)
    U = np.random.default_rng(0).dirichlet(np.ones(n_groups), size=data.n_tasks).T
    params = {"U": U, "lam": 0.1}
    model = reference.sgmtl_wstep(data, n_groups)
    return model, params, _dispatched(model, params)


def _dispatched(model, params):
    """``fast()``: the dispatcher's solver on the model's declaration."""
    def fast():
        variables, info = dispatch.solve(model.numeric(**params), tol=FAST_TOL)
        return variables["W"], info.n_iter

    return fast


def _ssmtl_case(scenario):
    """SSMTL_m (h = 2, gamma1 = gamma2 = 1, phi = 2) on a GenGL scenario."""
    data, _, _ = make_gengl_scenario(scenario, random_state=0)
    penalty, weights = gengl_preset("ssmtl_m", data.n_features, data.n_tasks, h=2)

    def fast():
        est = SSMTL(preset="ssmtl_m", gamma1=1.0, gamma2=1.0, phi=2.0, tol=FAST_TOL, fit_intercept=False).fit(data)
        return est.components_, est.n_iter_

    return reference.gengl(data, penalty), {"gamma": weights(1.0, 1.0, 2.0)}, fast


def _bigmtl_instance(n_groups, tasks_per_group):
    (train, val), _, _ = make_bigmtl_synthetic(n_groups=n_groups, tasks_per_group=tasks_per_group,
                                               n_samples=(10, 10), random_state=0)
    theta = np.random.default_rng(0).dirichlet(np.ones(n_groups), size=train.n_tasks)
    return train, val, theta


def _bigmtl_case(n_groups, tasks_per_group):
    """The BiGMTL lower level (3)-(4) on the synthetic set (random theta,
    seed 0; ``lam = 0.1``, ``eps = 1e-3``), by the ADMM."""
    train, _, theta = _bigmtl_instance(n_groups, tasks_per_group)
    params = {"theta": theta, "lam": BIGMTL_LAM, "eps": BIGMTL_EPS}
    model = reference.bigmtl_lower(train, n_groups)
    return model, params, _dispatched(model, params)


def _bigmtl_extra_rows(n_groups, tasks_per_group, progress):
    """The paper's solvers against the exact ones on the same instance: the
    dual Bregman solver after Q = 500 iterations (the paper's Q) and to the
    gap it reaches; the hypergradient by implicit differentiation of the
    ADMM's fixed point and by Algorithm 1 through Q iterations, both timed
    against CVXPY's backward (implicit differentiation, SCS)."""
    train, val, theta = _bigmtl_instance(n_groups, tasks_per_group)
    size = f"P={train.n_features}, T={train.n_tasks}, L={n_groups}, n=10"
    hyper = BiGMTLHypergradient(train, val, n_groups, BIGMTL_EPS)
    model = reference.bigmtl_lower(train, n_groups)
    params = {"theta": theta, "lam": BIGMTL_LAM, "eps": BIGMTL_EPS}
    f_star = model.solve(**params).objective
    dual_s, (W_dual, _, _) = _best_of(lambda: hyper.lower.forward(theta, BIGMTL_LAM, BIGMTL_Q), repeats=1)
    progress(f"[bench] BiGMTL {size}: CVXPY backward ...")
    implicit_s, (value_i, grad_i) = _best_of(lambda: hyper.implicit(theta, BIGMTL_LAM), repeats=1)
    fixed_s, (value_f, grad_f) = _best_of(lambda: BiGMTLHypergradient(
        train, val, n_groups, BIGMTL_EPS).fixed_point(theta, BIGMTL_LAM, tol=1e-8), repeats=3)
    reverse_s, (value_r, grad_r, _) = _best_of(lambda: hyper.reverse(theta, BIGMTL_LAM, BIGMTL_Q), repeats=1)

    def difference(grad):
        return float(np.linalg.norm(grad - grad_i) / np.linalg.norm(grad_i))

    base = {"size": size, "reference_solver": "CVXPY backward (SCS, diffcp)", "reference_status": "optimal",
            "reference_s": implicit_s}
    rows = [
        {"problem": f"BiGMTL lower level: dual Bregman (paper), Q={BIGMTL_Q}", "size": size,
         "reference_solver": "-", "reference_status": "-", "reference_s": None, "fast_s": dual_s, "speedup": None,
         "rel_objective_gap": (model.objective_at(W_dual, **params) - f_star) / max(1.0, abs(f_star)),
         "fast_iterations": BIGMTL_Q},
        {**base, "problem": "BiGMTL hypergradient: ADMM fixed point (numpy)", "fast_s": fixed_s,
         "speedup": implicit_s / fixed_s, "rel_objective_gap": abs(value_f - value_i) / value_i,
         "rel_gradient_difference": difference(grad_f), "fast_iterations": None},
        {**base, "problem": f"BiGMTL hypergradient: Algorithm 1, Q={BIGMTL_Q}", "fast_s": reverse_s,
         "speedup": implicit_s / reverse_s, "rel_objective_gap": abs(value_r - value_i) / value_i,
         "rel_gradient_difference": difference(grad_r), "fast_iterations": BIGMTL_Q},
    ]
    progress(f"[bench] BiGMTL {size}: hypergradient CVXPY {implicit_s:.2f} s, fixed point {fixed_s:.3f} s "
             f"(gradient {rows[1]['rel_gradient_difference']:.1e} apart), Algorithm 1 {reverse_s:.3f} s "
             f"({rows[2]['rel_gradient_difference']:.1e} apart)")
    return rows


def _srml_wstep_case(loss, penalty, n_tasks, n_samples):
    """One SRML w-step on synthetic set 1 (or 2, logistic): ``u`` the
    independent fit perturbed, ``y`` random, ``rho = 2.2 H``, ``lam =
    0.1``.  The fast path is the dispatcher's (the closed form reuses the
    task systems factorised for this ``rho``, as the ADMM does)."""
    kind = "classification" if loss == "logistic" else "regression"
    data, _ = make_srml_synthetic(n_tasks=n_tasks, n_samples=n_samples, kind=kind, alpha_w=1.0, random_state=0)
    model = reference.srml_wstep(data, penalty=penalty, loss=loss)
    rng = np.random.default_rng(0)
    shape = (data.n_features, data.n_tasks)
    params = {"u": rng.standard_normal(shape), "y": rng.standard_normal(shape),
              "rho": 2.2 * model.datafit.lipschitz(), "lam": 0.1}
    return model, params, _dispatched(model, params)


def _srml_fit_row(progress):
    """A whole SRML fit on synthetic set 1 (60 samples per task): the ADMM
    with fast w-steps against the same ADMM with CVXPY w-steps (DPP,
    compiled once), both for the same number of iterations."""
    data, _ = make_srml_synthetic(n_samples=60, random_state=0)
    estimator = SRML(lam=1e-2, c=0.1, max_iter=SRML_FIT_ITERATIONS, tol=1e-300, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast_s, fast = _best_of(lambda: clone(estimator).fit(data), repeats=3)
        progress(f"[bench] SRML fit: {SRML_FIT_ITERATIONS} ADMM iterations with CVXPY w-steps ...")
        ref_s, ref = _best_of(lambda: clone(estimator).set_params(solver="reference").fit(data), repeats=1)
        full_s, full = _best_of(lambda: clone(estimator).set_params(max_iter=20_000, tol=1e-6).fit(data), repeats=1)
    f_ref, f_fast = ref.objective(data), fast.objective(data)
    progress(f"[bench] SRML fit: CVXPY w-steps {ref_s:.2f} s, fast {fast_s:.3f} s; to tol 1e-6: {full.n_iter_} "
             f"iterations, {full_s:.2f} s")
    return [{
        "problem": f"SRML fit, {SRML_FIT_ITERATIONS} ADMM iterations",
        "size": "d=25, T=20, n=60 (synthetic set 1)",
        "reference_solver": "same ADMM, CVXPY w-steps (Clarabel)",
        "reference_status": f"objective {f_ref:.6g}",
        "reference_s": ref_s, "fast_s": fast_s, "speedup": ref_s / fast_s,
        "rel_objective_gap": (f_fast - f_ref) / max(1.0, abs(f_ref)),
        "fast_iterations": SRML_FIT_ITERATIONS,
    }, {
        "problem": "SRML fit to tol 1e-6 (c=0.1)", "size": "d=25, T=20, n=60 (synthetic set 1)",
        "reference_solver": "-", "reference_status": f"{full.n_iter_} ADMM iterations, converged {full.converged_}",
        "reference_s": None, "fast_s": full_s, "speedup": None, "rel_objective_gap": None,
        "fast_iterations": full.n_iter_,
    }]


def _ggmtl_instance(n_tasks, seed=0):
    """Tasks drifting along a line (GGMTL's Line set, any number of tasks),
    30 features, 20 + 20 samples per task; the k-NN graph (k = 10) of the
    per-task ridge models; edge weights uniform in [0.2, 1]."""
    rng = np.random.default_rng(seed)
    d = 30
    W = np.cumsum(0.1 * rng.uniform(size=(d, n_tasks)) * (rng.uniform(size=(d, n_tasks)) < 0.7), axis=1)
    W += 1.0 + rng.standard_normal((d, 1))

    def draw():
        Xs = [rng.standard_normal((20, d)) for _ in range(n_tasks)]
        return MultiTaskData(Xs, [X @ W[:, t] + rng.standard_normal(20) for t, X in enumerate(Xs)])

    train, val = draw(), draw()
    ridge = np.column_stack([np.linalg.solve(X.T @ X + 1e-3 * np.eye(d), X.T @ y) for X, y in train])
    edges = knn_task_graph(ridge, 10)
    return train, val, edges, rng.uniform(0.2, 1.0, len(edges))


def _ggmtl_case(squared, n_tasks):
    train, _, edges, e = _ggmtl_instance(n_tasks)
    model = reference.ggmtl_lower(train, edges, squared=squared)
    params = {"edge_weights": e, "lam": GGMTL_LAM}
    return model, params, _dispatched(model, params)


def _ggmtl_extra_rows(progress, quick):
    """The hypergradient by Theorem 1 (one sparse solve and its adjoint)
    against CVXPY's backward on the same instance; then one outer iteration
    (lower-level solve, adjoint solve, gradient) by preconditioned CG from
    100 to 2000 tasks, and the log-log slope of its time against ``T d``."""
    rows = []
    n_tasks = 20 if quick else 50
    train, val, edges, e = _ggmtl_instance(n_tasks)
    size = f"d=30, T={n_tasks}, n=20, {len(edges)} edges"
    progress(f"[bench] GGMTL hypergradient {size}: CVXPY backward ...")
    hyper = GGMTLHypergradient(train, val, edges)
    implicit_s, (value_i, grad_i) = _best_of(lambda: hyper.implicit(e, GGMTL_LAM), repeats=1)
    fast_s, (value_f, grad_f) = _best_of(lambda: GGMTLHypergradient(train, val, edges)(e, GGMTL_LAM), repeats=3)
    rows.append({"problem": "GGMTL hypergradient: Theorem 1 (sparse solve + adjoint)", "size": size,
                 "reference_solver": "CVXPY backward (SCS, diffcp)", "reference_status": "optimal",
                 "reference_s": implicit_s, "fast_s": fast_s, "speedup": implicit_s / fast_s,
                 "rel_objective_gap": abs(value_f - value_i) / value_i,
                 "rel_gradient_difference": float(np.linalg.norm(grad_f - grad_i) / np.linalg.norm(grad_i))})
    progress(f"[bench] GGMTL hypergradient: CVXPY {implicit_s:.2f} s, Theorem 1 {fast_s:.4f} s")
    sizes = GGMTL_SCALING[:3] if quick else GGMTL_SCALING
    times = []
    for n_tasks in sizes:
        train, val, edges, e = _ggmtl_instance(n_tasks)
        hyper = GGMTLHypergradient(train, val, edges, method="cg")
        hyper(e, GGMTL_LAM)  # the warm state of an outer loop

        def step():
            return hyper(e * 0.99, GGMTL_LAM)

        seconds, _ = _best_of(step, repeats=3)
        times.append(seconds)
        rows.append({"problem": "GGMTL outer iteration (CG, warm)", "size": f"d=30, T={n_tasks}, {len(edges)} edges",
                     "reference_solver": "-", "reference_status": "-", "reference_s": None, "fast_s": seconds,
                     "speedup": None, "rel_objective_gap": None})
        progress(f"[bench] GGMTL outer iteration T={n_tasks}: {seconds:.3f} s")
    slope = float(np.polyfit(np.log(30 * np.array(sizes)), np.log(times), 1)[0])
    rows.append({"problem": "GGMTL outer iteration: log-log slope in T d", "size": f"T={sizes[0]}..{sizes[-1]}",
                 "reference_solver": "-", "reference_status": f"slope {slope:.2f} (paper: 1.31; target <= 1.1)",
                 "reference_s": None, "fast_s": None, "speedup": None, "rel_objective_gap": None, "slope": slope})
    return rows


def _reference_rows(problem, size, model, params, fast, budget, progress):
    fast_s, (W_fast, n_iter) = _best_of(fast)
    f_fast = model.objective_at(W_fast, **params)
    build_s = _build_time(model)
    refs = {}
    for solver in ("CLARABEL", "SCS"):
        progress(f"[bench] {problem} {size}: {solver} ...")
        refs[solver] = _timed_reference(model, solver, budget, params)
    certified = [r.objective for r, status, _, _ in refs.values() if r is not None and status == "optimal"]
    f_star = min(certified) if certified else np.nan
    rows = []
    for solver, (result, status, setup_s, compile_s) in refs.items():
        # the build is shared by both solvers, but either alone would pay it: both rows count it
        setup_s = None if result is None else build_s + setup_s
        row = {
            "problem": problem,
            "size": "d={}, T={}, n={}".format(*size),
            "reference_solver": solver,
            "reference_status": (status if result is not None else status if status.startswith("not run")
                                 else f"stopped ({status}) at {budget:g} s"),
            "reference_setup_s": setup_s,
            "reference_compile_s": None if result is None else build_s + compile_s,
            "reference_s": None if result is None else result.solve_time,
            "fast_s": fast_s,
            "speedup": None if result is None else result.solve_time / fast_s,
            "speedup_with_setup": None if result is None else (setup_s + result.solve_time) / fast_s,
            "rel_objective_gap": (f_fast - f_star) / max(1.0, abs(f_star)),
            "fast_iterations": n_iter,
        }
        rows.append(row)
        timing = (row["reference_status"] if result is None
                  else f"setup {_fmt_s(setup_s)} + solve {_fmt_s(row['reference_s'])}")
        progress(f"[bench] {problem} {size}: {solver} {timing}, fast {fast_s:.4f} s")
    timed = [r for r in rows if r["speedup"] is not None]
    if timed:
        faster = min(timed, key=lambda r: r["reference_s"])
        for r in rows:
            r["faster_reference"] = r is faster
    return rows


def _sgmtl_fit_row(progress):
    """A whole SG-MTL fit on set-2 (N = 5, one restart): no reference."""
    data, _, groups = make_sgmtl_set2(random_state=0)
    estimator = SGMTL(n_groups=5, lam=0.1, n_init=1, fit_intercept=False, random_state=0)
    seconds, est = _best_of(lambda: estimator.fit(data), repeats=1)
    progress(f"[bench] SG-MTL fit on set-2: {seconds:.2f} s")
    return {
        "problem": "SG-MTL full fit (N=5, n_init=1)",
        "size": "set-2: d=150, T=30, n=100",
        "reference_solver": "-",
        "reference_status": f"{est.n_iter_} alternations, ARI {adjusted_rand(groups, est.labels_):.2f}",
        "reference_s": None,
        "fast_s": seconds,
        "speedup": None,
        "rel_objective_gap": None,
        "fast_iterations": est.n_iter_,
    }


def _fmt_s(seconds):
    return "stopped" if seconds is None else f"{seconds:.4f} s"


def _peer_row(size, progress):
    from sklearn.linear_model import MultiTaskLasso

    data = _instance(size, shared_X=True, seed=1)
    lam = _lam(data, L21(), scaling="mean")
    model = reference.group_lasso(data, scaling="mean")
    X, Y = data.Xs[0], np.column_stack(data.ys)

    def sklearn_fit(tol):
        return MultiTaskLasso(alpha=lam, fit_intercept=False, tol=tol, max_iter=1_000_000).fit(X, Y)

    def ours_fit(tol):
        return GroupLasso(lam=lam, scaling="mean", fit_intercept=False, tol=tol).fit(data)

    # the optimum: the lower of the two solvers run very tight
    f_star = min(model.objective_at(sklearn_fit(1e-12).coef_.T, lam=lam),
                 model.objective_at(ours_fit(1e-13).coef_, lam=lam))

    def gap(W):
        return (model.objective_at(W, lam=lam) - f_star) / max(1.0, abs(f_star))

    progress(f"[bench] peer {size}: scikit-learn MultiTaskLasso tolerance ladder ...")
    for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        sk_s, sk = _best_of(lambda: sklearn_fit(tol))
        if gap(sk.coef_.T) <= 1e-6:
            break
    ours_s, ours = _best_of(lambda: ours_fit(1e-7), repeats=5)
    return {
        "problem": "L21 shared X (peer)",
        "size": "d={}, T={}, n={}".format(*size),
        "reference_solver": f"scikit-learn MultiTaskLasso (tol={tol:g})",
        "reference_status": f"rel gap {gap(sk.coef_.T):.1e}",
        "reference_s": sk_s,
        "fast_s": ours_s,
        "speedup": sk_s / ours_s,
        "rel_objective_gap": gap(ours.coef_),
        "fast_iterations": ours.n_iter_,
    }


def run_bench(quick=False, budget=120.0, progress=lambda message: None):
    """Run the benchmark with single-threaded BLAS (as the reference solvers
    run; and timings stay meaningful on a busy machine).

    Parameters
    ----------
    quick : bool
        Small sizes only.
    budget : float
        Time limit of one reference solve, in seconds.
    progress : callable
        Called with one line of text per step.

    Returns
    -------
    dict
        ``{"rows": [...], "quick", "budget_s", "text": table}``; a CVXPY
        reference row has ``reference_setup_s``, ``reference_compile_s``,
        ``reference_s`` (the solve), ``speedup`` (solve / fast) and
        ``speedup_with_setup`` (module notes).
    """
    # checked before the first case: a bad budget would reach the solvers'
    # time limits only after minutes of fast timings
    check_bool(quick, "quick")
    check_scalar_param(budget, "budget", low=0, low_inclusive=False)
    with threadpool_limits(limits=1):
        return _run_bench(quick, budget, progress)


def _run_bench(quick, budget, progress):
    rows = []
    for problem, size in QUICK_CASES if quick else CASES:
        rows += _reference_rows(problem, size, *_baseline_case(problem, size), budget, progress)
    rows.append(_peer_row(QUICK_PEER_SIZE if quick else PEER_SIZE, progress))
    for problem, size in QUICK_GENERIC_CASES if quick else GENERIC_CASES:
        rows += _generic_rows(problem, size, budget, progress)
    for size in SPARSE_LOW_RANK_CASES[:1] if quick else SPARSE_LOW_RANK_CASES:
        rows += _reference_rows("l1 + trace (two terms, generic)", size, *_sparse_low_rank_case(size), budget,
                                progress)
    for label, maker, n_groups, size in SGMTL_CASES[:1] if quick else SGMTL_CASES:
        rows += _reference_rows(f"SG-MTL W-step ({label})", size, *_sgmtl_case(maker, n_groups), budget, progress)
    if not quick:
        rows.append(_sgmtl_fit_row(progress))
    for scenario, size in GENGL_CASES[:1] if quick else GENGL_CASES:
        rows += _reference_rows(f"SSMTL_m ({scenario} scenario)", size, *_ssmtl_case(scenario), budget, progress)
    for label, n_groups, per_group in BIGMTL_CASES[:1] if quick else BIGMTL_CASES:
        size = (20, n_groups * per_group, 10)
        rows += _reference_rows(f"BiGMTL lower level ({label})", size, *_bigmtl_case(n_groups, per_group), budget,
                                progress)
        if not quick:
            rows += _bigmtl_extra_rows(n_groups, per_group, progress)
    for label, loss, penalty, n_tasks, n_samples in SRML_CASES[:1] if quick else SRML_CASES:
        rows += _reference_rows(f"SRML w-step ({label})", (25, n_tasks, n_samples),
                                *_srml_wstep_case(loss, penalty, n_tasks, n_samples), budget, progress)
    if not quick:
        rows += _srml_fit_row(progress)
    for label, squared, n_tasks in GGMTL_CASES[:1] if quick else GGMTL_CASES:
        rows += _reference_rows(f"GGMTL lower level ({label})", (30, n_tasks, 20), *_ggmtl_case(squared, n_tasks),
                                budget, progress)
    rows += _ggmtl_extra_rows(progress, quick)
    text = format_table([{label: ("-" if r.get(key) is None else r.get(key)) for label, key in TABLE_COLUMNS.items()}
                         for r in rows], list(TABLE_COLUMNS), title=TABLE_TITLE)
    return {"rows": rows, "quick": quick, "budget_s": budget, "text": text}


# -- convergence curves (``mtlcvx bench --plot FILE``) ----------------------

#: The fast estimators' tolerances (and the peers'), loosest first; each is
#: a separate timed fit: one point (time, objective) of the curve.
CURVE_TOLS = tuple(10.0 ** -k for k in range(2, 13))
#: Clarabel's gap and feasibility tolerances along its curve: an interior
#: point method's time hardly depends on them (a few iterations more per
#: decade), so every other decade suffices.
CLARABEL_LADDER = tuple(10.0 ** -k for k in range(2, 11, 2))
#: SCS's ``eps_abs = eps_rel`` along its curve.
SCS_LADDER = tuple(10.0 ** -k for k in range(1, 10))
#: The tolerance of the tight runs the reference value ``P*`` comes from
#: (run first: their first call also gives each solver's setup time).
CURVE_REFERENCE_EPS = 1e-10
#: Relative suboptimalities below this are drawn at it: a log axis cannot
#: show 0 or the negative values an answer a digit below the reference
#: gives, and below it the objectives agree to double precision.
SUBOPTIMALITY_FLOOR = 1e-16
#: Timed fits per point of the fast estimators and the peers (best kept).
CURVE_REPEATS = 3
CURVE_CASES = [("L21, shared X", (500, 50, 100)), ("L21, per-task designs", (200, 20, 50)),
               ("trace norm", (80, 10, 50)), ("l1 + trace (two terms)", (80, 10, 50)),
               ("SG-MTL W-step (set-1)", (21, 30, 15)), ("GGMTL lower level (squared)", (30, 100, 20))]
QUICK_CURVE_CASES = [("L21, shared X", (60, 8, 40)), ("L21, per-task designs", (50, 8, 30)),
                     ("trace norm", (20, 5, 20)), ("l1 + trace (two terms)", (20, 5, 20))]
_CVXPY_NAMES = {"CLARABEL": "CVXPY Clarabel", "SCS": "CVXPY SCS"}


def _peer_fits(data, lam, jit=True):
    """``{name: fit(tol) -> W}`` of the Python peers on a shared design, at
    the objective of ``GroupLasso(lam, scaling="mean")`` (scikit-learn's
    ``MultiTaskLasso(alpha=lam)``, as in ``benchmarks/peers.py``); celer and
    skglm only when importable, skglm only with ``jit`` (numba compiles it
    on its first fit in a process: 35 s measured, untimed but longer than
    the whole quick run)."""
    X, Y = data.Xs[0], np.column_stack(data.ys)
    fits = {}
    try:
        from sklearn.linear_model import MultiTaskLasso
    except ImportError:  # scikit-learn is a dependency; kept optional here like the others
        pass
    else:
        fits["scikit-learn MultiTaskLasso"] = lambda tol: MultiTaskLasso(
            alpha=lam, fit_intercept=False, tol=tol, max_iter=100_000).fit(X, Y).coef_.T
    try:
        from celer.homotopy import mtl_path
    except ImportError:
        pass
    else:
        # celer's estimator class calls a scikit-learn method removed in 1.6: its path function is what runs
        fits["celer mtl_path"] = lambda tol: mtl_path(np.asfortranarray(X), Y, alphas=np.array([lam]), tol=tol,
                                                      max_iter=10_000)[1][:, :, 0].T
    try:
        if not jit:
            raise ImportError
        from skglm import MultiTaskLasso as SkglmMultiTaskLasso
    except ImportError:
        pass
    else:
        fits["skglm MultiTaskLasso"] = lambda tol: SkglmMultiTaskLasso(
            alpha=lam, fit_intercept=False, tol=tol, max_iter=10_000).fit(X, Y).coef_.T
    return fits


def _estimator_fit(estimator, data):
    def fit(tol):
        return clone(estimator).set_params(tol=tol).fit(data).coef_

    return fit


def _dispatch_fit(model, params):
    def fit(tol):
        return dispatch.solve(model.numeric(**params), tol=tol, warn=False)[0]

    return fit


def _curve_case(label, size, jit=True):
    """``(model, params, fast name, {solver name: fit(tol) -> candidate})``
    of one problem of the curves; a candidate is what ``objective_at``
    takes (``W``, or the variables by name)."""
    if label == "L21, shared X":
        data = _instance(size, shared_X=True, seed=1)
        lam = _lam(data, L21(), scaling="mean")
        estimator = GroupLasso(lam=lam, scaling="mean", fit_intercept=False)
        fits = {"mtlcvx GroupLasso": _estimator_fit(estimator, data), **_peer_fits(data, lam, jit)}
        return reference.group_lasso(data, scaling="mean"), {"lam": lam}, "mtlcvx GroupLasso", fits
    if label in ("L21, per-task designs", "trace norm"):
        build, estimator_cls, norm = _PROBLEMS["L21" if label.startswith("L21") else "trace"]
        data = _instance(size)
        lam = _lam(data, norm)
        name = f"mtlcvx {estimator_cls.__name__}"
        return build(data), {"lam": lam}, name, {name: _estimator_fit(estimator_cls(lam=lam, fit_intercept=False),
                                                                      data)}
    if label == "l1 + trace (two terms)":
        data = _instance(size)
        a = _lam(data, L1(), SPARSE_LOW_RANK_FRACTION)
        b = _lam(data, NuclearNorm(), SPARSE_LOW_RANK_FRACTION)
        estimator = ConvexMTL([(a, L1()), (b, NuclearNorm())], fit_intercept=False)
        model, params = estimator.reference_model(data)
        return model, params, "mtlcvx ConvexMTL", {"mtlcvx ConvexMTL": _estimator_fit(estimator, data)}
    if label == "SG-MTL W-step (set-1)":
        model, params, _ = _sgmtl_case(make_sgmtl_set1, 3)
    elif label == "GGMTL lower level (squared)":
        model, params, _ = _ggmtl_case(True, size[1])
    else:
        raise ValueError(f"unknown convergence problem {label!r}")
    return model, params, "mtlcvx (dispatch)", {"mtlcvx (dispatch)": _dispatch_fit(model, params)}


def _fit_points(fit, objective, tols):
    """``[(seconds, objective, tol)]``: one best-of-:data:`CURVE_REPEATS`
    timed fit per tolerance.  The first (untimed) call warms imports and
    numba's compilation (celer, skglm), which no later fit pays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tolerance the solver cannot reach is a point like any other
        fit(tols[0])
        points = []
        for tol in tols:
            seconds, candidate = _best_of(lambda: fit(tol), repeats=CURVE_REPEATS)
            points.append((seconds, objective(candidate), tol))
    return points


def _ladder_opts(solver, eps):
    """Clarabel's gap and feasibility tolerances, or SCS's ``eps_abs`` and
    ``eps_rel``, at ``eps``."""
    if solver == "CLARABEL":
        return {"tol_gap_abs": eps, "tol_gap_rel": eps, "tol_feas": eps}
    return {"eps_abs": eps, "eps_rel": eps, "max_iters": 100_000}


def _cvxpy_points(model, params, solver, budget):
    """The CVXPY runs of one solver: the tight run (its first call gives
    the setup: wall time minus solve time; building the problem is timed by
    the caller) and the ladder.  Returns ``(tight, setup_s, [(solve
    seconds, objective, eps, status)], note)``; ``tight`` is
    ``(objective, status, gap)`` or None when it failed or was stopped."""
    limit = _time_limit_opts(solver, budget)

    def run(opts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.solve(solver=solver, solver_opts={**opts, **limit}, **params)

    # started before the memory check, which compiles for Clarabel: the setup includes it
    start = time.perf_counter()
    if solver == "CLARABEL" and model.uses_sdp:
        need = _dense_psd_bytes(model, solver)
        if need > MEMORY_SHARE * _total_memory():
            return None, None, [], f"not run: its dense PSD blocks need {need / 2**30:.0f} GiB"
    try:
        tight = run(_ladder_opts(solver, CURVE_REFERENCE_EPS))
    except SolverError as exc:
        return None, None, [], f"tight run: {exc.status}"
    setup_s = time.perf_counter() - start - tight.solve_time
    f_tight = model.objective_at(tight.variables, **params)
    points = []
    for eps in CLARABEL_LADDER if solver == "CLARABEL" else SCS_LADDER:
        try:
            result = run(_ladder_opts(solver, eps))
        except SolverError:  # stopped by the budget: no point at this setting
            continue
        points.append((result.solve_time, model.objective_at(result.variables, **params), eps, result.status))
    points.append((tight.solve_time, f_tight, CURVE_REFERENCE_EPS, tight.status))
    return (f_tight, tight.status, tight.gap), setup_s, points, ""


def _curve_problem(label, size, budget, progress, jit=True):
    model, params, fast, fits = _curve_case(label, size, jit)
    size_text = "d={}, T={}, n={}".format(*size)
    objective = functools.partial(_objective_of, model, params)
    timed = {}
    for name, fit in fits.items():
        progress(f"[bench --plot] {label} {size_text}: {name}, tol {CURVE_TOLS[0]:g} .. {CURVE_TOLS[-1]:g} ...")
        timed[name] = _fit_points(fit, objective, CURVE_TOLS)
    build_s = _build_time(model)
    setup, notes, certified = {}, {}, []
    for solver, name in _CVXPY_NAMES.items():
        progress(f"[bench --plot] {label} {size_text}: {name} ...")
        tight, setup_s, points, note = _cvxpy_points(model, params, solver, budget)
        if note:
            notes[name] = note
        if tight is None:
            continue
        # both solvers would pay the build alone: each setup counts it
        setup[name] = build_s + setup_s
        timed[name] = points
        # every run's objective is P at a point the solver returned, an upper bound on the optimum: the lowest
        # certified one is the tightest
        certified += [(f, name, eps) for _, f, eps, status in points if status == "optimal"]
    if certified:
        p_star, source, eps = min(certified)
        p_star_from = f"{source} (eps {eps:g})"
    else:  # no CVXPY certificate (stopped or not run): the best point of any solver, said so
        p_star = min(f for points in timed.values() for _, f, *_ in points)
        p_star_from = "best point of any solver (no certified CVXPY run)"
    scale = max(abs(p_star), np.finfo(float).tiny)
    curves = {name: [(seconds, (f - p_star) / scale) for seconds, f, *_ in points] for name, points in timed.items()}
    settings = {name: [point[2] for point in points] for name, points in timed.items()}
    return {"problem": label, "size": size_text, "p_star": p_star, "p_star_from": p_star_from, "fast": fast,
            "curves": curves, "settings": settings, "setup_s": setup, "notes": notes}


def _objective_of(model, params, candidate):
    return model.objective_at(candidate, **params)


def convergence_curves(quick=False, budget=120.0, progress=lambda message: None, cases=None):
    """Suboptimality against time of every solver on the same instance of
    each problem: the data of ``mtlcvx bench --plot``.

    On each problem the fast estimator is fitted at each tolerance of
    :data:`CURVE_TOLS` (each a separate timed fit, best of
    :data:`CURVE_REPEATS`: its whole ``fit``); the CVXPY reference is solved
    with Clarabel along :data:`CLARABEL_LADDER` and SCS along
    :data:`SCS_LADDER` (the solver's solve time; the setup, the first
    call's time beyond its solve, is reported apart) and once tight
    (:data:`CURVE_REFERENCE_EPS`); on the shared-design L21 problem also
    scikit-learn's ``MultiTaskLasso`` and, when importable, celer's
    ``mtl_path`` and (not in the quick run: numba's compilation of it takes
    longer than the whole quick run) skglm's ``MultiTaskLasso``, along
    :data:`CURVE_TOLS`.
    Single-threaded BLAS, as :func:`run_bench`.

    Parameters
    ----------
    quick : bool
        The small sizes of :data:`QUICK_CURVE_CASES` (seconds) instead of
        :data:`CURVE_CASES`.
    budget : float
        Time limit of one reference solve, in seconds.
    progress : callable
        Called with one line of text per solver and problem.
    cases : list of (str, tuple), optional
        ``(problem, (d, T, n))`` pairs instead of the defaults, the problems
        among those of :data:`CURVE_CASES` (the size of the SG-MTL W-step is
        its set's, and only ``T`` counts for GGMTL).

    Returns
    -------
    list of dict
        One per problem: ``problem``, ``size``; ``p_star``, the reference
        value: the lowest objective of CVXPY's certified runs (status
        ``optimal``), and ``p_star_from``, which run gave it; ``fast``, the
        name of mtlcvx's solver; ``curves``, ``{solver name: [(seconds,
        relative suboptimality), ...]}`` with the relative suboptimality
        ``(P(W) - P*) / |P*|`` unclipped (negative when a solver's answer is
        below the reference), in ladder order (loosest first; the CVXPY
        curves end with the tight run); ``settings``, the tolerance of each
        point; ``setup_s``, ``{CVXPY solver name: seconds}``; ``notes``,
        why a CVXPY solver has no curve.
    """
    check_bool(quick, "quick")
    check_scalar_param(budget, "budget", low=0, low_inclusive=False)
    cases = _check_cases(cases, quick)
    with threadpool_limits(limits=1):
        return [_curve_problem(label, size, budget, progress, jit=not quick) for label, size in cases]


def _check_cases(cases, quick):
    if cases is None:
        return QUICK_CURVE_CASES if quick else CURVE_CASES
    known = [label for label, _ in CURVE_CASES]
    if not isinstance(cases, (list, tuple)):
        raise TypeError(f"cases must be a list of (problem, (d, T, n)) pairs, got {type(cases).__name__}")
    for case in cases:
        if not (isinstance(case, (list, tuple)) and len(case) == 2 and case[0] in known
                and isinstance(case[1], (list, tuple)) and len(case[1]) == 3
                and all(isinstance(v, (int, np.integer)) and v > 0 for v in case[1])):
            raise ValueError(f"cases: each case is (problem, (d, T, n)) with a problem among {known} and positive "
                             f"integer sizes, got {case!r}")
    return list(cases)


_PLOT_FORMATS = (".png", ".pdf", ".svg")


def check_plot_path(path, name="path"):
    """Refuse a ``--plot`` FILE whose format (suffix) is not png, pdf or
    svg, or when matplotlib is missing, before any timing runs.

    Parameters
    ----------
    path : str or path-like
    name : str
        What the messages call it.

    Raises
    ------
    TypeError
        ``path`` is not a string or path.
    ValueError
        The suffix is not ``.png``, ``.pdf`` or ``.svg``.
    ImportError
        matplotlib is not installed (the ``plot`` extra).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file name (str or path), got {type(path).__name__}")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _PLOT_FORMATS:
        raise ValueError(f"{name} must end in {', '.join(_PLOT_FORMATS)} (the figure's format), got {path!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError('the convergence plot needs matplotlib, the "plot" extra: pip install "mtlcvx[plot]"') \
            from None


def plot_convergence(problems, path):
    """Draw :func:`convergence_curves`'s data, one panel per problem, and
    save it to ``path`` (png, pdf or svg by the suffix, Agg canvas).

    Relative suboptimality on a log axis, clipped below at
    :data:`SUBOPTIMALITY_FLOOR`; time on a log axis.  Each CVXPY solver's
    setup is a dotted vertical line of its colour.

    Parameters
    ----------
    problems : list of dict
        What :func:`convergence_curves` returns (or its JSON).
    path : str or path-like
        Ends in ``.png``, ``.pdf`` or ``.svg``; see :func:`check_plot_path`.

    Returns
    -------
    str or path-like
        ``path``.
    """
    check_plot_path(path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    names = list(dict.fromkeys(name for problem in problems for name in problem["curves"]))
    # mtlcvx's solver differs by problem (GroupLasso, TraceNorm, ...): one colour for all of them
    others = iter(f"C{k}" for k in range(1, 10))
    colors = {name: "C0" if name.startswith("mtlcvx") else next(others, "C9") for name in names}
    ncols = min(3, len(problems))
    nrows = -(-len(problems) // ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.0 * nrows + 1.4))
    FigureCanvasAgg(fig)  # no pyplot: no global backend, no open figure left behind
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    legend = {}
    for ax, problem in zip(axes, problems):
        for name, points in problem["curves"].items():
            times = [seconds for seconds, _ in points]
            values = [max(value, SUBOPTIMALITY_FLOOR) for _, value in points]
            ours = name == problem["fast"]
            legend[name] = ax.plot(times, values, marker="o", ms=4 if ours else 3, lw=2 if ours else 1,
                                   color=colors[name])[0]
        for name, seconds in problem["setup_s"].items():
            legend[f"{name} setup (first call beyond its solve)"] = ax.axvline(seconds, color=colors[name], ls=":",
                                                                               lw=1.2)
            ax.annotate(f"setup {seconds:.2g} s", (seconds, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", rotation=90, va="top", fontsize=6,
                        color=colors[name])
        ax.set(xscale="log", yscale="log", xlabel="time (s)", ylabel="(P(W) - P*) / P*")
        # whole decades at both ends: a span under one decade would get overlapping minor labels, or none
        times = [seconds for points in problem["curves"].values() for seconds, _ in points]
        times += list(problem["setup_s"].values())
        ax.set_xlim(10.0 ** np.floor(np.log10(min(times))), 10.0 ** np.ceil(np.log10(max(times))))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{problem['problem']}, {problem['size']}\nP* = {problem['p_star']:.10g}: "
                     f"{problem['p_star_from']}", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    ours = [name for name in legend if name.startswith("mtlcvx")]
    if ours:  # one entry for mtlcvx's solvers, which share a colour
        handle = legend[ours[0]]
        legend = {"mtlcvx: " + ", ".join(name.removeprefix("mtlcvx ") for name in ours): handle,
                  **{name: h for name, h in legend.items() if name not in ours}}
    for ax in axes[len(problems):]:
        ax.axis("off")
    if len(axes) > len(problems):  # an empty panel: the legend goes there
        axes[-1].legend(list(legend.values()), list(legend), loc="center", fontsize=8)
        rows_of_legend = 0
    else:
        fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=min(4, len(legend)), fontsize=8)
        rows_of_legend = -(-len(legend) // 4)
    fig.suptitle("Suboptimality against time, every solver on the same instance. P* = the CVXPY reference's "
                 "optimum (lowest objective of a certified Clarabel/SCS run);\nCVXPY: solve time, its setup "
                 f"(compile, solver setup) dotted; mtlcvx and peers: whole fit; values below "
                 f"{SUBOPTIMALITY_FLOOR:g} drawn at {SUBOPTIMALITY_FLOOR:g}", fontsize=9)
    fig.tight_layout(rect=(0, 0.03 + 0.2 * rows_of_legend / fig.get_figheight(), 1, 0.95))
    fig.savefig(path, dpi=120)
    return path


def _time_to(points, target):
    """The shortest time of a point at relative suboptimality ``<= target``."""
    reached = [seconds for seconds, value in points if value <= target]
    return min(reached) if reached else None


def run_convergence(quick=False, budget=120.0, progress=lambda message: None, plot=None):
    """:func:`convergence_curves`, summarised as a table and drawn.

    Parameters
    ----------
    quick, budget, progress
        As :func:`convergence_curves`.
    plot : str or path-like, optional
        Where :func:`plot_convergence` saves the figure; checked (format,
        matplotlib) before any timing.

    Returns
    -------
    dict
        ``{"problems": convergence_curves(...), "rows", "text", "figures",
        "quick", "budget_s"}``: one row per problem and solver with its
        number of points, its setup (CVXPY), ``time_to_1e-6`` (the
        shortest time of a point at relative suboptimality ``<= 1e-6``) and
        the best relative suboptimality reached.
    """
    if plot is not None:
        check_plot_path(plot)
    problems = convergence_curves(quick=quick, budget=budget, progress=progress)
    rows = []
    for problem in problems:
        for name, points in problem["curves"].items():
            rows.append({"problem": problem["problem"], "size": problem["size"], "solver": name,
                         "points": len(points), "setup_s": problem["setup_s"].get(name),
                         "time_to_1e-6": _time_to(points, 1e-6),
                         "best_rel_subopt": min(value for _, value in points)})
        for name, note in problem["notes"].items():
            rows.append({"problem": problem["problem"], "size": problem["size"], "solver": f"{name}: {note}"})
    columns = ["problem", "size", "solver", "points", "setup_s", "time_to_1e-6", "best_rel_subopt"]
    text = format_table(rows, columns, title="convergence: relative suboptimality (P - P*) / |P*|, P* = CVXPY "
                                             "reference optimum; time_to_1e-6 = fastest point at <= 1e-6 "
                                             "(CVXPY: solve time, setup apart)")
    figures = [plot_convergence(problems, plot)] if plot is not None else []
    return {"problems": problems, "rows": rows, "text": text, "figures": figures, "quick": quick,
            "budget_s": budget}
