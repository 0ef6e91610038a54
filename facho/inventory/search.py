"""The one search box: an ONU by serial (any case, partial), by description / customer
(partial), or by name ("0/1/3:5", "1/3:5"; "0/1/3" lists a PON), across every OLT.

Decided here: what the text means (`parse`, pure) and which rows match (`find`). Text
matches compare lower-cased on both databases (`lower(column) LIKE lower(pattern)`, with
`%`, `_` and `\\` in the text taken literally), exact serials first, present ONUs before
absent ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from facho.extensions import db
from facho.models import Olt, Onu

MIN_TEXT = 2
LIMIT = 50
_NAME = re.compile(r"^(?:(\d+)/)?(\d+)/(\d+)(?::(\d+))?$")


class SearchError(ValueError):
    """A text the box cannot search for; str() says in Spanish what to type."""


@dataclass(frozen=True)
class Query:
    text: str
    slot: int | None = None
    port: int | None = None
    onu_id: int | None = None

    @property
    def by_name(self) -> bool:
        return self.slot is not None


def parse(text: str | None) -> Query:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise SearchError("Escriba una serie, una descripción o un nombre como 0/1/3:5.")
    name = _NAME.match(cleaned.replace(" ", ""))
    if name:
        _, slot, port, onu = name.groups()
        return Query(cleaned, int(slot), int(port), None if onu is None else int(onu))
    if len(cleaned) < MIN_TEXT:
        raise SearchError(f"Escriba al menos {MIN_TEXT} caracteres para buscar por serie o "
                          "descripción.")
    return Query(cleaned)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Found:
    onus: list[tuple[Onu, str]]    # (ONU, its OLT's abreviatura)
    more: bool                     # more rows matched than were returned


def find(query: Query, limit: int = LIMIT) -> Found:
    """Matching ONUs of every OLT (at most `limit`)."""
    select = sa.select(Onu, Olt.abreviatura).join(Olt, Olt.id == Onu.olt_id)
    if query.by_name:
        select = select.where(Onu.slot == query.slot, Onu.port == query.port)
        if query.onu_id is not None:
            select = select.where(Onu.onu_id == query.onu_id)
        order = [Onu.present.desc(), Olt.abreviatura, Onu.onu_id]
    else:
        pattern = _like(query.text)
        select = select.where(sa.or_(sa.func.lower(Onu.serial).like(pattern, escape="\\"),
                                     sa.func.lower(Onu.descripcion).like(pattern, escape="\\")))
        exact = sa.case((sa.func.upper(Onu.serial) == query.text.upper(), 0), else_=1)
        order = [exact, Onu.present.desc(), Olt.abreviatura, Onu.slot, Onu.port, Onu.onu_id]
    rows = db.session.execute(select.order_by(*order).limit(limit + 1)).all()
    return Found([(onu, olt) for onu, olt in rows[:limit]], len(rows) > limit)
