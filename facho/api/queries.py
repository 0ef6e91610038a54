"""The API's reads as SELECTs: filters, keyset pages and per-OLT counts (pure statement
builders plus the few functions that run them).

Keyset pagination: a page is the first `limit` rows after a cursor on the primary key
(`id > cursor`, ascending; executions newest first: `id < cursor`). The next cursor is the
last id of a full page. Unlike OFFSET, a page costs the same at row 1 and at row 1,000,000
(an index range scan on the primary key), and rows inserted or deleted meanwhile never make
a row appear twice or be skipped among those that existed all along.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.search import like_pattern, search_text
from facho.models import Execution, Incident, Olt, Onu, OnuEvent, SnmpJob, SnmpJobHost, User


@dataclass(frozen=True)
class OnuFilter:
    q: str | None = None            # serial, description or name contains (any OLT)
    olt: int | None = None
    slot: int | None = None
    port: int | None = None
    status: str | None = None
    present: bool | None = None
    rx_min: float | None = None     # dBm, inclusive
    rx_max: float | None = None


def onu_conditions(f: OnuFilter) -> list:
    out = []
    if f.q:
        out.append(search_text().ilike(like_pattern(f.q.strip()), escape="\\"))
    if f.olt is not None:
        out.append(Onu.olt_id == f.olt)
    if f.slot is not None:
        out.append(Onu.slot == f.slot)
    if f.port is not None:
        out.append(Onu.port == f.port)
    if f.status is not None:
        out.append(Onu.status == f.status)
    if f.present is not None:
        out.append(Onu.present.is_(f.present))
    if f.rx_min is not None:
        out.append(Onu.rx_power >= f.rx_min)
    if f.rx_max is not None:
        out.append(Onu.rx_power <= f.rx_max)
    return out


@dataclass(frozen=True)
class ExecutionFilter:
    status: str | None = None
    job: int | None = None
    olt: int | None = None
    requested_by: int | None = None
    origin: str | None = None       # "manual" | "programada"
    created_from: object = None     # aware UTC datetime, inclusive
    created_to: object = None       # aware UTC datetime, inclusive (as the panel's "hasta")


def execution_conditions(f: ExecutionFilter) -> list:
    e = Execution
    out = []
    if f.status is not None:
        out.append(e.status == f.status)
    if f.job is not None:
        out.append(e.job_id == f.job)
    if f.olt is not None:
        out.append(e.olt_id == f.olt)
    if f.requested_by is not None:
        out.append(e.requested_by_id == f.requested_by)
    if f.origin == "manual":
        out.append(e.requested_by_id.isnot(None))
    elif f.origin == "programada":
        out.append(e.requested_by_id.is_(None))
    if f.created_from is not None:
        out.append(e.created_at >= f.created_from)
    if f.created_to is not None:
        out.append(e.created_at <= f.created_to)
    return out


def page_of(stmt, id_column, after: int | None, limit: int, descending: bool = False):
    """(rows, next cursor or None): one keyset page of `stmt` ordered by `id_column`."""
    if after is not None:
        stmt = stmt.where(id_column < after if descending else id_column > after)
    stmt = stmt.order_by(id_column.desc() if descending else id_column).limit(limit + 1)
    rows = db.session.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][0].id if more and rows else None)


def olt_name_column():
    return (sa.select(Olt.abreviatura).where(Olt.id == Onu.olt_id)
            .correlate(Onu).scalar_subquery())


def onu_select(f: OnuFilter):
    return sa.select(Onu, olt_name_column().label("olt_name")).where(*onu_conditions(f))


def execution_select(f: ExecutionFilter):
    e = Execution
    olt_name = (sa.select(Olt.abreviatura).where(Olt.id == e.olt_id).correlate(e)
                .scalar_subquery())
    user_name = (sa.select(User.username).where(User.id == e.requested_by_id).correlate(e)
                 .scalar_subquery())
    return sa.select(e, SnmpJob.nombre.label("job_name"), olt_name.label("olt_name"),
                     user_name.label("username"), SnmpJob.job_type
                     ).join(SnmpJob, SnmpJob.id == e.job_id).where(*execution_conditions(f))


def olt_counts() -> dict[int, dict]:
    """{OLT id: {"total", "presentes", "ausentes", "por_estado": {state: n}}} in one
    GROUP BY over the inventory."""
    out: dict[int, dict] = {}
    for olt_id, present, status, n in db.session.execute(
            sa.select(Onu.olt_id, Onu.present, Onu.status, sa.func.count())
            .group_by(Onu.olt_id, Onu.present, Onu.status)):
        entry = out.setdefault(olt_id, {"total": 0, "presentes": 0, "ausentes": 0,
                                        "por_estado": {}})
        entry["total"] += n
        entry["presentes" if present else "ausentes"] += n
        key = status if status is not None else "(sin estado)"
        entry["por_estado"][key] = entry["por_estado"].get(key, 0) + n
    return out


def host_counts() -> dict[int, int]:
    """{job id: how many OLTs it runs on}."""
    return dict(db.session.execute(
        sa.select(SnmpJobHost.job_id, sa.func.count()).group_by(SnmpJobHost.job_id)).all())


@dataclass(frozen=True)
class EventFilter:
    olt: int | None = None
    slot: int | None = None
    port: int | None = None
    onu: int | None = None
    kind: str | None = None
    since: object = None            # aware UTC datetime, inclusive


def event_select(f: EventFilter):
    """ONU events newest first (keyset on the id, descending), with ONU and OLT names."""
    onu_name = (sa.select(Onu.name).where(Onu.id == OnuEvent.onu_id).correlate(OnuEvent)
                .scalar_subquery())
    olt_name = (sa.select(Olt.abreviatura).where(Olt.id == OnuEvent.olt_id)
                .correlate(OnuEvent).scalar_subquery())
    conditions = [column == value for column, value in (
        (OnuEvent.olt_id, f.olt), (OnuEvent.slot, f.slot), (OnuEvent.port, f.port),
        (OnuEvent.onu_id, f.onu), (OnuEvent.kind, f.kind)) if value is not None]
    if f.since is not None:
        conditions.append(OnuEvent.at >= f.since)
    return sa.select(OnuEvent, onu_name.label("onu_name"),
                     olt_name.label("olt_name")).where(*conditions)


@dataclass(frozen=True)
class IncidentFilter:
    state: str | None = None
    olt: int | None = None
    kind: str | None = None
    since: object = None            # aware UTC datetime, inclusive


def incident_conditions(f: IncidentFilter) -> list:
    """Incidents as the panel lists them: an ONU incident folded into its PON's or OLT's
    is not listed on its own."""
    conditions = [Incident.parent_id.is_(None)] + [column == value for column, value in (
        (Incident.state, f.state), (Incident.olt_id, f.olt), (Incident.kind, f.kind))
        if value is not None]
    if f.since is not None:
        conditions.append(Incident.opened_at >= f.since)
    return conditions


def incident_select(f: IncidentFilter):
    olt_name = (sa.select(Olt.abreviatura).where(Olt.id == Incident.olt_id)
                .correlate(Incident).scalar_subquery())
    return sa.select(Incident, olt_name.label("olt_name")).where(*incident_conditions(f))
