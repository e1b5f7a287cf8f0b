"""Grid search on School: parallel speedup, overhead per fit, warm starts.

A 5-fold per-task grid of 20 ``lam`` values for GroupLasso on the School
data (139 tasks, 27 features, standardised), timed four ways, interleaved,
``--repeats`` times each (medians reported):

* ``n_jobs=1`` and ``n_jobs=2`` (cold starts): the parallel speedup;
* a bare loop (clone, set_params, fit, predict, score on the same splits,
  no GridSearch): the overhead per fit of GridSearch, from the difference;
* ``warm_start="lam"`` (the path from the largest ``lam`` down, each fit
  starting at the previous solution) against cold starts, with the
  largest difference of the mean test scores.

Run: ``python benchmarks/grid_search.py [--repeats 5] [--json FILE]``.
The loky worker pool is started once before timing (its start-up, about
a second, is reported separately).
"""

import argparse
import json
import statistics
import time

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

import mtlcvx as mc
from mtlcvx.model_selection import GridSearch, TaskKFold, get_scorer
from mtlcvx.terms import L21, SquaredLoss, lambda_max


def school():
    data = mc.datasets.load_school()
    X, y, task = data.stacked()
    return mc.MultiTaskData.from_long((X - X.mean(axis=0)) / X.std(axis=0), y, task)


def lam_grid(data, n=20):
    top = lambda_max(L21(), SquaredLoss().bind(data.centered()[0]))
    return list(top * np.logspace(0, -3, n))


def bare_loop(estimator, grid, data, cv):
    scorer = get_scorer("neg_mse")
    scores = []
    for train, test in cv.split(data):
        fit_part, test_part = data.subset(train), data.subset(test)
        for lam in grid:
            scores.append(scorer(clone(estimator).set_params(lam=lam).fit(fit_part), test_part))
    return scores


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)

    data = school()
    grid = lam_grid(data)
    cv = TaskKFold(5, shuffle=True, random_state=0)
    est = mc.GroupLasso()
    n_fits = len(grid) * cv.get_n_splits()

    def search(n_jobs, warm=None):
        return GridSearch(est, {"lam": grid}, cv=cv, scoring="neg_mse", n_jobs=n_jobs, warm_start=warm,
                          refit=False).fit(data)

    with threadpool_limits(limits=1):
        pool_start, _ = timed(lambda: search(2))
        runs = {"n_jobs=1": [], "n_jobs=2": [], "bare loop": [], "warm, n_jobs=1": [], "warm, n_jobs=2": []}
        results = {}
        for _ in range(args.repeats):
            for name, func in (("n_jobs=1", lambda: search(1)), ("n_jobs=2", lambda: search(2)),
                               ("bare loop", lambda: bare_loop(est, grid, data, cv)),
                               ("warm, n_jobs=1", lambda: search(1, "lam")),
                               ("warm, n_jobs=2", lambda: search(2, "lam"))):
                seconds, results[name] = timed(func)
                runs[name].append(seconds)
    median = {name: statistics.median(times) for name, times in runs.items()}
    cold, warm = results["n_jobs=1"], results["warm, n_jobs=1"]
    fit_seconds = float(np.sum(cold.cv_results_["mean_fit_time"]) * cv.get_n_splits())
    report = {
        "data": "School, 139 tasks, 27 features (standardised)",
        "grid": f"GroupLasso, {len(grid)} lam values from lam_max to 1e-3 lam_max, TaskKFold(5): {n_fits} fits",
        "repeats": args.repeats,
        "median_seconds": median,
        "pool_start_seconds": pool_start - median["n_jobs=2"],
        "speedup_n_jobs_2": median["n_jobs=1"] / median["n_jobs=2"],
        "overhead_per_fit_ms": 1e3 * (median["n_jobs=1"] - median["bare loop"]) / n_fits,
        "fit_seconds_inside_grid": fit_seconds,
        "warm_speedup_n_jobs_1": median["n_jobs=1"] / median["warm, n_jobs=1"],
        "warm_speedup_n_jobs_2": median["n_jobs=2"] / median["warm, n_jobs=2"],
        "warm_vs_cold_max_abs_mean_score_diff": float(np.max(np.abs(
            warm.cv_results_["mean_test_score"] - cold.cv_results_["mean_test_score"]))),
        "same_choice_warm_and_cold": bool(np.argmax(warm.cv_results_["mean_test_score"])
                                          == np.argmax(cold.cv_results_["mean_test_score"])),
        "bare_loop_scores_equal_grid": bool(np.allclose(
            np.array(results["bare loop"]).reshape(cv.get_n_splits(), len(grid)).T,
            np.column_stack([cold.cv_results_[f"split{k}_test_score"] for k in range(cv.get_n_splits())]),
            rtol=0, atol=0)),
    }
    for name, seconds in median.items():
        print(f"{name:<16} {seconds:8.3f} s (median of {args.repeats})")
    for key in ("speedup_n_jobs_2", "overhead_per_fit_ms", "fit_seconds_inside_grid", "pool_start_seconds",
                "warm_speedup_n_jobs_1", "warm_speedup_n_jobs_2", "warm_vs_cold_max_abs_mean_score_diff",
                "same_choice_warm_and_cold", "bare_loop_scores_equal_grid"):
        print(f"{key:<40} {report[key]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
