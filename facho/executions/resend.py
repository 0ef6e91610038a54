"""Sending an execution's message again (busy OLT, start rate, retry, shutdown, outage)
and recording the new message id on the row."""
from __future__ import annotations

import logging

from facho import messaging
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import PENDING, RUNNING, Execution

log = logging.getLogger("facho.executions")


def resend(execution_id: int, job_type: str, delay_ms: int, reason: str) -> str | None:
    """Enqueue the same execution again and record the new message id. When Redis refuses,
    the row stays as it is and the reconciler re-sends it later."""
    try:
        message_id = messaging.send_execution(execution_id, job_type, delay_ms=max(0, delay_ms))
    except messaging.BrokerUnavailable as exc:
        log.error(kv(event="execution_resend_failed", execution=execution_id, reason=reason,
                     error=str(exc)))
        return None
    table = Execution.__table__
    db.session.execute(table.update().where(
        table.c.id == execution_id, table.c.status.in_((PENDING, RUNNING)))
        .values(message_id=message_id))
    db.session.commit()
    log.debug(kv(event="execution_resent", execution=execution_id, reason=reason,
                 delay_ms=delay_ms))
    return message_id
