"""facho.row_counts: a list's count is exact when small, the planner's estimate when large."""
from facho import row_counts


def never():
    raise AssertionError("the exact count must not run")


def test_a_large_estimate_is_used_without_counting():
    assert row_counts.decide(10_000_000, never) == row_counts.RowCount(10_000_000, True)


def test_a_small_estimate_is_replaced_by_the_exact_count():
    assert row_counts.decide(row_counts.EXACT_BELOW - 1, lambda: 3) == row_counts.RowCount(3, False)


def test_without_an_estimate_sqlite_counts():
    assert row_counts.decide(None, lambda: 12) == row_counts.RowCount(12, False)


def test_the_estimate_is_the_top_node_of_the_plan():
    plan = {"Plan": {"Node Type": "Gather", "Plan Rows": 9_998_731,
                     "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 4_166_138}]}}
    assert row_counts.planner_rows(plan) == 9_998_731
