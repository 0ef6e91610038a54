"""Prometheus metrics (`GET /api/v1/metrics`), read at scrape time from the database and
Redis.

Every figure is a gauge computed from the source of truth when Prometheus asks, not a
counter kept in a process: gunicorn's several web processes and the Dramatiq workers then
need no shared multiprocess directory, and whichever process answers gives the same
numbers. Each scrape costs a handful of GROUP BY queries and one Redis pipeline.

Labels are bounded: job type, state, OLT name, PON, queue, incident kind. No per-ONU
series (a NOC with 200,000 ONUs would send Prometheus 200,000 series a scrape; the ONU
history lives in Facho and its API).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily

from facho.extensions import db
from facho.inventory import network
from facho.models import (FINAL_STATUSES, OPEN_INCIDENT_STATES, STATUSES, Execution, Incident,
                          Olt, Onu, SnmpJob, utcnow)
from facho.ops import status as ops_status

DURATION_WINDOW = timedelta(hours=1)
DURATION_BUCKETS_S = (1, 2, 5, 10, 30, 60, 120, 300, 600)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def execution_family() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "facho_executions", "Ejecuciones guardadas por tipo de tarea y estado "
        "(las antiguas se borran según FACHO_RETENTION_DAYS)", labels=["job_type", "status"])
    counts = {(t, s): n for t, s, n in db.session.execute(
        sa.select(SnmpJob.job_type, Execution.status, sa.func.count())
        .join(SnmpJob, SnmpJob.id == Execution.job_id)
        .group_by(SnmpJob.job_type, Execution.status))}
    for job_type in sorted({t for t, _ in counts} | {"descubrimiento", "get"}):
        for status in STATUSES:
            family.add_metric([job_type, status], counts.get((job_type, status), 0))
    return family


def onu_families() -> list[GaugeMetricFamily]:
    by_state = GaugeMetricFamily("facho_onus", "ONUs del inventario por OLT y estado",
                                 labels=["olt", "status"])
    presence = GaugeMetricFamily("facho_onus_present", "ONUs presentes (1) y ausentes (0) "
                                 "por OLT", labels=["olt", "present"])
    names = dict(db.session.execute(sa.select(Olt.id, Olt.abreviatura)).all())
    states: dict[tuple[str, str], int] = {}
    present: dict[tuple[str, str], int] = {}
    for olt_id, is_present, state, n in db.session.execute(
            sa.select(Onu.olt_id, Onu.present, Onu.status, sa.func.count())
            .group_by(Onu.olt_id, Onu.present, Onu.status)):
        olt = names.get(olt_id, str(olt_id))
        key = (olt, state or "")
        states[key] = states.get(key, 0) + n
        pkey = (olt, "1" if is_present else "0")
        present[pkey] = present.get(pkey, 0) + n
    for labels, n in sorted(states.items()):
        by_state.add_metric(list(labels), n)
    for olt in sorted(names.values()):
        for flag in ("1", "0"):
            presence.add_metric([olt, flag], present.get((olt, flag), 0))
    return [by_state, presence]


def redis_families(client) -> list[GaugeMetricFamily]:
    """Queues, workers and the scheduler, as `flask facho status` reads them; `facho_redis_up`
    0 (and nothing else from Redis) when Redis does not answer."""
    up = GaugeMetricFamily("facho_redis_up", "Redis responde (1) o no (0)")
    try:
        depths = ops_status.queue_depths(client)
        workers = ops_status.live_workers(client)
        scheduler = ops_status.scheduler_state(client)
    except Exception:  # noqa: BLE001 - redis errors, timeouts: reported as a 0
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    queue = GaugeMetricFamily("facho_queue_messages", "Mensajes por cola y clase "
                              "(ready, delayed, dead)", labels=["queue", "kind"])
    for name, kinds in sorted(depths.items()):
        for kind, n in sorted(kinds.items()):
            queue.add_metric([name, kind], n)
    live = GaugeMetricFamily("facho_workers_alive", "Procesos worker vivos")
    live.add_metric([], len(workers))
    healthy = GaugeMetricFamily("facho_scheduler_healthy", "El planificador líder hizo un "
                                f"tick en los últimos {ops_status.TICK_STALE_S} s (1) o no (0)")
    healthy.add_metric([], 1 if scheduler["healthy"] else 0)
    age = GaugeMetricFamily("facho_scheduler_last_tick_age_seconds",
                            "Segundos desde el último tick del planificador (NaN: ninguno)")
    tick_age = scheduler["last_tick_age_s"]
    age.add_metric([], float("nan") if tick_age is None else tick_age)
    return [up, queue, live, healthy, age]


def job_families() -> list[GaugeMetricFamily]:
    missed = GaugeMetricFamily("facho_job_missed_slots", "Turnos perdidos acumulados por "
                               "tarea habilitada", labels=["job"])
    for name, n in db.session.execute(sa.select(SnmpJob.nombre, SnmpJob.missed_slots)
                                      .where(SnmpJob.enabled.is_(True))
                                      .order_by(SnmpJob.nombre)):
        missed.add_metric([name], n or 0)
    return [missed]


def duration_family() -> GaugeHistogramMetricFamily:
    """Durations of the executions that ended in the last hour, per job type (a gauge
    histogram read from the rows: `histogram_quantile` works on its buckets)."""
    family = GaugeHistogramMetricFamily(
        "facho_execution_duration_seconds", "Duración de las ejecuciones terminadas en la "
        "última hora, por tipo de tarea", labels=["job_type"])
    rows = db.session.execute(
        sa.select(SnmpJob.job_type, Execution.duration_ms)
        .join(SnmpJob, SnmpJob.id == Execution.job_id)
        .where(Execution.finished_at >= utcnow() - DURATION_WINDOW,
               Execution.status.in_(FINAL_STATUSES), Execution.duration_ms.isnot(None))).all()
    for job_type in ("descubrimiento", "get"):
        seconds = [ms / 1000 for t, ms in rows if t == job_type]
        buckets = [(str(float(le)), sum(1 for s in seconds if s <= le))
                   for le in DURATION_BUCKETS_S] + [("+Inf", len(seconds))]
        family.add_metric([job_type], buckets, sum(seconds))
    return family


def network_families() -> list[GaugeMetricFamily]:
    """Per OLT: ONUs en línea / desconectadas / ausentes; per PON: min / avg / max rx power
    of its present ONUs (the figures of the panel's "Red", `facho.inventory.network`)."""
    olt_state = GaugeMetricFamily("facho_olt_onus_by_state", "ONUs por OLT: en_linea, "
                                  "desconectadas, ausentes, sin_estado", labels=["olt", "state"])
    for o in network.olts():
        for state, n in (("en_linea", o.online), ("desconectadas", o.offline),
                         ("ausentes", o.absent), ("sin_estado", o.unknown)):
            olt_state.add_metric([o.olt, state], n)
    rx = GaugeMetricFamily("facho_pon_rx_dbm", "Potencia RX de las ONUs presentes de cada "
                           "PON (dBm): min, avg, max", labels=["olt", "pon", "stat"])
    offline = GaugeMetricFamily("facho_pon_onus_offline", "ONUs presentes desconectadas por "
                                "PON", labels=["olt", "pon"])
    for p in network.pons():
        offline.add_metric([p.olt, p.name], p.offline)
        for stat, value in (("min", p.rx_min), ("avg", p.rx_avg), ("max", p.rx_max)):
            if value is not None:
                rx.add_metric([p.olt, p.name, stat], value)
    return [olt_state, rx, offline]


def incident_family() -> GaugeMetricFamily:
    family = GaugeMetricFamily("facho_incidents_open", "Incidentes abiertos o reconocidos "
                               "por tipo y severidad", labels=["kind", "severity"])
    for kind, severity, n in db.session.execute(
            sa.select(Incident.kind, Incident.severity, sa.func.count())
            .where(Incident.state.in_(OPEN_INCIDENT_STATES), Incident.parent_id.is_(None))
            .group_by(Incident.kind, Incident.severity).order_by(Incident.kind)):
        family.add_metric([kind, severity], n)
    return family


class _Snapshot:
    """A one-shot collector: the families computed for this scrape."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


def render(redis_client) -> bytes:
    """The exposition text of one scrape."""
    families = [execution_family(), duration_family(), *onu_families(), *network_families(),
                incident_family(), *job_families(), *redis_families(redis_client)]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry)
