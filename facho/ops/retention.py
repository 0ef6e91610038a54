"""Retention: finished executions older than `retention_days`, the ONU time series beyond
their windows (`history_raw_days` raw, `history_rollup_days` hourly roll-ups; whole UTC days,
see `facho.inventory.history.store.purge`), and absent ONUs not seen for `absent_onu_days`,
are deleted in batches (short transactions, so the dispatcher and workers are never blocked
for long). Closed days are rolled up before their raw samples can go.

Only finished executions go (SUCCESS, FAILED, INTERRUPTED, SKIPPED): a PENDING or RUNNING
row is never deleted, however old. Before a batch of executions is deleted, every
reference to it is cleared in the same transaction: `onus.last_execution_id` becomes NULL
(the foreign key says ON DELETE SET NULL, but SQLite only enforces that with
`PRAGMA foreign_keys=ON`, so it is done explicitly and no reference can dangle on either
database). ONU events are kept as long as the hourly roll-ups.

An ONU goes when it is absent (`present = false`: discovery stopped finding it) and was
last seen (or, never seen, first recorded) before `now - absent_onu_days`; 0 days keeps
them forever. Its series and events go in the same transaction, deleted explicitly for the same
reason. Each batch locks its ONU rows (PostgreSQL) and every statement checks the
condition again, so an ONU that a discovery finds again meanwhile is kept with its series.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events import store as _events
from facho.inventory.history import store as _history
from facho.logging_setup import kv
from facho.models import FINAL_STATUSES, Execution, Onu, utcnow

log = logging.getLogger(__name__)

BATCH = 2000
MAX_ROWS_PER_RUN = 500_000   # a first run after months catches up over several runs

_execs = Execution.__table__
_onus = Onu.__table__


@dataclass
class PurgeResult:
    cutoff: datetime
    executions: int = 0
    onus_unlinked: int = 0
    absent_onus: int = 0            # absent ONUs deleted (absent_onu_days)
    absent_onu_readings: int = 0    # their history rows, deleted with them
    history: dict | None = None     # history.purge's counts; None: not run
    events: int = 0                 # ONU events older than the roll-up window
    absent_cutoff: datetime | None = None   # None: absent ONUs are kept (0 days)
    batches: int = 0


def purge(now: datetime | None = None, *, retention_days: int | None = None,
          absent_onu_days: int | None = None, history_raw_days: int | None = None,
          history_rollup_days: int | None = None, history: bool = True,
          batch_size: int = BATCH, max_rows: int = MAX_ROWS_PER_RUN) -> PurgeResult:
    """Delete finished executions (by `created_at`) older than `now - retention_days`,
    absent ONUs last seen before `now - absent_onu_days` (0: never) and, with `history`,
    the time series beyond their windows; each by default from the configuration.
    Commits per batch."""
    from flask import current_app
    config = current_app.config["FACHO"]
    retention_days = config.retention_days if retention_days is None else retention_days
    absent_onu_days = config.absent_onu_days if absent_onu_days is None else absent_onu_days
    raw_days = config.history_raw_days if history_raw_days is None else history_raw_days
    rollup_days = (config.history_rollup_days if history_rollup_days is None
                   else history_rollup_days)
    now = now or utcnow()
    result = PurgeResult(cutoff=now - timedelta(days=retention_days))
    if absent_onu_days:
        result.absent_cutoff = now - timedelta(days=absent_onu_days)
    session = db.session

    if result.absent_cutoff is not None:   # first: their series need no roll-up
        _purge_absent_onus(result, batch_size, max_rows)

    if history:
        result.history = _history.purge(now, raw_days, max(raw_days, rollup_days))
        # events are kept as long as the hourly roll-ups they sit beside on the ONU page
        result.events = _events.purge_before(now - timedelta(days=max(raw_days, rollup_days)))

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
        result.executions += session.execute(
            _execs.delete().where(_execs.c.id.in_(ids))).rowcount or 0
        session.commit()
        result.batches += 1
    session.rollback()

    removed = result.history and (result.history["raw_rows"] or result.history["rollup_rows"])
    if result.executions or removed or result.absent_onus or result.events:
        log.info(kv(event="retention", cutoff=result.cutoff.isoformat(),
                    executions=result.executions,
                    history_raw_rows=result.history and result.history["raw_rows"],
                    history_rollup_rows=result.history and result.history["rollup_rows"],
                    onus_unlinked=result.onus_unlinked, absent_onus=result.absent_onus,
                    events=result.events,
                    absent_onu_readings=result.absent_onu_readings,
                    absent_cutoff=(result.absent_cutoff.isoformat()
                                   if result.absent_cutoff else None),
                    batches=result.batches))
    return result


def _old_absent(cutoff: datetime):
    """Absent ONUs whose last sighting (or first record, never seen) is before `cutoff`."""
    seen = sa.func.coalesce(_onus.c.last_seen_at, _onus.c.first_seen_at)
    return sa.and_(_onus.c.present == sa.false(), seen < cutoff)


def _purge_absent_onus(result: PurgeResult, batch_size: int, max_rows: int) -> None:
    session = db.session
    old_absent = _old_absent(result.absent_cutoff)
    while result.absent_onus < max_rows:
        ids = session.execute(sa.select(_onus.c.id).where(old_absent).order_by(_onus.c.id)
                              .limit(batch_size).with_for_update()).scalars().all()
        if not ids:
            break
        # the condition again in each statement: SQLite read the ids outside a transaction
        batch = sa.select(_onus.c.id).where(_onus.c.id.in_(ids), old_absent)
        result.absent_onu_readings += _history.delete_onus(batch)
        _events.delete_onus(batch)
        deleted = session.execute(
            _onus.delete().where(_onus.c.id.in_(ids), old_absent)).rowcount or 0
        session.commit()
        result.absent_onus += deleted
        result.batches += 1
        if not deleted:   # every one was found again meanwhile: the next run goes on
            break
