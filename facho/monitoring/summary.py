"""The daily summary: once a day, after `SUMMARY_HOUR` in the operators' time zone, one
message per channel that asked for it (`resumen_diario`): open incidents and the last 24 h.
Queued by the minute sweep into the outbox under the key `resumen:<local date>:<channel>`,
so however many sweeps run, each channel gets one summary a day."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from facho.extensions import db
from facho.models import (OPEN_INCIDENT_STATES, Incident, NotificationChannel,
                          NotificationOutbox)
from facho.monitoring import messages
from facho.scheduling.sql import insert_ignoring_duplicates

SUMMARY_HOUR = 8     # local time: the morning shift reads it first


def due_date(now: datetime, tz: ZoneInfo, hour: int = SUMMARY_HOUR):
    """The local date whose summary is due at `now` (UTC), or None before `hour`."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else None


def queue_daily(now: datetime, tz: ZoneInfo, public_url: str) -> int:
    """Queue today's summary for every enabled channel that wants one; returns how many
    rows were new. Nothing commits here."""
    day = due_date(now, tz)
    if day is None:
        return 0
    channels = db.session.execute(sa.select(NotificationChannel.id).where(
        NotificationChannel.enabled.is_(True),
        NotificationChannel.resumen_diario.is_(True))).scalars().all()
    if not channels:
        return 0
    open_rows = db.session.execute(sa.select(Incident).where(
        Incident.state.in_(OPEN_INCIDENT_STATES), Incident.parent_id.is_(None))
        .order_by(Incident.opened_at)).scalars().all()
    since = now - timedelta(days=1)
    opened = db.session.execute(sa.select(sa.func.count()).select_from(Incident)
                                .where(Incident.opened_at >= since)).scalar()
    resolved = db.session.execute(sa.select(sa.func.count()).select_from(Incident)
                                  .where(Incident.resolved_at >= since)).scalar()
    title, body = messages.summary(open_rows, opened, resolved, public_url)
    table = NotificationOutbox.__table__
    queued = 0
    for channel_id in channels:
        queued += db.session.execute(insert_ignoring_duplicates(table).values(
            incident_id=None, transition="resumen", channel_id=channel_id,
            idempotency_key=f"resumen:{day.isoformat()}:{channel_id}", title=title, body=body,
            status="pendiente", attempts=0, created_at=now, next_attempt_at=now)
            .returning(table.c.id)).first() is not None
    return queued
