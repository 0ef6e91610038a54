"""OLTs: the devices. The SNMP community is a secret: it can be written, never read back
(not in the list, the details, an export, a filter or the edit form's HTML)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from wtforms.validators import NumberRange, Optional

from admin.base import FachoModelView, ToggleActionsMixin, brand_options, options_from
from admin.forms import SecretField, checked, secret_required
from facho import models as m
from facho.validation import validate_community, validate_host, validate_name, validate_port

COLUMNS_VISIBLE = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port", "snmp_version",
                   "descripcion", "habilitar_olt", "max_concurrent", "max_starts_per_minute",
                   "created_at")


class OltView(ToggleActionsMixin, FachoModelView):
    toggle_attribute = "habilitar_olt"
    toggle_nouns = ("OLT", "OLTs")

    column_list = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port",
                   "snmp_version", "descripcion", "habilitar_olt", "max_concurrent")
    # An explicit allow-list: a column added to the model later stays hidden until
    # someone decides it may be shown, which is the safe default next to a secret.
    column_details_list = COLUMNS_VISIBLE
    column_export_list = COLUMNS_VISIBLE
    column_default_sort = "abreviatura"
    column_searchable_list = ("abreviatura", "ip_address", "descripcion")
    column_filters = (
        IntEqualFilter(m.Olt.brand_id, "Marca", options=brand_options()),
        FilterEqual(m.Olt.modelo, "Modelo", options=options_from(
            lambda: sa.select(m.Olt.modelo, m.Olt.modelo).where(m.Olt.modelo != "")
            .distinct().order_by(m.Olt.modelo))),
        BooleanEqualFilter(m.Olt.habilitar_olt, "Habilitada"),
    )
    column_labels = {
        "abreviatura": "Abreviatura", "brand": "Marca",
        "modelo": "Modelo", "ip_address": "IP / host", "snmp_port": "Puerto SNMP",
        "snmp_version": "Versión SNMP", "comunidad": "Comunidad SNMP",
        "descripcion": "Descripción", "habilitar_olt": "Habilitada",
        "max_concurrent": "Ejecuciones simultáneas", "max_starts_per_minute":
            "Inicios por minuto", "created_at": "Creada",
    }
    column_descriptions = {
        "max_concurrent": "Cuántas ejecuciones pueden consultar esta OLT a la vez.",
        "max_starts_per_minute": "Tope de ejecuciones que empiezan por minuto en esta OLT.",
    }

    form_columns = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port",
                    "snmp_version", "comunidad", "descripcion", "habilitar_olt",
                    "max_concurrent", "max_starts_per_minute")
    form_extra_fields = {
        "comunidad": SecretField(
            "Comunidad SNMP",
            validators=[secret_required(validate_community)],
            description="Se guarda y no se vuelve a mostrar. "
                        "Al editar, déjela vacía para conservar la actual.",
            render_kw={"autocomplete": "new-password"}),
    }
    form_choices = {"snmp_version": [("v2c", "v2c"), ("v1", "v1")]}
    form_args = {
        "abreviatura": {"validators": [checked(lambda v: validate_name(v, "Abreviatura", 60))]},
        "ip_address": {"validators": [checked(validate_host)]},
        "snmp_port": {"validators": [checked(validate_port)]},
        "modelo": {"validators": [Optional()]},
        "max_concurrent": {"validators": [NumberRange(1, 64, "Debe estar entre 1 y 64.")]},
        "max_starts_per_minute": {
            "validators": [NumberRange(1, 6000, "Debe estar entre 1 y 6000.")]},
    }
    form_widget_args = {"descripcion": {"rows": 3}}
    unique_messages = {"abreviatura": "Ya existe una OLT con esta abreviatura."}
