"""Ejecuciones: what ran, when, for whom and how it ended. Read-only: the history an operator
trusts must not be editable from the panel."""
from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from markupsafe import Markup, escape

from admin import formatters as fmt
from admin.base import FachoModelView, options_from
from admin.job_hosts import job_options, olt_options
from facho import models as m

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


def _to_utc(text: str) -> datetime:
    """A wall time typed in the filter (operator's zone) -> the aware UTC the column holds."""
    naive = datetime.strptime(text.strip(), LOCAL_FORMAT)
    return naive.replace(tzinfo=current_app.config["FACHO"].tz).astimezone(m.UTC)


class LocalBetweenFilter(sqla_filters.DateTimeBetweenFilter):
    def clean(self, value):
        return [_to_utc(part) for part in value.split(" to ")]

    def validate(self, value):
        try:
            start, end = self.clean(value)
        except ValueError:
            return False
        return start <= end


class LocalAfterFilter(sqla_filters.DateTimeGreaterFilter):
    def clean(self, value):
        return _to_utc(value)

    def operation(self):
        return "desde"

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) >= value)


class LocalBeforeFilter(sqla_filters.DateTimeSmallerFilter):
    def clean(self, value):
        return _to_utc(value)

    def operation(self):
        return "hasta"

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) <= value)


class OriginFilter(BaseSQLAFilter):
    """Manual (someone pressed run) or scheduled (requested_by is empty)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=(("manual", "Manual"),
                                                ("programada", "Programada")))

    def validate(self, value):
        return value in ("manual", "programada")

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_(None) if value == "programada" else column.isnot(None))

    def operation(self):
        return "es"


def user_options():
    return options_from(lambda: sa.select(m.User.id, m.User.username).order_by(m.User.username))


def _duration(view, context, execution, name):
    if execution.duration_ms is not None:
        return fmt.duration(execution.duration_ms)
    if execution.status == m.RUNNING and execution.started_at:
        elapsed = int((m.utcnow() - execution.started_at).total_seconds() * 1000)
        return f"en curso ({fmt.duration(elapsed)})"
    return "—"


def _requested_by(view, context, execution, name):
    return execution.requested_by.username if execution.requested_by else "Programada"


def _summary(view, context, execution, name):
    if not execution.result_summary:
        return "—"
    text = json.dumps(execution.result_summary, indent=2, ensure_ascii=False, sort_keys=True)
    return Markup(f"<pre class='mb-0'>{escape(text)}</pre>")


def _short_error(view, context, execution, name):
    text = execution.error_message or ""
    return text if len(text) <= 120 else text[:117] + "…"


class ExecutionView(FachoModelView):
    can_create = False
    can_edit = False
    can_delete = False

    column_list = ("id", "created_at", "job", "olt", "status", "scheduled_for",
                   "requested_by", "attempt", "duration_ms", "error_message")
    column_details_list = ("id", "job", "olt", "job_host", "status", "scheduled_for",
                           "requested_by", "message_id", "attempt", "created_at",
                           "started_at", "finished_at", "heartbeat_at", "duration_ms",
                           "worker", "error_message", "result_summary")
    column_default_sort = [("created_at", True), ("id", True)]
    column_sortable_list = ("id", "created_at", "status", "scheduled_for", "attempt",
                            "duration_ms", ("job", "job.nombre"), ("olt", "olt.abreviatura"))
    column_filters = (
        FilterEqual(m.Execution.status, "Estado", options=fmt.STATUS_CHOICES),
        IntEqualFilter(m.Execution.job_id, "Tarea", options=job_options()),
        IntEqualFilter(m.Execution.olt_id, "OLT", options=olt_options()),
        IntEqualFilter(m.Execution.requested_by_id, "Solicitada por", options=user_options()),
        OriginFilter(m.Execution.requested_by_id, "Origen"),
        LocalBetweenFilter(m.Execution.created_at, "Creada"),
        LocalAfterFilter(m.Execution.created_at, "Creada"),
        LocalBeforeFilter(m.Execution.created_at, "Creada"),
    )
    column_formatters = {
        "status": lambda v, c, execution, n: fmt.status_badge(execution.status),
        "duration_ms": _duration,
        "requested_by": _requested_by,
        "error_message": _short_error,
        "scheduled_for": lambda v, c, execution, n: (
            fmt.local_time(execution.scheduled_for) if execution.scheduled_for else "manual"),
    }
    column_formatters_detail = dict(column_formatters, result_summary=_summary,
                                    error_message=lambda v, c, e, n: e.error_message or "—")
    column_labels = {
        "id": "N.º", "job": "Tarea", "olt": "OLT", "job_host": "Tarea por OLT",
        "status": "Estado", "scheduled_for": "Turno", "requested_by": "Solicitada por",
        "message_id": "Mensaje", "attempt": "Intento", "created_at": "Creada",
        "started_at": "Inicio", "finished_at": "Fin", "heartbeat_at": "Último latido",
        "duration_ms": "Duración", "worker": "Worker", "error_message": "Error / motivo",
        "result_summary": "Resultado",
    }
    column_descriptions = {
        "scheduled_for": "El turno de la programación; «manual» si alguien la ejecutó.",
        "created_at": "Hora local del operador. Filtro: AAAA-MM-DD HH:MM:SS.",
    }
