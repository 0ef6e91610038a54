"""The one way the importer writes a Facho row: find it by its natural key, then create it,
update the attributes that differ, or leave it alone. Natural keys (never the old ids) make
a second run find what the first one wrote, so it changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from facho.extensions import db


def upsert(model, key: Mapping[str, Any], values: Mapping[str, Any],
           create_only: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """(row, outcome) with outcome "creado", "actualizado" or "sin_cambios".
    ``create_only``: attributes set when creating, never compared (Facho's own defaults,
    such as the SNMP port, that an operator may change after the import)."""
    row = db.session.execute(sa.select(model).filter_by(**key)).scalar_one_or_none()
    if row is None:
        row = model(**key, **values, **(create_only or {}))
        db.session.add(row)
        db.session.flush()
        return row, "creado"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        db.session.flush()
    return row, "actualizado" if changed else "sin_cambios"


def free_name(model, wanted: str, max_len: int = 120) -> str:
    """``wanted`` unless a row already holds it as ``nombre``; then ``wanted (v2)``,
    ``wanted (v2 2)``…: Facho's names are unique, the old ones are not. Only for a row
    being created (an existing row keeps its name)."""
    candidate, n = wanted[:max_len], 1
    while db.session.execute(sa.select(model.id).filter_by(nombre=candidate)).first():
        n += 1
        suffix = " (v2)" if n == 2 else f" (v2 {n - 1})"
        candidate = wanted[:max_len - len(suffix)] + suffix
    return candidate
