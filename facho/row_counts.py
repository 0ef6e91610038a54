"""How many rows a list shows: exact when that is cheap, the planner's estimate when it is not.

Counting is linear in the rows counted: at 1 M executions `count(*)` took 65 ms per page,
at 10 M it would take most of a second, on every page of the list. PostgreSQL's planner
already knows about how many rows a query selects (table statistics, kept by autovacuum),
so a list asks it first (`estimate`: `EXPLAIN (FORMAT JSON)`, a millisecond) and counts
exactly only when the estimate is below `EXACT_BELOW` (`worth_estimating`; the count itself
is run by the panel's `admin.lists.CountQuery`), where an exact count costs a few milliseconds
and the operator expects the number to be right (3 failed executions, not "about 5").
Above it the number is shown as an estimate ("≈ 10 000 000 ejecuciones"): an operator
paging through millions of rows needs the order of magnitude, not the last digit.
SQLite (tests, small installs) has no estimate and always counts.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

# Below this many estimated rows the exact count is run (a few ms on PostgreSQL).
EXACT_BELOW = 20_000


class Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <statement>` with the statement's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def planner_rows(plan: dict) -> int:
    """The rows the top node of an `EXPLAIN (FORMAT JSON)` plan expects to return."""
    return int(plan["Plan"]["Plan Rows"])


def worth_estimating(estimate: int | None) -> bool:
    """True when the estimate is large enough to show instead of counting."""
    return estimate is not None and estimate >= EXACT_BELOW


def estimate(session, statement: sa.Select) -> int | None:
    """The planner's row estimate for the rows `statement` (a `SELECT count(*) FROM ...
    WHERE ...`) counts, or None when the database is not PostgreSQL.

    The count's own plan is not used: its top node is the aggregate (one row) and under it
    a parallel scan reports rows per worker; the same FROM and WHERE selecting a constant
    has the total on its top node."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows_of = statement.with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
    raw = session.execute(Explain(rows_of)).scalar()
    plans = json.loads(raw) if isinstance(raw, str) else raw
    return planner_rows(plans[0])

