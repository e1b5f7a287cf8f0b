"""The benchmark scripts run, and measure what they claim (tiny sizes)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import mtlcvx as mc

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peers_objective_is_scikit_learns_and_every_solver_reaches_the_target():
    peers = _load("peers")
    X, Y = peers.make_problem(20, 30, 3)
    alpha = 0.1 * peers.alpha_max(X, Y)
    # at alpha_max the zero matrix is optimal: the scaling of alpha is scikit-learn's
    assert np.abs(peers._sklearn(X, Y, 1.0001 * peers.alpha_max(X, Y), 1e-8)).max() == 0
    W = peers._mtlcvx(X, Y, alpha, 1e-10)
    grad = X.T @ (X @ W - Y) / X.shape[0]
    active = np.linalg.norm(W, axis=1) > 0
    # stationarity of 1/(2n)||Y - XW||^2 + alpha ||W||_21 on the support
    np.testing.assert_allclose(-grad[active], alpha * W[active] / np.linalg.norm(W[active], axis=1)[:, None],
                               atol=1e-6)
    solvers = {name: peers.SOLVERS[name] for name in ("mtlcvx", "scikit-learn")}
    row = peers.run_case(20, 30, 3, 0.1, solvers, repeats=1, target=1e-6)
    for name in solvers:
        assert row[name]["tol"] is not None and row[name]["gap"] <= 1e-6 and row[name]["time"] > 0
    assert "| (20, 30, 3) | 0.1 |" in peers.format_rows([row], list(solvers))


def test_peers_tolerance_mode_reports_gaps_that_shrink_with_the_tolerance(tmp_path, capsys):
    peers = _load("peers")
    out = tmp_path / "tols.json"
    peers.main(["--tolerances", "1e-2", "1e-6", "1e-9", "--sizes", "20,30,3", "--ratios", "0.1", "--repeats", "1",
                "--json", str(out)])
    (row,) = json.loads(out.read_text())
    gaps = [row["tols"][key]["gap"] for key in ("1e-02", "1e-06", "1e-09")]
    # tol bounds the relative duality gap, which bounds the objective's
    assert gaps[0] <= 1e-2 and gaps[1] <= 1e-6 and gaps[2] <= 1e-9
    assert all(row["tols"][key]["time"] > 0 for key in row["tols"])
    assert "time 1e-09 / 1e-02" in capsys.readouterr().out


@pytest.mark.parametrize("module", ["peers", "per_task"])
def test_benchmark_help(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _load(module).main(["--help"])
    assert exit_info.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_per_task_objective_and_alpha_max_are_group_lassos_with_mean_scaling():
    per_task = _load("per_task")
    Xs, ys = per_task.make_problem(30, 4, 20)
    n_samples = [X.shape[0] for X in Xs]
    assert len(set(n_samples)) > 1 and min(n_samples) >= 10 and max(n_samples) <= 30
    alpha = 0.1 * per_task.alpha_max(Xs, ys)
    est = mc.GroupLasso(lam=alpha, scaling="mean", fit_intercept=False, tol=1e-10).fit(Xs, ys)
    # the script's objective is the estimator's documented one
    np.testing.assert_allclose(per_task.objective(Xs, ys, est.coef_, alpha), est.objective(Xs, ys), rtol=1e-12)
    # alpha_max is the smallest weight at which W = 0 is optimal
    a_max = per_task.alpha_max(Xs, ys)
    fit = per_task._mtlcvx(per_task.Problem(Xs, ys), 1.0001 * a_max, 1e-10)[0]
    assert np.abs(fit).max() == 0
    assert np.abs(per_task._mtlcvx(per_task.Problem(Xs, ys), 0.99 * a_max, 1e-10)[0]).max() > 0


def test_per_task_mutar_minimises_our_objective_on_its_padded_arrays():
    pytest.importorskip("mutar")
    assert _load("per_task").check_mutar_convention() <= 1e-9


def test_per_task_main_measures_what_it_claims(tmp_path):
    per_task = _load("per_task")
    out = tmp_path / "per_task.json"
    result = per_task.main(["--sizes", "20,3,10", "--ratios", "0.1", "--repeats", "1",
                            "--solvers", "mtlcvx", "CVXPY+SCS", "--json", str(out)])
    assert json.loads(out.read_text())["rows"][0]["d"] == 20
    (row,) = result["rows"]
    assert (row["d"], row["m"], row["n"], row["ratio"]) == (20, 3, 10, 0.1) and len(row["n_samples"]) == 3
    ours = row["solvers"]["mtlcvx"]
    assert ours["tol"] is not None and ours["time"] > 0 and ours["gap"] <= 1e-6
    assert np.isfinite(ours["gradient_evaluations"]) and ours["gradient_evaluations"] > 0
    assert np.isfinite(row["memory_ratio"]) and row["memory_ratio"] > 0
    assert row["data_bytes"] == 8 * sum(n_t * 21 for n_t in row["n_samples"])
    # mtlcvx's answer at the chosen tolerance is within the target gap of an
    # optimum computed independently (Clarabel, tight) of the script
    Xs, ys = per_task.make_problem(20, 3, 10)
    est = mc.GroupLasso(lam=row["alpha"], scaling="mean", fit_intercept=False, tol=ours["tol"]).fit(Xs, ys)
    model, params = est.reference_model(Xs, ys)
    p_star = min(model.solve(solver="CLARABEL", **params).objective, row["p_star"])
    assert (est.objective(Xs, ys) - p_star) / p_star <= 1e-6


def test_per_task_growth_slopes():
    per_task = _load("per_task")
    growth = per_task.run_growth(0.1, repeats=1, target=1e-6, n_nonzero=3, n=10,
                                 series=(("d", [(20, 3), (40, 3), (80, 3)]), ("m", [(20, 3), (20, 6)])))
    for axis in ("d", "m"):
        g = growth[axis]
        assert [p[axis] for p in g["points"]] == ([20, 40, 80] if axis == "d" else [3, 6])
        assert np.isfinite(g["time_slope"]) and np.isfinite(g["gradient_slope"])
    assert per_task.slope([1, 2, 4], [3, 6, 12]) == pytest.approx(1.0)
