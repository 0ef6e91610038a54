"""The catalogue: brands (``marcas``), OLTs (``olt``, models from ``olt_models``) and OIDs
(``oids``). Each ``map_*`` is a pure rule (old row -> Facho values, or Refused with the
Spanish reason); each ``import_*`` applies the rules to the old table and writes.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.models import Brand, Oid, Olt
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import (BRAND_NOT_IMPORTED, GENERIC_BRAND, GENERIC_MODEL,
                                           WILDCARD_BRAND_NOT_IMPORTED, Refused)
from facho.ops.importer_v2.write import upsert
from facho.validation import validate_community, validate_host, validate_oid

BRAND_MAX, ABREVIATURA_MAX, MODELO_MAX, OID_NAME_MAX = 80, 60, 80, 120

# old oids.espacio -> (Facho espacio, formato); None = not carried (the reason beside it)
ESPACIOS: dict[str, tuple[str, str] | str] = {
    "descubrimiento": ("descubrimiento", "text"),
    "descripcion": ("descripcion", "text"),
    "serial": ("serial", "gpon_serial"),
    "mac": ("mac", "mac"),
    "plan_onu": ("plan_onu", "text"),
    "distancia_onu": ("distancia_onu", "distance_km"),
    "modelo_onu": ("modelo_onu", "text"),
    "subscriber": "Facho no guarda el ID de suscriptor de la ONU",
    "zabbix": "la integración con Zabbix/ODF no forma parte de Facho",
    "zabbix_state": "la integración con Zabbix/ODF no forma parte de Facho",
    "zabbix_interface": "la integración con Zabbix/ODF no forma parte de Facho",
    "zabbix_description": "la integración con Zabbix/ODF no forma parte de Facho",
}


def olt_label(row: Mapping[str, Any]) -> str:
    return f"#{row['id']} {row['abreviatura']}"


def map_brand(row: Mapping[str, Any]) -> str:
    name = (row["nombre"] or "").strip()
    if name == GENERIC_BRAND:
        raise Refused("marca comodín: en Facho un OID sin marca vale para todas, y la fórmula "
                      "universal se copia a cada marca")
    if not name or len(name) > BRAND_MAX:
        raise Refused(f"nombre vacío o de más de {BRAND_MAX} caracteres")
    return name


def map_olt(row: Mapping[str, Any], brand_id: int | None, model: str | None) -> dict:
    """Facho Olt values (without abreviatura, decided with the duplicates)."""
    if brand_id is None:
        raise Refused(WILDCARD_BRAND_NOT_IMPORTED)
    try:
        ip = validate_host(row["ip_address"])
    except ValueError as exc:
        raise Refused(f"dirección inválida «{row['ip_address']}»: {exc}") from None
    try:
        comunidad = validate_community(row["comunidad"])
    except ValueError as exc:
        raise Refused(str(exc)) from None   # the message never repeats the community
    modelo = "" if model in (None, GENERIC_MODEL) else model.strip()
    if len(modelo) > MODELO_MAX:
        raise Refused(f"modelo de más de {MODELO_MAX} caracteres")
    return {"ip_address": ip, "comunidad": comunidad, "brand_id": brand_id, "modelo": modelo,
            "descripcion": row["descripcion"] or "", "habilitar_olt": bool(row["habilitar_olt"])}


def olt_names(rows: list[Mapping[str, Any]]) -> dict[int, tuple[str | None, str]]:
    """old id -> (Facho abreviatura or None = refused, note or reason). The old abreviatura
    is not unique: the first row (lowest id) keeps it; a later one with the same address is
    the same OLT entered twice (refused); one with another address is imported renamed
    "<abreviatura> #<old id>" so nothing is merged silently."""
    out: dict[int, tuple[str | None, str]] = {}
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["abreviatura"] or "").strip(), []).append(row)
    for name, group in groups.items():
        group.sort(key=lambda r: r["id"])
        first = group[0]
        if not name or len(name) > ABREVIATURA_MAX:
            for row in group:
                out[row["id"]] = (None, f"abreviatura vacía o de más de {ABREVIATURA_MAX} "
                                        "caracteres")
            continue
        out[first["id"]] = (name, "")
        seen = {(first["ip_address"] or "").strip(): first["id"]}
        for row in group[1:]:
            ip = (row["ip_address"] or "").strip()
            if ip in seen:
                out[row["id"]] = (None, f"duplicada de la OLT #{seen[ip]} (misma abreviatura "
                                        "y dirección): no se importa dos veces")
                continue
            seen[ip] = row["id"]
            renamed = f"{name[:ABREVIATURA_MAX - 8]} #{row['id']}"
            out[row["id"]] = (renamed, f"abreviatura repetida (también la usa la OLT "
                                       f"#{first['id']}): importada como «{renamed}»; "
                                       "renómbrela en el panel")
    return out


def map_oid(row: Mapping[str, Any], brand_id: int | None, brand_refused: bool) -> dict:
    target = ESPACIOS.get(row["espacio"], f"espacio desconocido «{row['espacio']}»")
    if isinstance(target, str):
        raise Refused(target)
    if brand_refused:
        raise Refused(BRAND_NOT_IMPORTED)
    try:
        oid = validate_oid(row["oid"])
    except ValueError as exc:
        raise Refused(f"«{row['oid']}»: {exc}") from None
    espacio, formato = target
    if row["format_mac"]:
        formato = "mac"
    return {"oid": oid, "brand_id": brand_id, "espacio": espacio, "formato": formato,
            "keep_previous_value": bool(row["keep_previous_value"])}


def oid_names(rows: list[Mapping[str, Any]], brand_name) -> dict[int, str]:
    """old id -> Facho nombre (unique there, not in the old table): a name several rows
    share gets the brand (and the old id if still shared)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["nombre"].strip()] = counts.get(row["nombre"].strip(), 0) + 1
    out, used = {}, set()
    for row in sorted(rows, key=lambda r: r["id"]):
        name = row["nombre"].strip()[:OID_NAME_MAX]
        if counts[row["nombre"].strip()] > 1:
            brand = brand_name(row["marca_id"]) if row["marca_id"] is not None else None
            owner = "todas" if brand in (None, GENERIC_BRAND) else brand
            name = f"{name[:OID_NAME_MAX - 40]} ({owner})"
        if name in used:
            name = f"{name[:OID_NAME_MAX - 12]} #{row['id']}"
        used.add(name)
        out[row["id"]] = name
    return out


def import_brands(ctx: Context) -> None:
    table = ctx.report.table("marcas", "Marcas")
    for row in ctx.old.table("marcas"):
        ctx.brand_names[row["id"]] = row["nombre"]
        try:
            name = map_brand(row)
        except Refused as exc:
            table.refuse(f"#{row['id']} {row['nombre']}", str(exc))
            continue
        brand, outcome = upsert(Brand, {"nombre": name}, {})
        ctx.brands[row["id"]] = brand
        table.count(outcome)


def import_olts(ctx: Context) -> None:
    models = ctx.old.table("olt_models")
    ctx.model_names.update({m["id"]: m["nombre"] for m in models})
    ctx.report.no_importado.append(
        f"olt_models ({len(models)} modelos): Facho guarda el modelo como texto en la OLT y "
        "en la fórmula; el modelo «Genérico» queda vacío (= todos los modelos)")
    table = ctx.report.table("olt", "OLTs")
    rows = ctx.old.table("olt")
    names = olt_names(rows)
    for row in rows:
        name, why = names[row["id"]]
        try:
            if name is None:
                raise Refused(why)
            brand = ctx.brands.get(row["marca_id"])
            values = map_olt(row, brand.id if brand else None,
                             ctx.model_names.get(row["modelo_id"]))
        except Refused as exc:
            table.refuse(olt_label(row), str(exc))
            continue
        olt, outcome = upsert(Olt, {"abreviatura": name}, values,
                              create_only={"snmp_port": 161, "snmp_version": "v2c"})
        ctx.olts[row["id"]] = olt
        table.count(outcome)
        if why:
            table.note(olt_label(row), why)


def import_oids(ctx: Context) -> None:
    table = ctx.report.table("oids", "OIDs")
    rows = ctx.old.table("oids")
    names = oid_names(rows, ctx.brand_names.get)
    for row in rows:
        label = f"#{row['id']} {row['nombre']}"
        old_brand = ctx.brand_names.get(row["marca_id"])
        wildcard = row["marca_id"] is None or old_brand == GENERIC_BRAND
        brand = None if wildcard else ctx.brands.get(row["marca_id"])
        try:
            values = map_oid(row, brand.id if brand else None,
                             brand_refused=not wildcard and brand is None)
        except Refused as exc:
            table.refuse(label, str(exc))
            continue
        oid, outcome = upsert(Oid, {"nombre": names[row["id"]]}, values)
        ctx.oids[row["id"]] = oid
        table.count(outcome)
        model = ctx.model_names.get(row["modelo_id"])
        if model not in (None, GENERIC_MODEL):
            table.note(label, f"era solo del modelo {model}; en Facho vale para "
                              f"{'toda la marca' if brand else 'todas las marcas'}")
        if names[row["id"]] != row["nombre"].strip():
            table.note(label, f"nombre repetido: importado como «{names[row['id']]}»")
