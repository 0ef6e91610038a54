"""Discovery (`descubrimiento`) executions: walk an OLT's ONU table and upsert its inventory.

The job's `descubrimiento` OID(s) say which ONUs exist; the job's other OIDs (serial,
description, status, distance…) and the columns the index formula reads slot / port / ONU
from (`from_columns`) are walked in the same GetBulk requests
(`SnmpClient.walk_columns`), so adding a column costs varbinds, not round trips. Each row
index decodes with the OLT's `IndexFormula` (brand + modelo, else the brand's default with
an empty modelo; `facho.inventory.decoders`) into slot / port / ONU id and the name.

Nothing is merged silently: rows that decode to an ONU already seen, names that repeat and
rows the formula refuses end the execution SUCCESS "con advertencias" (the list and the
examples are in its summary); when no row decodes it is FAILED with the decoder's reason.

An empty walk from an answering agent (no rows under the discovery OID) changes no
presence: a wrong OID, or an agent that lost its tables after a reboot, must not mark a
whole OLT absent. The summary says so.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from facho.inventory import notes, uptime
from facho.inventory import writes as inventory
from facho.extensions import db
from facho.inventory.decoders import (column_oids, decoder, index_text, row_key,
                                       validate_formula)
from facho.inventory.writes import Discovered, FieldRule, InventoryConfigError, field_rule
from facho.models import Brand, IndexFormula, Olt, Onu, SnmpJob
from facho.snmp import SnmpClient, SnmpTarget
from facho.executions.targets import run_snmp as run


RAW_INDEX_MAX = Onu.__table__.c.raw_index.type.length


class ExecutionConfigError(InventoryConfigError):
    """The job, its OIDs or the OLT's formula cannot work: fail at once, no retry."""


def find_formula(olt: Olt) -> IndexFormula:
    """The OLT's index formula: same brand and modelo, else the brand's default (empty
    modelo). Modelo matches ignoring case and surrounding blanks."""
    formulas = db.session.execute(
        sa.select(IndexFormula).where(IndexFormula.brand_id == olt.brand_id)).scalars().all()
    wanted = (olt.modelo or "").strip().lower()
    by_model = {(f.modelo or "").strip().lower(): f for f in formulas}
    formula = by_model.get(wanted) or by_model.get("")
    if formula is None:
        brand = db.session.get(Brand, olt.brand_id)
        modelo = f" modelo «{olt.modelo}»" if olt.modelo else ""
        raise ExecutionConfigError(
            f"No hay fórmula de índice para la marca {brand.nombre if brand else '?'}"
            f"{modelo}: cree una en Fórmulas de índice (por marca, con modelo vacío para "
            "todos los modelos) para decodificar slot/puerto/ONU.")
    try:
        validate_formula(formula_params(formula))
    except ValueError as exc:
        raise ExecutionConfigError(f"La fórmula de índice «{formula.nombre}» no es válida: "
                                   f"{exc}") from None
    return formula


def formula_params(formula: IndexFormula) -> dict:
    params = dict(formula.params or {})
    params.setdefault("kind", formula.kind)
    return params


def check_oid_brands(job: SnmpJob, olt: Olt) -> None:
    for oid in job.oids:
        if oid.brand_id is not None and oid.brand_id != olt.brand_id:
            raise ExecutionConfigError(
                f"El OID «{oid.nombre}» es de la marca {oid.brand.nombre if oid.brand else '?'} "
                f"y la OLT {olt.abreviatura} es {olt.brand.nombre if olt.brand else '?'}: "
                "revise los OIDs de la tarea.")


def discovery_rules(job: SnmpJob, olt: Olt) -> list[FieldRule]:
    """The job's OIDs, discovery columns first."""
    check_oid_brands(job, olt)
    oids = sorted(job.oids, key=lambda o: (o.espacio != "descubrimiento", o.id))
    if not oids or oids[0].espacio != "descubrimiento":
        raise ExecutionConfigError(
            f"La tarea de descubrimiento «{job.nombre}» no tiene un OID de espacio "
            "«descubrimiento»: agregue el OID de la tabla de ONUs.")
    return [field_rule(o, discovery=True) for o in oids]


def raw_key_function(params: dict):
    """index tuple, rows → the row the index belongs to (`decoders.row_key` with the
    formula's `max_trailing`)."""
    trailing = int(params.get("max_trailing", 0) or 0)
    return lambda index, found: row_key(index, found, trailing)


@dataclass
class Collected:
    """What a discovery walk found, and what it could not use."""

    found: dict[str, Discovered]
    rows: int = 0
    undecoded: list[tuple[str, str]] = field(default_factory=list)   # (index, reason)
    merged: list[tuple[str, str]] = field(default_factory=list)      # (index, raw it joined)
    columns: dict[str, int] = field(default_factory=dict)

    def repeated_names(self) -> list[tuple[str, list[str]]]:
        by_name: dict[str, list[str]] = defaultdict(list)
        for raw, onu in self.found.items():
            by_name[onu.name].append(raw)
        return [(name, raws) for name, raws in by_name.items() if len(raws) > 1]

    def warnings(self) -> list[str]:
        out = []
        if self.undecoded:
            out.append(notes.undecoded_rows(len(self.undecoded), self.rows, self.undecoded))
        if self.merged:
            out.append(notes.merged_rows(len(self.merged), self.merged))
        repeated = self.repeated_names()
        if repeated:
            out.append(notes.repeated_names(len(repeated), repeated))
        return out


def collect(client: SnmpClient, rules: list[FieldRule], params: dict) -> Collected:
    """Walk every column in the same requests and decode the discovery rows."""
    from_columns = column_oids(params)            # field -> dotted OID
    roots = list(dict.fromkeys([r.oid for r in rules] + list(from_columns.values())))
    walked = run(client.walk_columns(roots))
    decode = decoder(params)
    by_index = {oid: {index_text(index): value for index, value in walked[oid]}
                for oid in from_columns.values()}
    result = Collected(found={}, columns={oid: len(walked[oid]) for oid in roots})
    for position, rule in enumerate(rules):
        if rule.espacio != "descubrimiento":
            continue
        seen_here: set[str] = set()
        for index, value in walked[rule.oid]:
            result.rows += 1
            columns = None
            if from_columns:     # most formulas read nothing from columns: skip the text key
                text = index_text(index)
                columns = {name: found for name, oid in from_columns.items()
                           if (found := by_index[oid].get(text)) is not None}
            try:
                decoded = decode(index, columns)
            except ValueError as exc:
                result.undecoded.append((index_text(index), str(exc)))
                continue
            if len(decoded.raw) > RAW_INDEX_MAX:
                result.undecoded.append((index_text(index)[:40] + "…", notes.index_too_long(
                    len(decoded.raw), RAW_INDEX_MAX)))
                continue
            if decoded.raw in seen_here:
                result.merged.append((index_text(index), decoded.raw))
            seen_here.add(decoded.raw)
            onu = result.found.get(decoded.raw)
            if onu is None:
                onu = result.found[decoded.raw] = Discovered(
                    decoded.raw, decoded.slot, decoded.port, decoded.onu_id, decoded.name, {},
                    decoded.key)
            onu.raw_values[position] = value
    key = raw_key_function(params)
    rows_of: dict[tuple, str | None] = {}   # every column repeats the same indexes
    for position, rule in enumerate(rules):
        if rule.espacio == "descubrimiento" or not rule.field:
            continue
        for index, value in walked[rule.oid]:
            try:
                raw = rows_of[index]
            except KeyError:
                raw = rows_of[index] = key(index, result.found)
            onu = result.found.get(raw) if raw is not None else None
            if onu is not None:
                onu.raw_values[position] = value
    return result


def discover(execution_id: int, job: SnmpJob, olt: Olt, target: SnmpTarget,
                  absent_after: int, now: datetime) -> dict:
    """Walk and write the inventory (not committed). Returns the result_summary.

    Raises SnmpError (transient or not) and ExecutionConfigError."""
    started = time.monotonic()
    rules = discovery_rules(job, olt)
    formula = find_formula(olt)
    params = formula_params(formula)
    olt_id, formula_name = olt.id, formula.nombre
    db.session.rollback()  # no transaction stays open during the walk
    client = SnmpClient(target)
    walk = collect(client, rules, params)
    walk_ms = int((time.monotonic() - started) * 1000)
    summary = {"formula": formula_name, "varbinds": client.stats["varbinds"],
               "requests": client.stats["requests"], "walk_ms": walk_ms,
               "rows": walk.rows, "invalid_index": len(walk.undecoded)}
    uptime_s = uptime.read(client)     # after the figures: they are the walk's
    if walk.undecoded:
        summary["invalid_index_examples"] = [f"{index}: {reason}"
                                             for index, reason in walk.undecoded[:3]]
    if walk.rows == 0:
        oids = ", ".join(r.oid for r in rules if r.espacio == "descubrimiento")
        summary.update(found=0, new=0, returned=0, updated=0, unchanged=0, gone=0,
                       missing_pending=0, empty_walk=True, note=notes.EMPTY_WALK.format(oids=oids))
    elif not walk.found:
        index, reason = walk.undecoded[0]
        raise ExecutionConfigError(notes.nothing_decoded(walk.rows, formula_name, index, reason))
    else:
        summary.update(inventory.apply_discovery(olt_id, execution_id, walk.found, rules,
                                                 absent_after, now))
        warnings = walk.warnings() + summary.pop("warnings", [])
        if warnings:
            summary["warnings"] = warnings
            summary["note"] = " ".join(warnings)
    uptime.note(summary, olt_id, uptime_s, now)
    summary["duration_ms"] = int((time.monotonic() - started) * 1000)
    return summary

