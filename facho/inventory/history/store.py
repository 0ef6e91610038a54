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

Rolling up a day also re-encodes its raw samples small (`compact`: times as deltas of
deltas, values as decimal deltas, DEFLATE), read back exactly as before.

Retention removes whole days: on PostgreSQL by dropping the day's partition
(`partitions`), on SQLite by `DELETE … WHERE day = d`, one day per statement, on the `day`
index: a few rows per ONU and metric, never a row per reading.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from facho.extensions import db
from facho.inventory.history import compact, partitions
from facho.inventory.history import rollup as roll
from facho.inventory.history.samples import bucket, day_series, instant, pack, to_utc, unpack
from facho.models import OnuMetricDay, OnuMetricHours

ROLLUP_GRACE = timedelta(hours=1)
ROLLUP_BATCH = 2000

_UNNEST_UPSERT = sa.text(
    "INSERT INTO onu_metric_days (onu_id, metric, day, samples) "
    "SELECT * FROM unnest(CAST(:o AS integer[]), CAST(:m AS varchar[]), CAST(:d AS date[]), "
    "CAST(:s AS bytea[])) "
    "ON CONFLICT (onu_id, metric, day) DO UPDATE "
    "SET samples = onu_metric_days.samples || excluded.samples")

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
    values = [(o, m, d, b"".join(p)) for (o, m, d), p in sorted(rows.items())]
    if db.session.get_bind().dialect.name == "postgresql":
        # one statement of four array parameters: one parse and plan per execution
        # instead of one per thousand rows (insertmanyvalues): about half the database time
        db.session.execute(_UNNEST_UPSERT, {
            "o": [v[0] for v in values], "m": [v[1] for v in values],
            "d": [v[2] for v in values], "s": [v[3] for v in values]})
        return count
    stmt = _insert(_days)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_days.c.onu_id, _days.c.metric, _days.c.day],
        set_={"samples": sa.cast(_days.c.samples.op("||")(stmt.excluded.samples),
                                 sa.LargeBinary)})
    db.session.execute(stmt, [{"onu_id": o, "metric": m, "day": d, "samples": b}
                              for o, m, d, b in values])
    return count


def closed_before(now: datetime) -> date:
    """Days before this one are closed: no execution writes into them any more."""
    return (to_utc(now) - ROLLUP_GRACE).date()


def _first_day_to_roll(limit: date) -> date | None:
    """The first day that may lack roll-ups: the last rolled-up day (its batches may have
    been cut short), or the first raw day when nothing was rolled up yet."""
    session = db.session
    last = session.execute(sa.select(sa.func.max(_hours.c.day))
                           .where(_hours.c.day < limit)).scalar()
    if last is not None:
        return last
    return session.execute(sa.select(sa.func.min(_days.c.day))
                           .where(_days.c.day < limit)).scalar()


def roll_up(now: datetime, batch_size: int = ROLLUP_BATCH) -> int:
    """Write the roll-ups of closed days that have raw samples and no roll-up yet, and
    re-encode their raw samples small (`compact`); commits per batch; returns the number
    of day rows rolled up.

    Days are taken in order from the last one rolled up (`_first_day_to_roll`), each by
    keyset pages of (onu_id, metric), so a run over an already rolled-up history reads one
    day, not the whole table. The re-encoding is guarded by the row's length: a row that
    grew since it was read (a late append) keeps its raw format, readable as before."""
    session = db.session
    limit = closed_before(now)
    day = _first_day_to_roll(limit)
    done = 0
    while day is not None and day < limit:
        after = (-1, "")
        while True:
            page = session.execute(
                sa.select(_days.c.onu_id, _days.c.metric, _days.c.samples)
                .where(_days.c.day == day,
                       sa.tuple_(_days.c.onu_id, _days.c.metric) > sa.tuple_(*after),
                       ~sa.exists().where(_hours.c.onu_id == _days.c.onu_id,
                                          _hours.c.metric == _days.c.metric,
                                          _hours.c.day == day))
                .order_by(_days.c.onu_id, _days.c.metric).limit(batch_size)).all()
            if not page:
                break
            hours, packed = [], []
            for r in page:
                records = list(unpack(r.samples))
                packed_hours = roll.pack_hours(roll.hours_of(records))
                low, avg, high, count = roll.day_summary(packed_hours) or (None,) * 4
                hours.append({"onu_id": r.onu_id, "metric": r.metric, "day": day,
                              "hours": packed_hours, "day_min": low, "day_avg": avg,
                              "day_max": high, "day_count": count})
                if not compact.is_compact(r.samples):
                    packed.append({"o": r.onu_id, "m": r.metric, "d": day,
                                   "n": len(r.samples), "s": compact.encode(records)})
            session.execute(_hours.insert(), hours)
            if packed:
                session.execute(
                    _days.update().where(_days.c.onu_id == sa.bindparam("o"),
                                         _days.c.metric == sa.bindparam("m"),
                                         _days.c.day == sa.bindparam("d"),
                                         sa.func.length(_days.c.samples) == sa.bindparam("n"))
                    .values(samples=sa.bindparam("s")), packed)
            session.commit()
            done += len(page)
            after = (page[-1].onu_id, page[-1].metric)
        day = session.execute(sa.select(sa.func.min(_days.c.day))
                              .where(_days.c.day > day, _days.c.day < limit)).scalar()
    session.rollback()
    return done


def _delete_days(table, before: date) -> tuple[int, int]:
    """Drop the day partitions before `before` (PostgreSQL), then delete the rows of every
    remaining day before it (SQLite; rows in PostgreSQL's default partition), one day per
    statement and commit; (rows, days)."""
    session = db.session
    rows, days = partitions.drop_before(db.engine, table.name, before)
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
    """Create the coming day partitions (PostgreSQL), roll up the closed days and pack
    their partitions, then delete raw days before `now - raw_days` and roll-up
    days before `now - rollup_days` (UTC day edges). Commits."""
    db.session.commit()             # DDL below runs on connections of its own
    partitions.prepare(db.engine, to_utc(now).date())
    rolled = roll_up(now)
    partitions.pack(db.engine, closed_before(now))
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


RESOLUTIONS = ("raw", "hour", "day")


def _stored_rows(onu_id: int, metric: str | None, first: date, last: date, resolution: str):
    """One statement over both tables: (metric, day, source, data, day_min, day_avg, day_max,
    day_count) rows of the ONU's days in [first, last] (of one metric, or all).

    `source` "raw": a day's samples; "hour": a rolled-up day, its packed hours in `data`
    (for `resolution` "day" only where the folded columns cannot answer: rows rolled up
    before they existed, and the range's first and last days, cut by the range). A raw
    day that has roll-ups is left out unless `resolution` is "raw" (its samples would be
    read and thrown away); roll-ups are listed with no data at "raw", so the metrics a
    range has are the same whatever the resolution."""
    d, h = _days, _hours
    raw_where = [d.c.onu_id == onu_id, d.c.day >= first, d.c.day <= last]
    hour_where = [h.c.onu_id == onu_id, h.c.day >= first, h.c.day <= last]
    if metric is not None:
        raw_where.append(d.c.metric == metric)
        hour_where.append(h.c.metric == metric)
    if resolution != "raw":
        raw_where.append(~sa.exists().where(h.c.onu_id == d.c.onu_id, h.c.metric == d.c.metric,
                                            h.c.day == d.c.day))
    if resolution == "raw":
        data = sa.null()
    elif resolution == "hour":
        data = h.c.hours
    else:
        data = sa.case((sa.or_(h.c.day_count.is_(None), h.c.day.in_([first, last])), h.c.hours))
    folded_names = ("day_min", "day_avg", "day_max", "day_count")
    nothing = [sa.cast(sa.null(), t).label(n)
               for t, n in zip((sa.Float, sa.Float, sa.Float, sa.Integer), folded_names)]
    folded = ([h.c.day_min, h.c.day_avg, h.c.day_max, h.c.day_count]
              if resolution == "day" else nothing)
    query = sa.union_all(
        sa.select(d.c.metric, d.c.day, sa.literal("raw").label("source"),
                  d.c.samples.label("data"), *nothing).where(*raw_where),
        sa.select(h.c.metric, h.c.day, sa.literal("hour"),
                  sa.cast(data, sa.LargeBinary), *folded).where(*hour_where))
    return db.session.execute(query).all()


def _hour_rows(row) -> list[tuple]:
    hours = (roll.unpack_hours(row.data) if row.source == "hour"
             else roll.hours_of(unpack(row.data)))
    return roll.hour_rows(row.day, hours)


def metrics_series(onu_id: int, start: datetime, end: datetime, resolution: str = "raw",
                   metric: str | None = None) -> dict[str, list[tuple]]:
    """Every metric of one ONU with stored days in [start, end) (or `metric` alone), each
    as `series` gives it, read with one statement; `resolution` "day" gives daily
    (UTC midnight, min, avg, max, count) rows folded from the hourly ones (`fold_days`:
    the range's first day from its hours in range), from the stored folded columns where
    the whole day is in range."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    start, end = to_utc(start), to_utc(end)
    by_metric: dict[str, list] = {}
    for row in _stored_rows(onu_id, metric, start.date(), end.date(), resolution):
        by_metric.setdefault(row.metric, []).append(row)
    out = {}
    for name, rows in by_metric.items():
        rows.sort(key=lambda r: r.day)
        if resolution == "raw":
            points = [p for r in rows if r.source == "raw" for p in day_series(r.day, r.data)]
            out[name] = [p for p in points if start <= p[0] < end]
            continue
        series_rows = []
        for r in rows:
            if resolution == "day" and r.data is None and r.day_count is not None:
                series_rows.append((instant(r.day, 0), r.day_min, r.day_avg, r.day_max,
                                    r.day_count))
                continue
            hours = [x for x in _hour_rows(r) if start <= x[0] < end]
            series_rows.extend(roll.fold_days(hours) if resolution == "day" else hours)
        out[name] = series_rows
    return out


def series(onu_id: int, metric: str, start: datetime, end: datetime,
           resolution: str = "raw") -> list[tuple]:
    """The metric of one ONU in [start, end), in time order.

    `raw`: [(UTC instant, value)]; `hour`: [(UTC hour, min, avg, max, count)], from the
    stored roll-ups and, for days not rolled up yet, from their raw samples; `day`: the
    hours folded per UTC day (`metrics_series`)."""
    return metrics_series(onu_id, start, end, resolution, metric).get(metric, [])
