""""Probar": what a formula and value rules make of an OLT's first rows, before saving.
Pure functions over a head walk (`facho.inventory.probe` does the I/O).

Each row shows the raw index → decoded frame/slot/port/ONU (or why the formula refused it)
→ for every column its raw value → the value the rule stores (or why it refused it, and
what the regular expression matched). The operator reads exactly what a discovery or get
execution would store, row by row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from facho.inventory.decoders import (DecodedIndex, column_oids, decode_index, index_text,
                                       row_key)
from facho.inventory.value_rules import ValueRule

DEFAULT_ROWS = 20
MAX_ROWS = 200


@dataclass(frozen=True)
class ProbeColumn:
    """One OID to read: its name, dotted OID and value rule."""

    nombre: str
    oid: str
    rule: ValueRule


@dataclass
class PreviewCell:
    raw: Any
    value: Any = None
    state: str = "missing"       # value | missing | invalid
    reason: str | None = None
    matched: str | None = None


@dataclass
class PreviewRow:
    index: str
    decoded: DecodedIndex | None = None
    error: str | None = None     # why the formula refused the index
    cells: list[PreviewCell] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.error is not None or any(c.state == "invalid" for c in self.cells)


@dataclass
class Preview:
    columns: list[ProbeColumn]
    rows: list[PreviewRow]
    formula: str | None = None   # one line describing the formula, None = no formula

    @property
    def refused_rows(self) -> int:
        return sum(1 for r in self.rows if r.refused)

    def counts(self) -> dict[str, int]:
        """Per state over every cell, for the summary line above the table."""
        out = {"value": 0, "missing": 0, "invalid": 0}
        for row in self.rows:
            for cell in row.cells:
                out[cell.state] += 1
        return out


def build_preview(walked: Mapping[str, list[tuple[tuple[int, ...], Any]]],
                  columns: Sequence[ProbeColumn], params: Mapping | None,
                  rows: int = DEFAULT_ROWS, formula: str | None = None) -> Preview:
    """The preview of `walked` (dotted OID → [(index, raw value)], a head walk of every
    column and of the formula's `from_columns`). Rows are the first column's indexes (the
    discovery column when there is one), at most `rows`; with `params` None the indexes
    are shown undecoded (an OID tried before any formula exists)."""
    if not columns:
        return Preview(columns=[], rows=[], formula=formula)
    trailing = int((params or {}).get("max_trailing", 0) or 0)
    feeds = column_oids(params) if params else {}
    by_index = {oid: {index_text(i): v for i, v in walked.get(oid, [])} for oid in feeds.values()}
    first = columns[0]
    out: list[PreviewRow] = []
    positions: dict[str, PreviewRow] = {}
    for index, _ in walked.get(first.oid, [])[:rows]:
        text = index_text(index)
        row = PreviewRow(index=text)
        if params is not None:
            values = {name: by_index[oid].get(text) for name, oid in feeds.items()}
            try:
                row.decoded = decode_index(index, params,
                                           {k: v for k, v in values.items() if v is not None})
            except ValueError as exc:
                row.error = str(exc)
        key = row.decoded.raw if row.decoded is not None else text
        positions.setdefault(key, row)
        out.append(row)
    cells: dict[int, dict[str, PreviewCell]] = {id(r): {} for r in out}
    for column in columns:
        for index, raw in walked.get(column.oid, []):
            key = row_key(tuple(index), positions, trailing)
            if key is None:
                continue
            row = positions[key]
            if column.oid not in cells[id(row)]:
                cells[id(row)][column.oid] = evaluate(column.rule, raw)
    for row in out:
        row.cells = [cells[id(row)].get(c.oid) or PreviewCell(raw=None) for c in columns]
    return Preview(columns=list(columns), rows=out, formula=formula)


def evaluate(rule: ValueRule, raw: Any) -> PreviewCell:
    outcome = rule.apply(raw)
    return PreviewCell(raw=raw, value=outcome.value, state=outcome.state,
                       reason=outcome.reason, matched=outcome.matched)
