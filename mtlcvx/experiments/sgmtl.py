"""SG-MTL paper (Kshirsagar, Yang, Lozano 2017), Section 5.1, on its two
synthetic sets.

* **Table 2 (upper)**: K-fold CV MSE (pooled over tasks and folds) of STL
  (elastic net), ClusMTL (the paper's two-stage k-means + multi-task lasso),
  SG-MTL (5) and Fusion SG-MTL (6), with ``N`` = the true number of groups.
  Hyperparameters: inside each outer training fold, 25 % of every task's
  samples are held out, every grid point is fitted on the rest and scored
  by MSE on the held-out part, and the best is refitted on the whole
  training fold (nested cross-validation:
  :func:`mtlcvx.model_selection.cross_validate` of a
  :class:`~mtlcvx.model_selection.GridSearch`).  In two settings of the
  data (:data:`SETTINGS`): ``separable`` (the generators' defaults, where
  the groups are identifiable and the paper's ordering shows) and
  ``calibrated`` (:data:`mtlcvx.datasets.SGMTL_CALIBRATED`, where STL has
  the paper's error; quick mode runs STL alone there).
* **Table 2 (lower)**: CV MSE of Fusion SG-MTL on set-2 as ``N`` varies
  (``lam`` chosen as above for each ``N``; ``mu`` fixed), separable data.
* **Figure 4**: memberships ``U`` found by the U-step for the *known* ``W``
  of set-1 under eqs. (2), (4) and (5), below that ``W``, with the true
  memberships.
* **Figure 6**: ``U`` learned by SG-MTL on set-2 with ``N = 2, 4, 6`` (the
  paper's panels) and with the true ``N = 5``, above the true memberships.
* **Group recovery**: adjusted Rand index of ``labels_`` against the true
  groups over several seeds of each set (separable data).
"""

import numpy as np
from joblib import delayed

from ..datasets import SGMTL_CALIBRATED, make_sgmtl_set1, make_sgmtl_set2
from .._parallel import run_parallel
from ..metrics import adjusted_rand
from ..model_selection import GridSearch, TaskKFold, TaskShuffleSplit, cross_validate
from ..models import SGMTL, STL, TwoStageClusMTL
from ..models.sgmtl import merge_groups, reassign_tasks, sgmtl_u_objective, u_step
from ..plotting import MATPLOTLIB_NOTICE, have_matplotlib, memberships_figure, order_groups
from . import register
from ._common import GRID_VERBOSE, format_table, write_figure

__all__ = ["run_sgmtl", "CONFIGS", "SETTINGS", "PAPER_TABLE2"]

#: Table 2 of the paper (upper: MSE; lower: Fusion SG-MTL on set-2 by N).
PAPER_TABLE2 = {
    ("set-1", "STL"): 1.067, ("set-1", "ClusMTL"): 1.221, ("set-1", "SG-MTL"): 0.682,
    ("set-1", "Fusion SG-MTL"): 0.614,
    ("set-2", "STL"): 1.004, ("set-2", "ClusMTL"): 1.825, ("set-2", "SG-MTL"): 0.136,
    ("set-2", "Fusion SG-MTL"): 0.130,
}
PAPER_FUSION_BY_N = {2: 0.142, 4: 0.139, 5: 0.130, 6: 0.137, 10: 0.137}

#: The data of Table 2 (upper): ``"separable"`` is the generators' defaults
#: (unit-variance weight entries; noise 0.7 on set-1, 0.35 on set-2), where
#: the groups are identifiable; ``"calibrated"`` is
#: :data:`mtlcvx.datasets.SGMTL_CALIBRATED` (the weight vector's total
#: variance 1, noise 0.7), where STL has the paper's CV MSE.
SETTINGS = {"separable": {"set-1": {}, "set-2": {}}, "calibrated": SGMTL_CALIBRATED}
SETTING_LABELS = {
    "separable": "separable data (the generators' defaults: weight entries N(0, 1), noise 0.7 / 0.35)",
    "calibrated": "data calibrated to the paper's STL (SGMTL_CALIBRATED: entries N(0, 1/s), noise 0.7)",
}
METHODS = ("STL", "ClusMTL", "SG-MTL", "Fusion SG-MTL")

CONFIGS = {
    # quick: the 5-fold splits; set-2's first fold only.  Every method at
    # the separable data (the paper's ordering, the groups: set-1's CV once,
    # its differences are many standard errors); STL alone at the calibrated
    # data (the calibration holds; set-1 on 2 split seeds).  Grids of three
    # values around what the full run chose in each setting
    "quick": dict(folds=5, n_values=[2, 5, 10], ari_seeds=3, n_init=2, settings={
        "separable": dict(methods=METHODS, max_folds={"set-1": 5, "set-2": 1}, repeats={"set-1": 1, "set-2": 1},
                          lam=[1e-2, 3e-2, 1e-1], mu=[1e-3, 1e-2], stl_lam=[0.3, 1.0, 3.0],
                          clus_lam=[0.1, 1.0, 10.0]),
        "calibrated": dict(methods=("STL",), max_folds={"set-1": 5, "set-2": 1}, repeats={"set-1": 2, "set-2": 1},
                           lam=[0.1, 0.3, 1.0], mu=[1e-3, 1e-2], stl_lam=[1.0, 3.0, 10.0],
                           clus_lam=[1.0, 10.0, 100.0]),
    }),
    # full: every method in both settings; set-1's CV repeated over 3 split
    # seeds, so that the paired differences rest on 15 folds.  The
    # calibrated grids contain every choice; at the separable data a few
    # folds choose the lowest STL / ClusMTL / SG-MTL lam however far down
    # the grid goes (the inner validation cannot tell penalties below about
    # 0.01 apart; one step lower moved the choice, not the error: see
    # docs/sgmtl.md), and mu -> 0 is SG-MTL, its own column
    "full": dict(folds=5, n_values=[2, 4, 5, 6, 10], ari_seeds=10, n_init=3, settings={
        "separable": dict(methods=METHODS, max_folds={"set-1": 5, "set-2": 5}, repeats={"set-1": 3, "set-2": 1},
                          lam=[3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0], mu=[1e-3, 1e-2, 1e-1],
                          stl_lam=[0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], clus_lam=[1e-3, 0.01, 0.1, 1.0, 10.0, 100.0]),
        "calibrated": dict(methods=METHODS, max_folds={"set-1": 5, "set-2": 5}, repeats={"set-1": 3, "set-2": 1},
                           lam=[1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0], mu=[1e-3, 1e-2, 1e-1],
                           stl_lam=[0.1, 0.3, 1.0, 3.0, 10.0, 30.0], clus_lam=[0.1, 1.0, 10.0, 100.0, 1000.0]),
    }),
}

_SETS = {"set-1": (make_sgmtl_set1, 3), "set-2": (make_sgmtl_set2, 5)}

#: Figure 4's panels: title (equation, then its regulariser) and ``regularizer``.
FIGURE4_REGULARIZERS = {
    "eq. (2): relaxed l1, sqrt(U)": "l1",
    "eq. (4): squared, U": "squared",
    "eq. (5): squared, sqrt(U)": "sqrt",
}
#: Figure 6's numbers of groups: the paper's 2, 4, 6 and set-2's true 5.
FIGURE6_N = (2, 4, 5, 6)
_ORDER_NOTE = "(learned groups ordered by the first task they hold)"


def _methods(n_groups, config, setting="separable"):
    """Table 2's estimators and grids for ``setting`` (a key of
    ``config["settings"]``)."""
    n_init = config["n_init"]
    config = config["settings"][setting]
    return {
        "STL": (STL(penalty="elasticnet", fit_intercept=False), {"lam": config["stl_lam"], "l1_ratio": [0.5, 0.9]}),
        "ClusMTL": (TwoStageClusMTL(n_clusters=n_groups, fit_intercept=False, random_state=0),
                    {"lam": config["clus_lam"], "stl_lam": [1.0]}),
        "SG-MTL": (SGMTL(n_groups=n_groups, n_init=n_init, random_state=0, fit_intercept=False),
                   {"lam": config["lam"]}),
        "Fusion SG-MTL": (SGMTL(n_groups=n_groups, n_init=n_init, random_state=0, fit_intercept=False),
                          {"lam": config["lam"], "mu": config["mu"]}),
    }


def _cv_errors(data, estimator, grid, n_folds, max_folds, n_jobs, seed=0):
    """Nested CV: the first ``max_folds`` of ``n_folds`` per-task folds
    (split with ``seed``), in each the grid point chosen on 25 % of every
    task's training samples (drawn with the same ``seed``).  Returns the
    folds' pooled test MSEs and the choices."""
    folds = list(TaskKFold(n_folds, shuffle=True, random_state=seed).split(data))[:max_folds]
    search = GridSearch(estimator, grid, cv=TaskShuffleSplit(1, test_size=0.25, random_state=seed), scoring="neg_mse")
    result = cross_validate(search, data, cv=folds, scoring="neg_mse", n_jobs=n_jobs, return_estimator=True,
                            verbose=GRID_VERBOSE.get())
    return -result["test_score"], [est.best_params_ for est in result["estimator"]]


def _cv_mse(data, estimator, grid, n_folds, max_folds, n_jobs, seed=0):
    """:func:`_cv_errors` summarised: the mean and std of the folds' pooled
    test MSE and the choices."""
    errors, chosen = _cv_errors(data, estimator, grid, n_folds, max_folds, n_jobs, seed)
    return float(np.mean(errors)), float(np.std(errors)), chosen


#: Paired comparisons of Table 2 (upper): (method, baseline); the difference
#: is method minus baseline on the same test fold, negative = method better.
PAIRS = (("Fusion SG-MTL", "SG-MTL"), ("SG-MTL", "STL"), ("SG-MTL", "ClusMTL"))


def _paired(errors, name):
    """Per-fold paired differences of the methods' test MSEs over every
    repetition's folds: mean, std, its standard error (std / sqrt(folds);
    folds of one repetition share training samples, so this understates
    the uncertainty somewhat) and the fraction of folds where the method
    is better."""
    rows = []
    for method, baseline in PAIRS:
        if method not in errors or baseline not in errors:
            continue
        diff = np.asarray(errors[method]) - np.asarray(errors[baseline])
        std = float(np.std(diff, ddof=1)) if diff.size > 1 else float("nan")
        rows.append({"dataset": name, "comparison": f"{method} - {baseline}", "mean_diff": float(np.mean(diff)),
                     "std_diff": std, "se_diff": std / np.sqrt(diff.size), "n_folds": int(diff.size),
                     "fraction_better": float(np.mean(diff < 0)), "diff": diff.tolist()})
    return rows


def _table2_upper(config, progress, n_jobs):
    """In each setting, each of its methods' nested CV repeated over
    ``repeats[name]`` split seeds (0, 1, ...: the same folds for every
    method, so the differences can be paired fold by fold)."""
    rows, paired = [], []
    for setting, kwargs in SETTINGS.items():
        grids = config["settings"][setting]
        for name, (maker, n_groups) in _SETS.items():
            data, _, _ = maker(random_state=0, **kwargs[name])
            errors = {}
            for method, (estimator, grid) in _methods(n_groups, config, setting).items():
                if method not in grids["methods"]:
                    continue
                runs = [_cv_errors(data, estimator, grid, config["folds"], grids["max_folds"][name], n_jobs, seed)
                        for seed in range(grids["repeats"][name])]
                errors[method] = np.concatenate([e for e, _ in runs])
                mean, std = float(np.mean(errors[method])), float(np.std(errors[method]))
                paper = PAPER_TABLE2[(name, method)]
                rows.append({"setting": setting, "dataset": name, "method": method, "mse": mean, "mse_std": std,
                             "n_folds": int(errors[method].size), "paper_mse": paper,
                             "chosen": [{k: float(v) for k, v in c.items()} for _, chosen in runs for c in chosen]})
                progress(f"[sgmtl] Table 2 {setting:<10} {name:<5} {method:<13} CV MSE {mean:.3f} (paper {paper})")
            paired += [dict(row, setting=setting) for row in _paired(errors, name)]
    return rows, paired


def _table2_lower(config, progress, n_jobs):
    """Fusion SG-MTL on set-2 at the separable data, ``mu`` fixed, ``lam``
    chosen per fold."""
    data, _, _ = make_sgmtl_set2(random_state=0)
    grids = config["settings"]["separable"]
    mu = grids["mu"][0]
    rows = []
    for N in config["n_values"]:
        estimator = SGMTL(n_groups=N, mu=mu, n_init=config["n_init"], random_state=0, fit_intercept=False)
        mean, std, _ = _cv_mse(data, estimator, {"lam": grids["lam"]}, config["folds"],
                               grids["max_folds"]["set-2"], n_jobs)
        rows.append({"method": "Fusion SG-MTL", "n_groups": N, "mse": mean, "mse_std": std,
                     "paper_mse": PAPER_FUSION_BY_N.get(N)})
        progress(f"[sgmtl] Table 2 lower  N={N:<3} CV MSE {mean:.3f} (paper {PAPER_FUSION_BY_N.get(N)})")
    return rows


def _figure4_memberships(n_starts=5):
    """U-step (projected gradient, then task reassignment) for the known W
    of set-1 under eqs. (2), (4), (5); the lowest objective of a few
    random starts.  Under (2) many groupings tie (every one that keeps each
    true group together: see docs/sgmtl.md), and the tie is broken toward
    fewer groups by merging, which reaches the paper's single group.
    Returns ``({title: U}, W, groups)``."""
    _, W, groups = make_sgmtl_set1(random_state=0)
    out = {}
    for label, regularizer in FIGURE4_REGULARIZERS.items():
        best = None
        for seed in range(n_starts):
            U = np.random.default_rng(seed).dirichlet(np.ones(3), size=W.shape[1]).T
            U, _ = u_step(W, U, 1.0, 0.0, regularizer, n_steps=2000)
            if regularizer != "squared":
                # (4)'s minimisers are not binary: reassigning to vertices
                # would hide exactly what the figure shows
                U, _ = reassign_tasks(W, U, 1.0, 0.0, regularizer)
            if regularizer == "l1":
                U, _ = merge_groups(W, U, 1.0, 0.0, regularizer)
            value = sgmtl_u_objective(W, U, 1.0, 0.0, regularizer)
            if best is None or value < best[0]:
                best = (value, U)
        out[label] = best[1]
    return out, W, groups


def _true_memberships(groups):
    return np.eye(groups.max() + 1)[:, groups]


def _figure4(progress):
    progress("[sgmtl] figure 4: U-step for the known W of set-1 under eqs. (2), (4), (5) ...")
    memberships, W, groups = _figure4_memberships()
    panels = {label: order_groups(U) for label, U in memberships.items()}
    panels[f"true memberships (N = {groups.max() + 1})"] = _true_memberships(groups)
    return memberships_figure(panels, weights=("known W of set-1", W),
                              title=f"Figure 4: U found by the U-step for the known W of set-1\n{_ORDER_NOTE}")


def _figure6(config, progress):
    data, _, groups = make_sgmtl_set2(random_state=0)
    true_n = groups.max() + 1
    panels = {}
    for N in FIGURE6_N:
        progress(f"[sgmtl] figure 6: fitting N={N} ...")
        est = SGMTL(n_groups=N, lam=0.1, n_init=config["n_init"], random_state=0, fit_intercept=False).fit(data)
        which = " (the true N)" if N == true_n else ""
        panels[f"learned U, N = {N}{which}"] = order_groups(est.groups_)
    panels[f"true memberships (N = {true_n})"] = _true_memberships(groups)
    return memberships_figure(panels,
                              title=f"Figure 6: U learned by SG-MTL on set-2, true N = {true_n}\n{_ORDER_NOTE}")


def _figures(config, out, progress):
    return [write_figure(_figure4(progress), out / "sgmtl_figure4.png", progress, "sgmtl"),
            write_figure(_figure6(config, progress), out / "sgmtl_figure6.png", progress, "sgmtl")]


def _recovery_ari(maker, n_groups, seed, n_init):
    data, _, groups = maker(random_state=seed)
    est = SGMTL(n_groups=n_groups, lam=0.1, n_init=n_init, random_state=seed, fit_intercept=False).fit(data)
    return adjusted_rand(groups, est.labels_)


def _group_recovery(config, progress, n_jobs):
    rows = []
    for name, (maker, n_groups) in _SETS.items():
        scores = run_parallel((delayed(_recovery_ari)(maker, n_groups, seed, config["n_init"])
                               for seed in range(config["ari_seeds"])), n_jobs)
        rows.append({"dataset": name, "ari": scores, "ari_mean": float(np.mean(scores)),
                     "ari_min": float(np.min(scores)), "fraction_ari_1": float(np.mean(np.isclose(scores, 1.0)))})
        progress(f"[sgmtl] group recovery {name}: ARI {np.round(scores, 3).tolist()}")
    return rows


@register("sgmtl", "SG-MTL paper, Section 5.1: Table 2, Figures 4 and 6, group recovery (ARI)")
def run_sgmtl(quick=False, out=None, progress=lambda message: None, n_jobs=None):
    config = CONFIGS["quick" if quick else "full"]
    upper, paired = _table2_upper(config, progress, n_jobs)
    lower = _table2_lower(config, progress, n_jobs)
    recovery = _group_recovery(config, progress, n_jobs)
    figures, notices = [], []
    if out is not None:
        if have_matplotlib():
            figures = _figures(config, out, progress)
        else:
            notices.append(MATPLOTLIB_NOTICE)
    sections = []
    for setting in SETTINGS:
        sections.append(format_table([r for r in upper if r["setting"] == setting],
                                     ["dataset", "method", "mse", "mse_std", "n_folds", "paper_mse"],
                                     f"Table 2 (upper), {SETTING_LABELS[setting]}: CV MSE, "
                                     "hyperparameters by inner validation"))
        rows = [{k: v for k, v in r.items() if k != "diff"} for r in paired if r["setting"] == setting]
        if rows:
            sections.append(format_table(rows, ["dataset", "comparison", "mean_diff", "std_diff", "se_diff",
                                                "n_folds", "fraction_better"],
                                         f"Table 2 (upper), paired, {setting} data: test-MSE difference fold by "
                                         "fold (negative: the first is better)"))
    text = "\n\n".join(sections + [
        format_table(lower, ["method", "n_groups", "mse", "mse_std", "paper_mse"],
                     "Table 2 (lower): Fusion SG-MTL on set-2 by number of groups N, separable data"),
        format_table([{k: v for k, v in r.items() if k != "ari"} for r in recovery],
                     ["dataset", "ari_mean", "ari_min", "fraction_ari_1"],
                     f"Group recovery, separable data: adjusted Rand index over {config['ari_seeds']} seeds"),
    ])
    return {
        "experiment": "sgmtl",
        "quick": quick,
        "config": config,
        "table": [{k: v for k, v in row.items() if k != "chosen"} for row in upper],
        "paired": paired,
        "table_by_n_groups": lower,
        "group_recovery": recovery,
        "hyperparameters": upper,
        "figures": figures,
        "notices": notices,
        "text": text,
    }
