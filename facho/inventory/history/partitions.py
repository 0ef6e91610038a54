"""Day partitions of the raw time series on PostgreSQL.

On PostgreSQL `onu_metric_days` is partitioned by range of `day`, one partition per UTC
day (`<table>_pYYYYMMDD`), plus a DEFAULT partition
(`<table>_default`) that takes the rows of any day whose partition does not exist yet, so a
write never fails for want of one. The hourly retention (`store.purge`) calls `prepare`,
which creates the partitions of today and the next `AHEAD` days and moves any rows the
default partition holds into partitions of their own; retention then drops whole partitions
(`drop_before`), and a closed, rolled-up raw day is rewritten dense (`pack`).

The hourly roll-ups (`onu_metric_hours`) are one plain table: a year of them would be 400
partitions, and planning a query over that many took ~250 ms (a year's chart of one ONU);
their retention deletes one day's rows (a statement on the `day` index).

Day partitions of raw rows are created with `fillfactor = 50` (every append rewrites its
row; room on the page keeps the new version there, HOT); `pack` sets 100 and rewrites the
partition with VACUUM FULL once its rows were re-encoded (`compact`), which is how a closed
partition is told from an open one. VACUUM FULL locks that one partition (a closed day) for
its duration, seconds at the target; readers of that day wait, writers never touch it.

On SQLite (and on a PostgreSQL table that is not partitioned) every function here does
nothing: the same logical schema, retention by DELETE of whole days.

DDL runs with `lock_timeout` (`LOCK_TIMEOUT`): behind a long reader the step is left for the
next hourly run instead of queueing every writer behind it.
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import sqlalchemy as sa

log = logging.getLogger(__name__)

TABLES = ("onu_metric_days",)
OPEN_FILLFACTOR = {"onu_metric_days": 50}
AHEAD = 2
LOCK_TIMEOUT = "5s"
PARTITION_NAME = re.compile(r"^onu_metric_days_(default|p\d{8})$")


@contextmanager
def _unless_locked(step: str, name: str):
    """Run a DDL step; when its lock is not granted within `LOCK_TIMEOUT` (SQLSTATE 55P03),
    log it and go on: the next hourly run does it."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":
            raise
        log.warning("history partition %s %s: lock not granted, left for the next run",
                    step, name)


def is_partition(name: str) -> bool:
    """A partition's name (not a table of the models: schema comparisons skip it)."""
    return bool(PARTITION_NAME.match(name))


def name_of(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_of(table: str) -> str:
    return f"{table}_default"


def default_ddl(table: str) -> str:
    """The DEFAULT partition (issued right after the table is created)."""
    return f"CREATE TABLE {default_of(table)} PARTITION OF {table} DEFAULT"


def partitioned(conn, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(sa.text(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
        {"t": table}).first() is not None


def existing(conn, table: str) -> dict[date, str]:
    """{day: partition name} of the day partitions attached to `table`."""
    names = conn.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t)"), {"t": table}).scalars()
    out = {}
    for name in names:
        match = re.fullmatch(re.escape(table) + r"_p(\d{8})", name)
        if match:
            out[datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return out


def _create(conn, table: str, day: date) -> None:
    """Create the partition of `day`, moving its rows out of the default partition (under
    an EXCLUSIVE lock: appends of that moment wait instead of landing in the default
    partition between the copy and the delete)."""
    name, default = name_of(table, day), default_of(table)
    bounds = {"d": day, "e": day + timedelta(days=1)}
    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    conn.execute(sa.text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS) "
                         f"WITH (fillfactor = {OPEN_FILLFACTOR[table]})"))
    conn.execute(sa.text(f"LOCK TABLE {default} IN EXCLUSIVE MODE"))
    conn.execute(sa.text(f"INSERT INTO {name} SELECT * FROM {default} "
                         "WHERE day >= :d AND day < :e"), bounds)
    conn.execute(sa.text(f"DELETE FROM {default} WHERE day >= :d AND day < :e"), bounds)
    conn.execute(sa.text(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (day >= '{day}' AND day < "
        f"'{day + timedelta(days=1)}')"))     # ATTACH then skips scanning the new partition
    conn.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES "
                         f"FROM ('{day}') TO ('{day + timedelta(days=1)}')"))
    conn.execute(sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range"))


def create(engine, table: str, day: date) -> bool:
    """The partition of one day (bulk loads, the benchmark); False when it exists."""
    with engine.begin() as conn:
        if not partitioned(conn, table) or day in existing(conn, table):
            return False
        _create(conn, table, day)
    return True


def prepare(engine, today: date) -> int:
    """Partitions for today, the next `AHEAD` days and every day the default partition
    holds rows of; each in its own transaction. Returns how many were created."""
    created = 0
    for table in TABLES:
        with engine.connect() as conn:
            if not partitioned(conn, table):
                continue
            have = existing(conn, table)
            stray = set(conn.execute(sa.text(
                f"SELECT DISTINCT day FROM {default_of(table)}")).scalars())
            conn.rollback()
        wanted = {today + timedelta(days=n) for n in range(AHEAD + 1)} | stray
        for day in sorted(wanted - set(have)):
            with _unless_locked("create", name_of(table, day)), engine.begin() as conn:
                _create(conn, table, day)
                created += 1
    return created


def drop_before(engine, table: str, before: date) -> tuple[int, int]:
    """Drop the day partitions of days before `before`; (rows, partitions) dropped."""
    rows = dropped = 0
    with engine.connect() as conn:
        if not partitioned(conn, table):
            return 0, 0
        old = sorted((d, n) for d, n in existing(conn, table).items() if d < before)
        conn.rollback()
    for _, name in old:
        with _unless_locked("drop", name), engine.begin() as conn:
            conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            count = conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar()
            conn.execute(sa.text(f"DROP TABLE {name}"))
            rows, dropped = rows + count, dropped + 1
    return rows, dropped


def _fillfactor(conn, name: str) -> int:
    options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = :n"),
                           {"n": name}).scalar() or []
    for option in options:
        key, _, value = option.partition("=")
        if key == "fillfactor":
            return int(value)
    return 100


def pack(engine, before: date) -> list[date]:
    """Rewrite dense (fillfactor 100, VACUUM FULL) the raw day partitions of days before
    `before` not packed yet; returns their days. Call once their rows are re-encoded."""
    table = "onu_metric_days"
    with engine.connect() as conn:
        if not partitioned(conn, table):
            return []
        todo = [(d, n) for d, n in sorted(existing(conn, table).items())
                if d < before and _fillfactor(conn, n) != 100]
        conn.rollback()
    packed = []
    for day, name in todo:
        with _unless_locked("pack", name), \
                engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
            # VACUUM FULL fills pages up to the fillfactor: 100 first, back to the open
            # one if the rewrite fails (100 marks a packed partition)
            conn.execute(sa.text(f"ALTER TABLE {name} SET (fillfactor = 100)"))
            try:
                conn.execute(sa.text(f"VACUUM (FULL, ANALYZE) {name}"))
            except sa.exc.DBAPIError:
                conn.execute(sa.text(f"ALTER TABLE {name} SET (fillfactor = "
                                     f"{OPEN_FILLFACTOR[table]})"))
                raise
            packed.append(day)
    return packed
