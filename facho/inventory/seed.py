"""Seed data (`flask facho seed`): brands, and every shipped vendor profile
(``facho/inventory/profiles/shipped/*.json``) loaded through the import's own plan/apply code.

Idempotent and respectful: seeding only creates what is missing (``apply.SEED``); a row that
exists, even one an operator edited, is never changed, and an entry that would clash with an
operator's own row (an OID name of another brand, the same OID and space under another name,
an operator's formula for the same brand and model) is skipped. Nothing is committed here:
the caller commits the whole seed at once.
"""
from __future__ import annotations

import click

from facho.extensions import db
from facho.inventory.profiles.apply import SEED, ImportRefused, apply_profile
from facho.inventory.profiles.format import ProfileFileError, parse
from facho.inventory.profiles.shipped import shipped_paths
from facho.models import Brand

BRANDS = ("Huawei", "ZTE", "FiberHome", "V-SOL", "C-Data")


class SeedError(click.ClickException):
    """A shipped profile that cannot be loaded (a bug of the release): the message is
    Spanish, and `flask facho seed` prints it without a traceback."""


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
        if db.session.execute(db.select(Brand.id).filter_by(nombre=nombre)).first():
            continue
        db.session.add(Brand(nombre=nombre))
        db.session.flush()
        added["marcas"] += 1

    for path in shipped_paths():
        try:
            profile = parse(path.read_bytes())
            result = apply_profile(profile, mode=SEED, commit=False)
        except (ProfileFileError, ImportRefused) as exc:
            raise SeedError(f"El perfil incluido {path.name} no se puede cargar: {exc}") from None
        added["marcas"] += int(result.marca_creada)
        added["oids"] += len(result.oids_creados)
        added["formulas"] += len(result.formulas_creadas)
    db.session.flush()
    return added
