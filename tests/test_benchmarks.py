"""The benchmark scripts run, and measure what they claim (tiny sizes)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

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


@pytest.mark.parametrize("module", ["peers"])
def test_benchmark_help(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _load(module).main(["--help"])
    assert exit_info.value.code == 0
    assert "usage" in capsys.readouterr().out
