"""Alert rules and notification channels (issue 13), staff only.

Rules: a kind, a scope (all OLTs, a brand, an OLT, a PON), its parameters (one field per
parameter name; blank = the default; validated by `facho.monitoring.rules` with Spanish
messages under the field), severity, the channels and from which severity they hear.
Channels: a name and an Apprise URL, a secret like an OLT's community: written, never read
back (not in the list, the details or the edit form); "Enviar prueba" (a CSRF-protected
bulk action) sends a test message at once and says in Spanish whether it arrived."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual
from wtforms import StringField
from wtforms.validators import Optional

from admin.base import FachoModelView, ToggleActionsMixin
from admin.forms import SecretField, checked
from facho.validation import validate_name
from facho import models as m
from facho.extensions import db
from facho.monitoring import apprise_channel, scope
from facho.monitoring import rules as kinds
from facho.monitoring.params import COMMON

SEVERITY_CHOICES = [("aviso", "Aviso"), ("critico", "Crítico")]
SCOPE_CHOICES = [("", "— elija el alcance —")] + list(scope.SCOPE_NAMES.items())


def _param_fields() -> dict:
    """One text field per parameter name (`p_<name>`), described with the kinds using it."""
    used: dict = {}
    for kind, module in kinds.MODULES.items():
        for spec in module.PARAMS:
            used.setdefault(spec.name, (spec, []))[1].append(module.NAME)
    fields = {}
    for name, (spec, names) in used.items():
        fields[f"p_{name}"] = StringField(
            spec.label, validators=[Optional()],
            description=f"Para: {', '.join(names)}. {spec.help().capitalize()}; "
                        f"vacío = {spec.default}.")
    for spec in COMMON:
        fields[f"p_{spec.name}"] = StringField(
            spec.label, validators=[Optional()],
            description=f"Todas las reglas. {spec.help().capitalize()}; vacío = "
                        f"{spec.default}.")
    return fields


PARAM_FIELDS = _param_fields()


class AlertRuleView(ToggleActionsMixin, FachoModelView):
    toggle_nouns = ("regla", "reglas")
    column_list = ("nombre", "kind", "scope", "severity", "min_severity", "channels",
                   "enabled")
    column_details_list = ("nombre", "kind", "scope", "brand", "olt", "slot", "port",
                           "params", "severity", "min_severity", "channels", "enabled",
                           "created_at")
    column_formatters = {
        "kind": lambda v, c, rule, n: kinds.KIND_NAMES.get(rule.kind, rule.kind),
        "scope": lambda v, c, rule, n: scope.describe(rule),
        "severity": lambda v, c, rule, n: kinds.SEVERITY_NAMES.get(rule.severity),
        "min_severity": lambda v, c, rule, n: kinds.SEVERITY_NAMES.get(rule.min_severity),
        "channels": lambda v, c, rule, n: ", ".join(ch.nombre for ch in rule.channels) or "—",
    }
    column_formatters_detail = column_formatters
    column_filters = (FilterEqual(m.AlertRule.kind, "Tipo",
                                  options=list(kinds.KIND_NAMES.items())),
                      BooleanEqualFilter(m.AlertRule.enabled, "Habilitada"))
    column_labels = {"nombre": "Nombre", "kind": "Tipo", "scope": "Alcance", "brand": "Marca",
                     "olt": "OLT", "slot": "Slot", "port": "Puerto", "params": "Parámetros",
                     "severity": "Severidad", "min_severity": "Notificar desde",
                     "channels": "Canales", "enabled": "Habilitada", "created_at": "Creada"}
    form_columns = ("nombre", "kind", "scope", "brand", "olt", "slot", "port", "severity",
                    "min_severity", "channels", "enabled") + tuple(PARAM_FIELDS)
    form_choices = {"kind": list(kinds.KIND_NAMES.items()), "scope": SCOPE_CHOICES,
                    "severity": SEVERITY_CHOICES, "min_severity": SEVERITY_CHOICES}
    form_extra_fields = PARAM_FIELDS
    form_args = {"nombre": {"validators": [checked(lambda v: validate_name(v, "Nombre", 120))]},
                 "slot": {"validators": [Optional()]}, "port": {"validators": [Optional()]},
                 "brand": {"validators": [Optional()]}, "olt": {"validators": [Optional()]}}
    column_descriptions = {
        "scope": "Toda regla necesita un alcance: todas las OLTs, una marca, una OLT o un "
                 "PON (OLT, slot y puerto).",
        "min_severity": "Los canales reciben los incidentes de esta severidad o mayor.",
        "severity": "La severidad de sus incidentes (la potencia rx baja usa sus dos "
                    "niveles).",
    }
    unique_messages = {"nombre": "Ya existe una regla con este nombre."}

    def check_form(self, form) -> None:
        errors = scope.scope_errors(
            form.scope.data or None, form.brand.data.id if form.brand.data else None,
            form.olt.data.id if form.olt.data else None, form.slot.data, form.port.data)
        for name, message in errors.items():
            form[name].errors.append(message)
        if form.kind.data not in kinds.MODULES:
            form.kind.errors.append("Elija el tipo de regla.")
            return
        raw = {name[2:]: form[name].data for name in PARAM_FIELDS}
        clean, errors = kinds.validate_params(form.kind.data, raw)
        for name, message in errors.items():
            form[f"p_{name}"].errors.append(message)
        form._clean_params = clean

    def on_form_prefill(self, form, id):
        rule = db.session.get(m.AlertRule, int(id))
        for name, value in (rule.params or {}).items():
            if f"p_{name}" in form:
                form[f"p_{name}"].data = str(value)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.params = getattr(form, "_clean_params", model.params or {})
        if model.scope != "pon":
            model.slot = model.port = None
        if model.scope not in ("olt", "pon"):
            model.olt = None
        if model.scope != "marca":
            model.brand = None


class UrlSecretField(SecretField):
    """The channel's URL under another form name: Flask-Admin reads `url` from every
    request as the page to return to."""

    def populate_obj(self, obj, name):
        if self.data:
            obj.url = self.data.strip()


class NotificationChannelView(ToggleActionsMixin, FachoModelView):
    toggle_nouns = ("canal", "canales")
    # An allow-list: the URL (a secret) is never a column, a filter or a search field.
    column_list = ("nombre", "enabled", "resumen_diario", "created_at")
    column_details_list = column_list
    column_searchable_list = ("nombre",)
    column_labels = {"nombre": "Nombre", "enabled": "Habilitado",
                     "resumen_diario": "Resumen diario", "created_at": "Creado",
                     "url": "URL de Apprise"}
    form_columns = ("nombre", "apprise_url", "enabled", "resumen_diario")
    form_args = {"nombre": {"validators": [checked(lambda v: validate_name(v, "Nombre", 80))]}}
    form_extra_fields = {"apprise_url": UrlSecretField(
        "URL de Apprise",
        description="Por ejemplo tgram://token/chat_id, mailto://usuario:clave@servidor?"
                    "to=noc@isp.pe, json://servidor/ruta. Se guarda y no se vuelve a "
                    "mostrar. Al editar, déjela vacía para conservar la actual.",
        render_kw={"autocomplete": "new-password"})}
    unique_messages = {"nombre": "Ya existe un canal con este nombre."}

    def check_form(self, form) -> None:
        editing = getattr(form, "_obj", None) is not None
        if editing and not form.apprise_url.data:
            return
        error = apprise_channel.url_error(form.apprise_url.data)
        if error:
            form.apprise_url.errors.append(error)

    @action("enviar_prueba", "Enviar prueba", "¿Enviar un mensaje de prueba a los canales "
                                              "seleccionados?")
    def action_test(self, ids):
        rows = db.session.query(m.NotificationChannel).filter(
            m.NotificationChannel.id.in_([int(i) for i in ids if str(i).isdigit()])).all()
        targets = [(row.nombre, row.url) for row in rows]
        db.session.rollback()
        for nombre, url in targets:
            error = apprise_channel.send(
                url, "[Facho] Mensaje de prueba",
                f"Prueba del canal «{nombre}» desde el panel de Facho: si lo lee, el canal "
                "funciona.")
            if error:
                flash(f"Canal «{nombre}»: {error}", "error")
            else:
                flash(f"Canal «{nombre}»: mensaje de prueba enviado.", "success")
