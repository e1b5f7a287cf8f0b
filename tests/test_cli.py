"""The command line: help, list, reproduce (table, JSON, figure), bench;
its errors, tables, progress lines and figures."""

import ast
import contextlib
import inspect
import io
import json
import pathlib
import re
import shutil
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from mtlcvx import experiments
from mtlcvx.cli import main
from mtlcvx.experiments import _common
from mtlcvx.experiments import gengl as gengl_experiment
from mtlcvx.experiments import sgmtl as sgmtl_experiment
from mtlcvx.experiments import srml as srml_experiment
from mtlcvx.experiments._common import format_table
from mtlcvx.plotting import MEMBERSHIP_LABEL, WEIGHT_LABEL, heatmaps_figure, memberships_figure

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("reproduce", "bench", "list"):
        assert command in out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "mtlcvx", "--help"], capture_output=True, text=True, check=True)
    assert "reproduce" in out.stdout


def test_list_shows_registry(capsys):
    assert main(["list"]) == 0
    assert "baselines" in capsys.readouterr().out


def test_unknown_experiment_is_a_clear_error(capsys, tmp_path):
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("given_out", [False, True])
def test_unknown_experiment_creates_no_folder(given_out, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["reproduce", "nope"] + (["--out", str(tmp_path / "figures")] if given_out else [])
    assert main(argv) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("budget", ["-1", "0", "abc", "nan", "inf"])
def test_bench_budget_must_be_a_positive_number(budget, monkeypatch, capsys):
    monkeypatch.setattr("mtlcvx.bench.run_bench", lambda **_: pytest.fail("bench ran with --budget " + budget))
    with pytest.raises(SystemExit) as info:
        main(["bench", "--budget", budget])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mtlcvx bench")
    assert f"argument --budget: must be a positive number of seconds, got {budget!r}" in err


def test_bench_budget_reaches_the_bench(monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("mtlcvx.bench.run_bench", lambda **kwargs: seen.update(kwargs) or {"text": "table"})
    assert main(["bench", "--quick", "--budget", "2.5"]) == 0
    assert seen["budget"] == 2.5 and seen["quick"] is True
    assert capsys.readouterr().out == "table\n"


@pytest.mark.parametrize("argv, command, unknown", [
    (["reproduce", "sgmtl", "--quik"], "reproduce", "--quik"),
    (["bench", "--jsn", "x"], "bench", "--jsn x"),
    (["list", "--all"], "list", "--all"),
])
def test_misspelt_flag_shows_the_usage_of_its_command(argv, command, unknown, monkeypatch, capsys):
    monkeypatch.setattr(experiments, "run", lambda *a, **k: pytest.fail("ran despite a misspelt flag"))
    monkeypatch.setattr("mtlcvx.bench.run_bench", lambda **_: pytest.fail("ran despite a misspelt flag"))
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: mtlcvx {command} ")
    assert f"mtlcvx {command}: error: unrecognized arguments: {unknown}" in err


def _fake_experiment(monkeypatch):
    """Registers ``fake``, which records the progress printer it is given."""
    seen = {}

    def fake(quick, out, progress, n_jobs):
        seen["progress"] = progress
        seen["n_jobs"] = n_jobs
        progress("[fake] step")
        return {"table": [], "text": "fake table"}

    experiments.available()  # the real experiments register first
    monkeypatch.setitem(experiments.REGISTRY, "fake", (fake, "records its progress printer"))
    return seen


def test_cli_and_library_share_one_progress_printer(monkeypatch, tmp_path, capsys):
    seen = _fake_experiment(monkeypatch)
    assert main(["reproduce", "fake", "--out", str(tmp_path)]) == 0
    assert seen["progress"] is _common.stderr_progress
    assert capsys.readouterr().err == "[fake] step\n"
    experiments.run("fake")
    assert seen["progress"] is _common.stderr_progress


def test_reproduce_jobs_reaches_the_experiment_and_zero_is_refused(monkeypatch, tmp_path, capsys):
    seen = _fake_experiment(monkeypatch)
    assert main(["reproduce", "fake", "--out", str(tmp_path), "--jobs", "2"]) == 0
    assert seen["n_jobs"] == 2
    assert main(["reproduce", "fake", "--out", str(tmp_path)]) == 0
    assert seen["n_jobs"] == 1
    for bad in ("0", "two"):
        with pytest.raises(SystemExit):
            main(["reproduce", "fake", "--jobs", bad])
        assert "--jobs" in capsys.readouterr().err


def test_silent_reproduce_prints_no_progress(monkeypatch, tmp_path, capsys):
    _fake_experiment(monkeypatch)
    assert main(["reproduce", "fake", "--out", str(tmp_path), "--silent"]) == 0
    assert capsys.readouterr().err == ""


def _cells(table):
    """``{column: [cell, ...]}`` of a format_table text, cut at the rule line."""
    header, rule, *body = table.splitlines()
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    return {header[a:b].strip(): [line[a:b].ljust(b - a) for line in body] for a, b in spans}


def test_format_table_aligns_numbers_right_and_text_left():
    rows = [{"method": "STL", "mse": 3.19, "n_groups": 2, "gap": -1.2e-9, "note": None},
            {"method": "Fusion SG-MTL", "mse": 0.4319, "n_groups": 10, "gap": 1.3e-16, "note": "ok"},
            {"method": "peer", "mse": 120.0, "n_groups": None, "gap": 0.0, "note": "stopped at 120 s"}]
    text = format_table(rows, title="Table")
    assert text.splitlines()[0] == "Table"
    cells = _cells(text.split("\n", 1)[1])
    assert [c.strip() for c in cells["mse"]] == ["3.190", "0.432", "120.000"]
    assert len({c.index(".") for c in cells["mse"]}) == 1  # decimal points line up
    assert [c.strip() for c in cells["gap"]] == ["-1.20e-09", "1.30e-16", "0.00e+00"]
    assert [c.strip() for c in cells["n_groups"]] == ["2", "10", "-"]
    for column in ("mse", "gap", "n_groups"):
        assert all(c == c.strip().rjust(len(c)) for c in cells[column]), column
    for column in ("method", "note"):
        assert all(c == c.strip().ljust(len(c)) for c in cells[column]), column
    assert cells["note"][0].strip() == "-"
    header = text.splitlines()[1]
    assert header.startswith("method ") and "      mse" in header  # numeric headers sit over the numbers


def test_format_table_keeps_one_notation_per_column():
    cells = _cells(format_table([{"s": 0.5, "t": 1e-9, "k": 3}, {"s": "-", "t": 2.5, "k": 4},
                                 {"s": 12.25, "t": 7e7, "k": 5}]))
    assert [c.strip() for c in cells["s"]] == ["0.500", "-", "12.250"]  # bench's own "-" is a missing cell
    assert [c.strip() for c in cells["t"]] == ["1.00e-09", "2.50e+00", "7.00e+07"]
    assert [c.strip() for c in cells["k"]] == ["3", "4", "5"]


def test_default_results_folder_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("mtlcvx_results/sgmtl/sgmtl_figure4.png", "examples/mtlcvx_results/baselines/x.png"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, path


def _panels(fig):
    return [ax for ax in fig.axes if ax.images]


def _ticks_in_view(ticks, limits):
    low, high = sorted(limits)
    return [t for t in ticks if low <= t <= high]


def _check_panels(fig):
    """Every heat map: axis labels, integer ticks, and a colorbar of its scale."""
    colorbars = [image.colorbar for ax in fig.axes for image in ax.images if image.colorbar is not None]
    for ax in _panels(fig):
        image = ax.images[0]
        assert ax.get_xlabel() == "task"
        assert ax.get_ylabel() in ("feature", "group")
        for ticks, limits in ((ax.get_xticks(), ax.get_xlim()), (ax.get_yticks(), ax.get_ylim())):
            shown = _ticks_in_view(ticks, limits)
            assert shown and all(float(t).is_integer() for t in shown), shown
            assert len(shown) <= 12
        assert any(bar.mappable.get_cmap().name == image.get_cmap().name
                   and bar.mappable.norm.vmin == image.norm.vmin and bar.mappable.norm.vmax == image.norm.vmax
                   for bar in colorbars), ax.get_title()
        expected = MEMBERSHIP_LABEL if ax.get_ylabel() == "group" else WEIGHT_LABEL
        assert any(expected in (bar.ax.get_xlabel(), bar.ax.get_ylabel()) for bar in colorbars)
    return colorbars


def test_membership_colorbar_says_what_white_and_black_mean():
    assert "white = 1" in MEMBERSHIP_LABEL and "black = 0" in MEMBERSHIP_LABEL
    assert "belongs fully" in MEMBERSHIP_LABEL


def test_weights_figure_shares_one_colorbar_and_labels_features():
    rng = np.random.default_rng(0)
    fig = heatmaps_figure({"true W": rng.normal(size=(80, 10)), "learned W": rng.normal(size=(80, 10))},
                          shared_scale=True)
    assert len(_check_panels(fig)) == 1
    assert {ax.get_ylabel() for ax in _panels(fig)} == {"feature"}


def test_mixed_figure_has_a_colorbar_per_weight_panel_and_one_for_memberships():
    rng = np.random.default_rng(0)
    U = rng.dirichlet(np.ones(3), size=7).T
    fig = heatmaps_figure({"W1": rng.normal(size=(12, 7)), "W2": 5 * rng.normal(size=(12, 7)), "U": U})
    assert len(_check_panels(fig)) == 3
    group_axis = next(ax for ax in _panels(fig) if ax.get_ylabel() == "group")
    assert _ticks_in_view(group_axis.get_yticks(), group_axis.get_ylim()) == [0, 1, 2]


def test_an_all_zero_or_small_non_negative_W_is_drawn_as_weights_not_memberships():
    fig = heatmaps_figure({"zero W": np.zeros((6, 4)), "small W": np.full((6, 4), 0.01)})
    assert all(ax.get_ylabel() == "feature" for ax in _panels(fig))


def test_memberships_figure_stacks_panels_over_the_same_tasks():
    rng = np.random.default_rng(0)
    fig = memberships_figure({"N = 2": rng.dirichlet(np.ones(2), size=30).T,
                              "N = 5": rng.dirichlet(np.ones(5), size=30).T},
                             weights=("W", rng.normal(size=(21, 30))))
    _check_panels(fig)
    fig.canvas.draw()  # constrained layout places the panels when drawing
    for edge in ("x0", "x1"):
        assert len({round(getattr(ax.get_position(), edge), 3) for ax in _panels(fig)}) == 1, edge


def test_sgmtl_figure4_names_each_regularizer():
    lines = []
    fig = sgmtl_experiment._figure4(lines.append)
    titles = [ax.get_title() for ax in _panels(fig)]
    for name in ("eq. (2): relaxed l1, sqrt(U)", "eq. (4): squared, U", "eq. (5): squared, sqrt(U)"):
        assert name in titles
    assert "true memberships (N = 3)" in titles
    _check_panels(fig)
    assert lines == ["[sgmtl] figure 4: U-step for the known W of set-1 under eqs. (2), (4), (5) ..."]


def test_sgmtl_figure6_shows_the_true_number_of_groups():
    lines = []
    fig = sgmtl_experiment._figure6(dict(sgmtl_experiment.CONFIGS["quick"], n_init=1), lines.append)
    titles = [ax.get_title() for ax in _panels(fig)]
    assert titles == ["learned U, N = 2", "learned U, N = 4", "learned U, N = 5 (the true N)", "learned U, N = 6",
                      "true memberships (N = 5)"]
    assert "true N = 5" in fig.get_suptitle()
    _check_panels(fig)
    assert lines == [f"[sgmtl] figure 6: fitting N={N} ..." for N in (2, 4, 5, 6)]


def test_gengl_figures_report_each_file(tmp_path):
    lines = []
    panels = {"true W": np.eye(4), "GL": -np.eye(4)}
    figures = gengl_experiment._figures({"gl": panels, "metag": panels}, tmp_path, lines.append)
    assert figures == [str(tmp_path / "gengl_figure2_gl.png"), str(tmp_path / "gengl_figure2_metag.png")]
    assert lines == [f"[gengl] wrote {path}" for path in figures]
    assert all(pathlib.Path(path).stat().st_size > 0 for path in figures)


_PAPER_MODELS = {"SGMTL", "SSMTL", "STL", "TwoStageClusMTL", "SRML", "SSML", "GroupLasso", "TraceNorm"}


@pytest.mark.parametrize("module", [sgmtl_experiment, gengl_experiment, srml_experiment], ids=lambda m: m.__name__)
def test_paper_experiments_fit_without_intercept(module):
    """The papers' models have no intercept: every estimator the paper
    experiments build says so, whatever the package default."""
    calls = [node for node in ast.walk(ast.parse(inspect.getsource(module)))
             if isinstance(node, ast.Call)
             and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in _PAPER_MODELS]
    assert calls
    for call in calls:
        value = {keyword.arg: keyword.value for keyword in call.keywords}.get("fit_intercept")
        assert isinstance(value, ast.Constant) and value.value is False, ast.unparse(call)


def test_cli_docs_describe_every_registered_experiment():
    text = (ROOT / "docs" / "cli.md").read_text()
    reproduce = text.split("## `mtlcvx reproduce`")[1].split("## `mtlcvx bench`")[0]
    for name in experiments.available():
        assert f"`{name}`" in reproduce, name
    assert "arrive with their" not in text
    for behaviour in ("unknown experiment", "--budget", "usage"):
        assert behaviour in text, behaviour


def _reproduce_quick(name, tmp_path_factory):
    out = tmp_path_factory.mktemp(name)
    json_path = out / "result.json"
    progress = io.StringIO()
    with contextlib.redirect_stderr(progress):
        code = main(["reproduce", name, "--quick", "--json", str(json_path), "--out", str(out)])
    return code, json.loads(json_path.read_text()), out, progress.getvalue()


@pytest.fixture(scope="module")
def quick_baselines(tmp_path_factory):
    return _reproduce_quick("baselines", tmp_path_factory)


def test_reproduce_baselines_quick_writes_table_json_and_figure(quick_baselines):
    code, payload, out, progress = quick_baselines
    assert code == 0
    methods = [row["method"] for row in payload["table"]]
    assert methods == ["STL (ridge)", "STL (elastic net)", "AllTasks", "GroupLasso (L21)", "TraceNorm", "ClusMTL"]
    for row in payload["table"]:
        assert row["test_mse"] > 0 and row["fit_seconds"] >= 0
    assert (out / "baselines_weights.png").stat().st_size > 0
    assert progress.splitlines()[-1] == f"[baselines] wrote {out / 'baselines_weights.png'}"


def test_structured_methods_beat_pooling_on_row_sparse_low_rank_tasks(quick_baselines):
    """AllTasks assumes every task equal, which the generator breaks: the
    L21 and trace-norm models, whose assumptions hold, must do better."""
    _, payload, _, _ = quick_baselines
    mse = {row["method"]: row["test_mse"] for row in payload["table"]}
    assert mse["GroupLasso (L21)"] < mse["AllTasks"]
    assert mse["TraceNorm"] < mse["AllTasks"]
    assert mse["GroupLasso (L21)"] < mse["STL (ridge)"]


def test_missing_matplotlib_gives_a_notice(monkeypatch, tmp_path):
    import mtlcvx.experiments.baselines as module

    monkeypatch.setattr(module, "have_matplotlib", lambda: False)
    monkeypatch.setitem(module.CONFIGS, "quick", dict(n_tasks=3, n_features=6, n_samples=20, n_relevant=2,
                                                       rank=1, noise=1.0, seeds=1))
    result = experiments.run("baselines", quick=True, out=tmp_path, progress=None)
    assert result["figures"] == []
    assert "matplotlib is not installed" in result["notices"][0]


@pytest.mark.slow
def test_bench_quick_rows_meet_the_objective_gap(tmp_path):
    json_path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--budget", "20", "--json", str(json_path)]) == 0
    rows = json.loads(json_path.read_text())["rows"]
    assert {row["problem"] for row in rows} == {"L21", "trace", "L21 shared X (peer)", "L21, generic path (prox only)",
                                                "trace, generic path (prox only)", "l1 + trace (two terms, generic)",
                                                "SG-MTL W-step (set-1)",
                                                "SSMTL_m (gl scenario)", "BiGMTL lower level (synthetic)",
                                                "SRML w-step (squared, l2)", "GGMTL lower level (squared)",
                                                "GGMTL hypergradient: Theorem 1 (sparse solve + adjoint)",
                                                "GGMTL outer iteration (CG, warm)",
                                                "GGMTL outer iteration: log-log slope in T d"}
    for row in rows:
        for key in ("problem", "size", "reference_s", "fast_s", "speedup", "rel_objective_gap"):
            assert key in row
        if row["problem"].startswith("GGMTL outer iteration"):
            # timings only (the slope is a bench figure, not a unit-test one)
            continue
        assert row["rel_objective_gap"] <= 1e-6
        assert row["fast_s"] > 0


@pytest.fixture(scope="module")
def quick_sgmtl(tmp_path_factory):
    return _reproduce_quick("sgmtl", tmp_path_factory)


@pytest.mark.slow
def test_reproduce_sgmtl_quick(quick_sgmtl):
    """Table 2 at the separable (default) data: every method, the paper's
    ordering (SG-MTL and Fusion SG-MTL below STL and ClusMTL on both sets),
    the comparisons as paired per-fold differences whose mean is the
    difference of the two rows; at the calibrated data STL alone, near the
    paper's set-1 1.067.  Fusion SG-MTL by N lowest at the true N = 5, the
    groups recovered; both figures."""
    code, payload, out, progress = quick_sgmtl
    assert code == 0
    mse = {(row["setting"], row["dataset"], row["method"]): row["mse"] for row in payload["table"]}
    methods = ("STL", "ClusMTL", "SG-MTL", "Fusion SG-MTL")
    assert sorted(mse) == sorted([("separable", name, method) for name in ("set-1", "set-2") for method in methods]
                                 + [("calibrated", name, "STL") for name in ("set-1", "set-2")])
    assert all(row["paper_mse"] > 0 for row in payload["table"])
    for name in ("set-1", "set-2"):
        for mtl in ("SG-MTL", "Fusion SG-MTL"):
            for baseline in ("STL", "ClusMTL"):
                assert mse[("separable", name, mtl)] < 0.8 * mse[("separable", name, baseline)]
    assert abs(mse[("calibrated", "set-1", "STL")] - 1.067) < 0.2
    assert mse[("separable", "set-1", "STL")] > 2.5
    paired = {(row["setting"], row["dataset"], row["comparison"]): row for row in payload["paired"]}
    assert len(paired) == 6 and all(setting == "separable" for setting, _, _ in paired)
    for (setting, name, comparison), row in paired.items():
        method, baseline = comparison.split(" - ")
        assert row["mean_diff"] == pytest.approx(mse[(setting, name, method)] - mse[(setting, name, baseline)])
        assert row["n_folds"] == len(row["diff"]) == (5 if name == "set-1" else 1)
    by_n = {row["n_groups"]: row["mse"] for row in payload["table_by_n_groups"]}
    assert sorted(by_n) == [2, 5, 10] and min(by_n, key=by_n.get) == 5
    recovery = {row["dataset"]: row for row in payload["group_recovery"]}
    assert all(recovery[name]["ari_mean"] > 0.8 for name in ("set-1", "set-2"))
    for name in ("sgmtl_figure4.png", "sgmtl_figure6.png"):
        assert (out / name).stat().st_size > 0
        assert f"[sgmtl] wrote {out / name}" in progress.splitlines()
    assert "[sgmtl] figure 6: fitting N=5 ..." in progress.splitlines()


@pytest.fixture(scope="module")
def quick_gengl(tmp_path_factory):
    return _reproduce_quick("gengl", tmp_path_factory)


@pytest.mark.slow
def test_reproduce_gengl_quick(quick_gengl):
    """50 training samples per task (Section 6.1.1), validation and test sets
    from the same W*.  The GL scenario is fitted best (within 10 %) by GL;
    in the MeTaG scenario MeTaG beats the methods blind to task groups (GL,
    rMTFL) and SSMTL_m beats MeTaG; SSMTL_m has the lowest test nMSE in the
    rMTFL scenario and orders every scenario's pattern perfectly (structure
    AUC 1); the Figure 2 panels exist."""
    code, payload, out, progress = quick_gengl
    assert code == 0
    assert tuple(payload["config"]["samples"]) == (50, 50, 50)
    rows = {(row["scenario"], row["method"]): row for row in payload["table"]}
    nmse = {key: row["test_nmse"] for key, row in rows.items()}
    assert nmse[("gl", "GL")] <= 1.1 * min(v for (s, _), v in nmse.items() if s == "gl") + 1e-3
    assert nmse[("metag", "MeTaG")] < min(nmse[("metag", "GL")], nmse[("metag", "rMTFL")])
    assert nmse[("metag", "SSMTL_m")] < nmse[("metag", "MeTaG")]
    assert nmse[("rmtfl", "SSMTL_m")] == min(v for (s, _), v in nmse.items() if s == "rmtfl")
    assert nmse[("gl", "SSMTL_m")] < 0.005
    for scenario in ("gl", "metag", "rmtfl"):
        ssmtl = rows[(scenario, "SSMTL_m")]
        assert ssmtl["structure_auc"] == 1.0 == min(ssmtl["structure_aucs"].values())
        assert 0 < ssmtl["w_error"] < 1
        assert (out / f"gengl_figure2_{scenario}.png").stat().st_size > 0
        assert f"[gengl] wrote {out / f'gengl_figure2_{scenario}.png'}" in progress.splitlines()
    assert rows[("metag", "SSMTL_m")]["w_error"] < rows[("metag", "MeTaG")]["w_error"]


@pytest.fixture(scope="module")
def quick_bigmtl(tmp_path_factory):
    return _reproduce_quick("bigmtl", tmp_path_factory)


@pytest.mark.slow
def test_reproduce_bigmtl_quick(quick_bigmtl):
    """Table I's five variants with test MSE and group error beside the
    paper's, Table II's synthetic column, Figure 2's timings (CV+WR cheaper
    per outer iteration than CV by far), the figures, and the progress of
    the figure phase."""
    code, payload, out, progress = quick_bigmtl
    assert code == 0
    table = {row["method"]: row for row in payload["table"]}
    assert list(table) == ["CV", "CV+WR", "MCCV", "MCCV+WR", "Alternate"]
    for row in table.values():
        assert 0 < row["test_mse"] < 1 and 0 <= row["group_error"] <= 4
        assert row["paper_test_mse"] > 0 and row["paper_group_error"] > 0
    assert [row["method"] for row in payload["table2"]] == ["BiGMTL (MCCV+WR)", "STL (trace norm)", "Alternate"]
    for row in payload["timing"]:
        assert row["ratio"] > 10
    for name in ("bigmtl_figure1.png", "bigmtl_figure2.png"):
        assert (out / name).stat().st_size > 0
        assert f"wrote {out / name}" in progress


@pytest.fixture(scope="module")
def quick_srml(tmp_path_factory):
    return _reproduce_quick("srml", tmp_path_factory)


@pytest.mark.slow
def test_reproduce_srml_quick(quick_srml):
    """Table 3 with the paper's numbers beside ours, the training-size
    study, the L21 sweep, the classification set, Figure 3's slopes, the
    figures; at 60 samples per task every tuned method fits the noise level
    while SSML cannot follow the flipped signs."""
    code, payload, out, progress = quick_srml
    assert code == 0
    table = {row["method"]: row for row in payload["table"]}
    assert set(table) == {"Ridge / LS", "Lasso", "L21", "Trace norm", "SSML", "SRML (chain)"}
    for name in ("Ridge / LS", "L21", "SRML (chain)"):
        assert table[name]["test_mse"] < 0.1
    assert table["SSML"]["test_mse"] > 1e4 and table["SSML"]["sign_agreement"] < 0.95
    assert table["SRML (chain)"]["paper_mse"] == 10.5 and table["L21"]["paper_mse"] == 8.96e3
    sizes = {(row["n_train"], row["method"]) for row in payload["training_size"]}
    assert (10, "SRML (chain)") in sizes and (60, "Ridge / LS") in sizes
    sweep = payload["l21_sweep"]
    assert sweep[-1]["test_mse"] > 1e3 > sweep[0]["test_mse"]
    assert {row["method"] for row in payload["classification"]} == {"Logistic (independent)", "Lasso", "L21",
                                                                    "SRML (chain)"}
    for row in payload["classification"]:
        assert 0.5 < row["accuracy"] <= 1 and 0.5 < row["auc"] <= 1
    assert set(payload["scaling_slopes"]) == {"n_samples", "n_tasks", "n_features"}
    convergence = payload["convergence"]
    assert len(convergence["objective"]) == convergence["n_iter"] and convergence["rho_satisfies_theorem"]
    for name in ("srml_figure1.png", "srml_figure2.png", "srml_figure3_n_tasks.png",
                 "srml_training_size_test_mse.png"):
        assert (out / name).stat().st_size > 0
        assert f"wrote {out / name}" in progress


def test_bench_does_not_run_an_interior_point_solver_that_cannot_fit_in_memory(monkeypatch):
    from mtlcvx import bench, reference
    from conftest import make_data

    model = reference.trace_norm(make_data(d=4, T=3, n=6))
    monkeypatch.setattr(bench, "MEMORY_SHARE", 0.0)
    result, status = bench._time_reference(model, "CLARABEL", 10.0, {"lam": 1.0})
    assert result is None and status.startswith("not run: its dense PSD blocks need")
    result, status = bench._time_reference(model, "SCS", 10.0, {"lam": 1.0})
    assert status == "optimal"


def _without_times(rows):
    return [{k: v for k, v in row.items() if "second" not in k} for row in rows]


def test_reproduce_tables_do_not_depend_on_jobs(monkeypatch):
    from mtlcvx.experiments import baselines

    monkeypatch.setitem(baselines.CONFIGS, "quick", dict(n_tasks=3, n_features=8, n_samples=24, n_relevant=3, rank=1,
                                                          noise=1.0, seeds=2))
    one = experiments.run("baselines", quick=True, progress=None, n_jobs=1)
    two = experiments.run("baselines", quick=True, progress=None, n_jobs=2)
    assert _without_times(one["per_seed"]) == _without_times(two["per_seed"])


def test_sgmtl_nested_cv_does_not_depend_on_jobs():
    from mtlcvx.datasets import make_sgmtl_set1
    from mtlcvx.experiments.sgmtl import _cv_mse
    from mtlcvx.models import SGMTL

    data, _, _ = make_sgmtl_set1(random_state=0)
    est = SGMTL(n_groups=3, n_init=2, max_iter=5, random_state=0, fit_intercept=False)
    runs = [_cv_mse(data, est, {"lam": [0.01, 0.1]}, 5, 2, n_jobs) for n_jobs in (1, 2)]
    assert runs[0] == runs[1]


def test_reproduce_shows_grid_progress_unless_silent(monkeypatch, tmp_path, capsys):
    from mtlcvx.experiments import _common

    seen = {}

    def fake(quick, out, progress, n_jobs):
        seen["verbose"] = _common.GRID_VERBOSE.get()
        return {"table": [], "text": "fake table"}

    experiments.available()
    monkeypatch.setitem(experiments.REGISTRY, "fake", (fake, "records the grid verbosity"))
    assert main(["reproduce", "fake", "--out", str(tmp_path)]) == 0
    assert seen["verbose"] == 1
    assert main(["reproduce", "fake", "--out", str(tmp_path), "--silent"]) == 0
    assert seen["verbose"] == 0
    assert _common.GRID_VERBOSE.get() == 0   # reset after the run


def test_json_that_cannot_be_written_after_the_run_is_an_error_not_a_traceback(monkeypatch, tmp_path, capsys):
    """The path is checked before the run; if it stops being writable during
    the run (here: replaced by a folder), the table printed stays and the
    exit status says the file is missing."""
    target = tmp_path / "table.json"

    def fake(quick, out, progress, n_jobs):
        target.mkdir()
        return {"table": [], "text": "fake table"}

    experiments.available()
    monkeypatch.setitem(experiments.REGISTRY, "fake", (fake, "turns its --json path into a folder"))
    assert main(["reproduce", "fake", "--out", str(tmp_path / "figures"), "--json", str(target)]) == 1
    captured = capsys.readouterr()
    assert "fake table" in captured.out
    assert captured.err.startswith(f"mtlcvx: error: argument --json: cannot write {target}: ")
