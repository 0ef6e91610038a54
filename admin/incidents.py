"""Incidents (issue 13), staff only: the list with filters (state, OLT, PON, kind, age),
the detail page with "Reconocer" (with an optional note) and "Resolver", and the count of
open incidents the navigation bar shows. Every change is a compare-and-set in
`facho.monitoring.incidents` with its notifications queued in the same transaction; the
delivery is woken after the commit."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_login import current_user

from admin import formatters as fmt
from admin.base import FachoModelView
from admin.csv_export import CsvExportMixin
from admin.lists import AjaxEqualFilter, olt_ref
from facho.api import csv_export
from facho import models as m
from facho.extensions import db
from facho.models import utcnow
from facho.monitoring import incidents, messages, trigger
from facho.monitoring import rules as kinds

STATE_NAMES = {"abierto": "Abierto", "reconocido": "Reconocido", "resuelto": "Resuelto"}
AGES = {"1h": ("Última hora", timedelta(hours=1)), "24h": ("Últimas 24 h", timedelta(days=1)),
        "7d": ("Últimos 7 días", timedelta(days=7)), "30d": ("Últimos 30 días",
                                                            timedelta(days=30))}


class AgeFilter(BaseSQLAFilter):
    """Opened within the chosen period."""

    def apply(self, query, value, alias=None):
        period = AGES.get(value)
        if period is None:
            return query
        return query.filter(m.Incident.opened_at >= utcnow() - period[1])

    def operation(self):
        return lazy_gettext("equals")


class PonFilter(BaseSQLAFilter):
    """A PON written as the ONU names read it: "0/1/3" or "1/3"."""

    def apply(self, query, value, alias=None):
        parts = [p for p in str(value).strip().split("/") if p != ""]
        if len(parts) >= 2 and all(p.isdigit() for p in parts[-2:]):
            return query.filter(m.Incident.slot == int(parts[-2]),
                                m.Incident.port == int(parts[-1]))
        return query.filter(sa.false())

    def operation(self):
        return lazy_gettext("equals")


def _pon(view, context, incident, name):
    if incident.slot is None and incident.port is None:
        return "—"
    return f"0/{incident.slot}/{incident.port}"


def _folded(view, context, incident, name):
    return messages.folded_text(incident.onus_suppressed) if incident.onus_suppressed else "—"


def _duration(start, end):
    if start is None or end is None:
        return "—"
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


class IncidentView(CsvExportMixin, FachoModelView):
    csv_kind = "incidentes"
    csv_columns = csv_export.INCIDENT_COLUMNS
    list_template = "admin/incidents/list.html"
    count_noun = "incidentes"
    scale_sortable = ("id", "state", "opened_at")
    form_ajax_refs = {"olt": olt_ref()}
    can_create = can_edit = can_delete = False
    details_template = "admin/incidents/details.html"
    column_list = ("id", "state", "severity", "kind", "title", "olt", "pon", "cause",
                   "onus_included", "onus_suppressed", "flapping_count", "opened_at")
    column_details_list = ("id", "state", "severity", "kind", "title", "olt", "pon", "cause",
                           "detail", "onus_included", "onus_suppressed", "flapping_count",
                           "opened_at", "acknowledged_at", "acknowledged_by", "ack_note",
                           "time_to_ack", "resolved_at", "resolved_by", "time_to_resolve",
                           "parent_id")
    column_default_sort = ("opened_at", True)
    column_sortable_list = ("id", "state", "severity", "kind", "opened_at")
    column_filters = (
        FilterEqual(m.Incident.state, "Estado", options=list(STATE_NAMES.items())),
        AjaxEqualFilter(m.Incident.olt_id, "OLT", ref="olt"),
        PonFilter(m.Incident.slot, "PON (0/slot/puerto)"),
        FilterEqual(m.Incident.kind, "Tipo", options=list(kinds.KIND_NAMES.items())),
        AgeFilter(m.Incident.opened_at, "Abierto en", options=[
            (key, label) for key, (label, _) in AGES.items()]),
    )
    column_labels = {
        "id": "N.º", "state": "Estado", "severity": "Severidad", "kind": "Tipo",
        "title": "Incidente", "olt": "OLT", "pon": "PON", "cause": "Causa",
        "detail": "Detalle", "onus_included": "ONUs", "onus_suppressed": "Alertas incluidas",
        "flapping_count": "Oscilaciones", "opened_at": "Abierto",
        "acknowledged_at": "Reconocido", "acknowledged_by": "Reconocido por",
        "ack_note": "Nota", "time_to_ack": "Tiempo hasta reconocer",
        "resolved_at": "Resuelto", "resolved_by": "Resuelto por",
        "time_to_resolve": "Tiempo hasta resolver", "parent_id": "Incluido en",
    }
    column_formatters = {
        "state": lambda v, c, i, n: STATE_NAMES.get(i.state, i.state),
        "severity": lambda v, c, i, n: kinds.SEVERITY_NAMES.get(i.severity, i.severity),
        "kind": lambda v, c, i, n: kinds.KIND_NAMES.get(i.kind, i.kind),
        "pon": _pon, "onus_suppressed": _folded,
        "resolved_by": lambda v, c, i, n: (i.resolved_by or "automático")
        if i.resolved_at else "—",
        "time_to_ack": lambda v, c, i, n: _duration(i.opened_at, i.acknowledged_at),
        "time_to_resolve": lambda v, c, i, n: _duration(i.opened_at, i.resolved_at),
        "opened_at": lambda v, c, i, n: fmt.local_time(i.opened_at),
        "acknowledged_at": lambda v, c, i, n: fmt.local_time(i.acknowledged_at)
        if i.acknowledged_at else "—",
        "resolved_at": lambda v, c, i, n: fmt.local_time(i.resolved_at)
        if i.resolved_at else "—",
    }
    column_formatters_detail = column_formatters

    def _public_url(self) -> str:
        return current_app.config["FACHO"].public_url

    def _change(self, ids, change, done_text, none_text):
        now, changed = utcnow(), 0
        for incident_id in ids:
            changed += bool(change(int(incident_id), now))
        db.session.commit()
        if changed:
            trigger.wake_delivery()
            flash(done_text.format(n=changed), "success")
        else:
            flash(none_text, "warning")

    def _acknowledge(self, ids, note=None):
        self._change(ids, lambda i, now: incidents.acknowledge(
            i, current_user.username, note, now, self._public_url()),
            "Incidentes reconocidos: {n}.", "Ningún incidente abierto para reconocer.")

    def _resolve(self, ids):
        self._change(ids, lambda i, now: incidents.resolve(
            i, now, self._public_url(), by=current_user.username),
            "Incidentes resueltos: {n}.", "Ningún incidente abierto para resolver.")

    @action("reconocer", "Reconocer", "¿Reconocer los incidentes seleccionados?")
    def action_acknowledge(self, ids):
        self._acknowledge([i for i in ids if str(i).isdigit()])

    @action("resolver", "Resolver", "¿Resolver a mano los incidentes seleccionados?")
    def action_resolve(self, ids):
        self._resolve([i for i in ids if str(i).isdigit()])

    @expose("/<int:incident_id>")
    def by_number(self, incident_id):
        """The link notifications carry."""
        return redirect(url_for(".details_view", id=incident_id))

    @expose("/<int:incident_id>/reconocer", methods=("POST",))
    def acknowledge_view(self, incident_id):
        note = (request.form.get("nota") or "").strip()[:1000] or None
        self._acknowledge([incident_id], note)
        return redirect(url_for(".details_view", id=incident_id))

    @expose("/<int:incident_id>/resolver", methods=("POST",))
    def resolve_view(self, incident_id):
        self._resolve([incident_id])
        return redirect(url_for(".details_view", id=incident_id))


def open_incidents_badge() -> int:
    """The navigation bar's count (0 when not logged in or on any error)."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return 0
    try:
        return incidents.open_count()
    except Exception:  # noqa: BLE001 - a badge never breaks a page
        db.session.rollback()
        return 0
