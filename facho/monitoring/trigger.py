"""The messages that start alert work, sent best effort: an execution's end asks for its
OLT's evaluation, a commit that queued notifications wakes the delivery. A failed send only
logs: the minute sweep evaluates the time-based rules and delivers what is due anyway, and
an execution never waits for, or fails because of, alerting."""
from __future__ import annotations

import logging
import time

import sqlalchemy as sa

from facho import messaging
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import AlertRule

log = logging.getLogger("facho.monitoring")


RULES_SEEN_TTL_S = 30.0
_rules_seen: dict = {}


def any_rule() -> bool:
    """Whether any rule is enabled (no rule, no message: most installations start
    without). Read at most every `RULES_SEEN_TTL_S` per process and database, so an
    execution's end usually pays one Redis enqueue and no query; a rule just enabled is
    seen within that time."""
    url = str(db.engine.url)
    seen = _rules_seen.get(url)
    now = time.monotonic()
    if seen is not None and now - seen[0] < RULES_SEEN_TTL_S:
        return seen[1]
    found = db.session.execute(sa.select(AlertRule.id).where(AlertRule.enabled.is_(True))
                               .limit(1)).first() is not None
    db.session.rollback()      # the caller has committed: hold no read transaction open
    _rules_seen[url] = (now, found)
    return found


def forget_rules_seen() -> None:
    """Tests: a new database (same URL) may have other rules."""
    _rules_seen.clear()


def after_execution(olt_id: int | None) -> None:
    """Ask for the OLT's evaluation (queue `alerts`). Never raises."""
    if olt_id is None:
        return
    try:
        if not any_rule():
            return
        messaging.get_broker().enqueue(messaging.evaluate_message(olt_id))
    except Exception as exc:  # noqa: BLE001 - alerting never fails an execution
        db.session.rollback()
        log.warning(kv(event="alerts_trigger_failed", olt=olt_id, error=type(exc).__name__))


def wake_delivery() -> None:
    try:
        messaging.get_broker().enqueue(messaging.deliver_message())
    except Exception as exc:  # noqa: BLE001 - the sweep delivers what is due anyway
        log.warning(kv(event="alerts_delivery_wake_failed", error=type(exc).__name__))
