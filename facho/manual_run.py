"""Run jobs now ("🚀 Ejecutar tareas seleccionadas", `flask facho run`), DESIGN section 6.

Of the selected jobs only the enabled ones count; of their job hosts the enabled ones whose
OLT has `habilitar_olt`. Each such pair gets one PENDING execution (`requested_by` = the
user, no `scheduled_for`) sent to its queue, unless the pair already has a PENDING or
RUNNING execution. The schedule (`next_run_at`) is not touched.

If the broker refuses a message, the executions of this request that were not sent are
deleted, so no PENDING row is left that nobody will run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from facho.extensions import db
from facho.messaging import BrokerUnavailable, send_execution
from facho.models import PENDING, QUEUE_BY_JOB_TYPE, Execution, SnmpJob, utcnow


@dataclass
class RunReport:
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
            out.append(("success", f"🚀 Ejecutadas {len(self.jobs_run)} tareas: "
                                   f"{len(self.created)} ejecuciones creadas y encoladas"))
            for queue in sorted(self.queues):
                out.append(("info", "📊 Las ejecuciones aparecerán en \"Ejecuciones\" y se "
                                    f"procesarán en la cola {queue}"))
        if self.already_active:
            out.append(("warning", "Ya en curso, no se encolaron de nuevo: "
                                   + ", ".join(self.already_active)))
        out.extend(("warning", w) for w in self.warnings)
        if not self.created and not self.error and not self.warnings and not self.already_active:
            out.append(("warning", "No se seleccionó ninguna tarea."))
        return out


def _active_by_pair(job_ids: list[int]) -> dict[tuple[int, int], int]:
    """Pairs with an execution really queued or running. A slot the scheduler reserved
    ahead (PENDING, future, no message yet) is not a run in progress and blocks nothing."""
    from facho.dispatch import active_condition
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
            f"⚠️ Tarea \"{job.nombre}\": OLTs deshabilitadas omitidas: {', '.join(disabled_olts)}.")
    return [h for h in enabled_hosts if h.olt.habilitar_olt]


def run_jobs_now(job_ids: list[int], user_id: int | None,
                 olt_names: set[str] | None = None, *,
                 olt_ids_by_job: dict[int, set[int]] | None = None) -> RunReport:
    """Create and send the manual executions for `job_ids` (optionally only `olt_names`, or
    per job only the OLT ids in `olt_ids_by_job`)."""
    report = RunReport()
    jobs = db.session.execute(
        sa.select(SnmpJob).where(SnmpJob.id.in_(job_ids)).order_by(SnmpJob.nombre)
    ).scalars().all()
    active = _active_by_pair([j.id for j in jobs])
    to_send: list[tuple[Execution, SnmpJob]] = []
    for job in jobs:
        created_for_job = False
        only = None if olt_ids_by_job is None else set(olt_ids_by_job.get(job.id, ()))
        for host in qualifying_pairs(job, report, olt_names, only):
            busy = active.get((job.id, host.olt_id))
            if busy:
                report.already_active.append(f"{job.nombre} @ {host.olt.abreviatura} (#{busy})")
                continue
            execution = Execution(job_id=job.id, job_host_id=host.id, olt_id=host.olt_id,
                                  status=PENDING, requested_by_id=user_id)
            try:
                with db.session.begin_nested():
                    db.session.add(execution)
            except IntegrityError:
                # another request queued this pair between our check and our insert
                report.already_active.append(f"{job.nombre} @ {host.olt.abreviatura}")
                continue
            to_send.append((execution, job))
            created_for_job = True
        if created_for_job:
            report.jobs_run.append(job.nombre)
    db.session.commit()

    message_ids: dict[int, str] = {}
    try:
        for execution, job in to_send:
            message_ids[execution.id] = send_execution(execution.id, job.job_type)
    except BrokerUnavailable as exc:
        unsent = [e.id for e, _ in to_send if e.id not in message_ids]
        db.session.execute(sa.delete(Execution).where(Execution.id.in_(unsent)))
        report.error = (f"❌ {exc} Se encolaron {len(message_ids)} de {len(to_send)} "
                        "ejecuciones; las demás se descartaron.") if message_ids else f"❌ {exc}"
        to_send = [(e, j) for e, j in to_send if e.id in message_ids]
        report.jobs_run = sorted({j.nombre for _, j in to_send})
    now = utcnow()
    for execution_id, message_id in message_ids.items():
        db.session.execute(sa.update(Execution).where(Execution.id == execution_id)
                           .values(message_id=message_id))
    for job_id in {j.id for _, j in to_send}:
        db.session.execute(sa.update(SnmpJob).where(SnmpJob.id == job_id).values(last_run_at=now))
    db.session.commit()
    report.created = [e.id for e, _ in to_send]
    report.queues = {QUEUE_BY_JOB_TYPE[j.job_type] for _, j in to_send}
    return report


def rerun_pairs(pairs, user_id: int | None) -> RunReport:
    """Run again exactly these (job id, OLT id) pairs (the panel's "🔁 Re-ejecutar" of
    failed executions), with the same rules and messages as `run_jobs_now`."""
    by_job: dict[int, set[int]] = {}
    for job_id, olt_id in pairs:
        by_job.setdefault(int(job_id), set()).add(int(olt_id))
    return run_jobs_now(sorted(by_job), user_id, olt_ids_by_job=by_job)
