"""Housekeeping actors, queue `maintenance` (consumed by the scheduler process and by the
main worker; both are fine: every change is a compare-and-set).

- `reconcile`: every minute, re-send lost messages, close dead workers' rows
  (`facho.scheduling.reconcile`).
- `purge_old_data`: hourly, delete executions past `retention_days`, roll up the ONU time
  series' closed days and delete their days past `history_raw_days` / `history_rollup_days`
  (`facho.ops.retention`), in batches.
"""
from __future__ import annotations

import dramatiq
from periodiq import cron

from facho import messaging
from facho.ops import retention
from facho.scheduling import reconcile as reconciler

RECONCILE_TIME_LIMIT_MS = 55_000
PURGE_TIME_LIMIT_MS = 30 * 60_000


@dramatiq.actor(queue_name=messaging.MAINTENANCE_QUEUE, priority=50, max_retries=0,
                time_limit=RECONCILE_TIME_LIMIT_MS, periodic=cron("* * * * *"))
def reconcile():
    reconciler.reconcile()


@dramatiq.actor(queue_name=messaging.MAINTENANCE_QUEUE, priority=100, max_retries=0,
                time_limit=PURGE_TIME_LIMIT_MS, periodic=cron("17 * * * *"))
def purge_old_data():
    retention.purge()


@dramatiq.actor(actor_name=messaging.PURGE_ACTOR, queue_name=messaging.MAINTENANCE_QUEUE,
                priority=100, max_retries=0, time_limit=PURGE_TIME_LIMIT_MS)
def purge_executions(older_than_days: int):
    """Sent by the panel's "Eliminar ejecuciones antiguas" page: the same batched purge
    with the operator's chosen age instead of retention_days (executions only: the time
    series keep their own windows)."""
    retention.purge(retention_days=int(older_than_days), history=False)
