"""The messages that start alert work, sent best effort: an execution's end asks for its
OLT's evaluation, a commit that queued notifications wakes the delivery. A failed send only
logs: the minute sweep evaluates the time-based rules and delivers what is due anyway, and
an execution never waits for, or fails because of, alerting."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from facho import messaging
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import AlertRule

log = logging.getLogger("facho.monitoring")


def any_rule() -> bool:
    """One cheap query: no enabled rule, no message (most installations start without)."""
    return db.session.execute(sa.select(AlertRule.id).where(AlertRule.enabled.is_(True))
                              .limit(1)).first() is not None


def after_execution(olt_id: int | None) -> None:
    """Ask for the OLT's evaluation (queue `alerts`). Never raises."""
    if olt_id is None:
        return
    try:
        if not any_rule():
            return
        messaging.get_broker().enqueue(messaging.evaluate_message(olt_id))
    except Exception as exc:  # noqa: BLE001 - alerting never fails an execution
        log.warning(kv(event="alerts_trigger_failed", olt=olt_id, error=type(exc).__name__))
    finally:
        db.session.rollback()


def wake_delivery() -> None:
    try:
        messaging.get_broker().enqueue(messaging.deliver_message())
    except Exception as exc:  # noqa: BLE001 - the sweep delivers what is due anyway
        log.warning(kv(event="alerts_delivery_wake_failed", error=type(exc).__name__))
