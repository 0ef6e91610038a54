"""Seed data (`flask facho seed`): brands, known vendor OIDs and index formulas.

Idempotent: rows are matched by their unique names and only missing ones are added,
so operators' own edits to seeded rows are kept.
"""
from __future__ import annotations

from facho.extensions import db
from facho.models import Brand, IndexFormula, Oid
from facho.inventory.index_formulas import SHIPPED_FORMULAS
from facho.inventory.vendor_oids import VENDOR_OIDS

BRANDS = ("Huawei", "ZTE", "FiberHome", "V-SOL", "C-Data")


def _brand(nombre: str) -> Brand:
    brand = db.session.execute(db.select(Brand).filter_by(nombre=nombre)).scalar_one_or_none()
    if brand is None:
        brand = Brand(nombre=nombre)
        db.session.add(brand)
        db.session.flush()
    return brand


def seed_summary(added: dict) -> str:
    """One line for `flask facho seed`: what was added, or that nothing was missing (a row
    of zeros read as if the data were gone)."""
    if not any(added.values()):
        return "Datos iniciales: sin cambios (marcas, OIDs y fórmulas ya estaban cargados)"
    return "Datos iniciales agregados: " + " ".join(f"{k}={v}" for k, v in added.items())


def seed() -> dict:
    """Add what is missing; return counts of rows added per kind."""
    added = {"marcas": 0, "oids": 0, "formulas": 0}
    for nombre in BRANDS:
        if db.session.execute(db.select(Brand).filter_by(nombre=nombre)).scalar_one_or_none():
            continue
        _brand(nombre)
        added["marcas"] += 1

    for spec in VENDOR_OIDS:
        if db.session.execute(db.select(Oid).filter_by(nombre=spec["nombre"])).scalar_one_or_none():
            continue
        db.session.add(Oid(
            nombre=spec["nombre"], oid=spec["oid"], brand=_brand(spec["marca"]),
            espacio=spec["espacio"], formato=spec.get("formato", "text"),
            keep_previous_value=spec.get("keep_previous_value", False)))
        added["oids"] += 1

    for spec in SHIPPED_FORMULAS:
        if db.session.execute(
                db.select(IndexFormula).filter_by(nombre=spec["nombre"])).scalar_one_or_none():
            continue
        brand, modelo = _brand(spec["marca"]), spec.get("modelo", "")
        # (brand, modelo) is unique: an operator's own formula for it wins over ours.
        if db.session.execute(db.select(IndexFormula.id).filter_by(
                brand_id=brand.id, modelo=modelo)).first():
            continue
        db.session.add(IndexFormula(
            nombre=spec["nombre"], brand=brand, modelo=modelo,
            kind=spec["params"]["kind"], params=spec["params"]))
        added["formulas"] += 1
    db.session.flush()
    return added
