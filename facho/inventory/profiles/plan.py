"""What importing a profile would do to this installation: a ``Plan``.

``load_catalog`` reads the few rows that matter (the brand, its OIDs and formulas, and the
rows of other brands that carry a name the file uses); ``make_plan`` is a pure function of
the parsed ``Profile`` and that ``Catalog``. Rules (``docs/vendor-profiles.md``):

- an OID matches by ``nombre``, a formula by (``marca``, ``modelo``); a match of the same
  brand is changed (each changed field old -> new), no match is created;
- conflicts refuse the whole file: an OID ``nombre`` of another brand (or of every brand);
  a formula ``nombre`` of another brand or model; the same ``oid`` + ``espacio`` already
  under the brand with another ``nombre``; two entries of the file with the same name (found
  by ``format``, like every other problem of the file itself).

Each item carries its problems, so the preview shows them under the entry; ``Plan.ok`` is
"nothing wrong anywhere". ``Plan.digest`` fingerprints what would be written: the panel
sends it back with the confirmation, and ``apply`` refuses when the database has moved on.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.profiles.format import OID_KEYS, Entry, Profile, full_oid_values
from facho.models import Brand, IndexFormula, Oid

CREATE, CHANGE, SAME = "crear", "cambiar", "sin cambios"
# Compared (and shown) in this order; `nombre` is how OIDs match, so never "changed".
OID_FIELDS = tuple(k for k in OID_KEYS if k != "nombre")
FORMULA_FIELDS = ("nombre", "params")


@dataclass(frozen=True)
class OidRow:
    id: int
    brand_id: int | None
    values: dict[str, Any]          # nombre and OID_FIELDS


@dataclass(frozen=True)
class FormulaRow:
    id: int
    nombre: str
    brand_id: int
    modelo: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Catalog:
    """The rows a plan compares against."""

    brand_id: int | None                      # the profile's brand; None = not there yet
    brand_names: dict[int, str] = field(default_factory=dict)
    oids: tuple[OidRow, ...] = ()
    formulas: tuple[FormulaRow, ...] = ()


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Item:
    """One entry of the file and what importing it does."""

    kind: str                        # "formula" / "oid"
    path: str                        # "oids[3]"
    nombre: str
    action: str | None               # CREATE / CHANGE / SAME; None when it cannot be known
    values: dict[str, Any]           # what the row will hold
    changes: tuple[Change, ...] = ()
    problems: tuple[str, ...] = ()
    row_id: int | None = None

    @property
    def label(self) -> str:
        return "Fórmula" if self.kind == "formula" else "OID"


@dataclass(frozen=True)
class Plan:
    profile: Profile
    brand_id: int | None
    items: tuple[Item, ...]

    @property
    def marca(self) -> str:
        return self.profile.marca

    @property
    def creates_brand(self) -> bool:
        return self.brand_id is None

    @property
    def problems(self) -> list[str]:
        return list(self.profile.errors) + [p for item in self.items for p in item.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_action(self, action: str) -> list[Item]:
        return [i for i in self.items if i.action == action and not i.problems]

    @property
    def with_problems(self) -> list[Item]:
        return [i for i in self.items if i.problems]

    def count(self, kind: str, action: str) -> int:
        return sum(1 for i in self.by_action(action) if i.kind == kind)

    @property
    def digest(self) -> str:
        """Fingerprint of what applying would write (not of the file's wording)."""
        doc = [self.marca, self.brand_id,
               [[i.kind, i.nombre, i.action, i.row_id, i.values,
                 [[c.field, c.old, c.new] for c in i.changes], list(i.problems)]
                for i in self.items]]
        text = json.dumps(doc, sort_keys=True, ensure_ascii=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()


# --- reading the catalog ------------------------------------------------------------------

def _oid_row(row: Oid) -> OidRow:
    values = {"nombre": row.nombre}
    values.update({key: getattr(row, key) for key in OID_FIELDS})
    return OidRow(id=row.id, brand_id=row.brand_id, values=values)


def load_catalog(profile: Profile, session=None) -> Catalog:
    """The brand's OIDs and formulas, and any row named like an entry of the file."""
    session = session or db.session
    brand_id = session.scalar(sa.select(Brand.id).where(Brand.nombre == profile.marca))
    oid_names = [e.nombre for e in profile.oids if e.nombre]
    formula_names = [e.nombre for e in profile.formulas if e.nombre]
    oids = session.scalars(sa.select(Oid).where(sa.or_(
        Oid.brand_id == brand_id if brand_id is not None else sa.false(),
        Oid.nombre.in_(oid_names))).order_by(Oid.id)).all()
    formulas = session.scalars(sa.select(IndexFormula).where(sa.or_(
        IndexFormula.brand_id == brand_id if brand_id is not None else sa.false(),
        IndexFormula.nombre.in_(formula_names))).order_by(IndexFormula.id)).all()
    brand_ids = {r.brand_id for r in (*oids, *formulas) if r.brand_id is not None}
    names = dict(session.execute(sa.select(Brand.id, Brand.nombre).where(
        Brand.id.in_(brand_ids))).all()) if brand_ids else {}
    if brand_id is not None:
        names[brand_id] = profile.marca
    return Catalog(
        brand_id=brand_id, brand_names=names,
        oids=tuple(_oid_row(r) for r in oids),
        formulas=tuple(FormulaRow(id=r.id, nombre=r.nombre, brand_id=r.brand_id,
                                  modelo=r.modelo or "", params=dict(r.params or {}))
                       for r in formulas))


# --- comparing ----------------------------------------------------------------------------

def _same(key: str, old: Any, new: Any) -> bool:
    if key in ("regex", "default_value"):
        old, new = old or None, new or None
    elif key in ("sin_valor", "unidad"):
        old, new = (old or "").strip(), (new or "").strip()
    elif key == "etiquetas":
        old, new = old or None, new or None
    elif key in ("escala", "desplazamiento"):
        if old is None or new is None:
            return old is None and new is None
        return float(old) == float(new)
    elif key == "oid":
        old, new = (old or "").strip().lstrip("."), (new or "").strip().lstrip(".")
    elif key == "keep_previous_value":
        old, new = bool(old), bool(new)
    return old == new


def _changes(fields: tuple[str, ...], old: dict[str, Any], new: dict[str, Any]):
    return tuple(Change(k, old.get(k), new.get(k)) for k in fields
                 if not _same(k, old.get(k), new.get(k)))


def _brand_label(catalog: Catalog, brand_id: int | None) -> str:
    if brand_id is None:
        return "todas las marcas (OID sin marca)"
    return f"la marca {catalog.brand_names.get(brand_id, f'#{brand_id}')}"


def _plan_oid(entry: Entry, catalog: Catalog, by_name: dict[str, OidRow],
              file_names: set[str]) -> Item:
    problems = list(entry.errors)
    values = full_oid_values(entry)
    nombre = entry.nombre
    action, changes, row_id = None, (), None
    row = by_name.get(nombre) if nombre else None
    if row is not None and (catalog.brand_id is None or row.brand_id != catalog.brand_id):
        problems.append(
            f"{entry.path}.nombre: ya existe un OID «{nombre}» de "
            f"{_brand_label(catalog, row.brand_id)}; los nombres de OID son únicos en Facho: "
            "cambie el nombre en el archivo o en Configuración → OIDs.")
    elif not entry.errors:
        if row is None:
            action = CREATE
        else:
            row_id, changes = row.id, _changes(OID_FIELDS, row.values, values)
            action = CHANGE if changes else SAME
    if catalog.brand_id is not None and "oid" in entry.values and "espacio" in entry.values:
        for other in catalog.oids:
            if (other.brand_id == catalog.brand_id and other.values["nombre"] != nombre
                    and other.values["nombre"] not in file_names
                    and _same("oid", other.values["oid"], values["oid"])
                    and other.values["espacio"] == values["espacio"]):
                problems.append(
                    f"{entry.path}.oid: la marca {catalog.brand_names[catalog.brand_id]} ya tiene el OID "
                    f"{values['oid']} con espacio {values['espacio']} con otro nombre "
                    f"(«{other.values['nombre']}»): use ese nombre en el archivo o cambie la "
                    "fila en Configuración → OIDs.")
                break
    if problems:
        action = None
    return Item("oid", entry.path, nombre, action, values, changes, tuple(problems), row_id)


def _plan_formula(entry: Entry, catalog: Catalog) -> Item:
    problems = list(entry.errors)
    nombre, modelo = entry.nombre, entry.values.get("modelo", "")
    values = {"nombre": nombre, "modelo": modelo, "kind": entry.values.get("kind"),
              "params": entry.values.get("params")}
    action, changes, row_id = None, (), None
    row = next((f for f in catalog.formulas if catalog.brand_id is not None
                and f.brand_id == catalog.brand_id and f.modelo == modelo), None)
    named = next((f for f in catalog.formulas if nombre and f.nombre == nombre), None)
    if named is not None and (row is None or named.id != row.id):
        where = (f"el modelo «{named.modelo}»" if named.modelo else "todos los modelos")
        problems.append(
            f"{entry.path}.nombre: ya existe una fórmula «{nombre}» de "
            f"{_brand_label(catalog, named.brand_id)} para {where}; los nombres de fórmula "
            "son únicos en Facho: cambie el nombre en el archivo o en Configuración → Fórmulas "
            "de índice.")
    elif not entry.errors:
        if row is None:
            action = CREATE
        else:
            row_id = row.id
            changes = _changes(FORMULA_FIELDS, {"nombre": row.nombre, "params": row.params},
                               values)
            action = CHANGE if changes else SAME
    if problems:
        action = None
    return Item("formula", entry.path, nombre, action, values, changes, tuple(problems),
                row_id)


def make_plan(profile: Profile, catalog: Catalog) -> Plan:
    by_name = {r.values["nombre"]: r for r in catalog.oids}
    file_names = {e.nombre for e in profile.oids if e.nombre}
    items = [_plan_formula(e, catalog) for e in profile.formulas]
    items += [_plan_oid(e, catalog, by_name, file_names) for e in profile.oids]
    return Plan(profile=profile, brand_id=catalog.brand_id, items=tuple(items))


def plan_import(profile: Profile, session=None) -> Plan:
    """``make_plan`` against the current database."""
    return make_plan(profile, load_catalog(profile, session))


# --- showing values -----------------------------------------------------------------------

def shown(value: Any) -> str:
    """A stored value as the preview shows it."""
    if value is None:
        return "(vacío)"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    if value == "":
        return "(vacío)"
    return str(value)
