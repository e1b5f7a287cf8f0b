"""BiGMTL paper (Frecon, Salzo, Pontil, ICPR 2020), Section III, on its
synthetic set.

Each realisation draws 10 training, 10 validation and 10 test samples per
task from :func:`mtlcvx.datasets.make_bigmtl_synthetic` (30 tasks in 3
groups, 20 features, ``sigma_0 = 0.1``).  Every method chooses ``lam`` on
the paper's grid ``10^-2.5 .. 10^2.5`` (a subset with ``--quick``): fitted
on the training part with each value (the bilevel variants split it again
into halves for their upper level), scored by MSE on the validation part,
refitted with the best value on both parts, scored on the test part.  At
most 6 groups are searched (the true number, 3, is not given).

* **Table I**: test MSE (pooled) and relative group error ``||theta
  theta^T - theta* theta*^T||_F^2 / ||theta* theta*^T||_F^2`` (invariant to
  relabelling the groups; :func:`mtlcvx.models.bigmtl.group_error`) of CV,
  CV+WR, MCCV, MCCV+WR and the alternating method (21).
* **Table II, synthetic column**: BiGMTL (MCCV+WR) against single-task
  learning with one trace norm over all tasks (the paper's "STL [1]":
  ``TraceNorm``) and the alternating method.
* **Figures 1/3**: the mean ``theta theta^T`` of each variant over the
  realisations, with the truth.
* **Figure 2**: time per outer iteration of CV (``Q`` inner iterations)
  and CV+WR (one) as the number of tasks grows (``lam = 0.25``, the
  paper's).
"""

import time

import numpy as np

from ..data import MultiTaskData
from ..datasets import make_bigmtl_synthetic
from ..bilevel import BiGMTLHypergradient, project_rows_to_simplex
from ..metrics import mse
from ..models import BiGMTL, TraceNorm
from ..models.bigmtl import group_error
from ..plotting import MATPLOTLIB_NOTICE, have_matplotlib, lines_figure, task_similarity_figure
from . import register
from ._common import count_convergence_warnings, format_table, validation_search, write_figure

__all__ = ["run_bigmtl", "CONFIGS", "PAPER_TABLE1", "PAPER_TABLE2"]

#: Table I of the paper: test error (x 1e-2) and group error (x 1e-1).
PAPER_TABLE1 = {"CV": (3.923, 6.60), "CV+WR": (3.769, 4.27), "MCCV": (3.918, 6.20), "MCCV+WR": (3.605, 3.87),
                "Alternate": (4.417, 13.67)}
#: Table II, synthetic column (test MSE x 1e-2).
PAPER_TABLE2 = {"BiGMTL (MCCV+WR)": 3.65, "STL (trace norm)": 4.41}

_GRID = [10.0**e for e in np.arange(-2.5, 2.51, 0.5)]

CONFIGS = {
    "quick": dict(realisations=1, lam=[10**-1.5, 10**-1.0], n_groups=6, inner=50, outer=10, outer_wr=200,
                  timing_groups=[1, 2], timing_iterations=2, timing_inner=500),
    "full": dict(realisations=10, lam=_GRID, n_groups=6, inner=100, outer=100, outer_wr=3000,
                 timing_groups=[1, 2, 4, 8], timing_iterations=5, timing_inner=500),
}

STRATEGY_NAMES = {"cv": "CV", "cv+wr": "CV+WR", "mccv": "MCCV", "mccv+wr": "MCCV+WR", "alternate": "Alternate"}


def _estimator(strategy, config, seed):
    warm = strategy.endswith("+wr")
    return BiGMTL(n_groups=config["n_groups"], strategy=strategy, n_inner=None if warm else config["inner"],
                  max_iter=config["outer_wr"] if warm else config["outer"], fit_intercept=False, random_state=seed)


def _fit(estimator, grid, data, seed, capped, n_jobs):
    """The grid point chosen on half of every task's samples, refitted on
    all; ConvergenceWarnings counted, not printed (the configurations cap
    the outer iterations on purpose)."""
    with count_convergence_warnings(capped):
        search = validation_search(estimator, grid, data, validation_size=0.5, random_state=seed, n_jobs=n_jobs)
    return search.best_estimator_, search.best_params_


def _realisation(seed, config, progress, capped, n_jobs):
    (train, val, test), _, theta_true = make_bigmtl_synthetic(n_samples=(10, 10, 10), random_state=seed)
    both = MultiTaskData.join(train, val)
    rows, thetas = [], {}
    grid = {"lam": config["lam"]}
    for strategy, name in STRATEGY_NAMES.items():
        start = time.perf_counter()
        fitted, best = _fit(_estimator(strategy, config, seed), grid, both, seed, capped, n_jobs)
        thetas[name] = fitted.theta_
        rows.append({"realisation": seed, "method": name, "test_mse": mse(test.ys, fitted.predict(test)),
                     "group_error": group_error(fitted.theta_, theta_true), "lam": best["lam"],
                     "seconds": time.perf_counter() - start})
        progress(f"[bigmtl] realisation {seed}: {name:<9} test MSE {rows[-1]['test_mse']:.4f}  "
                 f"group error {rows[-1]['group_error']:.3f}  lam {best['lam']:.3g}")
    stl, best = _fit(TraceNorm(fit_intercept=False), grid, both, seed, capped, n_jobs)
    rows.append({"realisation": seed, "method": "STL (trace norm)", "test_mse": mse(test.ys, stl.predict(test)),
                 "group_error": None, "lam": best["lam"], "seconds": None})
    progress(f"[bigmtl] realisation {seed}: STL (trace norm) test MSE {rows[-1]['test_mse']:.4f}")
    return rows, thetas, theta_true


def _summary(rows, methods):
    table = []
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        errors = np.array([r["test_mse"] for r in mine])
        groups = np.array([r["group_error"] for r in mine if r["group_error"] is not None])
        row = {"method": name, "test_mse": float(errors.mean()), "test_mse_std": float(errors.std())}
        if groups.size:
            row.update(group_error=float(groups.mean()), group_error_std=float(groups.std()))
        if name in PAPER_TABLE1:
            row.update(paper_test_mse=PAPER_TABLE1[name][0] * 1e-2, paper_group_error=PAPER_TABLE1[name][1] * 1e-1)
        table.append(row)
    return table


def _timing(config, progress):
    """Seconds per outer iteration of CV and CV+WR as the number of tasks
    grows (``lam = 0.25``, at most 6 groups): an outer iteration is a
    hypergradient (Algorithm 1 through Q inner iterations from 0, or
    through one warm-restarted iteration) and a projection onto Theta,
    timed over ``timing_iterations`` of them."""
    rows = []
    for factor in config["timing_groups"]:
        (train, val), _, _ = make_bigmtl_synthetic(tasks_per_group=10 * factor, n_samples=(10, 10), random_state=0)
        hyper = BiGMTLHypergradient(train, val, 6, eps=1e-3)
        theta = np.random.default_rng(0).dirichlet(np.ones(6), size=train.n_tasks)
        row = {"n_tasks": train.n_tasks}
        for name, inner, warm in (("CV", config["timing_inner"], False), ("CV+WR", 1, True)):
            row[f"{name}_s_per_iteration"] = _seconds_per_iteration(hyper, theta, inner, warm,
                                                                    config["timing_iterations"])
        row["ratio"] = row["CV_s_per_iteration"] / row["CV+WR_s_per_iteration"]
        rows.append(row)
        progress(f"[bigmtl] Figure 2: T={train.n_tasks} CV {row['CV_s_per_iteration']:.4f} s, CV+WR "
                 f"{row['CV+WR_s_per_iteration']:.5f} s per outer iteration")
    return rows


def _seconds_per_iteration(hyper, theta, inner, warm, iterations):
    U = None
    start = time.perf_counter()
    for _ in range(iterations):
        _, grad, state = hyper.reverse(theta, 0.25, inner, U0=U)
        U = state if warm else None
        theta = project_rows_to_simplex(theta - 1e-3 * grad)
    return (time.perf_counter() - start) / iterations


@register("bigmtl", "BiGMTL paper, Section III: Table I (CV/MCCV, warm restarts, alternate), Table II synthetic, "
                    "Figures 1-3")
def run_bigmtl(quick=False, out=None, progress=lambda message: None, n_jobs=None):
    config = CONFIGS["quick" if quick else "full"]
    rows, mean_thetas, true, capped = [], {}, None, []
    for seed in range(config["realisations"]):
        found, thetas, theta_true = _realisation(seed, config, progress, capped, n_jobs)
        rows += found
        true = theta_true @ theta_true.T
        for name, theta in thetas.items():
            mean_thetas.setdefault(name, []).append(theta @ theta.T)
    table1 = _summary(rows, list(STRATEGY_NAMES.values()))
    table2 = _summary([dict(r, method="BiGMTL (MCCV+WR)") if r["method"] == "MCCV+WR" else r for r in rows],
                      ["BiGMTL (MCCV+WR)", "STL (trace norm)", "Alternate"])
    for row in table2:
        row["paper_test_mse"] = PAPER_TABLE2[row["method"]] * 1e-2 if row["method"] in PAPER_TABLE2 else None
    timing = _timing(config, progress)
    figures, notices = [], []
    if sum(capped):
        notices.append(f"{sum(capped)} fits stopped at max_iter (ConvergenceWarning): the configuration caps the "
                       f"outer iterations at {config['outer']} ({config['outer_wr']} with warm restarts)")
    if out is not None:
        if have_matplotlib():
            progress("[bigmtl] Figures 1/3: mean theta theta^T")
            panels = {"truth": true, **{name: np.mean(ms, axis=0) for name, ms in mean_thetas.items()}}
            figures.append(write_figure(task_similarity_figure(
                panels, f"Figures 1/3: mean theta theta^T over {config['realisations']} realisation(s)"),
                out / "bigmtl_figure1.png", progress, "bigmtl"))
            figures.append(write_figure(lines_figure(
                [r["n_tasks"] for r in timing],
                {"CV (Q=%d)" % config["timing_inner"]: [r["CV_s_per_iteration"] for r in timing],
                 "CV+WR (Q=1)": [r["CV+WR_s_per_iteration"] for r in timing]},
                "number of tasks T", "seconds per outer iteration",
                "Figure 2: time per outer iteration", log_y=True), out / "bigmtl_figure2.png", progress, "bigmtl"))
        else:
            notices.append(MATPLOTLIB_NOTICE)
    text = "\n\n".join([
        format_table(table1, ["method", "test_mse", "test_mse_std", "group_error", "group_error_std",
                              "paper_test_mse", "paper_group_error"],
                     f"Table I: test MSE and relative group error over {config['realisations']} realisation(s)"),
        format_table(table2, ["method", "test_mse", "test_mse_std", "paper_test_mse"],
                     "Table II (synthetic column): test MSE"),
        format_table(timing, ["n_tasks", "CV_s_per_iteration", "CV+WR_s_per_iteration", "ratio"],
                     "Figure 2: seconds per outer iteration"),
    ])
    return {"experiment": "bigmtl", "quick": quick, "config": config, "table": table1, "table2": table2,
            "per_realisation": rows, "timing": timing, "figures": figures, "notices": notices, "text": text}
