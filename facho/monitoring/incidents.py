"""Incidents' transitions, each a compare-and-set, each writing its notifications to the
outbox in the same transaction (nothing here commits: the caller commits once).

- open: `INSERT … ON CONFLICT DO NOTHING` against the partial unique index on
  `dedupe_key` for open incidents, so two workers evaluating the same OLT open it once;
  a condition that comes back within the rule's cooldown re-opens its last incident
  instead (flapping: counted, not notified again).
- acknowledge: abierto → reconocido (by, at, note); resolve: open → resuelto (by hand,
  or automatically once the condition stayed clear for the rule's hold time).
- notifications: one outbox row per channel of the rule whose minimum severity the
  incident reaches, keyed `incident:transition:channel` (unique), so a transition is
  queued once however often it is attempted.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.models import (OPEN_INCIDENT_STATES, AlertRule, Incident, NotificationOutbox,
                          Olt)
from facho.monitoring import messages
from facho.monitoring.rules import at_least
from facho.scheduling.sql import insert_ignoring_duplicates

INC = Incident.__table__
OUTBOX = NotificationOutbox.__table__


def dedupe_key(rule_id: int, olt_id: int, key: str) -> str:
    return f"r{rule_id}:olt{olt_id}:{key}"


def included_count(finding) -> int:
    return 0 if finding.level == "olt" else len(finding.onu_ids)


def _values(finding, now) -> dict:
    return dict(title=finding.title[:255], cause=finding.cause, detail=finding.detail,
                severity=finding.severity, onus_included=included_count(finding),
                last_seen_at=now, clear_since=None)


def open_incident(rule, finding, now: datetime, cooldown_min: int, public_url: str,
                  suppressed: int = 0):
    """Open (or re-open, within the cooldown) the incident of `finding`. Returns
    ("abierto" | "reabierto", id), or (None, None) when another worker opened it first."""
    key = dedupe_key(rule.id, finding.olt_id, finding.key)
    recent = db.session.execute(
        sa.select(INC.c.id).where(INC.c.dedupe_key == key, INC.c.state == "resuelto",
                                  INC.c.resolved_at >= now - timedelta(minutes=cooldown_min))
        .order_by(INC.c.resolved_at.desc()).limit(1)).scalar()
    if recent is not None and cooldown_min > 0:
        # Compare-and-set on the resolved row; NOT EXISTS keeps it from clashing with an
        # incident of the same key another worker opened meanwhile.
        twin = INC.alias("twin")
        other = sa.select(sa.literal(1)).select_from(twin).where(
            twin.c.dedupe_key == key, twin.c.state.in_(OPEN_INCIDENT_STATES))
        done = db.session.execute(
            INC.update().where(INC.c.id == recent, INC.c.state == "resuelto",
                               ~other.exists())
            .values(state="abierto", resolved_at=None, resolved_by=None,
                    flapping_count=INC.c.flapping_count + 1, onus_suppressed=suppressed,
                    **_values(finding, now))).rowcount
        if done == 1:
            return "reabierto", recent
    stmt = insert_ignoring_duplicates(INC).values(
        rule_id=rule.id, kind=finding.kind, dedupe_key=key, state="abierto",
        olt_id=finding.olt_id, slot=finding.slot, port=finding.port, onu_id=finding.onu_id,
        opened_at=now, onus_suppressed=suppressed, flapping_count=0,
        **_values(finding, now)).returning(INC.c.id)
    new_id = db.session.execute(stmt).scalar()
    if new_id is None:
        return None, None
    queue_notifications(new_id, "abierto", now, public_url)
    return "abierto", new_id


def refresh(incident_id: int, finding, now: datetime, suppressed: int) -> None:
    """The condition still holds: its figures now, and any clear period forgotten."""
    db.session.execute(INC.update().where(INC.c.id == incident_id,
                                          INC.c.state.in_(OPEN_INCIDENT_STATES))
                       .values(onus_suppressed=suppressed, **_values(finding, now)))


def clear(incident, now: datetime, hold_min: int, public_url: str) -> bool:
    """The condition no longer holds: start the hold time, or resolve once it has passed.
    True when resolved."""
    since = incident.clear_since
    if since is None and hold_min > 0:
        db.session.execute(INC.update().where(INC.c.id == incident.id,
                                              INC.c.clear_since.is_(None))
                           .values(clear_since=now))
        return False
    if since is not None and now - since < timedelta(minutes=hold_min):
        return False
    return resolve(incident.id, now, public_url)


def resolve(incident_id: int, now: datetime, public_url: str, by: str | None = None,
            note: str | None = None, notify: bool = True, parent_id: int | None = None
            ) -> bool:
    """open → resuelto by compare-and-set; `by` None = automatically. A folded ONU
    incident (`parent_id`) is resolved without a notification: its PON's or OLT's incident
    speaks for it."""
    values = dict(state="resuelto", resolved_at=now, resolved_by=by)
    if parent_id is not None:
        values["parent_id"] = parent_id
    if note:
        values["ack_note"] = note
    done = db.session.execute(INC.update().where(
        INC.c.id == incident_id, INC.c.state.in_(OPEN_INCIDENT_STATES)).values(**values))
    if done.rowcount != 1:
        return False
    if notify:
        queue_notifications(incident_id, "resuelto", now, public_url, actor=by)
    return True


def acknowledge(incident_id: int, by: str, note: str | None, now: datetime,
                public_url: str) -> bool:
    """abierto → reconocido by compare-and-set."""
    done = db.session.execute(INC.update().where(
        INC.c.id == incident_id, INC.c.state == "abierto").values(
        state="reconocido", acknowledged_at=now, acknowledged_by=by, ack_note=note or None))
    if done.rowcount != 1:
        return False
    queue_notifications(incident_id, "reconocido", now, public_url, actor=by, note=note)
    return True


def queue_notifications(incident_id: int, transition: str, now: datetime, public_url: str,
                        actor: str | None = None, note: str | None = None) -> int:
    """One outbox row per channel of the incident's rule (enabled, minimum severity
    reached); a key already queued is left alone. Returns how many were queued."""
    incident = db.session.get(Incident, incident_id, populate_existing=True)
    rule = db.session.get(AlertRule, incident.rule_id) if incident.rule_id else None
    if rule is None or not at_least(incident.severity, rule.min_severity):
        return 0
    olt = db.session.get(Olt, incident.olt_id) if incident.olt_id else None
    title, body = messages.render(incident, olt.abreviatura if olt else None, transition,
                                  public_url, actor=actor, note=note)
    queued = 0
    for channel in rule.channels:
        if not channel.enabled:
            continue
        key = f"{incident_id}:{transition}:{channel.id}"
        queued += db.session.execute(insert_ignoring_duplicates(OUTBOX).values(
            incident_id=incident_id, transition=transition, channel_id=channel.id,
            idempotency_key=key, title=title, body=body, status="pendiente", attempts=0,
            created_at=now, next_attempt_at=now).returning(OUTBOX.c.id)).first() is not None
    return queued


def open_by_key(olt_id: int, rule_ids) -> dict:
    """{dedupe_key: Incident} of the open incidents of these rules on one OLT."""
    if not rule_ids:
        return {}
    rows = db.session.execute(sa.select(Incident).where(
        Incident.olt_id == olt_id, Incident.rule_id.in_(list(rule_ids)),
        Incident.state.in_(OPEN_INCIDENT_STATES))).scalars()
    return {row.dedupe_key: row for row in rows}


def open_count() -> int:
    """Open incidents (the navigation bar's badge)."""
    return db.session.execute(sa.select(sa.func.count()).select_from(INC).where(
        INC.c.state.in_(OPEN_INCIDENT_STATES), INC.c.parent_id.is_(None))).scalar() or 0
