"""A brand's catalog as a profile file: its index formulas and OIDs with their value rules.

Only catalog rows leave: never an OLT, an address, a community or an SNMPv3 key (the export
reads no table that holds them). Keys come in the order of ``docs/vendor-profiles.md``;
formulas are sorted by model then name, OIDs by name, so exporting the same catalog twice
gives the same bytes. OIDs without a brand ("any brand") belong to no profile.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.profiles.format import FORMAT_VERSION, OID_KEYS, VERSION_KEY
from facho.models import Brand, IndexFormula, Oid


def _formula(row: IndexFormula) -> dict[str, Any]:
    params = dict(row.params or {})
    params.setdefault("kind", row.kind)
    ordered = {"kind": params.pop("kind")}
    ordered.update(params)
    return {"nombre": row.nombre, "modelo": row.modelo or "", "params": ordered}


def _oid(row: Oid) -> dict[str, Any]:
    out = {key: getattr(row, key) for key in OID_KEYS}
    out["oid"] = (out["oid"] or "").strip().lstrip(".")
    out["sin_valor"] = out["sin_valor"] or ""
    out["unidad"] = out["unidad"] or ""
    out["keep_previous_value"] = bool(out["keep_previous_value"])
    if out["etiquetas"] is not None:
        out["etiquetas"] = dict(out["etiquetas"])
    return out


def export_profile(brand: Brand, session=None) -> dict[str, Any]:
    """The profile of ``brand`` as a dict, ready for ``json.dumps``."""
    session = session or db.session
    formulas = session.scalars(sa.select(IndexFormula).where(
        IndexFormula.brand_id == brand.id)).all()
    oids = session.scalars(sa.select(Oid).where(Oid.brand_id == brand.id)).all()
    formulas = sorted(formulas, key=lambda f: ((f.modelo or "").casefold(), f.nombre))
    oids = sorted(oids, key=lambda o: (o.nombre.casefold(), o.nombre))
    modelos = sorted({f.modelo for f in formulas if f.modelo}, key=str.casefold)
    return {
        VERSION_KEY: FORMAT_VERSION,
        "nombre": f"{brand.nombre} (exportado de Facho)",
        "marca": brand.nombre,
        "modelos": modelos,
        "descripcion": (f"Fórmulas de índice y OIDs de la marca {brand.nombre} con sus "
                        "reglas de valor, exportados del catálogo de Facho."),
        "fuentes": [],
        "formulas": [_formula(f) for f in formulas],
        "oids": [_oid(o) for o in oids],
    }


def to_bytes(profile: dict[str, Any]) -> bytes:
    return (json.dumps(profile, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_bytes(brand: Brand, session=None) -> bytes:
    return to_bytes(export_profile(brand, session))


def file_name(brand_name: str) -> str:
    """``<marca>.facho.json`` with the brand as a plain ASCII slug (``V-SOL`` -> ``v-sol``)."""
    ascii_name = unicodedata.normalize("NFKD", brand_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "marca"
    return f"{slug}.facho.json"
