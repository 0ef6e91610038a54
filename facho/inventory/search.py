"""The one search box: an ONU by serial (any case, partial), by description / customer
(partial), or by name ("0/1/3:5", "1/3:5"; "0/1/3" lists a PON), across every OLT.

Decided here: what the text means (`parse`, pure), which rows match (`find`, the panel's
box) and the text condition the REST API's `q` uses too (`search_text`, `like_pattern`).
Text matches are case-insensitive ILIKE on both databases, with `%`, `_` and `\\` in the
text taken literally; exact serials first, present ONUs before absent ones.
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
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        # PostgreSQL refuses a NUL in text, and the separator of `search_text` is one
        raise SearchError("La búsqueda tiene caracteres de control: escriba solo texto.")
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


def like_pattern(text: str) -> str:
    """`text` as a case-insensitive substring pattern, with LIKE's wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The text searched: serial, description and name joined by a unit separator (a control
# character, which a search may not contain, so a match never spans two fields). Written
# with literals, not bound parameters, so that on PostgreSQL it is the very expression of
# the trigram index `ix_onus_search_trgm` (migration 9a41c7e2b6d3) and a search at 1M ONUs
# is an index scan. SQLite has no such index and scans.
SEARCH_SEPARATOR = "\x1f"
_EMPTY = sa.literal_column("''")
_SEP = sa.literal_column(f"'{SEARCH_SEPARATOR}'")


def search_text():
    return (sa.func.coalesce(Onu.serial, _EMPTY).op("||")(_SEP)
            .op("||")(sa.func.coalesce(Onu.descripcion, _EMPTY)).op("||")(_SEP)
            .op("||")(sa.func.coalesce(Onu.name, _EMPTY)))


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
        select = select.where(search_text().ilike(like_pattern(query.text), escape="\\"))
        exact = sa.case((sa.func.upper(Onu.serial) == query.text.upper(), 0), else_=1)
        order = [exact, Onu.present.desc(), Olt.abreviatura, Onu.slot, Onu.port, Onu.onu_id]
    rows = db.session.execute(select.order_by(*order).limit(limit + 1)).all()
    return Found([(onu, olt) for onu, olt in rows[:limit]], len(rows) > limit)
