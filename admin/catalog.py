"""Reference data: brands, OIDs and index formulas."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_admin.form.fields import JSONField
from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from admin.base import FachoModelView, brand_options
from admin.forms import checked
from admin.probe import olt_choices
from facho import models as m
from facho.extensions import db
from facho.inventory.decoders import KINDS
from facho.inventory.value_rules import AYUDA, ORDEN, RULE_FIELDS, ValueRule, validate_rule
from facho.inventory.values import FORMATTERS
from facho.validation import validate_formula_params, validate_name, validate_oid

ESPACIO_CHOICES = [(e, e) for e in m.ESPACIOS]
UNIDAD_CHOICES = [("", "ninguna"), ("mw", "mW → dBm"), ("uw", "µW → dBm"),
                  ("decimas_uw", "décimas de µW → dBm")]
# The value rule's fields after `formato` (which sits with the OID's basics).
RULE_FORM_FIELDS = tuple(f for f in RULE_FIELDS if f != "formato")
BAD_JSON = ("No es JSON válido: escriba un objeto valor → texto, por ejemplo "
            '{"1": "en línea", "2": "desconectada"}.')


def formato_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in FORMATTERS]


class LabelMapField(JSONField):
    """The `etiquetas` map as JSON text, with a Spanish error (Flask-Admin's says
    "Invalid JSON"); whether it is a map of text is `validate_rule`'s call."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(BAD_JSON) from None

    def _value(self) -> str:
        return super()._value() if (self.raw_data or self.data) else ""


def _help(text: str) -> Markup:
    return Markup(escape(text))


class ProbeFormMixin:
    """Create/edit pages with "Probar" under the form (admin/probe.py)."""

    probe_endpoint = ""

    def render(self, template, **kwargs):
        if template in (self.create_template, self.edit_template):
            kwargs["probar_url"] = url_for(self.probe_endpoint)
            kwargs["probar_olts"] = olt_choices()
        return super().render(template, **kwargs)


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


class OidView(ProbeFormMixin, FachoModelView):
    create_template = "admin/catalog/probe_create.html"
    edit_template = "admin/catalog/probe_edit.html"
    probe_endpoint = "probar.oid"
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
    column_labels.update({
        "regex": "Expresión regular", "sin_valor": "Valores «sin dato»", "unidad": "Unidad",
        "escala": "Escala", "desplazamiento": "Desplazamiento", "decimales": "Decimales",
        "etiquetas": "Etiquetas (valor → texto)",
    })
    column_descriptions = {
        "espacio": ("Qué dato del inventario de ONUs alimenta; «metrica»: un número que solo "
                    "se guarda en el historial de la ONU, con el nombre del OID "
                    "(temperatura, voltaje, corriente de polarización…); «causa_caida»: la "
                    "última causa de caída que informa la OLT (LOS, dying gasp…), que se "
                    "anota en los eventos de desconexión."),
        "keep_previous_value": "Si la OLT no responde el valor, se conserva el último leído.",
    }
    form_columns = ("nombre", "oid", "brand", "espacio", "formato", *RULE_FORM_FIELDS,
                    "keep_previous_value", "default_value")
    form_choices = {"espacio": ESPACIO_CHOICES, "formato": formato_choices(),
                    "unidad": UNIDAD_CHOICES}
    # Text, not FloatField: "0,01" (decimal comma) is what many operators type, and the
    # value rules' own parser accepts it and says in Spanish what is wrong otherwise.
    form_overrides = {"etiquetas": LabelMapField, "escala": StringField,
                      "desplazamiento": StringField, "decimales": StringField}
    form_args = {
        "nombre": _nombre(),
        "oid": {"validators": [checked(validate_oid)],
                "description": "Numérico con puntos, por ejemplo "
                               "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"},
        "brand": {"blank_text": "Cualquiera (todas las marcas)"},
        "default_value": {"validators": [Optional()]},
        "formato": {"description": _help(AYUDA["formato"] + " " + ORDEN)},
        **{field: {"description": _help(AYUDA[field]), "validators": [Optional()]}
           for field in RULE_FORM_FIELDS},
    }
    form_widget_args = {"etiquetas": {"rows": 3}}
    unique_messages = {"nombre": "Ya existe un OID con este nombre."}

    def check_form(self, form) -> None:
        fields = {field: getattr(form, field).data for field in RULE_FIELDS}
        errors = validate_rule(fields)
        for field, message in errors.items():
            target = getattr(form, field, None) or form.formato
            if not target.errors:
                target.errors = list(target.errors) + [message]
        if errors:
            return
        # store what the rule parsed: numbers as numbers, "0, 65535" in one spelling
        rule = ValueRule.from_dict(fields)
        form.escala.data, form.desplazamiento.data = rule.escala, rule.desplazamiento
        form.decimales.data = rule.decimales
        form.sin_valor.data = ", ".join(rule.sin_valor)
        form.unidad.data = rule.unidad
        form.regex.data = rule.regex
        form.etiquetas.data = rule.etiquetas


def _kind_help() -> Markup:
    items = Markup("").join(
        Markup("<li><strong>{}</strong> ({}): {} <br><code>{}</code></li>").format(
            kind.nombre, name, kind.ayuda, json.dumps(kind.ejemplo, ensure_ascii=False))
        for name, kind in KINDS.items())
    return Markup('<details class="facho-formula-help"><summary>Qué significa cada tipo y '
                  'cada parámetro (con ejemplos)</summary><ul class="small">{}</ul>'
                  '</details>').format(items)


class IndexFormulaView(ProbeFormMixin, FachoModelView):
    create_template = "admin/catalog/probe_create.html"
    edit_template = "admin/catalog/probe_edit.html"
    probe_endpoint = "probar.formula"
    column_list = ("nombre", "brand", "modelo", "kind", "params")
    column_default_sort = "nombre"
    column_filters = (IntEqualFilter(m.IndexFormula.brand_id, "Marca", options=brand_options()),)
    column_formatters = {
        "params": lambda v, c, model, n: json.dumps(model.params, sort_keys=True)}
    column_labels = {"nombre": "Nombre", "brand": "Marca", "modelo": "Modelo",
                     "kind": "Tipo", "params": "Parámetros (JSON)"}
    form_columns = ("nombre", "brand", "modelo", "kind", "params")
    form_choices = {"kind": [(name, kind.nombre) for name, kind in KINDS.items()]}
    form_args = {
        "nombre": _nombre(),
        "modelo": {"validators": [Optional()],
                   "description": "Vacío = fórmula por defecto de la marca."},
        "params": {"description": _kind_help()},
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
