""""Probar" from the OID, formula and job forms: the values typed in the form (not yet
saved) are tried on the first rows of a chosen OLT and the preview comes back as an HTML
fragment under the form (admin/static/js/probar.js). Staff only; the POST carries the
form's CSRF token like any other."""
from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import current_app, redirect, request, url_for
from flask_admin import BaseView, expose

from admin.security import StaffOnly
from facho import models as m
from facho.extensions import db
from facho.inventory.decoders import validate_formula
from facho.inventory.discovery import ExecutionConfigError, find_formula, formula_params
from facho.inventory.preview import DEFAULT_ROWS, MAX_ROWS, ProbeColumn
from facho.inventory.probe import ProbeError, probe
from facho.inventory.value_rules import RULE_FIELDS, RuleError, ValueRule
from facho.inventory.value_rules.pipeline import shown as shown_value

log = logging.getLogger("facho.admin")

NO_OLT = "Elija la OLT en la que probar."
BAD_ROWS = f"Filas: un número entero entre 1 y {MAX_ROWS}."
NO_OID = "Indique el OID numérico (por ejemplo 1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3)."
NO_DISCOVERY_OID = ("La marca de esta OLT no tiene un OID de espacio «descubrimiento»: cree "
                    "primero el OID de la tabla de ONUs para probar la fórmula sobre sus filas.")
NO_JOB_OIDS = "Elija al menos un OID de la tarea para probar."


class ProbeInputError(ValueError):
    """What to fix in the form before a probe can run (Spanish)."""


def _olt_and_rows(form) -> tuple[m.Olt, int]:
    try:
        olt = db.session.get(m.Olt, int(form.get("probar_olt") or 0))
    except ValueError:
        olt = None
    if olt is None:
        raise ProbeInputError(NO_OLT)
    try:
        rows = int(form.get("probar_filas") or DEFAULT_ROWS)
    except ValueError:
        raise ProbeInputError(BAD_ROWS) from None
    if not 1 <= rows <= MAX_ROWS:
        raise ProbeInputError(BAD_ROWS)
    return olt, rows


def _olt_formula(olt: m.Olt) -> tuple[dict | None, str | None]:
    """The OLT's formula params, or (None, why) when it has none yet."""
    try:
        return formula_params(find_formula(olt)), None
    except ExecutionConfigError as exc:
        return None, str(exc)


def _rule_from_form(form) -> ValueRule:
    return ValueRule.from_dict({field: form.get(field) for field in RULE_FIELDS})


def _oid_text(form) -> str:
    text = (form.get("oid") or "").strip().strip(".")
    if not text or not all(part.isdigit() for part in text.split(".")):
        raise ProbeInputError(NO_OID)
    return text


def _discovery_column(olt: m.Olt) -> ProbeColumn:
    oid = db.session.scalars(sa.select(m.Oid).where(
        m.Oid.espacio == "descubrimiento",
        sa.or_(m.Oid.brand_id == olt.brand_id, m.Oid.brand_id.is_(None)))
        .order_by(m.Oid.brand_id.is_(None), m.Oid.id)).first()
    if oid is None:
        raise ProbeInputError(NO_DISCOVERY_OID)
    return _column(oid)


def _column(oid: m.Oid) -> ProbeColumn:
    try:
        rule = ValueRule.from_oid(oid)
    except RuleError:
        rule = ValueRule()   # the preview still shows the raw values of a broken rule
    return ProbeColumn(oid.nombre, oid.oid.strip().strip("."), rule)


class ProbeView(StaffOnly, BaseView):
    """Hidden from the menu: the forms call it."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        # Flask-Admin needs a page at the view's root; "Probar" lives in the forms.
        return redirect(url_for("oids.create_view"))

    def _answer(self, build):
        """Run `build()` → (columns, params, note) and render the preview or the error."""
        note = None
        try:
            olt, rows = _olt_and_rows(request.form)
            columns, params, note = build(olt)
            preview = probe(olt, current_app.config["FACHO"], columns, params, rows)
        except RuleError as exc:
            return self.render("admin/probar/result.html", errors=exc.errors, preview=None)
        except (ProbeInputError, ProbeError) as exc:
            return self.render("admin/probar/result.html", error=str(exc), preview=None)
        finally:
            db.session.rollback()
        return self.render("admin/probar/result.html", preview=preview, olt=olt, note=note,
                           shown=shown_value)

    @expose("/oid", methods=("POST",))
    def oid(self):
        """An OID being edited: its column with its rule, decoded by the OLT's formula."""
        def build(olt):
            column = ProbeColumn(request.form.get("nombre") or "OID", _oid_text(request.form),
                                 _rule_from_form(request.form))
            params, why = _olt_formula(olt)
            return [column], params, why
        return self._answer(build)

    @expose("/formula", methods=("POST",))
    def formula(self):
        """A formula being edited, on the rows of the brand's discovery column."""
        def build(olt):
            try:
                params = json.loads(request.form.get("params") or "{}")
            except ValueError as exc:
                raise ProbeInputError(f"Parámetros: no es JSON válido ({exc.msg}, línea "
                                      f"{exc.lineno}, columna {exc.colno}).") from None
            if not isinstance(params, dict):
                raise ProbeInputError("Parámetros: debe ser un objeto JSON {…}.")
            params.setdefault("kind", request.form.get("kind") or "")
            try:
                validate_formula(params)
            except ValueError as exc:
                raise ProbeInputError(f"Parámetros: {exc}") from None
            return [_discovery_column(olt)], params, None
        return self._answer(build)

    @expose("/tarea", methods=("POST",))
    def job(self):
        """A job's OIDs (discovery column first), decoded by the OLT's formula."""
        def build(olt):
            ids = [int(i) for i in request.form.getlist("oids") if str(i).isdigit()]
            oids = db.session.scalars(sa.select(m.Oid).where(m.Oid.id.in_(ids))).all()
            if not oids:
                raise ProbeInputError(NO_JOB_OIDS)
            oids.sort(key=lambda o: (o.espacio != "descubrimiento", o.id))
            params, why = _olt_formula(olt)
            return [_column(o) for o in oids], params, why
        return self._answer(build)


def olt_choices() -> list[tuple[int, str]]:
    """Every OLT as "<abreviatura> (<marca>)", for the form's "Probar en" select."""
    rows = db.session.execute(sa.select(m.Olt.id, m.Olt.abreviatura, m.Brand.nombre)
                              .join(m.Brand, m.Brand.id == m.Olt.brand_id)
                              .order_by(m.Olt.abreviatura)).all()
    return [(id_, f"{name} ({brand})") for id_, name, brand in rows]
