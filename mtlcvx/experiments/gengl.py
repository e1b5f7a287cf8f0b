"""GenGL/SSMTL paper (Fei, Sun, Kudo, Kimura 2023), Section 6.1: the three
synthetic scenarios (GL, MeTaG, rMTFL), each fitted by GL, MeTaG, rMTFL and
SSMTL_m (all as GenGL presets, solved exactly).

Protocol: every task's samples are split 6:2:2 into train, validation and
test (as the paper does for its real data); every grid point is fitted on
the training part and the one with the lowest validation nMSE is kept; we
report its test nMSE and the F1 score of its support (entries with ``|W| >
1e-2 max |W*|`` count as non-zero: the iterates of the solvers are not
exactly sparse).  Figure 2: heat maps of the true ``W`` and of each
method's ``W`` per scenario.
"""

import numpy as np

from ..datasets import GENGL_SCENARIOS, make_gengl_scenario
from ..metrics import nmse, support_f1
from ..models import SSMTL
from ..plotting import MATPLOTLIB_NOTICE, have_matplotlib, heatmaps_figure
from . import register
from ._common import fixed_validation_search, format_table, write_figure

__all__ = ["run_gengl", "CONFIGS"]

CONFIGS = {
    "quick": dict(gamma=[0.1, 1.0], phi=[2.0], tol=1e-6),
    "full": dict(gamma=[1e-2, 1e-1, 1.0, 10.0, 100.0], phi=[2.0, 5.0, 10.0, 50.0], tol=1e-7),
}

_METHODS = {
    "GL": ("gl", ("gamma1",)),
    "MeTaG": ("metag", ("gamma1", "phi")),
    "rMTFL": ("rmtfl", ("gamma1", "gamma2")),
    "SSMTL_m": ("ssmtl_m", ("gamma1", "gamma2", "phi")),
}


def _split_622(data, seed):
    rest, test = data.split(test_size=0.2, random_state=seed)
    train, val = rest.split(test_size=0.25, random_state=seed)
    return train, val, test


def _grid(names, config):
    values = {"gamma1": config["gamma"], "gamma2": config["gamma"], "phi": config["phi"]}
    return {name: values[name] for name in names}


def _scenario_rows(scenario, config, progress, n_jobs):
    """Table rows of one scenario, and Figure 2's panels ``{title: W}``."""
    data, W_true, _ = make_gengl_scenario(scenario, random_state=0)
    train, val, test = _split_622(data, seed=0)
    panels = {"true W": W_true}
    threshold = 1e-2 * np.abs(W_true).max()
    rows = []
    for method, (preset, names) in _METHODS.items():
        est, params = fixed_validation_search(SSMTL(preset=preset, h=2, tol=config["tol"], fit_intercept=False),
                                              _grid(names, config), train, val, scoring="neg_nmse", n_jobs=n_jobs)
        W = np.where(np.abs(est.coef_) > threshold, est.coef_, 0.0)
        row = {"scenario": scenario, "method": method, "test_nmse": nmse(test.ys, est.predict(test)),
               "support_f1": support_f1(W_true, W), "params": {k: float(v) for k, v in params.items()}}
        rows.append(row)
        panels[method] = est.coef_
        progress(f"[gengl] {scenario:<5} {method:<8} test nMSE {row['test_nmse']:.4f}  "
                 f"support F1 {row['support_f1']:.3f}")
    return rows, panels


def _figures(panels_by_scenario, out, progress):
    return [write_figure(heatmaps_figure(panels, title=f"Figure 2, {scenario} scenario: true and learned W",
                                         shared_scale=True),
                         out / f"gengl_figure2_{scenario}.png", progress, "gengl")
            for scenario, panels in panels_by_scenario.items()]


@register("gengl", "GenGL/SSMTL paper, Section 6.1: three synthetic scenarios, Figure 2, nMSE and support F1")
def run_gengl(quick=False, out=None, progress=lambda message: None, n_jobs=None):
    config = CONFIGS["quick" if quick else "full"]
    rows, panels_by_scenario = [], {}
    for scenario in GENGL_SCENARIOS:
        scenario_rows, panels_by_scenario[scenario] = _scenario_rows(scenario, config, progress, n_jobs)
        rows += scenario_rows
    figures, notices = [], []
    if out is not None:
        if have_matplotlib():
            figures = _figures(panels_by_scenario, out, progress)
        else:
            notices.append(MATPLOTLIB_NOTICE)
    text = format_table(rows, ["scenario", "method", "test_nmse", "support_f1"],
                        "GenGL scenarios: test nMSE and support F1 (hyperparameters on a 6:2:2 validation split)")
    return {"experiment": "gengl", "quick": quick, "config": config, "table": rows, "figures": figures,
            "notices": notices, "text": text}
