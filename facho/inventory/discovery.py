"""Discovery (`descubrimiento`) executions: walk an OLT's ONU table and upsert its inventory.

The job's `descubrimiento` OID(s) say which ONUs exist; the job's other OIDs (serial,
description, status, distance…) are walked in the same GetBulk requests
(`SnmpClient.walk_columns`), so adding a column costs varbinds, not round trips. Each row
index decodes with the OLT's `IndexFormula` (brand + modelo, else the brand's default with
an empty modelo) into slot / port / ONU id and the normalised name.

An empty walk from an answering agent (no rows under the discovery OID) changes no
presence: a wrong OID, or an agent that lost its tables after a reboot, must not mark a
whole OLT absent. The summary says so.
"""
from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa

from facho.inventory import writes as inventory
from facho.extensions import db
from facho.inventory.index_formulas import DecodedIndex, decode_index, validate_formula
from facho.inventory.writes import Discovered, FieldRule, InventoryConfigError, field_rule
from facho.models import Brand, IndexFormula, Olt, SnmpJob
from facho.snmp import SnmpClient, SnmpTarget
from facho.executions.targets import run_snmp as run
from facho.inventory.values import invalid_values_note

EMPTY_WALK_NOTE = (
    "La OLT respondió, pero la tabla de descubrimiento ({oids}) no devolvió filas: no se "
    "cambió la presencia de ninguna ONU. Revise el OID de descubrimiento si la OLT tiene "
    "ONUs.")


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
    params = dict(formula.params or {})
    params.setdefault("kind", formula.kind)
    try:
        validate_formula(params)
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


def _raw_key_function(params: dict):
    """index tuple -> row key (the decoded `raw`), fast for columns without trailing ids."""
    trailing = int(params.get("max_trailing", 0))

    def key(index: tuple[int, ...], found: dict) -> str | None:
        text = ".".join(map(str, index))
        if text in found or not trailing:
            return text
        for cut in range(1, trailing + 1):
            if len(index) - cut < 1:
                break
            text = ".".join(map(str, index[:-cut]))
            if text in found:
                return text
        return None

    return key


def collect(client: SnmpClient, rules: list[FieldRule], params: dict) -> tuple[dict, dict]:
    """Walk every column in the same requests and decode the discovery rows.

    Returns (found: raw -> Discovered, stats)."""
    roots = list(dict.fromkeys(r.oid for r in rules))
    walked = run(client.walk_columns(roots))
    found: dict[str, Discovered] = {}
    invalid: list[str] = []
    discovery_rows = 0
    for position, rule in enumerate(rules):
        if rule.espacio != "descubrimiento":
            continue
        for index, value in walked[rule.oid]:
            discovery_rows += 1
            try:
                decoded: DecodedIndex = decode_index(index, params)
            except ValueError:
                invalid.append(".".join(map(str, index)))
                continue
            onu = found.get(decoded.raw)
            if onu is None:
                onu = found[decoded.raw] = Discovered(
                    decoded.raw, decoded.slot, decoded.port, decoded.onu_id, decoded.name, {})
            onu.raw_values[position] = value
    key = _raw_key_function(params)
    for position, rule in enumerate(rules):
        if rule.espacio == "descubrimiento" or not rule.field:
            continue
        for index, value in walked[rule.oid]:
            raw = key(index, found)
            onu = found.get(raw) if raw is not None else None
            if onu is not None:
                onu.raw_values[position] = value
    stats = {"discovery_rows": discovery_rows, "invalid_index": len(invalid),
             "invalid_index_examples": invalid[:3],
             "columns": {r.oid: len(walked[r.oid]) for r in rules}}
    return found, stats


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
    found, stats = collect(client, rules, params)
    walk_ms = int((time.monotonic() - started) * 1000)
    summary = {"formula": formula_name, "varbinds": client.stats["varbinds"],
               "requests": client.stats["requests"], "walk_ms": walk_ms,
               "rows": stats["discovery_rows"], "invalid_index": stats["invalid_index"]}
    if stats["invalid_index"]:
        summary["invalid_index_examples"] = stats["invalid_index_examples"]
    if stats["discovery_rows"] == 0:
        oids = ", ".join(r.oid for r in rules if r.espacio == "descubrimiento")
        summary.update(found=0, new=0, returned=0, updated=0, unchanged=0, gone=0,
                       missing_pending=0, empty_walk=True, note=EMPTY_WALK_NOTE.format(oids=oids))
    elif not found:
        raise ExecutionConfigError(
            f"Ninguna de las {stats['discovery_rows']} filas de la tabla de descubrimiento "
            f"corresponde a la fórmula de índice «{formula_name}» (ejemplo de índice: "
            f"{stats['invalid_index_examples'][0]}): revise la fórmula de la marca/modelo.")
    else:
        summary.update(inventory.apply_discovery(olt_id, execution_id, found, rules,
                                                 absent_after, now))
        note = invalid_values_note(summary.get("invalid_values", 0))
        if note:
            summary["note"] = note
    summary["duration_ms"] = int((time.monotonic() - started) * 1000)
    return summary
