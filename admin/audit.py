"""Auditoría: who changed data from the panel, when, and how much (facho.audit writes the
rows). Read-only, newest first: a log an operator could edit would prove nothing."""
from __future__ import annotations

import sqlalchemy as sa
from flask import has_app_context
from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from markupsafe import Markup

from admin.base import FachoModelView
from facho import audit
from facho import models as m

SHORT_DETAIL = 160


def _action_options():
    """The actions present in the log, labelled in Spanish (the value stays the code)."""
    from facho.extensions import db
    if not has_app_context():
        return []
    codes = db.session.execute(sa.select(m.AuditEvent.action).distinct()
                               .order_by(m.AuditEvent.action)).scalars().all()
    return [(code, audit.action_label(code)) for code in codes]


def _short_detail(view, context, event, name):
    text = event.detail or ""
    return text if len(text) <= SHORT_DETAIL else text[:SHORT_DETAIL - 1] + "…"


def _full_detail(view, context, event, name):
    return Markup('<pre class="facho-error">{}</pre>').format(event.detail) \
        if event.detail else "—"


class AuditEventView(FachoModelView):
    can_create = False
    can_edit = False
    can_delete = False

    column_list = ("at", "username", "action", "target", "count", "detail")
    column_details_list = column_list
    column_default_sort = [("at", True), ("id", True)]
    count_noun = "registros"
    scale_sortable = ("at",)
    column_sortable_list = ("at", "username", "action", "target", "count")
    column_searchable_list = ("username", "target", "detail")
    column_filters = (
        FilterEqual(m.AuditEvent.action, "Acción", options=_action_options),
        FilterLike(m.AuditEvent.username, "Usuario"),
        FilterLike(m.AuditEvent.target, "Objetivo"),
    )
    column_formatters = {
        "action": lambda v, c, event, n: audit.action_label(event.action),
        "detail": _short_detail,
    }
    column_formatters_detail = dict(column_formatters, detail=_full_detail)
    column_labels = {"at": "Fecha", "username": "Usuario", "action": "Acción",
                     "target": "Objetivo", "count": "Cantidad", "detail": "Detalle"}
    column_descriptions = {
        "at": "Hora local del operador.",
        "target": "Sobre qué se hizo (por ejemplo la OLT de las ONUs eliminadas).",
        "count": "Cuántos registros cambió.",
    }
