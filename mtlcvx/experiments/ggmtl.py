"""GGMTL paper (Alesiani, Yu, Shaker, Yin, ECML-PKDD 2020), section 4.2:
the synthetic Line, Tree and Star sets, Table 1 and Figure 1.

Protocol (the paper gives neither the sample sizes nor the grids; ours):
``n_train`` samples per task for training, 100 for testing; for every
method, ``lam`` (and GGMTL's entropy weight ``gamma``) chosen on a 25 %
validation split of the training data by validation RMSE, then refitted
on all of it (the paper: "grid-search hyper-parameter search for all
methods").  Methods: the k-NN graph with uniform weights (CCMTL-style,
``GGMTL(learn_edges=False)``), l2^2-GGMTL and l2-GGMTL.  Reported: the
test RMSE averaged over tasks, and the fuzzy accuracy, recall, precision
and F1 (:func:`mtlcvx.metrics.fuzzy_graph_scores`) of the learned graph,
normalised by its largest weight, against the true one; means and
standard deviations over the repetitions.  Figure 1: the first
repetition's graphs, GGMTL beside k-NN, true edges in green.
"""

import time

import numpy as np
from sklearn.model_selection import ParameterGrid

from ..datasets import GGMTL_STRUCTURES, make_ggmtl_synthetic
from ..metrics import fuzzy_graph_scores, rmse
from ..models import GGMTL
from ..plotting import MATPLOTLIB_NOTICE, have_matplotlib, task_graph_figure
from . import register
from ._common import format_table, validation_search, write_figure

__all__ = ["run_ggmtl", "CONFIGS", "METHODS"]

CONFIGS = {
    "quick": dict(n_repeats=1, n_train=20, n_test=100, lam=[10.0], gamma=[0.5], max_iter=10),
    "full": dict(n_repeats=10, n_train=20, n_test=100, lam=[1.0, 10.0, 100.0], gamma=[0.1, 1.0], max_iter=100),
}

METHODS = {
    "k-NN": dict(learn_edges=False),
    "GGMTL l2^2": dict(squared=True),
    "GGMTL l2": dict(squared=False),
}

MEASURES = ("rmse", "accuracy", "recall", "precision", "f1")


def task_rmse(data, est):
    """RMSE averaged over tasks (the paper's measure)."""
    return rmse(list(data.ys), est.predict(data), average="tasks")


def _grid(method, config):
    if METHODS[method].get("learn_edges") is False:
        return {"lam": config["lam"]}
    return {"lam": config["lam"], "gamma": config["gamma"]}


def _fit(method, config, train, seed, n_jobs):
    """The estimator chosen by validation RMSE (mean over tasks), refitted on
    ``train``."""
    base = GGMTL(max_iter=config["max_iter"], random_state=seed, **METHODS[method])
    grid = _grid(method, config)
    if len(ParameterGrid(grid)) == 1:
        # nothing to choose: no validation fits
        params = next(iter(ParameterGrid(grid)))
        return base.set_params(**params).fit(train), params
    search = validation_search(base, grid, train, random_state=seed, scoring="neg_rmse_per_task", n_jobs=n_jobs)
    return search.best_estimator_, search.best_params_


def _summary(rows, structure, method):
    picked = [row for row in rows if row["structure"] == structure and row["method"] == method]
    out = {"structure": structure, "method": method}
    for measure in MEASURES:
        values = np.array([row[measure] for row in picked])
        out[measure] = float(values.mean())
        out[f"{measure}_std"] = float(values.std())
    out["edges"] = float(np.mean([row["edges"] for row in picked]))
    out["seconds"] = float(np.mean([row["seconds"] for row in picked]))
    return out


@register("ggmtl", "GGMTL paper, section 4.2: Line, Tree, Star; Table 1 (RMSE, fuzzy graph measures), Figure 1")
def run_ggmtl(quick=False, out=None, progress=lambda message: None, n_jobs=None):
    import warnings

    from .._errors import ConvergenceWarning

    config = CONFIGS["quick" if quick else "full"]
    runs, panels = [], {}
    for structure in GGMTL_STRUCTURES:
        for rep in range(config["n_repeats"]):
            (train, test), _, A_true = make_ggmtl_synthetic(structure, n_samples=(config["n_train"], config["n_test"]),
                                                            random_state=rep)
            for method in METHODS:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    # capped outer loops are counted in the JSON, not printed
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    est, params = _fit(method, config, train, rep, n_jobs)
                seconds = time.perf_counter() - start
                row = {"structure": structure, "method": method, "rep": rep, "rmse": task_rmse(test, est),
                       **fuzzy_graph_scores(A_true, est.adjacency()), "edges": len(est.edges_),
                       "outer_iterations": int(est.n_iter_ or 0), "seconds": seconds,
                       "params": {k: float(v) for k, v in params.items()}}
                runs.append(row)
                if rep == 0:
                    panels.setdefault(structure, {"true": A_true})[method] = est.graph_
                progress(f"[ggmtl] {structure:<4} rep {rep} {method:<10} RMSE {row['rmse']:.3f}  "
                         f"F1 {row['f1']:.3f}  edges {row['edges']}  {seconds:.1f}s")
    table = [_summary(runs, structure, method) for structure in GGMTL_STRUCTURES for method in METHODS]
    figures, notices = [], []
    if out is not None:
        if have_matplotlib() and _have_networkx():
            for structure, graphs in panels.items():
                truth = graphs.pop("true")
                fig = task_graph_figure(graphs, truth, title=f"Figure 1, {structure}: learned graphs vs k-NN")
                figures.append(write_figure(fig, out / f"ggmtl_figure1_{structure}.png", progress, "ggmtl"))
        else:
            notices.append(MATPLOTLIB_NOTICE.replace("matplotlib is", "matplotlib or networkx is"))
    text = format_table(table, ["structure", "method", "rmse", "accuracy", "recall", "precision", "f1", "edges",
                                "seconds"],
                        f"GGMTL synthetic sets: test RMSE (mean over tasks) and fuzzy graph measures, mean of "
                        f"{config['n_repeats']} repetitions")
    return {"experiment": "ggmtl", "quick": quick, "config": config, "table": table, "runs": runs,
            "figures": figures, "notices": notices, "text": text}


def _have_networkx():
    try:
        import networkx  # noqa: F401
    except ImportError:
        return False
    return True
