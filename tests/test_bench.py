"""``mtlcvx bench``: the reference rows' setup and solve times, and the
convergence curves of ``--plot`` (data without matplotlib, the figure
with it)."""

import pytest

from mtlcvx import bench


@pytest.fixture(scope="module")
def small_rows():
    """The reference rows of a small L21 instance (about a second)."""
    size = (20, 4, 15)
    return bench._reference_rows("L21", size, *bench._baseline_case("L21", size), 20.0, lambda message: None)


def test_reference_rows_show_setup_and_solve_times_apart(small_rows):
    assert [row["reference_solver"] for row in small_rows] == ["CLARABEL", "SCS"]
    for row in small_rows:
        assert row["reference_status"] == "optimal"
        setup, solve, fast = row["reference_setup_s"], row["reference_s"], row["fast_s"]
        assert setup > 0 and solve > 0
        # CVXPY's build and compile are part of the setup, which also holds the solver's own
        assert 0 < row["reference_compile_s"] <= setup
        # the speed-up stays defined on the solve time; the other one adds the setup
        assert row["speedup"] == pytest.approx(solve / fast)
        assert row["speedup_with_setup"] == pytest.approx((setup + solve) / fast)


def test_bench_table_has_setup_and_solve_columns(small_rows):
    from mtlcvx.experiments._common import format_table

    text = format_table([{label: ("-" if r.get(key) is None else r.get(key)) for label, key in
                          bench.TABLE_COLUMNS.items()} for r in small_rows], list(bench.TABLE_COLUMNS),
                        title=bench.TABLE_TITLE)
    header = text.splitlines()[bench.TABLE_TITLE.count("\n") + 1].split()
    assert header.index("ref_setup_s") + 1 == header.index("ref_solve_s")
    assert "speedup = ref_solve_s / fast_s" in text


def test_time_reference_keeps_its_two_values():
    from conftest import make_data
    from mtlcvx import reference

    model = reference.group_lasso(make_data(d=4, T=3, n=6))
    result, status = bench._time_reference(model, "SCS", 10.0, {"lam": 1.0})
    assert status == "optimal" and result.solve_time > 0


# -- convergence curves (``mtlcvx bench --plot``) ----------------------------

#: Tiny instances of the required problems: a few seconds in all.
TINY_CURVE_CASES = [("L21, shared X", (20, 4, 15)), ("L21, per-task designs", (20, 4, 15)),
                    ("trace norm", (10, 3, 10))]


def _have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _check_curves(problems):
    """The reference is the optimum: nothing below it by more than 1e-9
    relative; mtlcvx's tightest fit within 1e-6 of it; CVXPY's solvers
    with their setup, every point at a positive time."""
    for problem in problems:
        curves = problem["curves"]
        assert problem["p_star_from"].startswith("CVXPY"), problem["p_star_from"]
        assert {"CVXPY Clarabel", "CVXPY SCS", problem["fast"]} <= set(curves)
        for name, points in curves.items():
            assert len(points) == len(problem["settings"][name]) >= 5, name
            for seconds, rel in points:
                assert seconds > 0
                assert rel >= -1e-9, (problem["problem"], name, rel)
        assert curves[problem["fast"]][-1][1] < 1e-6
        assert len(curves[problem["fast"]]) == len(bench.CURVE_TOLS)
        assert set(problem["setup_s"]) == {"CVXPY Clarabel", "CVXPY SCS"}
        assert all(seconds > 0 for seconds in problem["setup_s"].values())


@pytest.fixture(scope="module")
def tiny_curves():
    return bench.convergence_curves(quick=True, budget=20.0, cases=TINY_CURVE_CASES)


def test_convergence_curves_of_tiny_problems(tiny_curves):
    assert [p["problem"] for p in tiny_curves] == [label for label, _ in TINY_CURVE_CASES]
    _check_curves(tiny_curves)
    shared = tiny_curves[0]
    # the peers on the shared design, at the same objective (skglm only outside the quick run)
    assert "scikit-learn MultiTaskLasso" in shared["curves"]
    assert "skglm MultiTaskLasso" not in shared["curves"]
    assert shared["curves"]["scikit-learn MultiTaskLasso"][-1][1] < 1e-6


def test_convergence_plot_is_written(tiny_curves, tmp_path):
    if not _have_matplotlib():
        pytest.skip("matplotlib is not installed")
    for suffix in (".png", ".svg"):
        path = tmp_path / f"curves{suffix}"
        assert bench.plot_convergence(tiny_curves, path) == path
        assert path.stat().st_size > 0
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path, error, match", [
    ("curves.jpg", ValueError, r"path must end in \.png, \.pdf, \.svg"),
    ("curves", ValueError, r"path must end in"),
    (3, TypeError, r"path must be a file name"),
])
def test_plot_path_is_checked(path, error, match):
    with pytest.raises(error, match=match):
        bench.check_plot_path(path)


@pytest.mark.parametrize("cases, error, match", [
    ("L21", TypeError, r"cases must be a list"),
    ([("lasso", (5, 2, 5))], ValueError, r"cases: each case is \(problem, \(d, T, n\)\)"),
    ([("trace norm", (5, 2))], ValueError, r"cases: each case"),
    ([("trace norm", (5, 0, 5))], ValueError, r"positive integer sizes"),
])
def test_curve_cases_are_checked(cases, error, match):
    with pytest.raises(error, match=match):
        bench.convergence_curves(cases=cases)


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match=r'mtlcvx\[plot\]'):
        bench.check_plot_path("curves.png")


def test_cli_plot_is_refused_before_the_run(monkeypatch, tmp_path, capsys):
    import sys

    from mtlcvx.cli import main

    monkeypatch.setattr(bench, "convergence_curves", lambda **_: pytest.fail("the curves ran"))
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--quick", "--plot", str(tmp_path / "curves.jpg")])
    assert exc.value.code == 2
    assert "argument --plot: FILE must end in .png, .pdf, .svg" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit):
        main(["bench", "--quick", "--plot", str(tmp_path / "curves.png")])
    assert 'pip install "mtlcvx[plot]"' in capsys.readouterr().err


def test_cli_plot_writes_the_figure_and_the_curves(monkeypatch, tmp_path, capsys):
    import json

    from mtlcvx.cli import main

    if not _have_matplotlib():
        pytest.skip("matplotlib is not installed")
    monkeypatch.setattr(bench, "QUICK_CURVE_CASES", TINY_CURVE_CASES[2:])
    png, json_path = tmp_path / "plots" / "curves.png", tmp_path / "curves.json"
    assert main(["bench", "--quick", "--plot", str(png), "--json", str(json_path)]) == 0
    out = capsys.readouterr().out
    assert f"figure: {png}" in out and "time_to_1e-6" in out
    assert png.stat().st_size > 0
    payload = json.loads(json_path.read_text())
    _check_curves(payload["problems"])
    assert {row["solver"] for row in payload["rows"]} == {"mtlcvx TraceNorm", "CVXPY Clarabel", "CVXPY SCS"}


@pytest.fixture(scope="module")
def quick_curves():
    return bench.convergence_curves(quick=True, budget=30.0)


@pytest.mark.slow
def test_quick_convergence_curves(quick_curves):
    """The quick run's problems (what ``bench --quick --plot`` draws)."""
    assert [p["problem"] for p in quick_curves] == [label for label, _ in bench.QUICK_CURVE_CASES]
    _check_curves(quick_curves)


@pytest.mark.slow
def test_quick_convergence_plot(quick_curves, tmp_path):
    if not _have_matplotlib():
        pytest.skip("matplotlib is not installed")
    path = bench.plot_convergence(quick_curves, tmp_path / "bench_quick.png")
    assert path.stat().st_size > 0


def test_curves_skip_an_interior_point_solver_that_cannot_fit_in_memory(monkeypatch):
    monkeypatch.setattr(bench, "MEMORY_SHARE", 0.0)
    problem = bench.convergence_curves(cases=[("trace norm", (6, 3, 8))], budget=10.0)[0]
    assert problem["notes"]["CVXPY Clarabel"].startswith("not run: its dense PSD blocks need")
    assert "CVXPY Clarabel" not in problem["curves"] and "CVXPY Clarabel" not in problem["setup_s"]
    assert problem["p_star_from"].startswith("CVXPY SCS")
    assert problem["curves"]["mtlcvx TraceNorm"][-1][1] < 1e-6
