"""OLTs: the devices. The SNMP community and the SNMPv3 keys are secrets: they can be
written, never read back (not in the list, the details, an export, a filter or the edit
form's HTML). v1/v2c OLTs need a community; v3 OLTs a USM user, and keys for the
authentication and privacy protocols they use."""
from __future__ import annotations

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from wtforms.validators import NumberRange, Optional, StopValidation

from admin.base import FachoModelView, ToggleActionsMixin, brand_options, options_from
from admin.forms import SecretField, checked, secret_required
from facho import models as m
from facho import polling_budget as budget
from facho.validation import (EMPTY_COMMUNITY, validate_community, validate_host, validate_name,
                              validate_port)

V3_AUTH_NAMES = {"": "Sin autenticación", "md5": "MD5", "sha1": "SHA-1"}
V3_PRIV_NAMES = {"": "Sin privacidad (sin cifrado)", "des": "DES", "aes": "AES-128"}
assert tuple(V3_AUTH_NAMES) == m.V3_AUTH_PROTOCOLS  # the model's CHECK constraints
assert tuple(V3_PRIV_NAMES) == m.V3_PRIV_PROTOCOLS
V3_KEY_MIN = 8            # RFC 3414 §11.2: USM passwords have at least 8 characters
V3_USER_MAX = 32          # SnmpAdminString (SIZE(1..32)) of usmUserName
V3_USER_REQUIRED = "SNMPv3 requiere un usuario: el usuario USM configurado en la OLT."
V3_PRIV_NEEDS_AUTH = ("La privacidad (cifrado) requiere autenticación: elija también un "
                      "protocolo de autenticación (MD5 o SHA-1).")


def validate_v3_user(value: str) -> str:
    value = (value or "").strip()
    if len(value) > V3_USER_MAX:
        raise ValueError(f"Usuario SNMPv3: máximo {V3_USER_MAX} caracteres.")
    return value


def community_unless_v3(form, field):
    """SNMPv3 does not use the community: empty is fine there (a typed one is checked)."""
    if not field.data and form.snmp_version.data == "v3":
        raise StopValidation()  # no message: not an error, just no further checks


def _v3_only(text):
    def formatter(view, context, model, name):
        return text(getattr(model, name)) if model.snmp_version == "v3" else "—"
    return formatter


BUDGET_FIELDS = ("max_repetitions", "max_requests_per_second", "request_pause_ms",
                 "getnext_only")
COLUMNS_VISIBLE = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port", "snmp_version",
                   "descripcion", "habilitar_olt", "max_concurrent", "max_starts_per_minute",
                   *BUDGET_FIELDS, "created_at")


def _budget_number(name):
    low, high = budget.RANGES[name]
    return {"validators": [Optional(), NumberRange(low, high, budget.range_message(name))],
            "default": None}


class OltView(ToggleActionsMixin, FachoModelView):
    toggle_attribute = "habilitar_olt"
    toggle_nouns = ("OLT", "OLTs")

    column_list = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port",
                   "snmp_version", "descripcion", "habilitar_olt", "max_concurrent")
    # An explicit allow-list: a column added to the model later stays hidden until
    # someone decides it may be shown, which is the safe default next to a secret.
    column_details_list = COLUMNS_VISIBLE[:6] + ("v3_usuario", "v3_auth_proto",
                                                  "v3_priv_proto") + COLUMNS_VISIBLE[6:]
    column_formatters_detail = {
        "v3_usuario": _v3_only(str),
        "v3_auth_proto": _v3_only(lambda v: V3_AUTH_NAMES.get(v, v)),
        "v3_priv_proto": _v3_only(lambda v: V3_PRIV_NAMES.get(v, v)),
    }
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
        "v3_usuario": "Usuario SNMPv3", "v3_auth_proto": "Autenticación SNMPv3",
        "v3_auth_clave": "Clave de autenticación SNMPv3",
        "v3_priv_proto": "Privacidad SNMPv3", "v3_priv_clave": "Clave de privacidad SNMPv3",
        "descripcion": "Descripción", "habilitar_olt": "Habilitada",
        "max_concurrent": budget.LABELS["max_concurrent"], "max_starts_per_minute":
            "Inicios por minuto", "created_at": "Creada",
        **{name: budget.LABELS[name] for name in BUDGET_FIELDS},
    }
    column_descriptions = {
        "snmp_version": "v1 y v2c usan la comunidad; v3 usa usuario y claves (USM) y no "
                        "necesita comunidad.",
        "v3_usuario": "Solo SNMPv3: el usuario USM configurado en la OLT (hasta 32 "
                      "caracteres).",
        "v3_auth_proto": "Solo SNMPv3. «Sin autenticación» es el nivel noAuthNoPriv.",
        "v3_priv_proto": "Solo SNMPv3: cifra las consultas (authPriv). Requiere "
                         "autenticación.",
        "max_concurrent": budget.HELP["max_concurrent"],
        "max_starts_per_minute": "Tope de ejecuciones que empiezan por minuto en esta OLT.",
        **{name: budget.HELP[name] for name in BUDGET_FIELDS},
    }

    form_columns = ("abreviatura", "brand", "modelo", "ip_address", "snmp_port",
                    "snmp_version", "comunidad", "v3_usuario", "v3_auth_proto",
                    "v3_auth_clave", "v3_priv_proto", "v3_priv_clave", "descripcion",
                    "habilitar_olt", "max_concurrent", "max_starts_per_minute",
                    *BUDGET_FIELDS)
    form_extra_fields = {
        "comunidad": SecretField(
            "Comunidad SNMP",
            validators=[community_unless_v3, secret_required(validate_community)],
            description="Para v1 y v2c (SNMPv3 no la usa). Se guarda y no se vuelve a "
                        "mostrar. Al editar, déjela vacía para conservar la actual.",
            render_kw={"autocomplete": "new-password"}),
        "v3_auth_clave": SecretField(
            "Clave de autenticación SNMPv3",
            description=f"Solo SNMPv3 con autenticación: mínimo {V3_KEY_MIN} caracteres. "
                        "Se guarda y no se vuelve a mostrar. Al editar, déjela vacía para "
                        "conservar la actual.",
            render_kw={"autocomplete": "new-password"}),
        "v3_priv_clave": SecretField(
            "Clave de privacidad SNMPv3",
            description=f"Solo SNMPv3 con privacidad: mínimo {V3_KEY_MIN} caracteres. "
                        "Se guarda y no se vuelve a mostrar. Al editar, déjela vacía para "
                        "conservar la actual.",
            render_kw={"autocomplete": "new-password"}),
    }
    form_choices = {
        "snmp_version": [("v2c", "v2c"), ("v1", "v1"), ("v3", "v3 (usuario y claves)")],
        "v3_auth_proto": list(V3_AUTH_NAMES.items()),
        "v3_priv_proto": list(V3_PRIV_NAMES.items()),
    }
    form_args = {
        "v3_usuario": {"validators": [Optional(), checked(validate_v3_user)]},
        "abreviatura": {"validators": [checked(lambda v: validate_name(v, "Abreviatura", 60))]},
        "ip_address": {"validators": [checked(validate_host)]},
        "snmp_port": {"validators": [checked(validate_port)]},
        "modelo": {"validators": [Optional()]},
        "max_concurrent": {"validators": [NumberRange(1, 64, "Debe estar entre 1 y 64.")]},
        "max_starts_per_minute": {
            "validators": [NumberRange(1, 6000, "Debe estar entre 1 y 6000.")]},
        **{name: _budget_number(name) for name in BUDGET_FIELDS if name in budget.RANGES},
    }
    form_widget_args = {"descripcion": {"rows": 3}}
    unique_messages = {"abreviatura": "Ya existe una OLT con esta abreviatura."}

    # --- SNMPv3 and the community: rules across fields -----------------------------------

    def check_form(self, form) -> None:
        stored = getattr(form, "_obj", None)  # the OLT being edited; None when creating
        if form.snmp_version.data != "v3":
            # Empty on edit keeps the stored community, unless there is none (a v3 OLT
            # going back to v2c).
            if (stored is not None and not form.comunidad.data and not stored.comunidad
                    and not form.comunidad.errors):
                form.comunidad.errors.append(EMPTY_COMMUNITY)
            return
        if not form.v3_usuario.errors and not (form.v3_usuario.data or "").strip():
            form.v3_usuario.errors.append(V3_USER_REQUIRED)
        auth, priv = form.v3_auth_proto.data or "", form.v3_priv_proto.data or ""
        if priv and not auth:
            form.v3_priv_proto.errors.append(V3_PRIV_NEEDS_AUTH)
        self._check_key(form.v3_auth_clave, auth, "autenticación",
                        stored.v3_auth_clave if stored is not None else "")
        self._check_key(form.v3_priv_clave, priv if auth else "", "privacidad",
                        stored.v3_priv_clave if stored is not None else "")

    @staticmethod
    def _check_key(field, protocol: str, what: str, stored_key: str) -> None:
        """A key for the chosen protocol: typed now (at least V3_KEY_MIN characters) or,
        on edit, the stored one. The messages never repeat what was typed."""
        if field.errors:
            return
        key = field.data or ""
        if not protocol:
            if key:
                field.errors.append(f"Escribió una clave de {what} pero no eligió protocolo "
                                    f"de {what}: elija uno o borre la clave.")
            return
        if not key and not stored_key:
            field.errors.append(f"Ingrese la clave de {what} (mínimo {V3_KEY_MIN} "
                                "caracteres).")
        elif key and len(key) < V3_KEY_MIN:
            field.errors.append(f"La clave de {what} debe tener al menos {V3_KEY_MIN} "
                                "caracteres.")
        elif len(key) > 255:
            field.errors.append(f"La clave de {what} admite hasta 255 caracteres.")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.comunidad is None:
            model.comunidad = ""  # a v3 OLT created without community
        for name in ("v3_usuario", "v3_auth_proto", "v3_priv_proto"):
            if getattr(model, name) is None:
                setattr(model, name, "")
        # A key without its protocol is never used: do not keep the secret around.
        if not model.v3_auth_proto:
            model.v3_auth_clave, model.v3_priv_proto = "", ""
        if not model.v3_priv_proto:
            model.v3_priv_clave = ""
        self._fill_budget(form, model, is_created)

    @staticmethod
    def _fill_budget(form, model, is_created) -> None:
        """Budget numbers left empty take the vendor profile's default for the OLT's brand
        and model (`facho.polling_budget`); so does "Solo GETNEXT" on a new OLT when the
        operator did not tick it (a C300 starts GETNEXT-safe)."""
        from facho.inventory.profiles.shipped import shipped_profiles

        empty = [name for name in BUDGET_FIELDS if name in budget.RANGES
                 and getattr(form, name).data is None]
        if not empty and not is_created:
            return
        brand = model.brand.nombre if model.brand is not None else ""
        defaults = budget.defaults_for(brand, model.modelo or "",
                                       (s.profile for s in shipped_profiles()))
        for name in empty:
            setattr(model, name, defaults[name])
        if is_created and not form.getnext_only.data:
            model.getnext_only = defaults["getnext_only"]
