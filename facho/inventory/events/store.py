"""Writing and reading `onu_events`. Writes join the caller's transaction (no commit)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events.detect import Change
from facho.models import OnuEvent

VALUE_MAX = OnuEvent.__table__.c.old_value.type.length
CAUSE_MAX = OnuEvent.__table__.c.cause.type.length


def _cut(text: str | None, limit: int) -> str | None:
    return None if text is None else str(text)[:limit]


def row(change: Change, *, onu_id: int, olt_id: int, slot: int | None, port: int | None,
        at: datetime, execution_id: int | None) -> dict:
    """One insert row; `at` is UTC."""
    return {"onu_id": onu_id, "olt_id": olt_id, "slot": slot, "port": port, "at": at,
            "kind": change.kind, "old_value": _cut(change.old, VALUE_MAX),
            "new_value": _cut(change.new, VALUE_MAX), "cause": _cut(change.cause, CAUSE_MAX),
            "execution_id": execution_id}


def record(rows: list[dict]) -> int:
    """Insert the events in one executemany; the number written."""
    if rows:
        db.session.execute(OnuEvent.__table__.insert(), rows)
    return len(rows)


def recent(*, onu_id: int | None = None, olt_id: int | None = None,
           slot: int | None = None, port: int | None = None,
           since: datetime | None = None, limit: int = 100) -> list[OnuEvent]:
    """Newest first, filtered by ONU, or by OLT (and PON: slot and port)."""
    query = sa.select(OnuEvent)
    if onu_id is not None:
        query = query.where(OnuEvent.onu_id == onu_id)
    if olt_id is not None:
        query = query.where(OnuEvent.olt_id == olt_id)
    if slot is not None:
        query = query.where(OnuEvent.slot == slot)
    if port is not None:
        query = query.where(OnuEvent.port == port)
    if since is not None:
        query = query.where(OnuEvent.at >= since)
    query = query.order_by(OnuEvent.at.desc(), OnuEvent.id.desc()).limit(limit)
    return list(db.session.execute(query).scalars())


def delete_onus(onu_ids) -> int:
    """Delete the events of the ONUs `onu_ids` (a list or a SELECT of ids); not committed.
    Explicit because SQLite enforces ON DELETE CASCADE only with a pragma."""
    table = OnuEvent.__table__
    return db.session.execute(table.delete().where(table.c.onu_id.in_(onu_ids))).rowcount or 0


def purge_before(cutoff: datetime, batch_size: int = 5000) -> int:
    """Delete events older than `cutoff` (UTC) in batches, committing each; the count."""
    table = OnuEvent.__table__
    deleted = 0
    while True:
        ids = db.session.execute(sa.select(table.c.id).where(table.c.at < cutoff)
                                 .order_by(table.c.id).limit(batch_size)).scalars().all()
        if not ids:
            db.session.rollback()
            return deleted
        deleted += db.session.execute(table.delete().where(table.c.id.in_(ids))).rowcount or 0
        db.session.commit()
