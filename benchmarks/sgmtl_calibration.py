"""SG-MTL Table 2: the noise level (and weight scale) that give the paper's
STL MSE (issue 14).

The paper does not state the noise of ``y_t = X_t w_t + eps`` and says only
that the non-zero parts of ``W`` are "a random vector w with unit
variance".  STL (the elastic net per task) depends on nothing but each
task's data, so its CV MSE pins the noise down once the weights' scale is
fixed: 1.067 on set-1, 1.004 on set-2.  For each reading of the scale,

* ``entries``: every non-zero weight N(0, 1) (``weight_std = 1``);
* ``vector``: the vector's total variance ``E ||w||^2 = 1``
  (``weight_std = 1 / sqrt(s)``, ``s`` = the features per group),

and each noise standard deviation given, this prints the STL CV MSE (mean
and std over the 5 outer folds, the experiment's protocol and grid
``stl_lam`` x ``l1_ratio``, :func:`mtlcvx.experiments.sgmtl._cv_mse`) on
the data seeds given, and the ``lam`` chosen in each fold (to see whether
the grid's ends bind).  Whether each task has its own vector or its group's
(``--shared``) does not change STL's distribution, only the draw.

``--oracle`` adds the CV MSE of ridge on each task's TRUE support with the
Bayes-optimal weight ``noise^2 / weight_std^2`` (the posterior mean given
the support): a floor for any method that learns the support, as the
paper's MTL numbers must be above it.

``--all-methods`` runs every method of Table 2 (upper) with the full
configuration's grids instead of STL alone (``--max-folds 1``: the first
fold only), to see what the other methods give at a reading.

Run: ``python benchmarks/sgmtl_calibration.py --set set-1 --scale vector
--noise 0.1 0.2 0.3 [--seeds 0 1 2] [--shared] [--stl-lam ...] [--all-methods]
[--max-folds 5] [--json FILE]``.
Single-threaded BLAS; about 1.5 s per (noise, seed) on set-1, 20 s on set-2.
"""

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from mtlcvx.datasets import make_group_sparse
from mtlcvx.experiments.sgmtl import CONFIGS, PAPER_TABLE2, _cv_mse, _methods
from mtlcvx.model_selection import TaskKFold

#: (n_tasks, n_groups, n_features, n_samples, support_size, overlap) of each set
SHAPES = {"set-1": (30, 3, 21, 15, 7, 0.0), "set-2": (30, 5, 150, 100, 30, 0.3)}


def weight_std(name, scale):
    return 1.0 if scale == "entries" else 1.0 / np.sqrt(SHAPES[name][4])


def make(name, noise, scale, shared, seed):
    T, N, d, n, s, overlap = SHAPES[name]
    std = weight_std(name, scale)
    return make_group_sparse(T, N, d, n, support_size=s, overlap=overlap, noise=noise, weight_std=std,
                             shared_weights=shared, random_state=seed)


def oracle_mse(data, W, noise, weight_std, seed=0):
    """Pooled 5-fold CV MSE of per-task ridge on the true support with the
    Bayes-optimal weight ``noise^2 / weight_std^2``."""
    sse = count = 0
    for train, test in TaskKFold(5, shuffle=True, random_state=seed).split(data):
        for t in range(W.shape[1]):
            support = np.flatnonzero(W[:, t])
            X, y = data.Xs[t][train[t]][:, support], data.ys[t][train[t]]
            w = np.linalg.solve(X.T @ X + noise ** 2 / weight_std ** 2 * np.eye(support.size), X.T @ y)
            r = data.ys[t][test[t]] - data.Xs[t][test[t]][:, support] @ w
            sse += r @ r
            count += r.size
    return sse / count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SHAPES), default="set-1")
    parser.add_argument("--scale", choices=("entries", "vector"), default="vector")
    parser.add_argument("--noise", type=float, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--shared", action="store_true")
    parser.add_argument("--stl-lam", type=float, nargs="+", default=None)
    parser.add_argument("--all-methods", action="store_true")
    parser.add_argument("--oracle", action="store_true")
    parser.add_argument("--max-folds", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    n_groups = SHAPES[args.set][1]
    methods = _methods(n_groups, CONFIGS["full"], "calibrated")
    if args.stl_lam is not None:
        methods["STL"] = (methods["STL"][0], dict(methods["STL"][1], lam=args.stl_lam))
    if not args.all_methods:
        methods = {"STL": methods["STL"]}
    target = PAPER_TABLE2[(args.set, "STL")]
    rows = []
    with threadpool_limits(1):
        for noise in args.noise:
            for seed in args.seeds:
                start = time.perf_counter()
                data, W, _ = make(args.set, noise, args.scale, args.shared, seed)
                if args.oracle:
                    oracle = oracle_mse(data, W, noise, weight_std(args.set, args.scale))
                    print(f"  oracle (true support, Bayes ridge): {oracle:.3f}", flush=True)
                for method, (estimator, grid) in methods.items():
                    mean, std, chosen = _cv_mse(data, estimator, grid, 5, args.max_folds, n_jobs=1)
                    if method != "STL":
                        print(f"  {method}: {mean:.3f} +- {std:.3f} (paper {PAPER_TABLE2[(args.set, method)]}), "
                              f"chosen {chosen}", flush=True)
                        rows[-1][method] = mean
                        continue
                    rows.append({"set": args.set, "scale": args.scale, "shared": args.shared, "noise": noise,
                                 "seed": seed, "stl_mse": mean, "stl_std": std,
                                 "chosen_lam": [c["lam"] for c in chosen], "seconds": time.perf_counter() - start})
                    print(f"{args.set} scale={args.scale} shared={args.shared} noise={noise:.3f} seed={seed}: "
                          f"STL {mean:.3f} +- {std:.3f} (paper {target}), lam {rows[-1]['chosen_lam']}", flush=True)
            means = [r["stl_mse"] for r in rows if r["noise"] == noise]
            if len(means) > 1:
                print(f"  noise={noise:.3f}: mean over seeds {np.mean(means):.3f} "
                      f"(seed sd {np.std(means, ddof=1):.3f})", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
