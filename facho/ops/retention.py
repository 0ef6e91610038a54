"""Retention: executions and ONU readings older than `retention_days` are deleted in
batches (short transactions, so the dispatcher and workers are never blocked for long).

Only finished executions go (SUCCESS, FAILED, INTERRUPTED, SKIPPED): a PENDING or RUNNING
row is never deleted, however old. Before a batch of executions is deleted, every
reference to it is cleared in the same transaction: `onus.last_execution_id` and
`onu_readings.execution_id` become NULL (the foreign keys say ON DELETE SET NULL, but
SQLite only enforces that with `PRAGMA foreign_keys=ON`, so it is done explicitly and no
reference can dangle on either database).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.logging_setup import kv
from facho.models import FINAL_STATUSES, Execution, Onu, OnuReading, utcnow

log = logging.getLogger(__name__)

BATCH = 2000
MAX_ROWS_PER_RUN = 500_000   # a first run after months catches up over several runs

_execs = Execution.__table__
_onus = Onu.__table__
_readings = OnuReading.__table__


@dataclass
class PurgeResult:
    cutoff: datetime
    executions: int = 0
    readings: int = 0
    onus_unlinked: int = 0
    batches: int = 0


def purge(now: datetime | None = None, *, retention_days: int | None = None,
          batch_size: int = BATCH, max_rows: int = MAX_ROWS_PER_RUN) -> PurgeResult:
    """Delete readings (by `read_at`) and finished executions (by `created_at`) older than
    `now - retention_days` (default from the configuration). Commits per batch."""
    if retention_days is None:
        from flask import current_app
        retention_days = current_app.config["FACHO"].retention_days
    now = now or utcnow()
    result = PurgeResult(cutoff=now - timedelta(days=retention_days))
    session = db.session

    while result.readings < max_rows:
        ids = session.execute(sa.select(_readings.c.id).where(_readings.c.read_at < result.cutoff)
                              .order_by(_readings.c.id).limit(batch_size)).scalars().all()
        if not ids:
            break
        result.readings += session.execute(
            _readings.delete().where(_readings.c.id.in_(ids))).rowcount or 0
        session.commit()
        result.batches += 1

    while result.executions < max_rows:
        ids = session.execute(
            sa.select(_execs.c.id).where(_execs.c.created_at < result.cutoff,
                                         _execs.c.status.in_(FINAL_STATUSES))
            .order_by(_execs.c.id).limit(batch_size)).scalars().all()
        if not ids:
            break
        result.onus_unlinked += session.execute(
            _onus.update().where(_onus.c.last_execution_id.in_(ids))
            .values(last_execution_id=None)).rowcount or 0
        session.execute(_readings.update().where(_readings.c.execution_id.in_(ids))
                        .values(execution_id=None))
        result.executions += session.execute(
            _execs.delete().where(_execs.c.id.in_(ids))).rowcount or 0
        session.commit()
        result.batches += 1
    session.rollback()

    if result.executions or result.readings:
        log.info(kv(event="retention", cutoff=result.cutoff.isoformat(),
                    executions=result.executions, readings=result.readings,
                    onus_unlinked=result.onus_unlinked, batches=result.batches))
    return result
