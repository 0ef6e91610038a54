"""Profile files for the tests (no tests here): a small valid profile as a dict, its bytes, and
a few catalog helpers shared by the profile tests and the panel's."""
from __future__ import annotations

import copy
import json

from facho.extensions import db
from facho.models import AuditEvent, Brand, IndexFormula, Oid

MARCA = "Marca Prueba"
ROOT = "1.3.6.1.4.1.99999.1"

_DOCUMENT = {
    "facho_perfil": 1,
    "nombre": "Marca Prueba X1 (GPON)",
    "marca": MARCA,
    "modelos": ["X1"],
    "descripcion": "Perfil de prueba.",
    "fuentes": ["tests"],
    "formulas": [
        {"nombre": "Prueba {pon}.{onu}", "modelo": "",
         "params": {"kind": "dotted", "positions": {"port": 0, "onu": 1}}},
    ],
    "oids": [
        {"nombre": "Prueba serie", "oid": f"{ROOT}.1", "espacio": "descubrimiento",
         "formato": "gpon_serial"},
        {"nombre": "Prueba estado", "oid": f"{ROOT}.2", "espacio": "estado", "formato": "int",
         "etiquetas": {"1": "en línea", "2": "desconectada"}},
        {"nombre": "Prueba potencia RX", "oid": f"{ROOT}.3", "espacio": "rx_power",
         "formato": "int", "escala": 0.01, "sin_valor": "2147483647", "decimales": 2,
         "regex": None, "unidad": "", "desplazamiento": None, "etiquetas": None,
         "keep_previous_value": True, "default_value": None},
    ],
}


def document(**changes) -> dict:
    """A fresh copy of the small valid profile, top-level keys replaced by ``changes``."""
    doc = copy.deepcopy(_DOCUMENT)
    doc.update(changes)
    return doc


def encoded(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def counts() -> tuple[int, int, int, int]:
    """(brands, OIDs, formulas, audit events): what an import could have written."""
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                 for model in (Brand, Oid, IndexFormula, AuditEvent))


def catalog_rows() -> dict:
    """Every brand, OID and formula without database ids (brands by name), comparable
    between two databases."""
    brands = {b.id: b.nombre for b in db.session.scalars(db.select(Brand))}
    oids = {o.nombre: {c.name: getattr(o, c.name) for c in Oid.__table__.columns
                       if c.name not in ("id", "brand_id")} | {"marca": brands.get(o.brand_id)}
            for o in db.session.scalars(db.select(Oid))}
    formulas = {f.nombre: {"marca": brands[f.brand_id], "modelo": f.modelo, "kind": f.kind,
                           "params": f.params}
                for f in db.session.scalars(db.select(IndexFormula))}
    return {"marcas": sorted(brands.values()), "oids": oids, "formulas": formulas}
