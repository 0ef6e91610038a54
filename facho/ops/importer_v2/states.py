"""State labels (``onu_state_lookup``: value -> label per brand, NULL brand = any brand)
into the brand's value -> label map: ``Oid.etiquetas`` of an OID of espacio «estado».

In v2 the state was the value of the discovery walk (``onu_status.last_state_value``) looked
up in this table, the brand's own row first, then the NULL-brand one. Facho reads states
with an OID of espacio «estado» and its labels, so each brand that has an imported discovery
OID gets "<that OID's name> (estado)": the same column, formato int, the labels (its own over
the NULL-brand ones). It is not added to any job: the discovery already ran that walk in
v2; the operator adds it to a get job to keep the state current (the report says so). Each
ONU's current label is imported with the inventory.
"""
from __future__ import annotations

import json

from facho.inventory.value_rules import labels as label_rules
from facho.models import Oid
from facho.ops.importer_v2.catalogue import OID_NAME_MAX
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import BRAND_NOT_IMPORTED
from facho.ops.importer_v2.write import upsert


def _discovery_oids(ctx: Context) -> dict[int, Oid]:
    """Facho brand id -> the brand's imported discovery OID (lowest old id)."""
    out: dict[int, Oid] = {}
    for old_id in sorted(ctx.oids):
        oid = ctx.oids[old_id]
        if oid.espacio == "descubrimiento" and oid.brand_id is not None:
            out.setdefault(oid.brand_id, oid)
    return out


def import_states(ctx: Context) -> None:
    table = ctx.report.table("onu_state_lookup", "Etiquetas de estado (OIDs «estado»)")
    rows = ctx.old.rows("SELECT value, label, marca_id FROM onu_state_lookup "
                        "ORDER BY marca_id NULLS FIRST, value")
    anyone = {str(r["value"]): r["label"] for r in rows if r["marca_id"] is None}
    own: dict[int, dict[str, str]] = {}
    for row in rows:
        if row["marca_id"] is None:
            continue
        brand = ctx.brands.get(row["marca_id"])
        if brand is None:
            table.refuse(f"{row['value']} → {row['label']}", BRAND_NOT_IMPORTED)
            continue
        own.setdefault(brand.id, {})[str(row["value"])] = row["label"]
    discovery = _discovery_oids(ctx)
    used_anyone: list[tuple[str, str]] = []      # (brand, outcome) that took the NULL rows
    for brand in sorted(ctx.brands.values(), key=lambda b: b.nombre):
        labels = {**anyone, **own.get(brand.id, {})}
        mine = own.get(brand.id, {})
        if not labels:
            continue
        disc = discovery.get(brand.id)
        if disc is None:
            if mine:
                table.refuse(brand.nombre, "la marca no tiene un OID de descubrimiento "
                             "importado al que asociar sus etiquetas: "
                             f"{json.dumps(mine, ensure_ascii=False)}",
                             rows=len(mine))
            continue
        try:
            etiquetas = label_rules.parse(labels)
        except ValueError as exc:
            table.refuse(brand.nombre, f"etiquetas inválidas: {exc}", rows=len(mine))
            continue
        name = f"{disc.nombre[:OID_NAME_MAX - 9]} (estado)"
        _, outcome = upsert(Oid, {"nombre": name},
                            {"oid": disc.oid, "brand_id": brand.id, "espacio": "estado",
                             "formato": "int", "etiquetas": etiquetas})
        for _ in mine:
            table.count(outcome)
        if anyone:
            used_anyone.append((brand.nombre, outcome))
        if outcome == "creado":
            table.note(brand.nombre, f"OID «{name}» creado (misma columna que «{disc.nombre}», "
                                     "de donde v2 sacaba el estado): agréguelo a una tarea get "
                                     "para mantener el estado al día")
    if anyone:
        if used_anyone:
            for _ in anyone:
                table.count(used_anyone[0][1])
            table.note("todas las marcas", "etiquetas sin marca copiadas a: "
                       + ", ".join(b for b, _ in used_anyone))
        else:
            table.refuse("todas las marcas", "ninguna marca importada tiene un OID de "
                         "descubrimiento al que asociar estas etiquetas", rows=len(anyone))
