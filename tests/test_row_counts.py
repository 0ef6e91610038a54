"""facho.row_counts: a list's count is exact when small, the planner's estimate when large
(the count itself, estimated or exact, through the panel: tests/admin/test_lists.py)."""
from facho import row_counts


def test_a_large_estimate_is_shown_instead_of_counting():
    assert row_counts.worth_estimating(10_000_000)
    assert row_counts.worth_estimating(row_counts.EXACT_BELOW)


def test_a_small_estimate_is_replaced_by_the_exact_count():
    assert not row_counts.worth_estimating(row_counts.EXACT_BELOW - 1)


def test_without_an_estimate_sqlite_counts():
    assert not row_counts.worth_estimating(None)


def test_the_estimate_is_the_top_node_of_the_plan():
    plan = {"Plan": {"Node Type": "Gather", "Plan Rows": 9_998_731,
                     "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 4_166_138}]}}
    assert row_counts.planner_rows(plan) == 9_998_731
