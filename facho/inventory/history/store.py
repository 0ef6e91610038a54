"""The time series' I/O: append, roll up, retention, deletion with ONUs, and `series()`.

Write path: `append` turns one execution's numeric readings into one row per (ONU, metric,
UTC day) and upserts them with one set-based statement (executemany): a new day inserts the
row, an existing one appends the bytes (`samples = samples || excluded.samples`, cast back to
bytes: SQLite's `||` yields text). Nothing here commits: `writes.apply_get`'s caller commits
with the execution's final state.

Roll-ups: a day is rolled up once it is closed, `ROLLUP_GRACE` after its end (an execution
writes with its own start time, and no execution runs that long), by `roll_up`, which the
hourly retention calls before it deletes raw days. Until then `series(..., "hour")` computes
the open days' roll-ups from their raw samples with the same function, so the hourly series
is complete up to now and always equals the raw data it summarises.

Retention deletes whole rows of whole days (`DELETE … WHERE day = d`, one day per
statement, on the `day` index): a few rows per ONU and metric, never a row per reading.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from facho.extensions import db
from facho.inventory.history import rollup as roll
from facho.inventory.history.samples import bucket, day_series, pack, to_utc, unpack
from facho.models import OnuMetricDay, OnuMetricHours

ROLLUP_GRACE = timedelta(hours=1)
ROLLUP_BATCH = 2000

_days = OnuMetricDay.__table__
_hours = OnuMetricHours.__table__


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def append(readings: Iterable[tuple[int, str, datetime, float]]) -> int:
    """Upsert (onu_id, metric, instant, value) readings; returns how many were written."""
    rows: dict[tuple[int, str, date], list[bytes]] = {}
    count = 0
    for onu_id, metric, at, value in readings:
        day, second = bucket(at)
        rows.setdefault((onu_id, metric, day), []).append(pack(second, value))
        count += 1
    if not rows:
        return 0
    stmt = _insert(_days)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_days.c.onu_id, _days.c.metric, _days.c.day],
        set_={"samples": sa.cast(_days.c.samples.op("||")(stmt.excluded.samples),
                                 sa.LargeBinary)})
    db.session.execute(stmt, [{"onu_id": o, "metric": m, "day": d, "samples": b"".join(p)}
                              for (o, m, d), p in sorted(rows.items())])
    return count


def closed_before(now: datetime) -> date:
    """Days before this one are closed: no execution writes into them any more."""
    return (to_utc(now) - ROLLUP_GRACE).date()


def roll_up(now: datetime, batch_size: int = ROLLUP_BATCH) -> int:
    """Write the roll-ups of closed days that have raw samples and no roll-up yet; commits
    per batch; returns the number of day rows rolled up."""
    session = db.session
    limit = closed_before(now)
    missing = (sa.select(_days.c.onu_id, _days.c.metric, _days.c.day, _days.c.samples)
               .outerjoin(_hours, sa.and_(_hours.c.onu_id == _days.c.onu_id,
                                          _hours.c.metric == _days.c.metric,
                                          _hours.c.day == _days.c.day))
               .where(_days.c.day < limit, _hours.c.onu_id.is_(None))
               .order_by(_days.c.day, _days.c.onu_id, _days.c.metric).limit(batch_size))
    done = 0
    while True:
        rows = session.execute(missing).all()
        if not rows:
            break
        session.execute(_hours.insert(), [
            {"onu_id": r.onu_id, "metric": r.metric, "day": r.day,
             "hours": roll.pack_hours(roll.hours_of(unpack(r.samples)))} for r in rows])
        session.commit()
        done += len(rows)
    session.rollback()
    return done


def _delete_days(table, before: date) -> tuple[int, int]:
    """Delete the rows of every day before `before`, one day per statement and commit;
    (rows, days)."""
    session = db.session
    rows = days = 0
    while True:
        oldest = session.execute(sa.select(sa.func.min(table.c.day))
                                 .where(table.c.day < before)).scalar()
        if oldest is None:
            break
        rows += session.execute(table.delete().where(table.c.day == oldest)).rowcount or 0
        session.commit()
        days += 1
    session.rollback()
    return rows, days


def raw_cutoff(now: datetime, raw_days: int) -> date:
    """The first raw day kept: the window is rounded down to the UTC day edge."""
    return (to_utc(now) - timedelta(days=raw_days)).date()


def purge(now: datetime, raw_days: int, rollup_days: int) -> dict:
    """Roll up the closed days, then delete raw days before `now - raw_days` and roll-up
    days before `now - rollup_days` (UTC day edges). Commits."""
    rolled = roll_up(now)
    raw_rows, raw_days_deleted = _delete_days(_days, raw_cutoff(now, raw_days))
    hour_rows, hour_days = _delete_days(_hours, raw_cutoff(now, rollup_days))
    return {"rolled_up": rolled, "raw_rows": raw_rows, "raw_days": raw_days_deleted,
            "rollup_rows": hour_rows, "rollup_days": hour_days}


def delete_onus(onu_ids) -> int:
    """Delete the series of the ONUs `onu_ids` (a list or a SELECT of ids); not committed.
    Returns the number of rows deleted (day rows and roll-up rows)."""
    deleted = 0
    for table in (_days, _hours):
        deleted += db.session.execute(
            table.delete().where(table.c.onu_id.in_(onu_ids))).rowcount or 0
    return deleted


def series(onu_id: int, metric: str, start: datetime, end: datetime,
           resolution: str = "raw") -> list[tuple]:
    """The metric of one ONU in [start, end), in time order.

    `raw`: [(UTC instant, value)]; `hour`: [(UTC hour, min, avg, max, count)], from the
    stored roll-ups and, for days not rolled up yet, from their raw samples."""
    if resolution not in ("raw", "hour"):
        raise ValueError(f"unknown resolution {resolution!r}")
    start, end = to_utc(start), to_utc(end)
    first, last = start.date(), end.date()

    def rows(table, column):
        return {r.day: r[1] for r in db.session.execute(
            sa.select(table.c.day, table.c[column])
            .where(table.c.onu_id == onu_id, table.c.metric == metric,
                   table.c.day >= first, table.c.day <= last))}

    raw = rows(_days, "samples")
    if resolution == "raw":
        points = [p for day in sorted(raw) for p in day_series(day, raw[day])]
        return [p for p in points if start <= p[0] < end]
    stored = rows(_hours, "hours")
    out = []
    for day in sorted(set(raw) | set(stored)):
        hours = (roll.unpack_hours(stored[day]) if day in stored
                 else roll.hours_of(unpack(raw[day])))
        out.extend(roll.hour_rows(day, hours))
    return [r for r in out if start <= r[0] < end]
