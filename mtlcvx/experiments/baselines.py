"""The convex baselines on synthetic tasks with a row-sparse, low-rank ``W``.

Protocol: for each seed, draw tasks from
:func:`mtlcvx.datasets.make_sparse_low_rank`, split every task into train
and test (per task, 40 % test); for every method choose the
hyperparameters on a validation split of the training part (25 % of each
task's training samples), refit on the whole training part, and record
the test MSE (pooled over tasks), the relative error of ``W`` and the F1
of its support.  Penalty grids are relative to ``lam_max``, the smallest
weight at which the penalised solution is zero (the dual norm of
``X^T y``), so they adapt to the data.
"""

import numpy as np

from .. import models
from ..datasets import make_sparse_low_rank
from ..metrics import mse, support_f1
from ..plotting import MATPLOTLIB_NOTICE, have_matplotlib, heatmaps_figure
from ..terms import L21, NuclearNorm, SquaredLoss, lambda_max
from . import register
from ._common import format_table, validation_search, write_figure

__all__ = ["run_baselines", "CONFIGS"]

CONFIGS = {
    "quick": dict(n_tasks=6, n_features=40, n_samples=50, n_relevant=8, rank=2, noise=1.0, seeds=2),
    "full": dict(n_tasks=10, n_features=80, n_samples=90, n_relevant=10, rank=3, noise=1.0, seeds=5),
}

_FRACTIONS = (0.01, 0.03, 0.1, 0.3)


def _lam_max(train, norm):
    """``lam_max`` on the centred data the estimators (with intercepts) fit."""
    return lambda_max(norm, SquaredLoss().bind(train.centered()[0]))


def _methods(train):
    gl_max, tr_max = _lam_max(train, L21()), _lam_max(train, NuclearNorm())
    ridge = [0.1, 1.0, 10.0, 100.0]
    return {
        "STL (ridge)": (models.STL(), {"lam": ridge}),
        "STL (elastic net)": (models.STL(penalty="elasticnet"),
                              {"lam": [f * gl_max for f in _FRACTIONS], "l1_ratio": [0.5, 0.9]}),
        "AllTasks": (models.AllTasks(), {"lam": ridge}),
        "GroupLasso (L21)": (models.GroupLasso(), {"lam": [f * gl_max for f in _FRACTIONS]}),
        "TraceNorm": (models.TraceNorm(), {"lam": [f * tr_max for f in _FRACTIONS]}),
        "ClusMTL": (models.ClusMTL(), {"n_clusters": [2, 3], "rho1": [0.1, 1.0, 10.0], "rho2": [0.1, 1.0]}),
    }


@register("baselines", "convex baselines (STL, AllTasks, L21, trace norm, ClusMTL) on row-sparse low-rank tasks")
def run_baselines(quick=False, out=None, progress=lambda message: None, n_jobs=None):
    config = dict(CONFIGS["quick" if quick else "full"])
    seeds = config.pop("seeds")
    per_seed = []
    figure_weights = None
    for seed in range(seeds):
        data, W_true = make_sparse_low_rank(random_state=seed, **config)
        train, test = data.split(test_size=0.4, random_state=seed)
        learned = {"true W": W_true}
        for name, (estimator, grid) in _methods(train).items():
            search = validation_search(estimator, grid, train, random_state=seed, n_jobs=n_jobs)
            fitted, best, seconds = search.best_estimator_, search.best_params_, search.refit_time_
            row = {
                "seed": seed,
                "method": name,
                "test_mse": mse(test.ys, fitted.predict(test)),
                "w_rel_error": float(np.linalg.norm(fitted.coef_ - W_true) / np.linalg.norm(W_true)),
                "support_f1": support_f1(W_true, fitted.coef_),
                "fit_seconds": seconds,
                "params": {k: float(v) for k, v in best.items()},
            }
            per_seed.append(row)
            learned[name] = fitted.coef_
            progress(f"[baselines] seed {seed + 1}/{seeds}  {name:<18} test MSE {row['test_mse']:.4f}  "
                     f"fit {seconds:.3f} s")
        if figure_weights is None:
            figure_weights = learned
    table = []
    for name in dict.fromkeys(r["method"] for r in per_seed):
        rows = [r for r in per_seed if r["method"] == name]
        table.append({
            "method": name,
            "test_mse": float(np.mean([r["test_mse"] for r in rows])),
            "test_mse_std": float(np.std([r["test_mse"] for r in rows])),
            "w_rel_error": float(np.mean([r["w_rel_error"] for r in rows])),
            "support_f1": float(np.mean([r["support_f1"] for r in rows])),
            "fit_seconds": float(np.mean([r["fit_seconds"] for r in rows])),
        })
    figures, notices = [], []
    if out is not None:
        if have_matplotlib():
            figure = heatmaps_figure(figure_weights, title="true and learned W (seed 0)", shared_scale=True)
            figures.append(write_figure(figure, out / "baselines_weights.png", progress, "baselines"))
        else:
            notices.append(MATPLOTLIB_NOTICE)
    title = (f"baselines: test MSE over {seeds} seeds (T={config['n_tasks']}, d={config['n_features']}, "
             f"n={config['n_samples']} per task, {config['n_relevant']} relevant rows, rank {config['rank']})")
    return {
        "experiment": "baselines",
        "quick": quick,
        "config": {**config, "seeds": seeds},
        "table": table,
        "per_seed": per_seed,
        "figures": figures,
        "notices": notices,
        "text": format_table(table, ["method", "test_mse", "test_mse_std", "w_rel_error", "support_f1",
                                     "fit_seconds"], title),
    }
