"""The SNMP execution actors: `run_discovery` (queue `discovery_main`) and `run_get`
(queue `get_main`). Each message carries one execution id.

What one message does (DESIGN 3.7, 4):

1. Load the row. Finished, interrupted or skipped: nothing (redeliveries are harmless).
   RUNNING under a live owner: look again when its heartbeat would go stale (a
   redelivery that came too early). RUNNING under a dead owner (heartbeat stale, or a
   worker process of this host that no longer exists): resume it as a new attempt, or,
   when the job has no attempt left, close it INTERRUPTED with the reason (as the
   reconciler does).
2. Disabled job, job host or OLT: INTERRUPTED with the reason, before touching the OLT.
3. Take one of the OLT's `max_concurrent` slots (per-holder leases in Redis that a killed
   worker's slot outlives by at most the lease TTL). Busy: re-send the same execution a
   few seconds later; that consumes no retry.
4. Per-OLT start rate (`max_starts_per_minute`): over it, re-send after the wait.
5. Compare-and-set PENDING -> RUNNING (`facho.executions.transitions.start`); lost: nothing. Re-check
   that nothing was disabled meanwhile.
6. Walk, with a heartbeat every HEARTBEAT_EVERY_S seconds; write the inventory and the
   final state in one transaction (a worker that lost its row writes nothing).
7. Transient SNMP errors (timeout, unreachable, walk deadline, genErr) become new attempts
   of the same execution after `retry_delay_seconds * 2^(attempt-1)` seconds (capped),
   up to the job's `max_retries`; anything else fails at once with a Spanish message.
   A bug or Dramatiq's time limit also end as FAILED, never as a row left RUNNING. When the
   database goes away (or refuses the write) while the row is ours, the worker waits for
   it (DB_OUTAGE_WAIT_S) and gives the row back as a new attempt (or INTERRUPTED when none
   is left).

Dramatiq itself never retries these messages (`max_retries=0`): retries are attempts of the
execution, visible in the panel, not copies of a message. The one exception is a worker
shutdown that interrupts the thread outside the actor body (`recovery.requeue_when`):
that message goes back to its queue instead of to the dead letters.
"""
from __future__ import annotations

import dramatiq

from facho.executions.recovery import SHUTDOWN_REQUEUE_MS, requeue_when
from facho.executions.run import run_execution
from facho.messaging import ACTOR_BY_JOB_TYPE, QUEUE_BY_JOB_TYPE
from facho.executions.targets import EXECUTION_TIME_LIMIT_MS as TIME_LIMIT_MS

# `retry_when` takes precedence over `max_retries` (kept at 0 to say what it means for
# every other exception).
REQUEUE = dict(retry_when=requeue_when, min_backoff=SHUTDOWN_REQUEUE_MS[0],
               max_backoff=SHUTDOWN_REQUEUE_MS[1])


@dramatiq.actor(actor_name=ACTOR_BY_JOB_TYPE["descubrimiento"],
                queue_name=QUEUE_BY_JOB_TYPE["descubrimiento"], max_retries=0,
                time_limit=TIME_LIMIT_MS, notify_shutdown=True, **REQUEUE)
def run_discovery(execution_id: int) -> None:
    run_execution(int(execution_id), "descubrimiento")


@dramatiq.actor(actor_name=ACTOR_BY_JOB_TYPE["get"], queue_name=QUEUE_BY_JOB_TYPE["get"],
                max_retries=0, time_limit=TIME_LIMIT_MS, notify_shutdown=True, **REQUEUE)
def run_get(execution_id: int) -> None:
    run_execution(int(execution_id), "get")
