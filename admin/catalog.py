"""Reference data: brands, OIDs and index formulas."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from wtforms.validators import Optional, ValidationError

from admin.base import FachoModelView, brand_options
from admin.forms import checked
from facho import models as m
from facho.extensions import db
from facho.validation import validate_formula_params, validate_name, validate_oid

ESPACIO_CHOICES = [(e, e) for e in m.ESPACIOS]


def formato_choices() -> list[tuple[str, str]]:
    try:
        from facho.inventory.values import FORMATTERS
    except ImportError:  # the value rules module is optional for the panel
        return [("text", "text")]
    return [(name, name) for name in FORMATTERS]


def _nombre(field: str = "Nombre", max_len: int = 120):
    return {"validators": [checked(lambda v: validate_name(v, field, max_len))]}


class BrandView(FachoModelView):
    column_list = ("nombre",)
    column_searchable_list = ("nombre",)
    column_default_sort = "nombre"
    column_labels = {"nombre": "Nombre"}
    form_columns = ("nombre",)
    form_args = {"nombre": _nombre(max_len=80)}
    unique_messages = {"nombre": "Ya existe una marca con este nombre."}

    def on_model_delete(self, brand):
        # Refuse here rather than rely on the foreign keys: SQLite does not enforce them
        # unless asked, and a brandless OLT would break every page that names its brand.
        in_use = [(label, db.session.scalar(sa.select(sa.func.count()).where(column == brand.id)))
                  for label, column in (("OLTs", m.Olt.brand_id), ("tareas", m.SnmpJob.brand_id),
                                        ("OIDs", m.Oid.brand_id),
                                        ("fórmulas", m.IndexFormula.brand_id))]
        used = [f"{n} {label}" for label, n in in_use if n]
        if used:
            raise ValidationError(f"No se puede eliminar la marca {brand.nombre}: la usan "
                                  f"{', '.join(used)}.")


def _any_brand(view, context, model, name):
    return model.brand.nombre if model.brand else "Cualquiera"


class OidView(FachoModelView):
    column_list = ("nombre", "oid", "brand", "espacio", "formato", "keep_previous_value",
                   "default_value")
    column_searchable_list = ("nombre", "oid")
    column_default_sort = "nombre"
    column_filters = (
        IntEqualFilter(m.Oid.brand_id, "Marca", options=brand_options()),
        FilterEqual(m.Oid.espacio, "Espacio", options=ESPACIO_CHOICES),
    )
    column_formatters = {"brand": _any_brand}
    column_formatters_detail = {"brand": _any_brand}
    column_labels = {
        "nombre": "Nombre", "oid": "OID", "brand": "Marca", "espacio": "Espacio",
        "formato": "Formato", "keep_previous_value": "Conservar valor anterior",
        "default_value": "Valor por defecto",
    }
    column_descriptions = {
        "espacio": "Qué dato del inventario de ONUs alimenta.",
        "keep_previous_value": "Si la OLT no responde el valor, se conserva el último leído.",
    }
    form_columns = ("nombre", "oid", "brand", "espacio", "formato", "keep_previous_value",
                    "default_value")
    form_choices = {"espacio": ESPACIO_CHOICES, "formato": formato_choices()}
    form_args = {
        "nombre": _nombre(),
        "oid": {"validators": [checked(validate_oid)],
                "description": "Numérico con puntos, por ejemplo "
                               "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"},
        "brand": {"blank_text": "Cualquiera (todas las marcas)"},
        "default_value": {"validators": [Optional()]},
    }
    unique_messages = {"nombre": "Ya existe un OID con este nombre."}


class IndexFormulaView(FachoModelView):
    column_list = ("nombre", "brand", "modelo", "kind", "params")
    column_default_sort = "nombre"
    column_filters = (IntEqualFilter(m.IndexFormula.brand_id, "Marca", options=brand_options()),)
    column_formatters = {
        "params": lambda v, c, model, n: json.dumps(model.params, sort_keys=True)}
    column_labels = {"nombre": "Nombre", "brand": "Marca", "modelo": "Modelo",
                     "kind": "Tipo", "params": "Parámetros (JSON)"}
    form_columns = ("nombre", "brand", "modelo", "kind", "params")
    form_choices = {"kind": [("linear", "linear (Huawei)"), ("bitshift", "bitshift (ZTE)"),
                             ("dotted", "dotted (índice con puntos)")]}
    form_args = {
        "nombre": _nombre(),
        "modelo": {"validators": [Optional()],
                   "description": "Vacío = fórmula por defecto de la marca."},
        "params": {"description": 'Ejemplo lineal: {"base": 4194304000, "step_slot": 8192, '
                                  '"step_port": 256}'},
    }
    form_widget_args = {"params": {"rows": 5}}
    unique_messages = {"nombre": "Ya existe una fórmula con este nombre.",
                       "modelo": "Ya existe una fórmula para esta marca y modelo."}

    def check_form(self, form) -> None:
        if not form.params.errors:
            try:
                form.params.data = validate_formula_params(form.kind.data, form.params.data)
            except ValueError as exc:
                form.params.errors.append(str(exc))
        brand, modelo = form.brand.data, (form.modelo.data or "").strip()
        # A refused model (e.g. a NUL byte, which PostgreSQL cannot even compare) is not
        # looked up: its own error is already under the field.
        if brand is not None and not form.modelo.errors:
            form.modelo.data = modelo
            current = getattr(form, "_obj", None)
            clash = db.session.scalar(sa.select(m.IndexFormula.id).where(
                m.IndexFormula.brand_id == brand.id, m.IndexFormula.modelo == modelo,
                m.IndexFormula.id != (current.id if current is not None else -1)))
            if clash is not None:
                form.modelo.errors.append(self.unique_messages["modelo"])
