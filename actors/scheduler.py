"""Scheduler actors, queue `scheduler`, consumed only by the leader scheduler process
(`python -m actors.scheduler_process`), never by the main worker: the tick never waits
behind long SNMP walks.

- `scheduler_tick`: the single static minute tick (periodiq `* * * * *`). Idempotent:
  periodiq fires it again on every restart and once per scheduler process; extra ticks
  claim nothing. A process that does not hold the leader lease returns at once.
- `dispatch_slot(slot_epoch_s)`: the fan-out message the tick arms for each slot second
  that has reservations; at that second it sends what is due (`release.send_due`).

Priority 0 (Dramatiq: lower number = higher priority), explicit time limits, and no
Dramatiq retries for the tick (the next minute is the retry).
"""
from __future__ import annotations

import logging

import dramatiq
from periodiq import cron

from facho import messaging
from facho.logging_setup import kv
from facho.models import utcnow
from facho.scheduling import claim, release
from facho.scheduling.lease import process_lease

log = logging.getLogger(__name__)

TICK_TIME_LIMIT_MS = 55_000
SLOT_TIME_LIMIT_MS = 50_000


@dramatiq.actor(actor_name=messaging.TICK_ACTOR, queue_name=messaging.SCHEDULER_QUEUE,
                priority=0, max_retries=0,
                time_limit=TICK_TIME_LIMIT_MS, periodic=cron("* * * * *"))
def scheduler_tick():
    result = claim.tick(utcnow(), lease=process_lease())
    if not result.leader:
        log.debug(kv(event="tick_not_leader"))


@dramatiq.actor(actor_name=messaging.SLOT_ACTOR, queue_name=messaging.SCHEDULER_QUEUE,
                priority=0, max_retries=3, min_backoff=500, max_backoff=5000,
                time_limit=SLOT_TIME_LIMIT_MS)
def dispatch_slot(slot_epoch_s: int):
    release.release_slot(int(slot_epoch_s))
