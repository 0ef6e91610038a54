"""Ejecuciones: what ran, when, for whom and how it ended. Read-only: the history an operator
trusts must not be editable from the panel."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.helpers import get_form_data
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from admin import formatters as fmt
from admin.base import FachoModelView, options_from, plural
from admin.csv_export import CsvExportMixin
from admin.forms import FachoForm
from admin.lists import AjaxEqualFilter, job_ref, olt_ref
from facho import models as m
from facho.api import csv_export
from facho.extensions import db
from facho.executions.manual_run import rerun_pairs
from facho.messaging import MAINTENANCE_QUEUE, BrokerUnavailable, get_broker, purge_message
from facho.ops.status import requested_by_label

log = logging.getLogger("facho.admin")

REFRESH_INTERVAL_MS = 3000
MAX_IDS_LISTED = 10

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


def duration_text(execution) -> str:
    """The last attempt's duration; after several attempts also the total since the
    execution was due (its slot, or its creation for a manual run) and how many there
    were: "400 ms (3 intentos, 12.5 s en total)"."""
    last = fmt.duration(execution.duration_ms)
    if (execution.attempt or 0) <= 1 or execution.finished_at is None:
        return last
    since = execution.created_at
    if execution.scheduled_for is not None and (since is None or execution.scheduled_for > since):
        since = execution.scheduled_for   # a reservation is created ahead of its slot
    if since is None:
        return f"{last} ({execution.attempt} intentos)"
    total_ms = max(0, int((execution.finished_at - since).total_seconds() * 1000))
    return f"{last} ({execution.attempt} intentos, {fmt.duration(total_ms)} en total)"


def _duration(view, context, execution, name):
    if execution.duration_ms is not None:
        return duration_text(execution)
    if execution.status == m.RUNNING and execution.started_at:
        elapsed = int((m.utcnow() - execution.started_at).total_seconds() * 1000)
        return f"en curso ({fmt.duration(elapsed)})"
    return "—"


def requested_by_text(execution) -> str:
    user = execution.requested_by
    return requested_by_label(user.username if user is not None else None,
                              execution.scheduled_for)


def _requested_by(view, context, execution, name):
    return requested_by_text(execution)


# result_summary keys (facho.inventory.discovery, facho.inventory.get_values, facho.inventory.writes) in reading order.
SUMMARY_LABELS = {
    "warnings": "Advertencias",
    "note": "Nota",
    "found": "ONUs encontradas",
    "new": "Nuevas",
    "returned": "Volvieron a aparecer",
    "updated": "Actualizadas",
    "unchanged": "Sin cambios",
    "gone": "Marcadas ausentes",
    "missing_pending": "No respondieron (aún presentes)",
    "absent_total": "Ausentes en total",
    "onus": "ONUs consultadas",
    "onus_updated": "ONUs con cambios",
    "missing": "Sin valor",
    "readings": "Lecturas guardadas",
    "invalid_values": "Valores rechazados",
    "invalid_examples": "Valores rechazados por OID (con un ejemplo)",
    "method": "Método",
    "oids": "OIDs",
    "ignored_oids": "OIDs ignorados",
    "per_oid": "Por OID",
    "formula": "Fórmula de índice",
    "rows": "Filas de descubrimiento",
    "invalid_index": "Índices inválidos",
    "invalid_index_examples": "Ejemplos de índices inválidos",
    "empty_walk": "Tabla vacía",
    "varbinds": "Varbinds leídos",
    "requests": "Peticiones SNMP",
    "walk_ms": "Tiempo de lectura SNMP",
    "duration_ms": "Duración (lectura y guardado)",
    "attempt": "Intento",
}


def _summary_value(key: str, value) -> Markup:
    if isinstance(value, dict):
        return summary_list(value)
    if value is None:
        return Markup("—")
    if isinstance(value, bool):
        return Markup("Sí" if value else "No")
    if isinstance(value, int) and key.endswith("_ms"):
        return escape(fmt.duration(value))
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return escape(", ".join(str(v) for v in value)) if value else Markup("—")
        return Markup("<br>").join(_summary_value(key, v) for v in value)
    return escape(str(value))


def summary_list(summary: dict) -> Markup:
    """A result summary as a definition list: known keys in Spanish and in reading order,
    unknown ones after them under their own name."""
    known = [k for k in SUMMARY_LABELS if k in summary]
    rest = sorted((k for k in summary if k not in SUMMARY_LABELS), key=str)
    items = []
    for key in known + rest:
        label = SUMMARY_LABELS.get(key, str(key))
        items.append(Markup('<dt class="col-sm-4" data-key="{}">{}</dt>'
                            '<dd class="col-sm-8">{}</dd>').format(
            key, label, _summary_value(str(key), summary[key])))
    return Markup('<dl class="row facho-summary">') + Markup("").join(items) + Markup("</dl>")


def _summary(view, context, execution, name):
    summary = execution.result_summary
    if not summary:
        return "—"
    if not isinstance(summary, dict):
        return escape(str(summary))
    raw = json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True)
    return summary_list(summary) + Markup(
        '<details class="mt-2"><summary class="small text-muted">Ver JSON</summary>'
        '<pre class="small mb-0">{}</pre></details>').format(raw)


def _full_error(view, context, execution, name):
    if not execution.error_message:
        return "—"
    return Markup('<pre class="facho-error">{}</pre>').format(execution.error_message)


def _short_error(view, context, execution, name):
    text = execution.error_message or ""
    return text if len(text) <= 120 else text[:117] + "…"


class PurgeForm(FachoForm):
    dias = IntegerField(
        "Días", validators=[InputRequired("Indique un número de días."),
                            NumberRange(1, 3650, "Debe estar entre 1 y 3650 días.")],
        description="Se eliminan las ejecuciones terminadas creadas hace más de estos días.")


def send_purge(days: int) -> str:
    message = purge_message(days)
    try:
        get_broker().enqueue(message)
    except Exception as exc:  # redis errors, connection refused, timeouts
        raise BrokerUnavailable(
            "No se pudo programar la eliminación: el broker (Redis) no responde. "
            "Verifique REDIS_URL y que Redis esté activo.") from exc
    return message.message_id


def finished_before(cutoff: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(m.Execution)
        .where(m.Execution.created_at < cutoff, m.Execution.status.in_(m.FINAL_STATUSES)))


def _ids_text(rows) -> str:
    shown = ", ".join(f"#{r.id} ({fmt.STATUS_LABELS.get(r.status, (r.status,))[0]})"
                      for r in rows[:MAX_IDS_LISTED])
    extra = len(rows) - MAX_IDS_LISTED
    return shown + (f" y {extra} más" if extra > 0 else "")


class ExecutionView(CsvExportMixin, FachoModelView):
    csv_kind = "ejecuciones"
    csv_columns = csv_export.EXECUTION_COLUMNS
    can_create = False
    can_edit = False
    can_delete = False
    list_template = "admin/executions/list.html"
    count_noun = "ejecuciones"
    scale_sortable = ("id", "created_at", "status")   # what its indexes serve
    form_ajax_refs = {"job": job_ref(), "olt": olt_ref()}

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
        AjaxEqualFilter(m.Execution.job_id, "Tarea", ref="job"),
        AjaxEqualFilter(m.Execution.olt_id, "OLT", ref="olt"),
        IntEqualFilter(m.Execution.requested_by_id, "Solicitada por", options=user_options()),
        OriginFilter(m.Execution.requested_by_id, "Origen"),
        LocalBetweenFilter(m.Execution.created_at, "Creada"),
        LocalAfterFilter(m.Execution.created_at, "Creada"),
        LocalBeforeFilter(m.Execution.created_at, "Creada"),
    )
    column_formatters = {
        "status": lambda v, c, execution, n: fmt.execution_status_badge(execution),
        "duration_ms": _duration,
        "requested_by": _requested_by,
        "error_message": _short_error,
        "scheduled_for": lambda v, c, execution, n: (
            fmt.local_time(execution.scheduled_for) if execution.scheduled_for else "manual"),
    }
    column_formatters_detail = dict(column_formatters, result_summary=_summary,
                                    error_message=_full_error)
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
        "duration_ms": "La del último intento; tras varios intentos, también el total desde "
                       "su turno (o su creación) hasta el fin.",
        "created_at": "Hora local del operador. Filtro: AAAA-MM-DD HH:MM:SS.",
    }

    # --- the list refreshes itself while something on it is pending or running ---------

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["live_refresh"] = any(row.status in m.ACTIVE_STATUSES
                                         for row in kwargs.get("data") or ())
            kwargs["refresh_interval_ms"] = REFRESH_INTERVAL_MS
        return super().render(template, **kwargs)

    # --- "🔁 Re-ejecutar" failed executions -------------------------------------------

    @action("reejecutar", "🔁 Re-ejecutar",
            "¿Re-ejecutar ahora las ejecuciones fallidas seleccionadas? Se creará una "
            "ejecución manual nueva por cada tarea y OLT; las que no fallaron se omiten.")
    def action_rerun(self, ids):
        keys = [int(i) for i in ids if str(i).isdigit()]
        rows = db.session.execute(
            sa.select(m.Execution.id, m.Execution.status, m.Execution.job_id,
                      m.Execution.olt_id).where(m.Execution.id.in_(keys))
            .order_by(m.Execution.id)).all()
        failed = [r for r in rows if r.status == m.FAILED]
        refused = [r for r in rows if r.status != m.FAILED]
        if refused:
            flash(f"Solo se re-ejecutan ejecuciones fallidas; "
                  f"{plural(len(refused), 'se omitió', 'se omitieron')}: {_ids_text(refused)}.",
                  "warning")
        if not failed:
            if not refused:
                flash("No se seleccionó ninguna ejecución.", "warning")
            return
        pairs = {(r.job_id, r.olt_id) for r in failed}
        self.flash_report(lambda: rerun_pairs(pairs, current_user.id))

    # --- "Eliminar ejecuciones antiguas": batched, in the background ---------------------

    @expose("/eliminar-antiguas/", methods=("GET", "POST"))
    def purge_view(self):
        config = current_app.config["FACHO"]
        form = PurgeForm(get_form_data(), dias=config.retention_days)
        if request.method == "POST" and form.validate():
            days = form.dias.data
            pending = finished_before(m.utcnow() - timedelta(days=days))
            try:
                message_id = send_purge(days)
            except BrokerUnavailable as exc:
                flash(f"❌ {exc}", "error")
            else:
                log.info("event=purge_requested days=%s executions=%s user=%s message=%s",
                         days, pending, current_user.id, message_id)
                flash(f"🧹 Eliminación programada en segundo plano (cola {MAINTENANCE_QUEUE}): "
                      f"se borrarán por lotes las ejecuciones terminadas anteriores a {days} "
                      f"días (ahora {pending}).", "success")
                return redirect(self.get_url(".index_view"))
        elif request.method == "POST":
            if "csrf_token" in form and form.csrf_token.errors:
                flash(form.csrf_token.errors[0], "error")
        counts = [(days, finished_before(m.utcnow() - timedelta(days=days)))
                  for days in sorted({7, 30, 90, config.retention_days})]
        return self.render("admin/executions/purge.html", form=form, counts=counts,
                           retention_days=config.retention_days,
                           return_url=self.get_url(".index_view"))
