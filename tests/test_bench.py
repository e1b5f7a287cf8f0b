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
