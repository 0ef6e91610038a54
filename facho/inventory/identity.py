"""An ONU is its serial, not its SNMP index.

When an ONU re-registers on another port, or the OLT gives it another index, a discovery
sees a new index whose serial the inventory already holds on the same OLT under an index
the walk no longer shows. That row is *moved* (its index and position change, its id stays),
so its history, events and executions stay with it (`facho.inventory.writes`), and a
"movida" event says from where to where. Decided here (pure), applied by the writes.

A serial on two OLTs at once is not merged (each OLT's inventory is written under that
OLT's lock only); the ONU page and the search show it (`elsewhere`).
"""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from facho.extensions import db
from facho.models import Olt, Onu


def normal_serial(serial: str | None) -> str | None:
    """Serials compare ignoring case and surrounding blanks."""
    if serial is None:
        return None
    text = str(serial).strip().upper()
    return text or None


def moves(new_serials: dict[str, str | None], unseen: Iterable) -> dict[str, object]:
    """new raw index → the existing row (with `.id`, `.serial`, `.present`) that moved there.

    `new_serials`: the serial of each index the inventory did not have; `unseen`: existing
    rows of the OLT whose own index the walk did not show. A serial that two new indexes
    share, or that two unseen rows share, is ambiguous and moves nothing (a new row is
    created instead, as before)."""
    by_serial: dict[str, list] = {}
    for row in unseen:
        key = normal_serial(row.serial)
        if key:
            by_serial.setdefault(key, []).append(row)
    if not by_serial:      # nothing could have moved (an OLT's first discovery, most walks)
        return {}
    wanted: dict[str, list[str]] = {}
    for raw, serial in new_serials.items():
        key = normal_serial(serial)
        if key:
            wanted.setdefault(key, []).append(raw)
    out: dict[str, object] = {}
    for key, raws in wanted.items():
        rows = by_serial.get(key, [])
        if len(raws) == 1 and len(rows) == 1:
            out[raws[0]] = rows[0]
    return out


def elsewhere(onu_id: int, olt_id: int, serial: str | None) -> list[tuple[str, str, int]]:
    """Present ONUs with the same serial on *other* OLTs: [(OLT, ONU name, ONU id)]."""
    key = normal_serial(serial)
    if key is None:
        return []
    # the spellings a vendor's format stores, so the serial index answers (an upper() of
    # the column would read every ONU of every OLT on each ONU page)
    spellings = {key, key.lower(), str(serial).strip()}
    rows = db.session.execute(
        sa.select(Olt.abreviatura, Onu.name, Onu.raw_index, Onu.id)
        .join(Olt, Olt.id == Onu.olt_id)
        .where(Onu.serial.in_(spellings), Onu.olt_id != olt_id,
               Onu.present.is_(True), Onu.id != onu_id)
        .order_by(Olt.abreviatura)).all()
    return [(olt, name or raw, id_) for olt, name, raw, id_ in rows]
