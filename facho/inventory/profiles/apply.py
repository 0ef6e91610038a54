"""Writing a profile into the catalog: one transaction, planned again at write time.

``apply_profile`` makes the plan anew inside the transaction that writes it, so what is
written is what the database holds at that moment, never a stale preview: in ``IMPORT`` mode
(the panel) a plan with any problem refuses the whole file (``ImportRefused``), and when the
caller passes the digest of the plan it previewed, a different plan now refuses too
(``PlanChanged``: someone changed the catalog in between). Then the brand, formulas and OIDs
are created or changed, the import is audited (``facho.audit``), and everything is committed
together; any error rolls all of it back.

``SEED`` mode (``flask facho seed``) only creates what is missing: rows that exist are kept
as operators left them, entries that conflict with them are skipped (counted), and nothing
is audited or committed (the caller commits the whole seed).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from facho import audit
from facho.extensions import db
from facho.inventory.profiles.format import Profile
from facho.inventory.profiles.plan import CHANGE, CREATE, SAME, Item, Plan, plan_import
from facho.models import Brand, IndexFormula, Oid

log = logging.getLogger("facho.inventory")

IMPORT, SEED = "import", "seed"
AUDIT_ACTION = "perfil_importado"
audit.ACTION_LABELS.setdefault(AUDIT_ACTION, "Perfil de fabricante importado")


class ImportRefused(Exception):
    """Nothing was written; str() is Spanish, ``plan`` (when known) says why entry by entry."""

    def __init__(self, message: str, plan: Plan | None = None):
        super().__init__(message)
        self.plan = plan


class PlanChanged(ImportRefused):
    """The catalog changed after the preview: nothing was written."""


@dataclass
class ApplyResult:
    marca: str
    marca_creada: bool = False
    oids_creados: list[str] = field(default_factory=list)
    oids_cambiados: list[str] = field(default_factory=list)
    formulas_creadas: list[str] = field(default_factory=list)
    formulas_cambiadas: list[str] = field(default_factory=list)
    sin_cambios: int = 0
    omitidos: list[str] = field(default_factory=list)   # SEED: kept as the operator has them

    @property
    def written(self) -> int:
        return (len(self.oids_creados) + len(self.oids_cambiados) + len(self.formulas_creadas)
                + len(self.formulas_cambiadas))

    def message(self) -> str:
        """The panel's flash after an import."""
        oc, om = len(self.oids_creados), len(self.oids_cambiados)
        fc, fm = len(self.formulas_creadas), len(self.formulas_cambiadas)
        text = (f"Perfil importado: {oc} {'OID creado' if oc == 1 else 'OIDs creados'}, "
                f"{om} {'cambiado' if om == 1 else 'cambiados'}, "
                f"{fc} {'fórmula creada' if fc == 1 else 'fórmulas creadas'}, "
                f"{fm} {'cambiada' if fm == 1 else 'cambiadas'}")
        if self.sin_cambios:
            text += f", {self.sin_cambios} sin cambios"
        text += f" (marca {self.marca}{', creada' if self.marca_creada else ''})."
        return text

    def detail(self, profile: Profile) -> str:
        """The audit row's detail: what the file was and every row it touched."""
        parts = [f"archivo: «{profile.nombre}» (formato {profile.version}, marca {self.marca})"]
        if self.marca_creada:
            parts.append(f"marca creada: {self.marca}")
        for label, names in (("fórmulas creadas", self.formulas_creadas),
                             ("fórmulas cambiadas", self.formulas_cambiadas),
                             ("OIDs creados", self.oids_creados),
                             ("OIDs cambiados", self.oids_cambiados)):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        parts.append(f"sin cambios: {self.sin_cambios}")
        return "\n".join(parts)


def _refusal(plan: Plan) -> str:
    problems = plan.problems
    first = problems[0]
    more = f" (y {len(problems) - 1} problema(s) más)" if len(problems) > 1 else ""
    return f"No se importó nada: el perfil tiene problemas. {first}{more}"


def _changed(item: Item) -> str:
    return f"{item.nombre} ({', '.join(c.field for c in item.changes)})"


def _brand(plan: Plan, session) -> tuple[Brand, bool]:
    if plan.brand_id is not None:
        return session.get(Brand, plan.brand_id), False
    brand = Brand(nombre=plan.marca)
    session.add(brand)
    session.flush()
    return brand, True


def _write(plan: Plan, mode: str, session) -> ApplyResult:
    result = ApplyResult(marca=plan.marca)
    needed = [i for i in plan.items if i.action in (CREATE, CHANGE) and not i.problems]
    if mode == SEED:
        result.omitidos = [i.nombre for i in plan.items
                           if i.problems or i.action == CHANGE]
        needed = [i for i in needed if i.action == CREATE]
    result.sin_cambios = sum(1 for i in plan.items if i.action == SAME)
    if not needed and plan.brand_id is not None:
        return result
    brand, result.marca_creada = _brand(plan, session)
    for item in needed:
        if item.kind == "formula":
            write_formula(item, brand, session)
            (result.formulas_creadas if item.action == CREATE
             else result.formulas_cambiadas).append(
                item.nombre if item.action == CREATE else _changed(item))
        else:
            write_oid(item, brand, session)
            (result.oids_creados if item.action == CREATE
             else result.oids_cambiados).append(
                item.nombre if item.action == CREATE else _changed(item))
    session.flush()
    return result


def write_formula(item: Item, brand: Brand, session) -> None:
    values = item.values
    if item.action == CREATE:
        session.add(IndexFormula(nombre=values["nombre"], brand=brand, modelo=values["modelo"],
                                 kind=values["kind"], params=dict(values["params"])))
        return
    row = session.get(IndexFormula, item.row_id)
    row.nombre, row.kind, row.params = values["nombre"], values["kind"], dict(values["params"])


def write_oid(item: Item, brand: Brand, session) -> None:
    values = dict(item.values)
    if values.get("etiquetas") is not None:
        values["etiquetas"] = dict(values["etiquetas"])
    if item.action == CREATE:
        session.add(Oid(brand=brand, **values))
        return
    row = session.get(Oid, item.row_id)
    for change in item.changes:
        setattr(row, change.field, values[change.field])


def apply_profile(profile: Profile, *, username: str | None = None, mode: str = IMPORT,
                  expected_digest: str | None = None, commit: bool = True,
                  session=None) -> ApplyResult:
    """Plan ``profile`` against the database and write it (see the module docstring).

    IMPORT: ImportRefused / PlanChanged (nothing written) unless the plan is clean and, with
    ``expected_digest``, the one the operator saw. SEED: ImportRefused only for a file with
    problems of its own; conflicts with existing rows are skipped. With ``commit`` the
    transaction is committed (and rolled back on any error); without, the caller owns it.
    """
    session = session or db.session
    try:
        plan = plan_import(profile, session)
        if mode == SEED:
            if not profile.valid:
                raise ImportRefused(_refusal(plan), plan)
        else:
            if not plan.ok:
                raise ImportRefused(_refusal(plan), plan)
            if expected_digest is not None and plan.digest != expected_digest:
                raise PlanChanged(
                    "No se importó nada: el catálogo cambió desde la vista previa (otro "
                    "operador o una importación). Revise la vista previa actualizada y "
                    "confirme de nuevo.", plan)
        result = _write(plan, mode, session)
        if mode == IMPORT:
            audit.record(username or "(desconocido)", AUDIT_ACTION,
                         target=f"{profile.marca}: {profile.nombre}", count=result.written,
                         detail=result.detail(profile))
        if commit:
            session.commit()
    except IntegrityError:
        if commit:
            session.rollback()
        log.warning("event=profile_import_conflict marca=%s", profile.marca)
        raise ImportRefused("No se importó nada: otro operador guardó a la vez filas con los "
                            "mismos nombres. Vuelva a abrir la vista previa para ver el "
                            "catálogo actual.") from None
    except BaseException:
        if commit:
            session.rollback()
        raise
    if mode == IMPORT:
        log.info("event=profile_imported marca=%s user=%s written=%s", profile.marca,
                 username, result.written)
    return result
