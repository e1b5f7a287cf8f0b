"""GenGL/SSMTL, Section 6.1 (issue 14): can SSMTL_m restore the structure
of the three synthetic scenarios, and what limits it?

For every scenario (``mtlcvx.datasets.make_gengl_scenario``), seed and
sample protocol, every method (GL, MeTaG, rMTFL, SSMTL_m: ``mtlcvx.SSMTL``
presets, ``h = 2``, no intercept) is fitted at every point of its grid, and
each fit is scored on

* test nMSE (``mtlcvx.metrics.nmse``);
* ``W error``: ``||W - W*||_F / ||W*||_F``;
* ``F1``: support F1 with entries ``|W| > 1e-2 max |W*|`` non-zero (the
  experiment's threshold), and ``F1 best``: the best support F1 over all
  thresholds (is the pattern there at all, whatever the cut?);
* ``AUC``: the scenario's structure, threshold-free: GL, rows ranked by
  ``||W_j||`` (relevant rows vs the rest); MeTaG, task pairs ranked by
  ``-||w_j - w_k||`` (same group vs different groups); rMTFL, columns
  ranked by their norm on the rows outside ``W1*``'s support (the 10
  outlier tasks vs the rest), and ``AUC rows``, rows ranked by their norm
  on the non-outlier tasks (``W1*``'s 20 rows vs the rest).

A reference row ``Bayes*`` (GL and rMTFL scenarios) is no method: the
posterior mean of each ``w_t`` given the TRUE supports and the generator's
Gaussian priors (``N(0, 3)`` on ``W1*``'s rows, ``N(0, 1)`` on an outlier
task's entries) and noise variance 0.01.  It is the least mean squared
error of any estimator that knows that much, so its W error (averaged over
seeds) is a floor for every method: in the rMTFL scenario the dense
outlier columns (200 entries each, 30 or 50 samples) cannot be recovered.

For rMTFL in the rMTFL scenario, ``w2_outlier_columns`` and
``w2_regular_columns`` (JSON, and the summary's last columns) count the
columns its outlier component ``W2`` uses (norm above ``1e-6 max |W|``):
10 and 0 is the outlier pattern found exactly.

Two hyperparameter choices from the same fits: ``val``, the lowest
validation nMSE (what an experiment can do), and ``oracle``, the lowest W
error (what the model can do at its best grid point).  Two sample
protocols: ``622``, the 50 samples per task split 6:2:2 (30 training, 10
validation, 10 test; the split seeded by the seed), and ``50``, all 50 for
training (the paper: "we generate 50 samples for each task") with 50 fresh
validation and 50 fresh test samples per task drawn from the same ``W*``.

Run: ``python benchmarks/gengl_scenarios.py [--seeds 0 1 2 3 4]
[--protocols 622 50] [--grid quick|medium|full] [--scenarios gl metag rmtfl]
[--methods GL MeTaG rMTFL SSMTL_m] [--gamma1 ...] [--gamma2 ...] [--phi ...]
[--tol 1e-6] [--jobs N] [--json FILE]`` (``--gamma1``, ``--gamma2``,
``--phi``: values replacing the grid's for the methods that have them; e.g.
``--scenarios rmtfl --methods rMTFL --gamma1 1 --gamma2 1 1.5 2 3 5 10``
scans rMTFL's ratio ``gamma2 / gamma1``).
Prints one table per scenario: mean (standard deviation) over the seeds.
Single-threaded BLAS.
"""

import argparse
import itertools
import json
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from mtlcvx import SSMTL
from mtlcvx.datasets import GENGL_SCENARIOS, make_gengl_scenario
from mtlcvx.experiments.gengl import CONFIGS, structure_aucs
from mtlcvx.metrics import nmse, support_f1

METHODS = {
    "GL": ("gl", ("gamma1",)),
    "MeTaG": ("metag", ("gamma1", "phi")),
    "rMTFL": ("rmtfl", ("gamma1", "gamma2")),
    "SSMTL_m": ("ssmtl_m", ("gamma1", "gamma2", "phi")),
}
GRIDS = {
    "quick": CONFIGS["quick"],
    # the full grid without its extremes (gamma = 100 zeroes every method's W here; phi 5 and 50)
    "medium": dict(gamma=[1e-2, 1e-1, 1.0, 10.0], phi=[2.0, 10.0]),
    "full": CONFIGS["full"],
}


def grid_points(method, grid, overrides=None):
    """Every combination of the method's hyperparameters; ``overrides``
    (``{name: values}``) replaces a name's values from the grid."""
    names = METHODS[method][1]
    values = {"gamma1": grid["gamma"], "gamma2": grid["gamma"], "phi": grid["phi"]}
    values.update({name: v for name, v in (overrides or {}).items() if v})
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


def make_sets(scenario, seed, protocol):
    """(train, val, test), W*, components for one seed and protocol."""
    if protocol == "622":
        data, W, components = make_gengl_scenario(scenario, n_samples=50, random_state=seed)
        rest, test = data.split(test_size=0.2, random_state=seed)
        train, val = rest.split(test_size=0.25, random_state=seed)
        return (train, val, test), W, components
    if protocol == "50":
        sets, W, components = make_gengl_scenario(scenario, n_samples=(50, 50, 50), random_state=seed)
        return sets, W, components
    raise ValueError(f"protocol must be '622' or '50', got {protocol!r}")


def structure_scores(scenario, W, components):
    """The experiment's threshold-free structure AUCs, named as in the
    tables: ``auc`` (GL: rows, MeTaG: task pairs, rMTFL: outlier columns),
    ``auc_rows`` (rMTFL: ``W1*``'s rows)."""
    aucs = structure_aucs(scenario, W, components)
    if scenario == "rmtfl":
        return {"auc": aucs["columns"], "auc_rows": aucs["rows"]}
    return {"auc": next(iter(aucs.values()))}


def bayes_floor(scenario, sets, W_true, components, noise=0.1):
    """The posterior mean of every ``w_t`` given the true supports and the
    generator's priors (module docstring); ``None`` for MeTaG (constant
    weights, no Gaussian prior)."""
    if scenario == "metag":
        return None
    train, _, test = sets
    rows = np.abs(components[0]).sum(1) > 0
    outliers = np.abs(components[1]).sum(0) > 0 if scenario == "rmtfl" else np.zeros(W_true.shape[1], bool)
    W = np.zeros_like(W_true)
    for t, (X, y) in enumerate(zip(train.Xs, train.ys)):
        variance = 3.0 * rows + 1.0 * outliers[t]
        XV = X * variance
        W[:, t] = XV.T @ np.linalg.solve(XV @ X.T + noise ** 2 * np.eye(len(y)), y)
    threshold = 1e-2 * np.abs(W_true).max()
    return dict(params={}, seconds=0.0, val_nmse=float("nan"),
                test_nmse=nmse(test.ys, [X @ W[:, t] for t, X in enumerate(test.Xs)]),
                w_error=float(np.linalg.norm(W - W_true) / np.linalg.norm(W_true)),
                f1=support_f1(W_true, np.where(np.abs(W) > threshold, W, 0.0)), f1_best=best_f1(W_true, W),
                **structure_scores(scenario, W, components))


def best_f1(W_true, W):
    """The best support F1 over every threshold (the distinct |W| values)."""
    truth = (np.abs(W_true) > 0).ravel()
    order = np.argsort(-np.abs(W).ravel())
    tp = np.cumsum(truth[order])
    k = np.arange(1, truth.size + 1)
    return float(np.max(2 * tp / (k + truth.sum())))


def fit_point(scenario, method, params, sets, W_true, components, tol):
    train, val, test = sets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est = SSMTL(preset=METHODS[method][0], h=2, tol=tol, fit_intercept=False, **params).fit(train)
        seconds = time.perf_counter() - start
    W = est.coef_
    threshold = 1e-2 * np.abs(W_true).max()
    extra = {}
    if method == "rMTFL" and scenario == "rmtfl":
        # which columns rMTFL's outlier component W2 uses: the true outlier tasks, the others
        outliers = np.abs(components[1]).sum(0) > 0
        used = np.linalg.norm(est.components_[1], axis=0) > 1e-6 * max(np.abs(W).max(), 1e-300)
        extra = dict(w2_outlier_columns=int(used[outliers].sum()), w2_regular_columns=int(used[~outliers].sum()))
    return dict(params=params, seconds=seconds, val_nmse=nmse(val.ys, est.predict(val)), **extra,
                test_nmse=nmse(test.ys, est.predict(test)),
                w_error=float(np.linalg.norm(W - W_true) / np.linalg.norm(W_true)),
                f1=support_f1(W_true, np.where(np.abs(W) > threshold, W, 0.0)), f1_best=best_f1(W_true, W),
                **structure_scores(scenario, W, components))


def run(args):
    records = []
    for scenario, protocol, seed in itertools.product(args.scenarios, args.protocols, args.seeds):
        sets, W_true, components = make_sets(scenario, seed, protocol)
        floor = bayes_floor(scenario, sets, W_true, components)
        if floor is not None:
            records += [dict(scenario=scenario, protocol=protocol, seed=seed, method="Bayes*", selection=selection,
                             **floor) for selection in ("val", "oracle")]
        for method in args.methods:
            points = grid_points(method, GRIDS[args.grid],
                                 dict(gamma1=args.gamma1, gamma2=args.gamma2, phi=args.phi))
            with threadpool_limits(1):
                fits = Parallel(n_jobs=args.jobs)(delayed(fit_point)(scenario, method, p, sets, W_true, components,
                                                                     args.tol) for p in points)
            for selection, key in (("val", "val_nmse"), ("oracle", "w_error")):
                best = min(fits, key=lambda f: f[key])
                records.append(dict(scenario=scenario, protocol=protocol, seed=seed, method=method,
                                    selection=selection, **best))
            print(f"[{scenario} {protocol} seed {seed}] {method:<8} {len(points)} fits "
                  f"{sum(f['seconds'] for f in fits):6.1f} s; val choice {records[-2]['params']}: "
                  f"test nMSE {records[-2]['test_nmse']:.4f}, F1 {records[-2]['f1']:.3f}, "
                  f"AUC {records[-2]['auc']:.3f}; oracle W error {records[-1]['w_error']:.3f}", flush=True)
            if args.json:  # after every method: an interrupted run keeps what it measured
                dump(args, records)
    return records


def dump(args, records):
    with open(args.json, "w") as handle:
        json.dump(dict(args=vars(args), records=records), handle, indent=1)


COLUMNS = ["test_nmse", "w_error", "f1", "f1_best", "auc", "auc_rows", "w2_outlier_columns", "w2_regular_columns"]


def summary(records):
    lines = []
    for scenario in dict.fromkeys(r["scenario"] for r in records):
        rows = [r for r in records if r["scenario"] == scenario]
        columns = [c for c in COLUMNS if any(c in r for r in rows)]
        lines += ["", f"scenario {scenario}: mean (std) over seeds {sorted({r['seed'] for r in rows})}", "",
                  "| protocol | selection | method | " + " | ".join(columns) + " |",
                  "|---" * (3 + len(columns)) + "|"]
        keys = dict.fromkeys((r["protocol"], r["selection"], r["method"]) for r in rows)
        for protocol, selection, method in keys:
            group = [r for r in rows if (r["protocol"], r["selection"], r["method"]) == (protocol, selection, method)]
            cells = [f"{np.mean([r[c] for r in group]):.4g} ({np.std([r[c] for r in group]):.2g})"
                     if all(c in r for r in group) else "-" for c in columns]
            lines.append(f"| {protocol} | {selection} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--protocols", nargs="+", choices=["622", "50"], default=["622", "50"])
    parser.add_argument("--grid", choices=sorted(GRIDS), default="medium")
    parser.add_argument("--scenarios", nargs="+", choices=GENGL_SCENARIOS, default=list(GENGL_SCENARIOS))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--gamma1", type=float, nargs="+", help="values of gamma1 instead of the grid's gamma")
    parser.add_argument("--gamma2", type=float, nargs="+", help="values of gamma2 instead of the grid's gamma")
    parser.add_argument("--phi", type=float, nargs="+", help="values of phi instead of the grid's")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", help="write every selected fit as JSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = run(args)
    print(summary(records))
    print(f"\nwall time {time.perf_counter() - start:.0f} s")
    if args.json:
        dump(args, records)


if __name__ == "__main__":
    main()
