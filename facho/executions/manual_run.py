"""Run jobs now ("🚀 Ejecutar tareas seleccionadas", `flask facho run`), DESIGN section 6.

Of the selected jobs only the enabled ones count; of their job hosts the enabled ones whose
OLT has `habilitar_olt`. Each such pair gets one PENDING execution (`requested_by` = the
user, no `scheduled_for`) sent to its queue, unless the pair already has a PENDING or
RUNNING execution. The schedule (`next_run_at`) is not touched.

If the broker refuses a message, the executions of this request that were not sent are
deleted, so no PENDING row is left that nobody will run.

A job may have thousands of OLTs: the cost of a request does not grow by a query or a
Redis round trip per pair (job hosts and OLTs load in one query, the executions go in as
one INSERT … ON CONFLICT DO NOTHING — the unique index on active manual runs refuses a
pair another request queued meanwhile — and their messages in pipelined batches, with
the message ids written up front so the reconciler re-sends a message lost after the
commit). Messages list at most MAX_LISTED names, so a flash fits in the session cookie.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from facho.extensions import db
from facho.logging_setup import kv
from facho.messaging import BROKER_DOWN
from facho.messaging import QUEUE_BY_JOB_TYPE
from facho.models import (PENDING, Execution, SnmpJob, SnmpJobHost,
                          utcnow)
from facho.messaging import PIPELINE_MIN, DramatiqSender, Outgoing, get_broker, new_message_id
from facho.scheduling.sql import active_condition, insert_ignoring_duplicates

log = logging.getLogger("facho.executions.manual_run")

MAX_LISTED = 10          # names per message; the rest are counted ("y N más")
SEND_BATCH = 500         # messages per Redis pipeline


def listed(names: list[str], total: int | None = None) -> str:
    """At most MAX_LISTED names, then how many more of `total` (default: len(names))."""
    shown = names[:MAX_LISTED]
    extra = (len(names) if total is None else total) - len(shown)
    return ", ".join(shown) + (f" y {extra} más" if extra > 0 else "")


NOTHING_CREATED = "No se crearon ejecuciones."


def run_summary(jobs: int, executions: int) -> str:
    """The seed's success line, "Ejecutadas X tareas: Y ejecuciones creadas y encoladas",
    word for word in the plural; one job reads "Encolada 1 tarea" (it was queued, not run
    yet) and one execution "1 ejecución creada y encolada"."""
    tareas = "Encolada 1 tarea" if jobs == 1 else f"Ejecutadas {jobs} tareas"
    ejecuciones = ("1 ejecución creada y encolada" if executions == 1 else
                   f"{executions} ejecuciones creadas y encoladas")
    return f"{tareas}: {ejecuciones}"


@dataclass
class RunReport:
    jobs_seen: int = 0       # selected jobs that exist
    jobs_run: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    queues: set[str] = field(default_factory=set)
    already_active: list[str] = field(default_factory=list)   # "job @ olt (#id)"
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def messages(self) -> list[tuple[str, str]]:
        """(category, Spanish text) pairs in the order the panel flashes them."""
        out = []
        if self.error:
            out.append(("error", self.error))
        if self.created:
            out.append(("success", "🚀 " + run_summary(len(self.jobs_run), len(self.created))))
            for queue in sorted(self.queues):
                out.append(("info", "📊 Las ejecuciones aparecerán en \"Ejecuciones\" y se "
                                    f"procesarán en la cola {queue}"))
        if self.already_active:
            out.append(("warning", "Ya en curso, no se encolaron de nuevo: "
                                   + listed(self.already_active)))
        out.extend(("warning", w) for w in self.warnings)
        if not self.created and not self.error:
            if not self.warnings and not self.already_active and not self.jobs_seen:
                out.append(("warning", "No se seleccionó ninguna tarea."))
            else:
                out.append(("warning", NOTHING_CREATED))
        return out


def _active_by_pair(job_ids: list[int]) -> dict[tuple[int, int], int]:
    """Pairs with an execution really queued or running. A slot the scheduler reserved
    ahead (PENDING, future, no message yet) is not a run in progress and blocks nothing."""
    rows = db.session.execute(
        sa.select(Execution.job_id, Execution.olt_id, Execution.id)
        .where(Execution.job_id.in_(job_ids), active_condition(utcnow()))).all()
    return {(job_id, olt_id): ex_id for job_id, olt_id, ex_id in rows}


def qualifying_pairs(job: SnmpJob, report: RunReport, olt_names: set[str] | None = None,
                     olt_ids: set[int] | None = None):
    """The job's enabled job hosts on enabled OLTs; warnings say why none qualified.

    `olt_names` / `olt_ids` restrict the job to some of its OLTs (CLI `--olt`, re-runs)."""
    hosts = [h for h in job.job_hosts
             if (olt_names is None or h.olt.abreviatura in olt_names)
             and (olt_ids is None or h.olt_id in olt_ids)]
    if not job.enabled:
        report.warnings.append(f"⚠️ La tarea \"{job.nombre}\" está deshabilitada: no se ejecutó.")
        return []
    if not hosts and olt_ids is not None and job.job_hosts:
        report.warnings.append(
            f"⚠️ La tarea \"{job.nombre}\" ya no está asignada a esa OLT: no se ejecutó.")
        return []
    if not hosts:
        report.warnings.append(f"⚠️ La tarea \"{job.nombre}\" no tiene OLTs asignadas.")
        return []
    enabled_hosts = [h for h in hosts if h.enabled]
    if not enabled_hosts:
        report.warnings.append(
            f"⚠️ La tarea \"{job.nombre}\" no tiene OLTs habilitadas para ella (job hosts).")
        return []
    disabled_olts = [h.olt.abreviatura for h in enabled_hosts if not h.olt.habilitar_olt]
    if disabled_olts:
        report.warnings.append(
            f"⚠️ Tarea \"{job.nombre}\": OLTs deshabilitadas omitidas: {listed(disabled_olts)}.")
    return [h for h in enabled_hosts if h.olt.habilitar_olt]


def run_jobs_now(job_ids: list[int], user_id: int | None,
                 olt_names: set[str] | None = None, *,
                 olt_ids_by_job: dict[int, set[int]] | None = None) -> RunReport:
    """Create and send the manual executions for `job_ids` (optionally only `olt_names`, or
    per job only the OLT ids in `olt_ids_by_job`)."""
    report = RunReport()
    jobs = db.session.execute(
        sa.select(SnmpJob).where(SnmpJob.id.in_(job_ids)).order_by(SnmpJob.nombre)
        .options(selectinload(SnmpJob.job_hosts).joinedload(SnmpJobHost.olt))
    ).scalars().all()
    report.jobs_seen = len(jobs)
    active = _active_by_pair([j.id for j in jobs])
    wanted: list[tuple[SnmpJob, SnmpJobHost]] = []
    for job in jobs:
        only = None if olt_ids_by_job is None else set(olt_ids_by_job.get(job.id, ()))
        for host in qualifying_pairs(job, report, olt_names, only):
            busy = active.get((job.id, host.olt_id))
            if busy:
                report.already_active.append(f"{job.nombre} @ {host.olt.abreviatura} (#{busy})")
            else:
                wanted.append((job, host))
    inserted = _insert_pending(wanted, user_id)
    to_send: list[tuple[int, str, SnmpJob]] = []
    for job, host in wanted:
        row = inserted.get((job.id, host.olt_id))
        if row is None:   # another request queued this pair between our check and insert
            report.already_active.append(f"{job.nombre} @ {host.olt.abreviatura}")
        else:
            to_send.append((row[0], row[1], job))
    db.session.commit()

    sent, error = _send(to_send)
    if error:
        # A failed batch may still have reached Redis in part (a timeout while reading the
        # replies): delete only rows no worker has touched, and count the others as sent.
        unsent = [execution_id for execution_id, _, _ in to_send if execution_id not in sent]
        deleted: set[int] = set()
        for i in range(0, len(unsent), 1000):
            deleted.update(db.session.execute(
                sa.delete(Execution).where(Execution.id.in_(unsent[i:i + 1000]),
                                           Execution.status == PENDING,
                                           Execution.attempt == 0)
                .returning(Execution.id)).scalars())
        sent = {execution_id for execution_id, _, _ in to_send if execution_id not in deleted}
        report.error = (f"❌ {error} Se encolaron {len(sent)} de {len(to_send)} "
                        "ejecuciones; las demás se descartaron.") if sent else f"❌ {error}"
        to_send = [item for item in to_send if item[0] in sent]
    now = utcnow()
    sent_jobs = {job.id: job for _, _, job in to_send}
    if sent_jobs:
        db.session.execute(sa.update(SnmpJob).where(SnmpJob.id.in_(sent_jobs))
                           .values(last_run_at=now))
    db.session.commit()
    report.jobs_run = sorted(job.nombre for job in sent_jobs.values())
    report.created = [execution_id for execution_id, _, _ in to_send]
    report.queues = {QUEUE_BY_JOB_TYPE[job.job_type] for job in sent_jobs.values()}
    return report


def _insert_pending(wanted, user_id: int | None) -> dict[tuple[int, int], tuple[int, str]]:
    """Insert one PENDING manual execution per (job, job host), skipping any pair the
    database already has an active manual run for; {(job id, OLT id): (id, message id)}."""
    if not wanted:
        return {}
    now = utcnow()
    rows = [{"job_id": job.id, "job_host_id": host.id, "olt_id": host.olt_id,
             "status": PENDING, "scheduled_for": None, "requested_by_id": user_id,
             "message_id": new_message_id(), "attempt": 0, "created_at": now}
            for job, host in wanted]
    table = Execution.__table__
    stmt = insert_ignoring_duplicates(table).returning(
        table.c.id, table.c.job_id, table.c.olt_id, table.c.message_id)
    out = {}
    for i in range(0, len(rows), 1000):
        for row in db.session.execute(stmt, rows[i:i + 1000]):
            out[(row.job_id, row.olt_id)] = (row.id, row.message_id)
    return out


def _send(to_send) -> tuple[set[int], str | None]:
    """Enqueue the messages (ids chosen at insert); returns the execution ids sent and the
    broker error, if any. A batch that failed counts as unsent as a whole: a message of it
    that did reach Redis finds its row deleted, and the worker does nothing with it."""
    size = 1 if len(to_send) < PIPELINE_MIN else SEND_BATCH
    sent: set[int] = set()
    try:
        sender = DramatiqSender(get_broker())
        for i in range(0, len(to_send), size):
            batch = to_send[i:i + size]
            sender.send_executions([Outgoing(execution_id, job.job_type, message_id)
                                    for execution_id, message_id, job in batch])
            sent.update(execution_id for execution_id, _, _ in batch)
    except Exception as exc:  # noqa: BLE001 - redis errors, connection refused, timeouts
        log.warning(kv(event="manual_run_send_failed", sent=len(sent), of=len(to_send),
                       error=type(exc).__name__))
        return sent, BROKER_DOWN
    return sent, None


def rerun_pairs(pairs, user_id: int | None) -> RunReport:
    """Run again exactly these (job id, OLT id) pairs (the panel's "🔁 Re-ejecutar" of
    failed executions), with the same rules and messages as `run_jobs_now`."""
    by_job: dict[int, set[int]] = {}
    for job_id, olt_id in pairs:
        by_job.setdefault(int(job_id), set()).add(int(olt_id))
    return run_jobs_now(sorted(by_job), user_id, olt_ids_by_job=by_job)
