"""Administración > Tokens de API and Llamadas a la API (issue 14).

A token is created here for the logged-in staff user, with a name, its scopes and an
optional expiry; its secret is shown once, on the page that answers the creation POST (never
flashed: a flash travels in the signed, not encrypted, session cookie), and only its hash is
stored (facho.api.tokens). Tokens are revoked, not edited; the call log is read-only.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike, IntEqualFilter
from flask_admin.helpers import get_form_data
from flask_login import current_user
from markupsafe import Markup
from wtforms import DateField, SelectMultipleField, StringField, widgets
from wtforms.validators import Optional

from admin import formatters as fmt
from admin.base import FachoModelView, plural
from admin.forms import CSRF_MESSAGE, FachoForm
from facho import models as m
from facho.api import tokens
from facho.extensions import db


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class TokenForm(FachoForm):
    nombre = StringField("Nombre", description="Para qué o quién es (por ejemplo "
                                               "«Grafana» o «facturación»).")
    alcances = CheckboxesField("Alcances", choices=list(tokens.SCOPE_LABELS.items()),
                               default=["lectura"])
    vence = DateField("Vence", validators=[Optional()], format="%Y-%m-%d",
                      description="Opcional: el token deja de funcionar al terminar ese día "
                                  "(hora local). Vacío: no vence.")


def expiry_of(day, tz) -> datetime | None:
    """The end of `day` in the operator's zone, as aware UTC (None: never)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(m.UTC)


def token_state(token: m.ApiToken, now: datetime | None = None) -> str:
    now = now or m.utcnow()
    if token.revoked_at is not None:
        return "revocado"
    if token.expires_at is not None and token.expires_at <= now:
        return "vencido"
    return "activo"


_STATE_COLOURS = {"activo": "success", "revocado": "secondary", "vencido": "warning"}


def _state_badge(view, context, token, name):
    state = token_state(token)
    return Markup('<span class="badge badge-{}" data-state="{}">{}</span>').format(
        _STATE_COLOURS[state], state, state.capitalize())


class ApiTokenView(FachoModelView):
    can_create = True
    can_edit = False
    can_delete = False          # revoked, not deleted: the call log keeps naming them
    create_template = "admin/api_tokens/create.html"

    column_list = ("name", "prefix", "user", "scopes", "state", "created_at", "expires_at",
                   "last_used_at")
    column_details_list = column_list + ("revoked_at",)
    column_default_sort = [("created_at", True), ("id", True)]
    column_sortable_list = ("name", "created_at", "expires_at", "last_used_at")
    column_searchable_list = ("name", "prefix")
    column_filters = (IntEqualFilter(m.ApiToken.user_id, "Usuario"),)
    column_formatters = {"state": _state_badge,
                         "prefix": lambda v, c, t, n: f"{tokens.PREFIX}{t.prefix}_…"}
    column_formatters_detail = column_formatters
    column_labels = {"name": "Nombre", "prefix": "Token", "user": "Usuario",
                     "scopes": "Alcances", "state": "Estado", "created_at": "Creado",
                     "expires_at": "Vence", "last_used_at": "Último uso",
                     "revoked_at": "Revocado"}
    column_descriptions = {
        "prefix": "Solo el comienzo: el token completo se mostró una vez, al crearlo.",
        "last_used_at": "Se actualiza como mucho una vez por minuto.",
    }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """GET: the form. POST (CSRF-checked): create the token and show it once."""
        form = TokenForm(get_form_data())
        back = self.get_url(".index_view")
        if request.method == "POST":
            if form.validate():
                try:
                    expires = expiry_of(form.vence.data, fmt.operator_tz())
                    row, secret = tokens.create(current_user.id, form.nombre.data,
                                                form.alcances.data, expires)
                    db.session.commit()
                except ValueError as exc:
                    db.session.rollback()
                    target = form.alcances if "alcance" in str(exc).lower() else (
                        form.vence if "vencimiento" in str(exc) else form.nombre)
                    target.errors = list(target.errors) + [str(exc)]
                else:
                    return self.render("admin/api_tokens/created.html", token=row,
                                       secret=secret, return_url=back)
            elif "csrf_token" in form and form.csrf_token.errors:
                flash(CSRF_MESSAGE, "error")
        return self.render(self.create_template, form=form, return_url=back)

    @action("revocar", "Revocar",
            "¿Revocar los tokens seleccionados? Dejarán de funcionar de inmediato y no se "
            "pueden reactivar.")
    def action_revoke(self, ids):
        keys = [int(i) for i in ids if str(i).isdigit()]
        count = tokens.revoke(keys)
        db.session.commit()
        if count:
            flash(plural(count, "Se revocó 1 token.", f"Se revocaron {count} tokens."),
                  "success")
        else:
            flash("No se revocó ningún token: ya estaban revocados.", "warning")


class ApiCallView(FachoModelView):
    can_create = False
    can_edit = False
    can_delete = False

    column_list = ("at", "token_name", "username", "method", "route", "status",
                   "duration_ms")
    column_details_list = column_list
    column_default_sort = [("at", True), ("id", True)]
    count_noun = "llamadas"
    scale_sortable = ("at",)
    column_sortable_list = ("at", "token_name", "username", "status", "duration_ms")
    column_searchable_list = ("token_name", "username", "route")
    column_filters = (IntEqualFilter(m.ApiCall.status, "Estado HTTP"),
                      FilterLike(m.ApiCall.token_name, "Token"),
                      FilterEqual(m.ApiCall.method, "Método",
                                  options=[("GET", "GET"), ("POST", "POST")]))
    column_labels = {"at": "Fecha", "token_name": "Token", "username": "Usuario",
                     "method": "Método", "route": "Ruta", "status": "Estado HTTP",
                     "duration_ms": "Duración (ms)"}
    column_descriptions = {"at": "Hora local del operador.",
                           "token_name": "Vacío: la llamada no presentó un token válido."}
