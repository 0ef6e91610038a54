"""Writing the old ``index_formulas`` as Facho ``IndexFormula`` rows (the rules are in
``formulas``). Key: (brand, modelo), Facho's unique pair; an existing formula for the pair
(a shipped one, say) takes the old system's params, since those are what decoded its
inventory, and keeps its name."""
from __future__ import annotations

import sqlalchemy as sa

from facho.extensions import db
from facho.models import Brand, IndexFormula
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import Refused, convert, plan_targets
from facho.ops.importer_v2.write import free_name, upsert


def _label(row) -> str:
    return f"#{row['id']} {row['nombre']}"


def _sample_olts(ctx: Context, brand_id: int, modelo: str) -> list[int]:
    """Old ids of the imported OLTs of this brand (and modelo, if any)."""
    return [old_id for old_id, olt in ctx.olts.items()
            if olt.brand_id == brand_id and (not modelo or olt.modelo == modelo)]


def import_formulas(ctx: Context) -> None:
    table = ctx.report.table("index_formulas", "Fórmulas de índice")
    rows = ctx.old.table("index_formulas")
    brand_by_name = {b.nombre: b for b in ctx.brands.values()}
    targets = plan_targets(rows, ctx.brand_names.get, ctx.model_names.get,
                           sorted(brand_by_name),
                           lambda row, why: table.refuse(_label(row), why))
    used = {t.old["id"] for t in targets}
    for row in rows:
        if row["activo"] and row["id"] not in used and not any(
                line.startswith(_label(row) + ":") for line in table.rechazados):
            table.refuse(_label(row), "fórmula universal sin uso: todas las marcas importadas "
                                      "tienen la suya")
    for target in targets:
        brand: Brand = brand_by_name[target.brand]
        label = _label(target.old) + (f" → {target.brand}" if target.via_universal else "")
        samples = ctx.old.sample_indexes(_sample_olts(ctx, brand.id, target.modelo))
        try:
            params, notes = convert(target.old, samples)
        except Refused as exc:
            table.refuse(label, str(exc))
            continue
        key = {"brand_id": brand.id, "modelo": target.modelo}
        exists = db.session.execute(sa.select(IndexFormula.id).filter_by(**key)).first()
        wanted = target.old["nombre"].strip() or f"{target.brand} {target.modelo}".strip()
        if target.via_universal:
            wanted = f"{wanted} ({target.brand})"
        create = {} if exists else {"nombre": free_name(IndexFormula, wanted)}
        formula, outcome = upsert(IndexFormula, key, {"kind": params["kind"], "params": params},
                                  create_only=create)
        ctx.formulas[(brand.id, target.modelo)] = params
        table.count(outcome)
        if target.via_universal:
            notes.insert(0, "fórmula universal del sistema anterior: copiada como la fórmula "
                            f"de {target.brand} para todos sus modelos")
        for note in notes:
            table.note(label, note)
