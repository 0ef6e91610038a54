"""The panel's home page ("Inicio"): the health facts of `flask facho status` and the
pictures of DESIGN 7, all from local assets (OLT networks often have no internet).

Redis being down never makes the page fail: the database figures are shown and a Spanish
message says what cannot be shown and why it matters.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_admin import AdminIndexView, expose

from admin import formatters as fmt
from admin.security import StaffOnly
from facho import messaging
from facho.ops import dashboard
from facho.ops import status as ops
from facho.models import STATUSES, utcnow
from admin.jobs import describe_job
from facho.redis_conn import get_redis

log = logging.getLogger("facho.admin")

REDIS_DOWN = ("⚠️ Redis no responde: no se pueden mostrar las colas, los workers, el "
              "scheduler ni los cupos de OLT, y no se pueden encolar ejecuciones hasta que "
              "vuelva. Verifique REDIS_URL y que Redis esté activo.")
MAX_NO_RATE_LISTED = 10
QUEUE_LABELS = {messaging.SCHEDULER_QUEUE: "Planificador (scheduler)",
                messaging.DISCOVERY_QUEUE: "Descubrimiento",
                messaging.GET_QUEUE: "Consultas (get)",
                messaging.MAINTENANCE_QUEUE: "Mantenimiento",
                messaging.ALERTS_QUEUE: "Alertas y notificaciones"}


def _redis_client():
    try:
        return get_redis()
    except Exception:  # noqa: BLE001 - an unusable configuration reads as "Redis down"
        log.warning("event=dashboard_redis_unavailable")
        return None


def health_facts() -> dict:
    """ops.status_report plus what the page needs to show it; never raises for Redis."""
    try:
        report = ops.status_report(_redis_client())
    except Exception:  # noqa: BLE001 - e.g. an unreadable record in Redis: say so, go on
        log.exception("event=dashboard_status_failed")
        report = {"executions_24h": ops.executions_by_status(utcnow() - timedelta(hours=24)),
                  "problems": ["no se pudo leer el estado de Redis (detalle en el registro)"],
                  "healthy": False}
    report["redis_down"] = "queues" not in report
    scheduler = report.get("scheduler") or {}
    last = scheduler.get("last_tick") or {}
    report["scheduler_view"] = {
        "leader": scheduler.get("leader"),
        "age": (fmt.ago(scheduler["last_tick_age_s"])
                if scheduler.get("last_tick_age_s") is not None else None),
        "healthy": bool(scheduler.get("healthy")),
        "tick": {k: v for k, v in last.items() if k not in ("owner", "at_ms")},
    }
    slots = report.get("olt_slots") or []
    for slot in slots:   # stored as UTC ISO text; read on the operator's clock like the rest
        slot["expires_local"] = fmt.local_time(datetime.fromisoformat(slot["expires_at"]))
    report["stale_slots"] = [s for s in slots if s["stale"]]
    for worker in report.get("workers") or []:
        worker["started"] = fmt.ago(worker["up_s"])
    return report


def chart_data(tz) -> dict:
    """Everything the page's charts draw, as plain JSON (also checked by the tests)."""
    per_hour = dashboard.executions_per_hour(tz)
    rates = dashboard.success_rate_per_olt()
    no_rate = dashboard.olts_without_rate(rates)
    return {
        "per_hour": {
            "labels": per_hour["labels"],
            "series": [{"status": status, "label": fmt.STATUS_LABELS[status][0],
                        "data": per_hour["series"][status]} for status in STATUSES],
        },
        "success_rate": rates,
        "no_rate": no_rate[:MAX_NO_RATE_LISTED],
        "no_rate_more": max(0, len(no_rate) - MAX_NO_RATE_LISTED),
        "lag": dashboard.start_lag_per_hour(tz),
    }


def next_jobs_rows() -> list[dict]:
    now = utcnow()
    jobs = dashboard.next_jobs()
    olts = dashboard.enabled_olts_per_job([job.id for job, _ in jobs])  # not every job host
    return [{"id": job.id, "nombre": job.nombre, "schedule": describe_job(job),
             "at": fmt.local_time(at), "remaining": fmt.humanize(at - now),
             "olts": olts.get(job.id, 0)}
            for job, at in jobs]


class DashboardView(StaffOnly, AdminIndexView):
    @expose("/")
    def index(self):
        tz = current_app.config["FACHO"].tz
        return self.render(
            "admin/dashboard.html",
            health=health_facts(),
            charts=chart_data(tz),
            next_jobs=next_jobs_rows(),
            onus=dashboard.onus_per_olt(),
            status_labels=fmt.STATUS_LABELS,
            queue_labels=QUEUE_LABELS,
            redis_down_message=REDIS_DOWN,
            timezone=current_app.config["FACHO"].timezone,
            generated_at=fmt.local_time(utcnow()),
        )
