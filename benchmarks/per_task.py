"""mtlcvx's multi-task group lasso with per-task designs, at equal accuracy.

Problem (``m`` tasks, task ``t`` with its own design ``X_t``, ``n_t x d``,
the ``n_t`` unequal)::

    P(W) = sum_t 1/(2 n_t) ||y_t - X_t w_t||_2^2 + alpha sum_j ||W_j||_2

``mtlcvx.GroupLasso(lam=alpha, scaling="mean", fit_intercept=False)`` fitted
on the lists ``Xs, ys``.  Measured, per size ``(d, m, n)`` and ratio
``alpha / alpha_max``:

* **time** to a relative objective gap ``(P - P*) / P* <= 1e-6``
  (``--target``).  Equal accuracy as in ``benchmarks/peers.py``: ``P*`` is
  the lowest objective mtlcvx and the CVXPY references (where run) reach at
  tolerance ``1e-12``; each solver is then timed at the loosest of the
  tolerances ``1e-2, 1e-3, ...`` whose answer reaches the target.  mutar is
  not asked for ``1e-12`` (its criterion is the relative change of the
  coefficients; with mutar at ``1e-12``, the tight solves of (2000, 100,
  200), 0.01 had not finished after 16 minutes): its
  ladder stops at the target, or after a fit longer than ``--budget``
  seconds (then "not reached").  An answer of any solver below ``P*`` by
  more than the target is reported in the notes (it would show ``P*`` not
  optimal).  Times are medians of ``--repeats`` runs, the solvers
  interleaved (round robin), BLAS limited to one thread.
* **full-gradient evaluations** of that fit:
  ``est.solver_info_.gradient_evaluations`` (work in full-gradient
  equivalents; NaN where the solver does not count it).
* **peak memory** of that fit over the data's size: ``tracemalloc``'s peak
  during ``fit`` minus the traced memory before it, divided by the bytes of
  the ``X_t`` and ``y_t`` (a separate, untimed fit).
* with ``--growth``: the log-log slopes of mtlcvx's time and gradient
  evaluations (least squares over the points) at a fixed number of non-zero
  rows (``--growth-nonzero``) as ``d`` doubles (``d = 500, 1000, 2000`` at
  ``m = 20``) and as ``m`` doubles (``m = 25, 50, 100`` at ``d = 500``),
  ``n = 100``; ``P*`` from mtlcvx alone at its tightest tolerance.

Peers (each skipped, with a note, when not installed):

* the CVXPY reference (``est.reference_model(Xs, ys)``) solved by Clarabel
  (tolerance ladder on ``tol_gap_abs``, ``tol_gap_rel``, ``tol_feas``) and
  by SCS (``eps_abs``, ``eps_rel``); their time is the solver's own
  (``ReferenceResult.solve_time``: CVXPY's compilation excluded, the
  problem built once before timing).  Skipped when the data have more than
  ``--reference-max`` entries (``sum_t n_t d``).
* mutar's ``GroupLasso`` (H. Janati, ``pip`` package ``mutar`` 0.0.1).  It
  takes one 3-d array ``(m, N, d)``, equal sample counts, and minimises
  ``sum_t 1/(2 N) ||y_t - X_t w_t||^2 + alpha ||W||_21`` (checked
  numerically, :func:`check_mutar_convention`).  Each task is padded with
  zero rows to ``N = max_t n_t`` (zero rows add nothing to the loss) and
  scaled by ``sqrt(N / n_t)`` (turning its ``1/N`` into our ``1/n_t``):
  mutar's objective on these arrays is ``P`` exactly, at ``alpha = lam``.
  The padding is done once, outside the timed fits, and the timed fit
  includes mutar's own copies (its input check, a Fortran-order copy).
  Its ``tol`` bounds the relative change of the coefficients in an epoch.

Data: ``n_t`` uniform in ``[n/2, 3n/2]``; ``X_t`` entries ``N(0, 1)``;
``W`` with ``max(5, d // 20)`` non-zero rows (entries ``N(0, 1)``);
``y_t = X_t w_t + 0.5 e_t``, ``e_t`` standard normal; ``alpha = ratio *
alpha_max``, ``alpha_max = max_j ||(X_t[:, j]^T y_t / n_t)_t||_2`` (the
smallest ``alpha`` with ``W = 0`` optimal).  Seed 0.

Run: ``python benchmarks/per_task.py [--sizes 80,10,50 500,20,100] [--ratios 0.1 0.01]
[--repeats 5] [--growth] [--reference-max 1000000] [--budget 120] [--json FILE]``.
"""

import argparse
import json
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import mtlcvx as mc

DEFAULT_SIZES = ["80,10,50", "500,20,100", "2000,100,200"]
TOLS = [10.0 ** -k for k in range(2, 13)]
GROWTH_N = 100
GROWTH_D = [(500, 20), (1000, 20), (2000, 20)]
GROWTH_M = [(500, 25), (500, 50), (500, 100)]
REFERENCE_MAX = 10**6


def make_problem(d, m, n, seed=0, n_nonzero=None):
    """``Xs, ys``: ``m`` tasks, ``n_t`` uniform in ``[n/2, 3n/2]``."""
    rng = np.random.default_rng(seed)
    n_samples = rng.integers(max(1, n // 2), 3 * n // 2 + 1, size=m)
    W = np.zeros((d, m))
    rows = rng.choice(d, max(5, d // 20) if n_nonzero is None else n_nonzero, replace=False)
    W[rows] = rng.standard_normal((len(rows), m))
    Xs = [rng.standard_normal((n_t, d)) for n_t in n_samples]
    ys = [X @ W[:, t] + 0.5 * rng.standard_normal(X.shape[0]) for t, X in enumerate(Xs)]
    return Xs, ys


def alpha_max(Xs, ys):
    G = np.column_stack([X.T @ y / X.shape[0] for X, y in zip(Xs, ys)])
    return np.linalg.norm(G, axis=1).max()


def objective(Xs, ys, W, alpha):
    loss = sum(0.5 * np.sum((y - X @ W[:, t]) ** 2) / X.shape[0] for t, (X, y) in enumerate(zip(Xs, ys)))
    return loss + alpha * np.linalg.norm(W, axis=1).sum()


def data_bytes(Xs, ys):
    return sum(X.nbytes + y.nbytes for X, y in zip(Xs, ys))


class Problem:
    """The data and what the peers build from them once (outside timing)."""

    def __init__(self, Xs, ys):
        self.Xs, self.ys = Xs, ys
        self._padded = None
        self._reference = None

    @property
    def shape(self):
        return self.Xs[0].shape[1], len(self.Xs), sum(X.shape[0] for X in self.Xs)

    def padded(self):
        """mutar's arrays: ``(m, N, d)`` and ``(m, N)``, each task padded
        with zero rows to ``N = max n_t`` and scaled by ``sqrt(N / n_t)``."""
        if self._padded is None:
            N = max(X.shape[0] for X in self.Xs)
            d, m = self.Xs[0].shape[1], len(self.Xs)
            X3, Y = np.zeros((m, N, d)), np.zeros((m, N))
            for t, (X, y) in enumerate(zip(self.Xs, self.ys)):
                scale = np.sqrt(N / X.shape[0])
                X3[t, :X.shape[0]] = scale * X
                Y[t, :X.shape[0]] = scale * y
            self._padded = X3, Y
        return self._padded

    def reference(self):
        """The CVXPY reference model (its lam a parameter: built once)."""
        if self._reference is None:
            est = mc.GroupLasso(lam=1.0, scaling="mean", fit_intercept=False)
            self._reference = est.reference_model(self.Xs, self.ys)[0]
        return self._reference


# each solver: (problem, alpha, tol) -> (W, extra); extra["time"], when given, is the solver's own time
def _mtlcvx(problem, alpha, tol):
    est = mc.GroupLasso(lam=alpha, scaling="mean", fit_intercept=False, tol=tol, max_iter=10**5)
    est.fit(problem.Xs, problem.ys)
    return est.coef_, {"gradient_evaluations": float(est.solver_info_.gradient_evaluations)}


def _mutar(problem, alpha, tol):
    from mutar import GroupLasso

    X3, Y = problem.padded()
    return GroupLasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=10**5).fit(X3, Y).coef_, {}


def _reference(solver, opts):
    def solve(problem, alpha, tol):
        model = problem.reference()
        try:
            result = model.solve(solver=solver, solver_opts=opts(tol), lam=alpha)
        except mc.SolverError:
            return None, {}
        return result.W, {"time": result.solve_time}

    return solve


_clarabel = _reference("CLARABEL", lambda tol: {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol})
_scs = _reference("SCS", lambda tol: {"eps_abs": tol, "eps_rel": tol})

SOLVERS = {"mtlcvx": _mtlcvx, "mutar": _mutar, "CVXPY+Clarabel": _clarabel, "CVXPY+SCS": _scs}
REFERENCE_SOLVERS = ("CVXPY+Clarabel", "CVXPY+SCS")
#: solvers whose time at the tightest tolerance is unbounded: not used for P*, their ladder under --budget
UNBOUNDED = ("mutar",)
BUDGET = 120.0


def available():
    """The installed solvers, and a note for each one that is not."""
    import cvxpy as cp

    found, notes = {"mtlcvx": _mtlcvx}, []
    try:
        import mutar  # noqa: F401
        found["mutar"] = _mutar
    except ImportError:
        notes.append("mutar: not installed, skipped")
    for name in REFERENCE_SOLVERS:
        if name.split("+")[1].upper() in cp.installed_solvers():
            found[name] = SOLVERS[name]
        else:
            notes.append(f"{name}: solver not installed, skipped")
    return found, notes


def quiet(func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args)


def check_mutar_convention(seed=0):
    """mutar's objective on the padded, scaled arrays is ours at ``alpha =
    lam``: its answer's objective ``P`` is mtlcvx's optimum, and at
    ``alpha_max`` its answer is zero.  Returns the relative difference of
    the two optima."""
    problem = Problem(*make_problem(30, 4, 20, seed))
    a_max = alpha_max(problem.Xs, problem.ys)
    zero, _ = quiet(_mutar, problem, 1.0001 * a_max, 1e-10)
    assert np.abs(zero).max() == 0, "mutar's alpha is not ours: nonzero answer at alpha_max"
    non_zero, _ = quiet(_mutar, problem, 0.99 * a_max, 1e-10)
    assert np.abs(non_zero).max() > 0, "mutar's alpha is not ours: zero answer below alpha_max"
    alpha = 0.1 * a_max
    ours = objective(problem.Xs, problem.ys, quiet(_mtlcvx, problem, alpha, 1e-12)[0], alpha)
    theirs = objective(problem.Xs, problem.ys, quiet(_mutar, problem, alpha, 1e-12)[0], alpha)
    return abs(theirs - ours) / ours


def _objective_of(problem, func, alpha, tol):
    W, extra = quiet(func, problem, alpha, tol)
    if W is None:
        return np.inf, extra
    return objective(problem.Xs, problem.ys, W, alpha), extra


def loosest_tolerance(func, problem, alpha, p_star, target, budget=np.inf):
    """``(tol, gap, extra)``: the loosest tolerance of ``TOLS`` at which
    ``func`` reaches the target relative gap (None if none does, or if a
    fit took more than ``budget`` seconds first)."""
    gap, extra = np.inf, {}
    for tol in TOLS:
        start = time.perf_counter()
        value, extra = _objective_of(problem, func, alpha, tol)
        gap = (value - p_star) / p_star
        if gap <= target:
            return tol, gap, extra
        if time.perf_counter() - start > budget:
            break
    return None, gap, extra


def peak_memory(problem, func, alpha, tol):
    """Peak traced memory of one fit (over the memory before it), bytes."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        quiet(func, problem, alpha, tol)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def measure(problem, alpha, solvers, repeats, target, budget=np.inf):
    """``(p_star, {name: {tol, gap, time, gradient_evaluations}})``."""
    for func in solvers.values():  # compile (numba), import, build the reference, warm caches
        quiet(func, problem, alpha, 1e-2)
    p_star = min(_objective_of(problem, func, alpha, TOLS[-1])[0]
                 for name, func in solvers.items() if name not in UNBOUNDED)
    found = {name: loosest_tolerance(func, problem, alpha, p_star, target,
                                     budget if name in UNBOUNDED else np.inf)
             for name, func in solvers.items()}
    times = {name: [] for name in solvers}
    for _ in range(repeats):
        for name, func in solvers.items():
            tol = found[name][0]
            if tol is None:
                continue
            start = time.perf_counter()
            _, extra = quiet(func, problem, alpha, tol)
            elapsed = time.perf_counter() - start
            times[name].append(extra.get("time", elapsed))
    out = {}
    for name in solvers:
        tol, gap, extra = found[name]
        out[name] = {"tol": tol, "gap": float(gap), "time": statistics.median(times[name]) if times[name] else None,
                     "gradient_evaluations": extra.get("gradient_evaluations")}
    return p_star, out


def run_case(d, m, n, ratio, solvers, repeats, target, reference_max=REFERENCE_MAX, budget=BUDGET, seed=0):
    problem = Problem(*make_problem(d, m, n, seed))
    alpha = ratio * alpha_max(problem.Xs, problem.ys)
    entries = problem.shape[2] * d
    notes = []
    if entries > reference_max:
        skipped = [name for name in REFERENCE_SOLVERS if name in solvers]
        solvers = {name: func for name, func in solvers.items() if name not in skipped}
        if skipped:
            notes.append(f"{', '.join(skipped)} not run: {entries} data entries > --reference-max {reference_max}")
    p_star, results = measure(problem, alpha, solvers, repeats, target, budget)
    for name, r in results.items():
        if r["gap"] < -target:
            notes.append(f"{name}'s answer is below P* by {-r['gap']:.1e} (relative) at ({d}, {m}, {n}), {ratio}")
        if r["tol"] is None and name in UNBOUNDED:
            notes.append(f"{name}: target not reached at ({d}, {m}, {n}), {ratio} (last gap {r['gap']:.1e}; "
                         f"ladder stopped after a fit over --budget {budget} s or at 1e-12)")
    row = {"d": d, "m": m, "n": n, "n_samples": [X.shape[0] for X in problem.Xs], "ratio": ratio,
           "alpha": alpha, "p_star": p_star, "data_bytes": data_bytes(problem.Xs, problem.ys), "notes": notes,
           "solvers": results}
    tol = results["mtlcvx"]["tol"]
    row["memory_ratio"] = (None if tol is None else
                           peak_memory(problem, solvers["mtlcvx"], alpha, tol) / row["data_bytes"])
    return row


def slope(xs, ys):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if len(xs) < 2 or not np.all(np.isfinite(ys)) or np.any(ys <= 0):
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def run_growth(ratio, repeats, target, n_nonzero, n=GROWTH_N, series=(("d", GROWTH_D), ("m", GROWTH_M))):
    """mtlcvx's time and gradient evaluations as ``d`` (then ``m``) doubles,
    the number of non-zero rows fixed; their log-log slopes."""
    out = {}
    for axis, sizes in series:
        points = []
        for d, m in sizes:
            problem = Problem(*make_problem(d, m, n, n_nonzero=n_nonzero))
            alpha = ratio * alpha_max(problem.Xs, problem.ys)
            _, results = measure(problem, alpha, {"mtlcvx": _mtlcvx}, repeats, target)
            points.append({"d": d, "m": m, **results["mtlcvx"]})
        xs = [p[axis] for p in points]
        reached = [p for p in points if p["time"] is not None]
        out[axis] = {"ratio": ratio, "n": n, "n_nonzero": n_nonzero, "points": points,
                     "time_slope": slope(xs, [p["time"] for p in points]) if len(reached) == len(points) else None,
                     "gradient_slope": slope(xs, [p["gradient_evaluations"] for p in points])}
    return out


def _fmt(value, spec):
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def format_rows(rows, names):
    peers = [name for name in names if name != "mtlcvx"]
    lines = ["| (d, m, n) | alpha/alpha_max | " + " | ".join(f"{name} time (tol)" for name in names)
             + " | mtlcvx grad. evals | mtlcvx peak memory / data | "
             + "".join(f"mtlcvx / {name} | " for name in peers).rstrip(" "),
             "|" + "---|" * (4 + len(names) + len(peers))]
    for row in rows:
        cells = []
        for name in names:
            r = row["solvers"].get(name)
            if r is None:
                cells.append("not run")
            elif r["time"] is None:
                cells.append("not reached")
            else:
                cells.append(f"{r['time']:.4f} s ({r['tol']:.0e})")
        ours = row["solvers"]["mtlcvx"]
        cells.append(_fmt(ours["gradient_evaluations"], ".1f"))
        cells.append(_fmt(row["memory_ratio"], ".2f"))
        for name in peers:
            peer = row["solvers"].get(name, {}).get("time")
            cells.append("-" if ours["time"] is None or peer is None else f"{ours['time'] / peer:.3g}")
        lines.append(f"| ({row['d']}, {row['m']}, {row['n']}) | {row['ratio']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_growth(growths):
    lines = ["| doubling | alpha/alpha_max | (d, m): time, grad. evals | time slope | grad. evals slope |",
             "|---|---|---|---|---|"]
    for growth in growths:
        for axis, g in growth.items():
            points = ", ".join(f"({p['d']}, {p['m']}): {_fmt(p['time'], '.4f')} s, "
                               f"{_fmt(p['gradient_evaluations'], '.1f')}" for p in g["points"])
            lines.append(f"| {axis} | {g['ratio']} | {points} | {_fmt(g['time_slope'], '.2f')} | "
                         f"{_fmt(g['gradient_slope'], '.2f')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="d,m,n triples (n: mean samples per task)")
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.1, 0.01])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target", type=float, default=1e-6)
    parser.add_argument("--solvers", nargs="+", default=None, help="subset of " + ", ".join(SOLVERS))
    parser.add_argument("--reference-max", type=int, default=REFERENCE_MAX,
                        help="run the CVXPY references up to this many data entries (sum_t n_t d)")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help="seconds: mutar's tolerance ladder stops after a fit longer than this")
    parser.add_argument("--growth", action="store_true", help="also measure the growth slopes in d and m")
    parser.add_argument("--growth-nonzero", type=int, default=25, help="non-zero rows of W in the growth runs")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    solvers, notes = available()
    if args.solvers:
        solvers = {name: solvers[name] for name in args.solvers if name in solvers}
        solvers.setdefault("mtlcvx", _mtlcvx)
    names = list(solvers)
    rows, growths = [], []
    with threadpool_limits(1):
        for size in args.sizes:
            d, m, n = (int(v) for v in size.split(","))
            for ratio in args.ratios:
                rows.append(run_case(d, m, n, ratio, solvers, args.repeats, args.target, args.reference_max,
                                     args.budget))
                print(format_rows(rows[-1:], names).splitlines()[-1], flush=True)
        if args.growth:
            for ratio in args.ratios:
                growths.append(run_growth(ratio, args.repeats, args.target, args.growth_nonzero))
    print(format_rows(rows, names))
    for note in notes + sorted({note for row in rows for note in row["notes"]}):
        print(f"note: {note}")
    if growths:
        print(format_growth(growths))
    result = {"rows": rows, "growth": growths, "notes": notes}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
