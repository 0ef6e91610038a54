"""The API call log (table api_calls): one row per request, written after the answer is
known, in its own short transaction so a request that failed still leaves its row.

On PostgreSQL that transaction commits with `synchronous_commit = off`: it does not wait for
the WAL flush (the largest fixed cost of a call otherwise), so a database crash may lose the
log rows of the last fraction of a second, never corrupt anything. The data an operator
changes through the API is committed as usual."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from facho.extensions import db
from facho.models import ApiCall, utcnow

log = logging.getLogger("facho.api")


def record(token, method: str, route: str, status: int, duration_ms: int) -> None:
    """Write one call; never raises (a lost log row must not turn an answer into a 500)."""
    try:
        token_id = getattr(token, "id", None)
        token_name = getattr(token, "name", "") or ""
        username = token.user.username if token is not None and token.user else ""
        db.session.rollback()   # whatever the view left uncommitted is not ours to keep
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        db.session.add(ApiCall(
            at=utcnow(), token_id=token_id, token_name=token_name, username=username,
            method=method[:8], route=route[:200], status=int(status),
            duration_ms=max(0, int(duration_ms))))
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - database down: log the line instead
        db.session.rollback()
        log.warning("event=api_call_not_recorded route=%s status=%s error=%s",
                    route, status, type(exc).__name__)


def purge(before, batch_size: int = 2000, max_rows: int = 500_000) -> int:
    """Delete the calls logged before `before` (aware UTC), in batches, committing each;
    how many went. Called by the hourly retention with the executions' cutoff."""
    table = ApiCall.__table__
    deleted = 0
    while deleted < max_rows:
        ids = db.session.execute(sa.select(table.c.id).where(table.c.at < before)
                                 .order_by(table.c.id).limit(batch_size)).scalars().all()
        if not ids:
            break
        deleted += db.session.execute(table.delete().where(table.c.id.in_(ids))).rowcount or 0
        db.session.commit()
    db.session.rollback()
    return deleted
