"""What one ONU's page shows, as plain data (times UTC, epoch milliseconds for charts).

Ranges and the resolution each reads: 24 h and 7 days the raw samples; 30 days the hourly
roll-ups (min / avg / max band); one year the hourly roll-ups folded into days (folded once
at roll-up time and stored: `onu_metric_hours.day_*`), so no chart carries more than ~2,000
points per series. Every metric of the range comes from one statement
(`store.metrics_series`). The state line comes from the ONU's state
events (`onu_events`, kind `estado`), walked back from its current state.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events import kinds
from facho.inventory.events.classify import ONLINE, state_class
from facho.inventory.history import rollup as roll
from facho.inventory.history import store as history
from facho.inventory.optics import RX_LINES
from facho.models import Execution, OnuEvent, OnuMetricDay, OnuMetricHours

RAW, HOUR, DAY = "raw", "hour", "day"


@dataclass(frozen=True)
class Range:
    code: str
    label: str
    span: timedelta
    resolution: str


RANGES = {r.code: r for r in (
    Range("24h", "24 h", timedelta(hours=24), RAW),
    Range("7d", "7 días", timedelta(days=7), RAW),
    Range("30d", "30 días", timedelta(days=30), HOUR),
    Range("1a", "1 año", timedelta(days=365), DAY),
)}
DEFAULT_RANGE = "24h"
POWER_METRICS = ("rx_power", "tx_power")
DISTANCE_METRIC = "distancia_onu"
METRIC_NAMES = {"rx_power": "Potencia RX (dBm)", "tx_power": "Potencia TX (dBm)",
                DISTANCE_METRIC: "Distancia (km)"}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


fold_days = roll.fold_days     # kept here for the page's readers


def _chart_rows(rng: Range, rows: list[tuple]) -> list[list]:
    """[[ms, value]] (raw) or [[ms, min, avg, max]] (hour, day)."""
    if rng.resolution == RAW:
        return [[_ms(at), value] for at, value in rows]
    return [[_ms(at), low, round(avg, 3), high] for at, low, avg, high, _ in rows]


def metric_series(onu_id: int, metric: str, rng: Range, now: datetime) -> list[list]:
    """[[ms, value]] (raw) or [[ms, min, avg, max]] (hour, day) over the range ending now."""
    return _chart_rows(rng, history.series(onu_id, metric, now - rng.span, now,
                                           rng.resolution))


def _ordered(names) -> list[str]:
    """Power and distance first, then the others by name."""
    names = set(names)
    known = [m for m in (*POWER_METRICS, DISTANCE_METRIC) if m in names]
    return known + sorted(names - set(known))


def metrics_of(onu_id: int, since: date | None = None) -> list[str]:
    """Every metric the ONU has history of (raw or rolled up; from the UTC day `since`
    when given: on PostgreSQL only those days' partitions are read), power and distance
    first."""
    names = set()
    for table in (OnuMetricDay.__table__, OnuMetricHours.__table__):
        query = sa.select(table.c.metric).distinct().where(table.c.onu_id == onu_id)
        if since is not None:
            query = query.where(table.c.day >= since)
        names.update(db.session.execute(query).scalars())
    return _ordered(names)


def state_steps(current: str | None, events: list[OnuEvent], start: datetime,
                now: datetime) -> list[list]:
    """[[ms, 1 | 0 | None]]: 1 online, 0 offline, None unknown, as steps from `start` to
    `now`; `events` are the ONU's state events newest first (any range)."""
    def level(status):
        cls = state_class(status)
        return None if cls is None else (1 if cls == ONLINE else 0)

    inside = [e for e in events if e.kind == kinds.ESTADO and start <= e.at <= now]
    steps = [[_ms(now), level(current)]]
    for event in inside:                   # newest first: walk back in time
        steps.append([_ms(event.at), level(event.new_value)])
    before = inside[-1].old_value if inside else current
    steps.append([_ms(start), level(before)])
    return list(reversed(steps))


def chart_data(onu, rng: Range, now: datetime) -> dict:
    """Everything the ONU page's charts draw (also read by the tests)."""
    start = now - rng.span
    # every metric of the range in one statement (`store.metrics_series`): the year
    # reads the days' folded roll-ups, not 8,760 hours per series
    stored = history.metrics_series(onu.id, start, now, rng.resolution)
    events = db.session.execute(
        sa.select(OnuEvent).where(OnuEvent.onu_id == onu.id, OnuEvent.kind == kinds.ESTADO,
                                  OnuEvent.at >= start)
        .order_by(OnuEvent.at.desc(), OnuEvent.id.desc())).scalars().all()
    series = {m: _chart_rows(rng, stored[m]) for m in _ordered(stored)}
    return {
        "range": rng.code, "resolution": rng.resolution, "start": _ms(start), "end": _ms(now),
        "power": {m: series.pop(m) for m in POWER_METRICS if m in series},
        "distance": series.pop(DISTANCE_METRIC, None),
        "others": [{"metric": m, "data": data} for m, data in series.items()],
        "names": METRIC_NAMES,
        "rx_lines": [{"label": label, "value": value} for label, value in RX_LINES],
        "state": state_steps(onu.status, events, start, now),
    }


def executions_of(onu, limit: int = 20) -> list[Execution]:
    """The latest executions on the ONU's OLT since it was first seen: each discovery and
    get that ended SUCCESS there read it while it was present."""
    query = (sa.select(Execution).where(Execution.olt_id == onu.olt_id,
                                        Execution.finished_at.isnot(None),
                                        Execution.finished_at >= onu.first_seen_at)
             .order_by(Execution.finished_at.desc()).limit(limit))
    return list(db.session.execute(query).scalars())
