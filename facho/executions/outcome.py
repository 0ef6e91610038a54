"""How an execution ends: its final state written once, a retry as a new attempt, and the
one log line per execution end."""
from __future__ import annotations

import logging

from facho.executions import transitions
from facho.executions.resend import resend
from facho.executions.retries import attempts_allowed, retry_delay_s
from facho.logging_setup import kv
from facho.monitoring import trigger as alert_trigger
from facho.reasons import REASON_ALL_ATTEMPTS, REASON_RETRY
from facho.models import FAILED, SUCCESS, Execution

log = logging.getLogger("facho.executions")


class JobSnapshot:
    """Plain values read once, so error handling never needs the database."""

    def __init__(self, row: Execution):
        job, olt = row.job, row.olt
        self.nombre = job.nombre if job is not None else None
        self.job_type = job.job_type if job is not None else None
        self.max_retries = job.max_retries if job is not None else 0
        self.attempts_allowed = attempts_allowed(self.max_retries)
        self.retry_delay_seconds = job.retry_delay_seconds if job is not None else 0
        self.olt = olt.abreviatura if olt is not None else None
        self.olt_id = row.olt_id


def failed_or_retry(execution_id, worker, info: JobSnapshot, attempt: int, message: str,
                     transient: bool, job_type: str) -> None:
    if transient and attempt < info.attempts_allowed:
        delay_s = retry_delay_s(info.retry_delay_seconds, attempt)
        text = REASON_RETRY.format(attempt=attempt, allowed=info.attempts_allowed,
                                   message=message, delay_s=delay_s)
        if transitions.back_to_pending(execution_id, worker, error=text):
            log.info(kv(event="execution_retry", execution=execution_id, job=info.nombre,
                        olt=info.olt, attempt=attempt, delay_s=delay_s, error=message))
            resend(execution_id, job_type, delay_s * 1000, "retry")
        else:
            log.warning(kv(event="execution_lost", execution=execution_id, worker=worker))
        return
    if transient and attempt > 1:
        message = REASON_ALL_ATTEMPTS.format(message=message, attempt=attempt)
    finish(execution_id, worker, FAILED, info, attempt, error=message)


def finish(execution_id, worker, status, info: JobSnapshot, attempt, *, summary=None, error=None):
    if transitions.finish(execution_id, worker, status, summary=summary, error=error):
        log_end(execution_id, info, status, attempt=attempt, summary=summary, reason=error)
        if status in (SUCCESS, FAILED):
            alert_trigger.after_execution(info.olt_id)
    else:
        # Someone else owns the row now (taken over, interrupted by an operator): the
        # inventory written in this transaction was rolled back with it.
        log.warning(kv(event="execution_lost", execution=execution_id, worker=worker,
                       status=status))


def log_end(execution_id, info: JobSnapshot, status, *, attempt=None, summary=None, reason=None):
    """The one line per execution end: stable key=value fields, never the community."""
    fields = dict(event="execution_end", execution=execution_id, job=info.nombre,
                  job_type=info.job_type, olt=info.olt, status=status, attempt=attempt)
    for key in ("duration_ms", "varbinds", "found", "new", "returned", "gone", "onus",
                "updated", "unchanged", "missing", "method"):
        if key in (summary or {}):
            fields[key] = summary[key]
    if reason:
        fields["error"] = reason
    (log.info if status == SUCCESS else log.warning)(kv(**fields))
