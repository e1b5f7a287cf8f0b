"""mtlcvx's multi-task group lasso against the Python peers, at equal accuracy.

Problem (one shared design ``X``, ``n x d``, ``m`` tasks), scikit-learn's
``MultiTaskLasso`` objective::

    P(W) = 1/(2n) ||Y - X W||_F^2 + alpha sum_j ||W_j||_2

``mtlcvx.GroupLasso(lam=alpha, scaling="mean", fit_intercept=False)`` fitted
on ``([X] * m, columns of Y)``, as a user would pass it, against
``sklearn.linear_model.MultiTaskLasso``, celer's ``mtl_path`` (the solver of its ``MultiTaskLasso``) and
``skglm.MultiTaskLasso`` (each with ``fit_intercept=False``).

Equal accuracy: the optimum ``P*`` is the lowest objective any solver reaches
at its tightest tolerance; each solver is then timed at the loosest of the
tolerances ``1e-2, 1e-3, ...`` whose answer has ``(P - P*) / P* <= 1e-6``
(``--target``).  Times are medians of ``--repeats`` runs, the solvers
interleaved (round robin), BLAS limited to one thread.  The ratio is
mtlcvx's time over the peer's: below 1, mtlcvx is faster.

Data: ``X`` entries ``N(0, 1)``; ``W`` with ``max(5, d // 20)`` non-zero rows,
entries ``N(0, 1)``; ``Y = X W + 0.5 E``, ``E`` standard normal;
``alpha = ratio * alpha_max``, ``alpha_max = max_j ||X_j^T Y||_2 / n``.

Peers are optional (``pip install ".[bench]"``); a missing one is skipped.

Run: ``python benchmarks/peers.py [--sizes 50,80,10 100,500,50] [--ratios 0.1 0.01]
[--repeats 5] [--json FILE]``.  ``--tolerances [1e-2 1e-6 1e-9]`` times
mtlcvx alone at those tolerances instead and reports the relative objective
gap each leaves: what ``GroupLasso``'s default ``tol = 1e-9`` buys, and at
what cost.
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import mtlcvx as mc

DEFAULT_SIZES = ["50,80,10", "100,500,50", "500,2000,20", "1000,5000,10"]
TOLS = [10.0 ** -k for k in range(2, 13)]


def make_problem(n, d, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = np.zeros((d, m))
    rows = rng.choice(d, max(5, d // 20), replace=False)
    W[rows] = rng.standard_normal((len(rows), m))
    Y = X @ W + 0.5 * rng.standard_normal((n, m))
    return X, Y


def alpha_max(X, Y):
    return np.linalg.norm(X.T @ Y, axis=1).max() / X.shape[0]


def objective(X, Y, W, alpha):
    R = Y - X @ W
    return 0.5 * (R * R).sum() / X.shape[0] + alpha * np.linalg.norm(W, axis=1).sum()


def _mtlcvx(X, Y, alpha, tol):
    m = Y.shape[1]
    est = mc.GroupLasso(lam=alpha, scaling="mean", fit_intercept=False, tol=tol, max_iter=10**5)
    est.fit([X] * m, [Y[:, t] for t in range(m)])
    return est.coef_


def _sklearn(X, Y, alpha, tol):
    from sklearn.linear_model import MultiTaskLasso

    return MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=10**5).fit(X, Y).coef_.T


def _celer(X, Y, alpha, tol):
    # celer's estimator class calls a scikit-learn method removed in 1.6:
    # its solver, the path function behind the class, is called directly
    from celer.homotopy import mtl_path

    coefs = mtl_path(np.asfortranarray(X), Y, alphas=np.array([alpha]), tol=tol, max_iter=10**4)[1]
    return coefs[:, :, 0].T


def _skglm(X, Y, alpha, tol):
    from skglm import MultiTaskLasso

    return MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=10**4).fit(X, Y).coef_.T


SOLVERS = {"mtlcvx": _mtlcvx, "scikit-learn": _sklearn, "celer": _celer, "skglm": _skglm}


def available():
    found = {"mtlcvx": _mtlcvx}
    for name, module in (("scikit-learn", "sklearn"), ("celer", "celer"), ("skglm", "skglm")):
        try:
            __import__(module)
        except ImportError:
            continue
        found[name] = SOLVERS[name]
    return found


def quiet(func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args)


def loosest_tolerance(func, X, Y, alpha, p_star, target):
    """The loosest tolerance of ``TOLS`` at which ``func`` reaches the
    target relative objective gap, and that gap (None if none does)."""
    for tol in TOLS:
        gap = (objective(X, Y, quiet(func, X, Y, alpha, tol), alpha) - p_star) / p_star
        if gap <= target:
            return tol, gap
    return None, gap


def run_case(n, d, m, ratio, solvers, repeats, target, seed=0):
    X, Y = make_problem(n, d, m, seed)
    alpha = ratio * alpha_max(X, Y)
    for func in solvers.values():  # compile (numba), import, warm caches
        quiet(func, X, Y, alpha, 1e-2)
    p_star = min(objective(X, Y, quiet(func, X, Y, alpha, TOLS[-1]), alpha) for func in solvers.values())
    tols = {name: loosest_tolerance(func, X, Y, alpha, p_star, target) for name, func in solvers.items()}
    times = {name: [] for name in solvers}
    for _ in range(repeats):
        for name, func in solvers.items():
            tol = tols[name][0]
            if tol is None:
                continue
            start = time.perf_counter()
            quiet(func, X, Y, alpha, tol)
            times[name].append(time.perf_counter() - start)
    row = {"n": n, "d": d, "m": m, "ratio": ratio, "p_star": p_star}
    for name in solvers:
        tol, gap = tols[name]
        row[name] = {"tol": tol, "gap": gap, "time": statistics.median(times[name]) if times[name] else None}
    return row


def tolerance_case(n, d, m, ratio, tols, repeats, seed=0):
    """mtlcvx alone at each of ``tols``: median time (interleaved) and the
    relative objective gap to the best objective any of the peers or
    mtlcvx reaches at its tightest tolerance (what the default buys)."""
    X, Y = make_problem(n, d, m, seed)
    alpha = ratio * alpha_max(X, Y)
    p_star = min(objective(X, Y, quiet(func, X, Y, alpha, TOLS[-1]), alpha) for func in available().values())
    gaps = {tol: (objective(X, Y, quiet(_mtlcvx, X, Y, alpha, tol), alpha) - p_star) / p_star for tol in tols}
    times = {tol: [] for tol in tols}
    for _ in range(repeats):
        for tol in tols:
            start = time.perf_counter()
            quiet(_mtlcvx, X, Y, alpha, tol)
            times[tol].append(time.perf_counter() - start)
    return {"n": n, "d": d, "m": m, "ratio": ratio,
            "tols": {f"{tol:.0e}": {"gap": gaps[tol], "time": statistics.median(times[tol])} for tol in tols}}


def format_tolerance_rows(rows, tols):
    keys = [f"{tol:.0e}" for tol in tols]
    lines = ["| (n, d, m) | alpha/alpha_max | " + " | ".join(f"tol {k}: time, rel. gap" for k in keys)
             + f" | time {keys[-1]} / {keys[0]} | time {keys[-1]} / {keys[1]} |", "|" + "---|" * (4 + len(keys))]
    for row in rows:
        cells = [f"{row['tols'][k]['time'] * 1e3:.1f} ms, {row['tols'][k]['gap']:.1e}" for k in keys]
        last = row["tols"][keys[-1]]["time"]
        cells += [f"{last / row['tols'][keys[0]]['time']:.2f}", f"{last / row['tols'][keys[1]]['time']:.2f}"]
        lines.append(f"| ({row['n']}, {row['d']}, {row['m']}) | {row['ratio']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_rows(rows, names):
    lines = ["| (n, d, m) | alpha/alpha_max | " + " | ".join(f"{name} time (tol)" for name in names)
             + " | " + " | ".join(f"mtlcvx / {name}" for name in names[1:]) + " |",
             "|" + "---|" * (2 + 2 * len(names) - 1)]
    for row in rows:
        cells = []
        for name in names:
            r = row[name]
            cells.append("not reached" if r["time"] is None else f"{r['time']:.4f} s ({r['tol']:.0e})")
        ours = row["mtlcvx"]["time"]
        for name in names[1:]:
            peer = row[name]["time"]
            cells.append("-" if ours is None or peer is None else f"{ours / peer:.2f}")
        lines.append(f"| ({row['n']}, {row['d']}, {row['m']}) | {row['ratio']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="n,d,m triples")
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.1, 0.01])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target", type=float, default=1e-6)
    parser.add_argument("--solvers", nargs="+", default=None, help="subset of " + ", ".join(SOLVERS))
    parser.add_argument("--json", default=None)
    parser.add_argument("--tolerances", nargs="*", type=float, default=None,
                        help="instead of the peers: mtlcvx's time and objective gap at these tolerances "
                             "(default 1e-2 1e-6 1e-9, the last being GroupLasso's default)")
    args = parser.parse_args(argv)
    if args.tolerances is not None:
        tols = args.tolerances or [1e-2, 1e-6, 1e-9]
        _measure(args, lambda n, d, m, ratio: tolerance_case(n, d, m, ratio, tols, args.repeats),
                 lambda rows: format_tolerance_rows(rows, tols))
        return
    solvers = available()
    if args.solvers:
        solvers = {name: solvers[name] for name in args.solvers if name in solvers}
    _measure(args, lambda n, d, m, ratio: run_case(n, d, m, ratio, solvers, args.repeats, args.target),
             lambda rows: format_rows(rows, list(solvers)))


def _measure(args, case, table):
    """``case`` at every size and ratio (BLAS on one thread), each row
    printed as it comes, then the table and the JSON."""
    rows = []
    with threadpool_limits(1):
        for size in args.sizes:
            n, d, m = (int(v) for v in size.split(","))
            for ratio in args.ratios:
                rows.append(case(n, d, m, ratio))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)

if __name__ == "__main__":
    main()
