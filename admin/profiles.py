"""Configuración → Perfiles de fabricante: export a brand's catalog as a profile file, import
one (uploaded, pasted, or shipped with Facho) after a preview of what it creates and changes.

Import is two POSTs, both with the session's CSRF token: "Ver vista previa" parses the file and
plans it against the catalog (nothing written); "Confirmar importación" sends the same text
back (a hidden field) with the digest of the plan the operator saw, and
``facho.inventory.profiles.apply`` parses, validates and plans it again inside the
transaction that writes it, refusing when anything differs. Staff only; every problem is a
Spanish message on the page, never a traceback.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from admin.security import StaffOnly, refuse, staff_only
from facho import models as m
from facho.extensions import db
from facho.inventory.profiles import format as profile_format
from facho.inventory.profiles.apply import ImportRefused, PlanChanged, apply_profile
from facho.inventory.profiles.export import export_bytes, file_name
from facho.inventory.profiles.format import MAX_BYTES, ProfileFileError, parse
from facho.inventory.profiles.plan import CHANGE, CREATE, SAME, plan_import, shown
from facho.inventory.profiles.shipped import shipped_bytes, shipped_profiles

log = logging.getLogger("facho.admin")

MAX_KB = MAX_BYTES // 1024
NOTHING_GIVEN = "Elija un archivo de perfil (.facho.json) o pegue su contenido."
BOTH_GIVEN = ("Eligió un archivo y además pegó texto: use uno de los dos (no se sabe cuál "
              "importar).")
TOO_BIG = (f"El archivo o el texto es demasiado grande: un perfil de fabricante ocupa como "
           f"máximo {MAX_KB} KB. ¿Es el archivo correcto (un .facho.json exportado por Facho)?")
UNKNOWN_SHIPPED = "No existe el perfil incluido «{}»: elíjalo de la lista."
NO_CONTENT = "La confirmación no trae el perfil: vuelva a abrir la vista previa."
INTERNAL = ("No se pudo completar la importación por un error interno; no se guardó nada. "
            "El detalle quedó registrado en el servidor.")


class InputError(ValueError):
    """What the operator sent cannot be read (Spanish)."""


def _received() -> tuple[str | bytes, str]:
    """(the profile's content, where it came from) of the import form."""
    slug = (request.form.get("incluido") or "").strip()
    if slug:
        try:
            return shipped_bytes(slug), f"perfil incluido con Facho «{slug}»"
        except KeyError:
            raise InputError(UNKNOWN_SHIPPED.format(slug[:80])) from None
    upload = request.files.get("archivo")
    pasted = request.form.get("texto") or ""
    has_file = upload is not None and bool(upload.filename)
    if has_file and pasted.strip():
        raise InputError(BOTH_GIVEN)
    if has_file:
        data = upload.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InputError(TOO_BIG)
        return data, f"archivo «{upload.filename[:120]}»"
    if pasted.strip():
        return pasted, "texto pegado"
    raise InputError(NOTHING_GIVEN)


def _brands() -> list[dict]:
    oids = dict(db.session.execute(sa.select(m.Oid.brand_id, sa.func.count())
                                   .group_by(m.Oid.brand_id)).all())
    formulas = dict(db.session.execute(sa.select(m.IndexFormula.brand_id, sa.func.count())
                                       .group_by(m.IndexFormula.brand_id)).all())
    brands = db.session.execute(sa.select(m.Brand.id, m.Brand.nombre)
                                .order_by(m.Brand.nombre)).all()
    return [{"id": id_, "nombre": nombre, "oids": oids.get(id_, 0),
             "formulas": formulas.get(id_, 0)} for id_, nombre in brands]


class ProfilesView(StaffOnly, BaseView):
    def create_blueprint(self, admin):
        blueprint = super().create_blueprint(admin)
        # A pasted text over Flask's form limit is refused while the CSRF check reads the
        # form, before any view: answer in Spanish instead of Werkzeug's English 413 page.
        blueprint.register_error_handler(RequestEntityTooLarge, self._too_large)
        return blueprint

    def _too_large(self, error):
        if not staff_only():
            return refuse()
        return self._index(error=TOO_BIG), 413

    def _index(self, error: str | None = None):
        try:
            return self.render("admin/profiles/index.html", brands=_brands(),
                               shipped=shipped_profiles(), error=error, max_kb=MAX_KB)
        finally:
            db.session.rollback()

    @expose("/")
    def index(self):
        return self._index()

    @expose("/exportar/<int:brand_id>")
    def export(self, brand_id: int):
        try:
            brand = db.session.get(m.Brand, brand_id)
            if brand is None:
                abort(404)
            data, name = export_bytes(brand), file_name(brand.nombre)
        finally:
            db.session.rollback()
        log.info("event=profile_exported brand=%s user=%s", brand_id, current_user.username)
        return Response(data, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def _preview(self, content: str | bytes, source: str, notice: str | None = None,
                 status: int = 200):
        text, profile, plan, fatal = None, None, None, None
        try:
            text = profile_format.decode_text(content)
            profile = parse(text)
            plan = plan_import(profile)
        except ProfileFileError as exc:
            fatal = str(exc)
        finally:
            db.session.rollback()
        return self.render("admin/profiles/preview.html", source=source, fatal=fatal,
                           profile=profile, plan=plan, content=text, notice=notice,
                           shown=shown, CREATE=CREATE, CHANGE=CHANGE, SAME=SAME), status

    @expose("/vista-previa/", methods=("POST",))
    def preview(self):
        try:
            content, source = _received()
        except InputError as exc:
            return self._index(error=str(exc)), 400
        return self._preview(content, source)

    @expose("/confirmar/", methods=("POST",))
    def confirm(self):
        content = request.form.get("contenido") or ""
        source = (request.form.get("origen") or "vista previa")[:200]
        digest = request.form.get("huella") or ""
        if not content.strip():
            return self._index(error=NO_CONTENT), 400
        try:
            profile = parse(content)
            result = apply_profile(profile, username=current_user.username,
                                   expected_digest=digest)
        except ProfileFileError as exc:
            db.session.rollback()
            return self._preview(content, source, notice=str(exc), status=400)
        except PlanChanged as exc:
            return self._preview(content, source, notice=str(exc), status=409)
        except ImportRefused as exc:
            return self._preview(content, source, notice=str(exc), status=400)
        except (OperationalError, InterfaceError):
            raise   # the database is down: facho.ops.health answers with its 503 page
        except Exception:  # noqa: BLE001 - shown in Spanish, logged in full
            db.session.rollback()
            log.exception("event=profile_import_failed")
            return self._index(error=INTERNAL), 500
        flash(result.message(), "success")
        return redirect(self.get_url(".index"))
