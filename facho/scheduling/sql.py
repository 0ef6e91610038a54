"""Row handles and small helpers the scheduling modules share: the tables, the app's
configuration, aware UTC, batching, and what counts as an execution in progress."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable, Sequence

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from facho.extensions import db
from facho.models import PENDING, RUNNING, Execution, Olt, SnmpJob, SnmpJobHost

UTC = timezone.utc
DEFAULT_BATCH = 1000
JOBS = SnmpJob.__table__
HOSTS = SnmpJobHost.__table__
OLTS = Olt.__table__
EXECS = Execution.__table__


def app_config():
    """The running app's Config (facho.config)."""
    return current_app.config["FACHO"]


def aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return t.astimezone(UTC)


def chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def active_condition(now: datetime):
    """SQL condition for executions that are really queued or running: RUNNING, or PENDING
    except reservations (a slot claimed ahead: `scheduled_for > now`, no message yet).
    For "is this job already running on this OLT?" questions (manual runs, the panel):
    a reservation is not a run in progress and must not block anything."""
    reservation = sa.and_(EXECS.c.scheduled_for > aware(now), EXECS.c.message_id.is_(None))
    return sa.or_(EXECS.c.status == RUNNING,
                  sa.and_(EXECS.c.status == PENDING, sa.not_(reservation)))


def is_in(column, values: Sequence, session=None):
    """`column IN (:v1, :v2, …)`; on PostgreSQL `column = ANY(:array)` instead: one bound
    array, so the statement's text, SQLAlchemy's compile and psycopg's parse of it are the
    same for 10 values or 1,000 (an IN list is rendered and parsed again per length)."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        array = postgresql.ARRAY(column.type)
        return column == sa.any_(sa.cast(sa.bindparam(None, list(values), type_=array), array))
    return column.in_(list(values))


def rows_of_arrays(name: str, columns: dict, rows: Sequence[tuple]):
    """PostgreSQL: `unnest(CAST(:a AS type[]), CAST(:b AS type[]), …) AS name(a, b, …)`, a
    FROM item holding `rows` (tuples in the order of `columns`, name -> column type).

    One bound array per column instead of one bound value per cell: the statement's text
    is the same for 10 rows or 10,000, so SQLAlchemy compiles it once per process and
    psycopg sends each column as one binary array. A `VALUES` list of 1,000 rows x 6
    columns was compiled again for every claim batch."""
    names = list(columns)
    cells = list(zip(*rows)) if rows else [()] * len(names)
    arrays = [sa.cast(sa.bindparam(None, list(values), type_=postgresql.ARRAY(type_)),
                      postgresql.ARRAY(type_))
              for values, type_ in zip(cells, columns.values())]
    return (sa.func.unnest(*arrays)
            .table_valued(*(sa.column(n, columns[n]) for n in names))
            .render_derived(name=name))


def rows_of_json(name: str, columns: dict, rows: Sequence[tuple], session=None):
    """SQLite's `rows_of_arrays`: `(SELECT json_extract(value, '$[0]') AS a, … FROM
    json_each(:rows)) AS name`, the rows as ONE bound JSON text (SQLite cannot name the
    columns of a VALUES list). Each cell is first what SQLAlchemy would bind for its
    column type (a datetime: its stored text), so comparisons with stored values hold."""
    session = session or db.session
    dialect = session.get_bind().dialect
    convert = [column_type.dialect_impl(dialect).bind_processor(dialect)
               for column_type in columns.values()]
    payload = json.dumps([[value if to_db is None or value is None else to_db(value)
                           for value, to_db in zip(row, convert)] for row in rows])
    each = sa.func.json_each(sa.bindparam(None, payload, type_=sa.String())).table_valued(
        "value")
    return sa.select(*(sa.func.json_extract(each.c.value, f"$[{i}]").label(column)
                       for i, column in enumerate(columns))).subquery(name)


def insert_ignoring_duplicates(table, session=None):
    """`INSERT … ON CONFLICT DO NOTHING` for the session's database (PostgreSQL or SQLite):
    a row that would break a unique key is left out instead of failing the statement."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
