"""The ONU inventory: the old ``onu_index_map`` + ``onu_status`` + ``onu_inventory`` (one
ONU split over three tables) into one Facho ``Onu`` per (OLT, raw index).

Position: decoded from the raw index with the OLT's imported formula, as Facho's discovery
will; when that fails, the old slot/port/logical are kept. Presence: ``presence`` ENABLED
-> present, and ``consecutive_misses`` as it was. Text longer than Facho's column is cut
(counted in the report); ``subscriber_id`` has no Facho field (counted). ``distancia_onu``
was the raw text the OLT gave: a number is metres (Huawei/ZTE ranging), "… km" kilometres.

Written set-based for a 200,000-ONU inventory: per OLT, the existing ONUs are read once,
then new rows go in one executemany INSERT and changed rows in one executemany UPDATE.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.decoders import decode_index
from facho.inventory.values import mac as as_mac
from facho.models import Onu
from facho.ops.importer_v2.context import Context

ONUS = Onu.__table__
FIELDS = ("slot", "port", "onu_id", "name", "serial", "descripcion", "status", "present",
          "consecutive_misses", "distance_km", "mac", "plan", "modelo", "first_seen_at",
          "last_seen_at")
_by_field = itemgetter(*FIELDS)
LIMITS = {name: ONUS.c[name].type.length for name in
          ("serial", "descripcion", "status", "plan", "modelo", "name")}
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def distance_km(text: Any) -> float | None:
    """'1234' (metres) -> 1.234; '1.2 km' -> 1.2; anything else -> None."""
    if text is None:
        return None
    match = _NUMBER.search(str(text))
    if not match:
        return None
    value = float(match.group(0).replace(",", "."))
    return round(value if "km" in str(text).lower() else value / 1000, 3)


def _cut(value: Any, field: str, cuts: Counter) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if len(text) > LIMITS[field]:
        cuts[field] += 1
        return text[:LIMITS[field]]
    return text


def map_onu(row: Mapping[str, Any], params: dict | None, counts: Counter) -> dict:
    """Facho Onu values of one old ONU (pure; ``counts`` collects what the report says)."""
    position = None
    if params is not None:
        try:
            d = decode_index(row["raw_index_key"], params)
            position = {"slot": d.slot, "port": d.port, "onu_id": d.onu_id, "name": d.name}
        except ValueError:
            pass
    if position is None:
        counts["posicion_anterior"] += 1
        slot, port, logical = row["slot"], row["port"], row["logical"]
        name = (f"0/{slot}/{port}:{logical}" if None not in (slot, port, logical)
                else None)
        position = {"slot": slot, "port": port, "onu_id": logical, "name": name}
    mac = None
    if row["mac_address"]:
        try:
            mac = as_mac(row["mac_address"])
        except ValueError:
            mac = None
        if mac is None:
            counts["mac_invalida"] += 1
    if row["subscriber_id"]:
        counts["suscriptor"] += 1
    distance = distance_km(row["distancia_onu"])
    if row["distancia_onu"] and distance is None:
        counts["distancia_invalida"] += 1
    return {**position,
            "serial": _cut(row["serial_number"], "serial", counts),
            "descripcion": _cut(row["snmp_description"], "descripcion", counts),
            "status": _cut(row["last_state_label"], "status", counts),
            "present": (row["presence"] or "ENABLED") == "ENABLED",
            "consecutive_misses": row["consecutive_misses"] or 0,
            "distance_km": distance, "mac": mac,
            "plan": _cut(row["plan_onu"], "plan", counts),
            "modelo": _cut(row["modelo_onu"], "modelo", counts),
            "first_seen_at": row["created_at"], "last_seen_at": row["last_seen_at"]}


NOTES = {
    "posicion_anterior": "ONU(s) cuyo índice no decodifica la fórmula importada: se guardó el "
                         "slot/puerto/ONU del sistema anterior",
    "mac_invalida": "ONU(s) con una MAC que no se entiende: se dejó vacía",
    "suscriptor": "ONU(s) con ID de suscriptor: Facho no lo guarda",
    "distancia_invalida": "ONU(s) con una distancia que no es un número: se dejó vacía",
    "serial": "serial(es) recortado(s) a 40 caracteres", "descripcion": "descripción(es) "
    "recortada(s) a 255 caracteres", "status": "estados recortados a 40 caracteres",
    "plan": "planes recortados a 80 caracteres", "modelo": "modelos recortados a 80 caracteres",
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) < 1e-9
    return a == b


class _OltBatch:
    def __init__(self, ctx: Context, olt):
        self.olt = olt
        self.params = ctx.formulas.get((olt.brand_id, olt.modelo)) \
            or ctx.formulas.get((olt.brand_id, ""))
        cols = [ONUS.c.id, ONUS.c.raw_index] + [ONUS.c[f] for f in FIELDS]
        self.existing = {r.raw_index: r._mapping for r in db.session.execute(
            sa.select(*cols).where(ONUS.c.olt_id == olt.id))}
        self.inserts: list[dict] = []
        self.updates: list[dict] = []


def import_onus(ctx: Context) -> None:
    table = ctx.report.table("onu_index_map + onu_status + onu_inventory", "ONUs")
    advance = ctx.advance("ONUs", ctx.old.count("onu_index_map"))
    counts: Counter = Counter()
    refused: Counter = Counter()
    batch: _OltBatch | None = None
    for row in ctx.old.onus():
        advance(1)
        olt = ctx.olts.get(row["olt_id"])
        if olt is None:
            refused[row["olt_id"]] += 1
            continue
        if batch is None or batch.olt is not olt:
            _flush(batch, table)
            batch = _OltBatch(ctx, olt)
        raw = row["raw_index_key"].strip()
        values = map_onu(row, batch.params, counts)
        old = batch.existing.get(raw)
        if old is None:
            batch.inserts.append({"olt_id": olt.id, "raw_index": raw, **values})
            batch.existing[raw] = {"id": None, **values}   # a repeated key is not inserted twice
        elif _by_field(old) == _by_field(values) or all(_same(old[f], values[f])
                                                        for f in FIELDS):
            table.count("sin_cambios")
        else:
            batch.updates.append({"b_id": old["id"], **values})
    _flush(batch, table)
    for olt_id, n in sorted(refused.items()):
        table.refuse(f"OLT #{olt_id}", f"{n} ONUs no se importan: su OLT no se importó "
                                       "(ver olt)", rows=n)
    for key, n in counts.items():
        table.notas.append(f"{n} {NOTES[key]}")


def _flush(batch: _OltBatch | None, table) -> None:
    if batch is None:
        return
    if batch.inserts:
        db.session.execute(ONUS.insert(), batch.inserts)
        table.creados += len(batch.inserts)
    if batch.updates:
        stmt = ONUS.update().where(ONUS.c.id == sa.bindparam("b_id")).values(
            **{f: sa.bindparam(f) for f in FIELDS})
        db.session.execute(stmt, batch.updates)
        table.actualizados += len(batch.updates)
