"""Removing ONUs from the inventory by hand (issue 11): the ones an operator selected, or
every absent ONU of one OLT (e.g. the leftovers of a wrong index formula, which discovery
marks absent but never deletes).

Each call is one transaction: the OLTs' inventory write lock (`writes.lock_olt`, so a
discovery of that OLT runs before or after, never in between), the ONUs' time series (day
rows of raw samples and of roll-ups, `facho.inventory.history.store.delete_onus`), the ONUs,
and one audit row (`facho.audit.record`: who, how many, which). It commits at the end; any
error rolls all of it back, so there is never a deletion without its audit row or the
reverse. Deletes are set-based (one statement per table and chunk of ids, no per-row ORM
delete). Series are deleted explicitly: SQLite only enforces the foreign key's ON DELETE
CASCADE with `PRAGMA foreign_keys=ON` (as in facho.ops.retention).
"""
from __future__ import annotations

import logging
from typing import Iterable

import sqlalchemy as sa

from facho import audit
from facho.extensions import db
from facho.inventory.events import store as events
from facho.inventory.history import store as history
from facho.inventory.writes import lock_olt
from facho.logging_setup import kv
from facho.models import Olt, Onu

log = logging.getLogger(__name__)

MAX_NAMES = 20     # ONU names listed in an audit row's detail
CHUNK = 500        # ids per IN (...) list: far below SQLite's and PostgreSQL's limits

_onus = Onu.__table__
_olts = Olt.__table__


def _keys(ids: Iterable) -> list[int]:
    """The integer ids in `ids` (panel row ids arrive as text), sorted, without repeats."""
    keys = set()
    for value in ids:
        text = str(value).strip()
        if text.isdigit():
            keys.add(int(text))
    return sorted(keys)


def _chunks(keys: list[int]):
    for start in range(0, len(keys), CHUNK):
        yield keys[start:start + CHUNK]


def listed(names: list[str], total: int) -> str:
    """"a, b, c" or "a, b, c y 7 más" when `total` is larger than what is listed."""
    text = ", ".join(names)
    extra = total - len(names)
    return f"{text} y {extra} más" if extra > 0 else text


def target_text(olt_names: list[str]) -> str:
    """The OLT names for an audit row's target (120 characters at most)."""
    names = sorted(set(olt_names))
    for shown in range(len(names), 0, -1):
        text = listed(names[:shown], len(names))
        if len(text) <= audit.TARGET_MAX:
            return text
    return audit.clip(names[0], audit.TARGET_MAX) if names else ""


def olt_names_of(ids: Iterable) -> list[str]:
    """The names of the OLTs the ONUs `ids` belong to, sorted (what the panel names)."""
    names: set[str] = set()
    for chunk in _chunks(_keys(ids)):
        names.update(db.session.execute(
            sa.select(_olts.c.abreviatura).join(_onus, _onus.c.olt_id == _olts.c.id)
            .where(_onus.c.id.in_(chunk)).distinct()).scalars())
    return sorted(names)


def _onu_label(row) -> str:
    return row.name or row.raw_index


def _position(row):
    """Sort key: OLT, then slot/port/ONU (unknown positions last), then the SNMP index."""
    place = tuple((v is None, v or 0) for v in (row.slot, row.port, row.onu_id))
    return (row.olt,) + place + (row.raw_index,)


def _detail(names: list[str], count: int, readings: int) -> str:
    """`readings`: rows of history deleted (raw or hourly, one per ONU, metric and day)."""
    return f"ONUs: {listed(names, count)}. Filas de historial eliminadas: {readings}."


def delete_onus(ids: Iterable, username: str) -> int:
    """Delete the ONUs `ids` (and their readings); one audit row "onus_eliminadas".
    Ids that do not exist (any more) are ignored. Returns how many ONUs were deleted."""
    keys = _keys(ids)
    if not keys:
        return 0
    session = db.session
    try:
        olt_ids: set[int] = set()
        for chunk in _chunks(keys):
            olt_ids.update(session.execute(sa.select(_onus.c.olt_id)
                                           .where(_onus.c.id.in_(chunk)).distinct()).scalars())
        for olt_id in sorted(olt_ids):   # one order for every writer: no deadlock
            lock_olt(olt_id)
        rows = []
        for chunk in _chunks(keys):      # read again under the lock
            rows += session.execute(
                sa.select(_onus.c.id, _onus.c.name, _onus.c.raw_index, _onus.c.slot,
                          _onus.c.port, _onus.c.onu_id, _olts.c.abreviatura.label("olt"))
                .join(_olts, _olts.c.id == _onus.c.olt_id)
                .where(_onus.c.id.in_(chunk))).all()
        if not rows:
            session.rollback()
            return 0
        rows.sort(key=_position)
        several = len({r.olt for r in rows}) > 1
        names = [f"{r.olt} {_onu_label(r)}" if several else _onu_label(r)
                 for r in rows[:MAX_NAMES]]
        found = [r.id for r in rows]
        readings = count = 0
        for chunk in _chunks(found):
            readings += history.delete_onus(chunk)
            events.delete_onus(chunk)
            count += session.execute(
                _onus.delete().where(_onus.c.id.in_(chunk))).rowcount or 0
        target = target_text([r.olt for r in rows])
        audit.record(username, audit.ONUS_DELETED, target=target, count=count,
                     detail=_detail(names, count, readings))
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(kv(event="onus_deleted", user=username, target=target, onus=count,
                readings=readings))
    return count


def absent_count(olt_id: int) -> int:
    """How many ONUs of the OLT are absent (what `purge_absent` would delete now)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(_onus).where(
        _onus.c.olt_id == olt_id, _onus.c.present == sa.false())) or 0


def absent_names(olt_id: int, limit: int = MAX_NAMES) -> list[str]:
    """The first absent ONUs of the OLT by position (names, or the SNMP index)."""
    rows = db.session.execute(
        sa.select(_onus.c.name, _onus.c.raw_index)
        .where(_onus.c.olt_id == olt_id, _onus.c.present == sa.false())
        .order_by(_onus.c.slot, _onus.c.port, _onus.c.onu_id, _onus.c.raw_index)
        .limit(limit)).all()
    return [_onu_label(r) for r in rows]


def purge_absent(olt_id: int, username: str) -> int:
    """Delete every absent ONU (`present = false`) of the OLT, with its readings; one audit
    row "ausentes_purgadas". Present ONUs and other OLTs are untouched. Returns how many
    ONUs were deleted (0, and no audit row, when there were none)."""
    session = db.session
    absent = sa.and_(_onus.c.olt_id == olt_id, _onus.c.present == sa.false())
    try:
        lock_olt(olt_id)
        olt_name = session.scalar(sa.select(_olts.c.abreviatura).where(_olts.c.id == olt_id))
        if olt_name is None:
            session.rollback()
            return 0
        names = absent_names(olt_id)
        readings = history.delete_onus(sa.select(_onus.c.id).where(absent))
        events.delete_onus(sa.select(_onus.c.id).where(absent))
        count = session.execute(_onus.delete().where(absent)).rowcount or 0
        if not count:
            session.rollback()
            return 0
        audit.record(username, audit.ABSENT_PURGED, target=olt_name, count=count,
                     detail=_detail(names, count, readings))
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(kv(event="absent_onus_purged", user=username, olt=olt_name, onus=count,
                readings=readings))
    return count
