"""Facts for the rules, read from the database: one OLT's present ONUs (state, down cause,
since when down, rx power), its recent executions, and the ONUs' rx medians (from the
time series' day rows, all ONUs of the OLT in one query)."""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events.classify import OFFLINE, cause_class, state_class
from facho.inventory.history.samples import day_series, unpack
from facho.models import (FAILED, SUCCESS, Execution, Olt, Onu, OnuEvent, OnuMetricDay)
from facho.monitoring.facts import OltFact, OnuFact

EVENT_LOOKBACK = timedelta(days=30)   # a down start older than this counts as "long ago"
RECENT_EXECUTIONS = 100               # the largest "N failed executions" a rule may ask


def olt_fact(olt_id: int) -> OltFact | None:
    olt = db.session.get(Olt, olt_id)
    if olt is None:
        return None
    statuses = db.session.execute(
        sa.select(Execution.status)
        .where(Execution.olt_id == olt_id, Execution.finished_at.isnot(None),
               Execution.status.in_((SUCCESS, FAILED)))
        .order_by(Execution.finished_at.desc()).limit(RECENT_EXECUTIONS)).scalars().all()
    last_success = db.session.execute(
        sa.select(sa.func.max(Execution.finished_at))
        .where(Execution.olt_id == olt_id, Execution.status == SUCCESS)).scalar()
    if last_success is not None and last_success.tzinfo is None:
        last_success = last_success.replace(tzinfo=olt.created_at.tzinfo)
    return OltFact(id=olt.id, name=olt.abreviatura, brand_id=olt.brand_id,
                   recent_statuses=tuple(statuses), last_success_at=last_success,
                   created_at=olt.created_at)


def _last_state_events(olt_id: int, now: datetime) -> dict:
    """{onu_id: (at, new_value, cause)} of each ONU's newest state event (30 days)."""
    since = now - EVENT_LOOKBACK
    newest = (sa.select(OnuEvent.onu_id, sa.func.max(OnuEvent.at).label("at"))
              .where(OnuEvent.olt_id == olt_id, OnuEvent.kind == "estado",
                     OnuEvent.at >= since)
              .group_by(OnuEvent.onu_id).subquery())
    rows = db.session.execute(
        sa.select(OnuEvent.onu_id, OnuEvent.at, OnuEvent.new_value, OnuEvent.cause)
        .join(newest, sa.and_(newest.c.onu_id == OnuEvent.onu_id, newest.c.at == OnuEvent.at))
        .where(OnuEvent.kind == "estado"))
    return {r.onu_id: (r.at, r.new_value, r.cause) for r in rows}


def onu_facts(olt_id: int, now: datetime) -> list[OnuFact]:
    events = _last_state_events(olt_id, now)
    rows = db.session.execute(
        sa.select(Onu.id, Onu.slot, Onu.port, Onu.name, Onu.raw_index, Onu.serial, Onu.status,
                  Onu.last_down_cause, Onu.rx_power)
        .where(Onu.olt_id == olt_id, Onu.present.is_(True)).order_by(Onu.id))
    facts = []
    for r in rows:
        state = state_class(r.status)
        down_since, cause = None, None
        if state == OFFLINE:
            event = events.get(r.id)
            if event is not None and state_class(event[1]) == OFFLINE:
                down_since = event[0]
            texts = ((event[2],) if event else ()) + (r.last_down_cause, r.status)
            cause = next((c for c in map(cause_class, texts) if c), None)
        facts.append(OnuFact(id=r.id, olt_id=olt_id, slot=r.slot, port=r.port,
                             name=r.name or r.raw_index, serial=r.serial, state=state,
                             cause=cause, down_since=down_since, rx_power=r.rx_power))
    return facts


def rx_medians(onu_ids, now: datetime, days: int, min_samples: int) -> dict:
    """{onu_id: median rx power (dBm)} over [now - days, now - 1 h) for the ONUs with at
    least `min_samples` readings in that window."""
    if not onu_ids:
        return {}
    start, end = now - timedelta(days=days), now - timedelta(hours=1)
    values: dict = {}
    ids = list(onu_ids)
    for i in range(0, len(ids), 900):    # SQLite's bound-parameter limit
        rows = db.session.execute(
            sa.select(OnuMetricDay.onu_id, OnuMetricDay.day, OnuMetricDay.samples)
            .where(OnuMetricDay.onu_id.in_(ids[i:i + 900]), OnuMetricDay.metric == "rx_power",
                   OnuMetricDay.day >= start.date(), OnuMetricDay.day <= end.date()))
        for r in rows:
            bucket = values.setdefault(r.onu_id, [])
            if start.date() < r.day < end.date():      # a whole day inside the window
                bucket.extend(v for _, v in unpack(r.samples))
            else:
                bucket.extend(v for at, v in day_series(r.day, r.samples) if start <= at < end)
    return {onu_id: statistics.median(vals) for onu_id, vals in values.items()
            if len(vals) >= min_samples}


MEDIAN_TTL = timedelta(hours=1)
MEDIAN_CACHE_MAX = 4096
_median_cache: dict = {}


def cached_rx_medians(olt_id: int, onu_ids, now: datetime, days: int, min_samples: int
                      ) -> dict:
    """`rx_medians` for one OLT's ONUs, kept in this process for `MEDIAN_TTL`: a median
    over days moves little within an hour (its window already leaves the last hour out),
    and reading days of history for 1,000 ONUs is most of an evaluation's cost. An ONU
    new since the last read has no median until the next one."""
    key, ids = (olt_id, days, min_samples), frozenset(onu_ids)
    hit = _median_cache.get(key)
    if hit is not None and hit[1] == ids and timedelta(0) <= now - hit[0] < MEDIAN_TTL:
        return hit[2]
    medians = rx_medians(ids, now, days, min_samples)
    if len(_median_cache) >= MEDIAN_CACHE_MAX:
        _median_cache.pop(next(iter(_median_cache)))
    _median_cache[key] = (now, ids, medians)
    return medians


def forget_medians() -> None:
    """Empty this process's median cache (tests: a new database reuses ids)."""
    _median_cache.clear()
