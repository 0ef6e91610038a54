"""Walking one or several table columns in the same GetBulk (or v1 GetNext) requests.

Every walk is bounded three ways, because a faulty agent can otherwise keep it going
forever (seen with puresnmp's bulkwalk against agents that return non-increasing OIDs):

* loop detection: each column's OIDs must strictly increase, else ``SnmpAgentLoop``;
* ``max_rows`` per column, else ``SnmpTooManyRows``;
* ``deadline_s`` for the whole walk, enforced with ``asyncio.timeout`` around it so it also
  cuts a request still waiting out its retries, else ``SnmpWalkDeadline``.

A column ends at endOfMibView or at the first OID outside its subtree. A subtree the agent
does not have therefore yields no rows and is not an error (see ``errors``).

GetBulk is checked, because some agents (ZTE C300) answer it with an empty list, silence
or a table cut short, which would look like an OLT without ONUs: when GetBulk columns
end, one GETNEXT from where each ended must confirm the end (one request per walk); an
empty GetBulk answer is checked the same way; a GetBulk timeout only says which setting to
try (checking would double the wait of every dead OLT). GETNEXT finding rows
GetBulk did not give raises ``SnmpBulkUnreliable``, which names the settings to change.
``WalkLimits.getnext_only`` walks with GETNEXT only (the OLT's "Solo GETNEXT").

Rows come back as ``(index, value)``: ``index`` is the OID suffix after the column as a
tuple of ints (what ``facho.inventory.decoders`` decodes), ``value`` a plain Python value.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from facho.snmp import codec
from facho.snmp.codec import END_OF_MIB_VIEW, GETBULK, GETNEXT, Marker
from facho.snmp.errors import (SETTING_GETNEXT, SETTING_REPETITIONS, SnmpAgentLoop,
                               SnmpBadData, SnmpBulkUnreliable, SnmpTimeout, SnmpTooManyRows,
                               SnmpWalkDeadline)
from facho.snmp.session import NO_SUCH_NAME, TOO_BIG, Session, check_status

Index = tuple[int, ...]
BULK_TIMEOUT_HINT = (" Si la OLT responde a otras consultas (por ejemplo «Probar» o una tarea "
                     f"get), puede que no atienda GetBulk: active {SETTING_GETNEXT} o baje "
                     f"{SETTING_REPETITIONS}.")


@dataclass(frozen=True)
class WalkLimits:
    """``bulk_size``: max-repetitions per GetBulk (rows per request, like ``snmpbulkwalk
    -Cr``). ``deadline_s``: seconds for the whole walk. ``max_rows``: rows per column.
    ``head_rows``: stop each column after its first rows (a preview), without an error.
    ``getnext_only``: GETNEXT even where GetBulk exists (agents that mishandle GetBulk)."""

    bulk_size: int = 25
    deadline_s: float = 300.0
    max_rows: int = 200_000
    head_rows: int | None = None
    getnext_only: bool = False


@dataclass
class _Column:
    root: bytes
    last_oid: bytes
    last_index: Index = ()
    rows: list[tuple[Index, Any]] = field(default_factory=list)
    done: bool = False


class TableRow(NamedTuple):
    index: Index
    values: dict[str, Any]  # column name -> value, None where that column has no row


def align_rows(columns: dict[str, list[tuple[Index, Any]]]) -> list[TableRow]:
    """Join column walks on their index, sorted by index. A column missing a row gives
    None there (ONUs offline often lack optical readings, for instance)."""
    names = list(columns)
    merged: dict[Index, dict[str, Any]] = {}
    for name, rows in columns.items():
        for index, value in rows:
            merged.setdefault(index, dict.fromkeys(names))[name] = value
    return [TableRow(index, merged[index]) for index in sorted(merged)]


async def walk_columns(session: Session, roots: list[Index], limits: WalkLimits,
                       stats: dict | None = None) -> list[list[tuple[Index, Any]]]:
    """Walk every root at once; return one row list per root, in the roots' order."""
    columns = [_Column(root=codec.encode_oid(r), last_oid=codec.encode_oid(r)) for r in roots]
    label = ", ".join(codec.oid_text(r) for r in roots)
    try:
        async with asyncio.timeout(limits.deadline_s):
            await _run(session, columns, limits, label, stats if stats is not None else {})
    except TimeoutError:
        rows = max((len(c.rows) for c in columns), default=0)
        raise SnmpWalkDeadline(session.target, label, limits.deadline_s, rows) from None
    return [c.rows for c in columns]


async def _run(session: Session, columns: list[_Column], limits: WalkLimits, label: str,
               stats: dict) -> None:
    bulk = session.supports_bulk and not limits.getnext_only
    repetitions = max(1, limits.bulk_size)
    max_rows = limits.max_rows
    ended: list[_Column] = []  # columns a GetBulk answer ended, to confirm with GETNEXT
    while True:
        active = [c for c in columns if not c.done]
        if not active:
            break
        oids = [c.last_oid for c in active]
        if bulk:
            try:
                response = await session.request(GETBULK, oids, repetitions)
            except SnmpTimeout as exc:
                # Silence to GetBulk looks like a dead OLT; checking with GETNEXT would double
                # the wait for every dead OLT, so the message names the setting instead.
                exc.message = exc.message + BULK_TIMEOUT_HINT
                exc.args = (exc.message,)
                raise
            _count(stats, "getbulk")
        else:
            response = await session.request(GETNEXT, oids)
            _count(stats, "getnext")
        stats["requests"] = stats.get("requests", 0) + 1
        if response.error_status == TOO_BIG and bulk and repetitions > 1:
            repetitions //= 2  # the agent cannot fit that many rows in one message
            continue
        if response.error_status == NO_SUCH_NAME:
            # SNMPv1's way of saying "end of the MIB" for the column at error-index (some
            # old v2c agents answer GetBulk past the end the same way)
            index = response.error_index
            for column in (active if index == 0 or index > len(active) else [active[index - 1]]):
                column.done = True
            continue
        check_status(session.target, response, oids)
        varbinds = response.varbinds
        if not varbinds:
            if bulk:
                await _confirm_end(session, active, repetitions, stats, "respondió vacío")
            raise SnmpBadData(session.target, f"respuesta vacía al recorrer {label}")
        stats["varbinds"] = stats.get("varbinds", 0) + len(varbinds)
        width = len(active)
        for position, (oid, value) in enumerate(varbinds):
            column = active[position % width]
            if column.done:
                continue
            root = column.root
            if value is END_OF_MIB_VIEW or isinstance(value, Marker) or not oid.startswith(root):
                column.done = True
                if bulk:
                    ended.append(column)
                continue
            try:
                index = codec.decode_subids(oid[len(root):])
            except ValueError:
                raise SnmpBadData(session.target, f"OID mal codificado en {label}") from None
            if index <= column.last_index:
                raise SnmpAgentLoop(session.target, _text(oid), _text(column.last_oid))
            column.rows.append((index, value))
            column.last_index = index
            column.last_oid = oid
            if limits.head_rows is not None and len(column.rows) >= limits.head_rows:
                column.done = True
            elif len(column.rows) > max_rows:
                raise SnmpTooManyRows(session.target, _text(root), max_rows)
        if bulk and width and len(varbinds) < width:
            # Fewer varbinds than columns: the columns left without one have no answer at
            # all; GETNEXT decides whether they really ended.
            for column in active[len(varbinds):]:
                if not column.done:
                    column.done = True
                    ended.append(column)
    if ended and limits.head_rows is None:
        await _confirm_end(session, ended, repetitions, stats, "devolvió la tabla incompleta")


async def _confirm_end(session: Session, columns: list[_Column], repetitions: int,
                       stats: dict, problem: str) -> None:
    """One GETNEXT from where each column stands; raise SnmpBulkUnreliable when it finds
    a row of the column that GetBulk did not give. Any failure of the check itself says
    nothing about GetBulk and is ignored (the caller goes on with its own outcome)."""
    oids = [c.last_oid for c in columns]
    try:
        response = await session.request(GETNEXT, oids)
    except SnmpTimeout:
        return
    _count(stats, "getnext")
    stats["requests"] = stats.get("requests", 0) + 1
    if response.error_status != 0:
        return
    for column, (oid, value) in zip(columns, response.varbinds):
        if (not isinstance(value, Marker) and oid.startswith(column.root)
                and len(oid) > len(column.root)
                and (column.last_oid == column.root
                     or codec.decode_subids(oid[len(column.root):]) > column.last_index)):
            what = problem if column.rows or problem != "devolvió la tabla incompleta" \
                else "devolvió la tabla vacía"
            raise SnmpBulkUnreliable(session.target, _text(column.root), what, repetitions)


def _count(stats: dict, key: str) -> None:
    stats[key] = stats.get(key, 0) + 1


def _text(oid: bytes) -> str:
    return codec.oid_text(codec.decode_oid(oid))
