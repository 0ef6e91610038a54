"""Delivering the outbox: each due row is claimed by compare-and-set (pendiente →
enviando), sent through its channel, and marked enviado (never sent again) or given back
with a backoff; after `MAX_ATTEMPTS` it is fallido. A claim older than `CLAIM_STALE`
(a worker killed mid-send) is given back by `release_stale`.

Delivery is at least once towards the channel: a worker killed after the channel accepted
a message and before it marked the row sent sends that one message again once the claim
goes stale. Everything else (two workers, redeliveries, retries after a commit) sends each
row once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.logging_setup import kv
from facho.models import NotificationChannel, NotificationOutbox, utcnow
from facho.monitoring import apprise_channel

log = logging.getLogger("facho.monitoring")
OUT = NotificationOutbox.__table__
MAX_ATTEMPTS = 8
BACKOFF_S = (5, 15, 60, 300, 900, 1800, 3600)
CLAIM_STALE = timedelta(minutes=2)
BATCH = 100


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1` (attempts already made ≥ 1)."""
    return timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    return db.session.execute(sa.select(OUT.c.id).where(
        OUT.c.status == "pendiente", OUT.c.next_attempt_at <= now)
        .order_by(OUT.c.id).limit(limit)).scalars().all()


def claim(row_id: int, now: datetime) -> bool:
    done = db.session.execute(OUT.update().where(OUT.c.id == row_id,
                                                 OUT.c.status == "pendiente")
                              .values(status="enviando", claimed_at=now,
                                      attempts=OUT.c.attempts + 1)).rowcount
    db.session.commit()
    return done == 1


def release_stale(now: datetime) -> int:
    done = db.session.execute(OUT.update().where(
        OUT.c.status == "enviando", OUT.c.claimed_at < now - CLAIM_STALE)
        .values(status="pendiente", next_attempt_at=now)).rowcount
    db.session.commit()
    return done or 0


def deliver_one(row_id: int, now: datetime | None = None) -> str | None:
    """Claim, send and record one row; returns its new status, or None when another
    worker had it."""
    now = now or utcnow()
    if not claim(row_id, now):
        return None
    row = db.session.get(NotificationOutbox, row_id)
    channel = db.session.get(NotificationChannel, row.channel_id)
    url, title, body, attempts = channel.url, row.title, row.body, row.attempts
    db.session.rollback()     # no transaction stays open while the channel answers
    error = apprise_channel.send(url, title, body)
    finished = utcnow()
    if error is None:
        values = dict(status="enviado", sent_at=finished, last_error=None)
    elif attempts >= MAX_ATTEMPTS:
        values = dict(status="fallido", last_error=error)
    else:
        values = dict(status="pendiente", last_error=error,
                      next_attempt_at=finished + backoff(attempts))
    db.session.execute(OUT.update().where(OUT.c.id == row_id, OUT.c.status == "enviando")
                       .values(**values))
    db.session.commit()
    log.info(kv(event="notification", outbox=row_id, channel=channel_name(row_id),
                status=values["status"], attempt=attempts))
    return values["status"]


def channel_name(row_id: int) -> str:
    return db.session.execute(
        sa.select(NotificationChannel.nombre).join(
            NotificationOutbox, NotificationOutbox.channel_id == NotificationChannel.id)
        .where(NotificationOutbox.id == row_id)).scalar() or "?"


def deliver_due(now: datetime | None = None) -> dict:
    """Send every due row (batches until none is left). Returns counts by status."""
    now = now or utcnow()
    release_stale(now)
    counts: dict = {}
    while True:
        ids = due_ids(now)
        db.session.rollback()
        if not ids:
            return counts
        for row_id in ids:
            status = deliver_one(row_id)
            counts[status or "ajena"] = counts.get(status or "ajena", 0) + 1
        if len(ids) < BATCH:
            return counts


def next_due_in_s(now: datetime | None = None) -> float | None:
    """Seconds until the next pending row is due (0 when one is due now), or None."""
    now = now or utcnow()
    first = db.session.execute(sa.select(sa.func.min(OUT.c.next_attempt_at))
                               .where(OUT.c.status == "pendiente")).scalar()
    db.session.rollback()
    if first is None:
        return None
    if first.tzinfo is None:
        first = first.replace(tzinfo=now.tzinfo)
    return max(0.0, (first - now).total_seconds())
