"""Execution history (``snmp_executions``) of the last N days, optional (scope
"ejecuciones"). Only finished rows are carried (SUCCESS, FAILED, INTERRUPTED): a PENDING or
RUNNING row belonged to the old workers and would never finish here. Each imported row is
found again by ``message_id`` = ``facho-v2:<old id>`` (no Facho message has that form), so
a second run does not duplicate it. ``scheduled_for`` stays NULL: the old system did not
record the slot.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from facho.extensions import db
from facho.models import FAILED, INTERRUPTED, SUCCESS, Execution
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import JOB_NOT_IMPORTED, Refused

FINISHED = (SUCCESS, FAILED, INTERRUPTED)
MESSAGE_PREFIX = "facho-v2:"
EXECS = Execution.__table__
FIELDS = ("job_id", "olt_id", "job_host_id", "status", "attempt", "created_at", "started_at",
          "finished_at", "duration_ms", "result_summary", "error_message", "worker")
BATCH = 5000


def map_execution(row: Mapping[str, Any], job, olt, host) -> dict:
    if row["status"] not in FINISHED:
        raise Refused(f"estado {row['status']}: sin terminar en el sistema anterior")
    if job is None:
        raise Refused(JOB_NOT_IMPORTED if row["snmp_job_id"] else "sin tarea")
    if olt is None:
        raise Refused("su OLT no se importó" if row["olt_id"] else "sin OLT")
    summary = row["result_summary"]
    return {"job_id": job.id, "olt_id": olt.id, "job_host_id": host.id if host else None,
            "status": row["status"], "attempt": row["attempt"] or 0,
            "created_at": row["created_at"], "started_at": row["started_at"],
            "finished_at": row["finished_at"], "duration_ms": row["duration_ms"],
            "result_summary": summary if isinstance(summary, dict) else
            ({"valor": summary} if summary is not None else None),
            "error_message": row["error_message"],
            "worker": (row["worker_name"] or None) and row["worker_name"][:120]}


def import_executions(ctx: Context) -> None:
    """Set-based: 30 days of a large network are millions of rows. The imported rows already
    in Facho are read once (by their message id), new ones go in executemany INSERTs of
    BATCH rows, changed ones in executemany UPDATEs."""
    table = ctx.report.table("snmp_executions", f"Ejecuciones (últimos {ctx.options.days} días)")
    since = ctx.old.since(ctx.options.days)
    advance = ctx.advance("Ejecuciones", ctx.old.rows(
        "SELECT count(*) AS n FROM snmp_executions WHERE created_at >= %s", (since,))[0]["n"])
    cols = [EXECS.c.id, EXECS.c.message_id] + [EXECS.c[f] for f in FIELDS]
    existing = {r.message_id: r._mapping for r in db.session.execute(
        sa.select(*cols).where(EXECS.c.message_id.like(f"{MESSAGE_PREFIX}%")))}
    inserts: list[dict] = []
    updates: list[dict] = []
    for row in ctx.old.executions_since(since):
        advance(1)
        try:
            values = map_execution(row, ctx.jobs.get(row["snmp_job_id"]),
                                   ctx.olts.get(row["olt_id"]),
                                   ctx.job_hosts.get(row["job_host_id"]))
        except Refused as exc:
            table.refuse(f"#{row['id']}", str(exc))
            continue
        message_id = f"{MESSAGE_PREFIX}{row['id']}"
        old = existing.get(message_id)
        if old is None:
            inserts.append({"message_id": message_id, **values})
        elif all(old[f] == values[f] for f in FIELDS):
            table.count("sin_cambios")
        else:
            updates.append({"b_id": old["id"], **values})
        if len(inserts) >= BATCH or len(updates) >= BATCH:
            _flush(inserts, updates, table)
    _flush(inserts, updates, table)


def _flush(inserts: list[dict], updates: list[dict], table) -> None:
    if inserts:
        db.session.execute(EXECS.insert(), inserts)
        table.creados += len(inserts)
        inserts.clear()
    if updates:
        db.session.execute(EXECS.update().where(EXECS.c.id == sa.bindparam("b_id")).values(
            **{f: sa.bindparam(f) for f in FIELDS}), updates)
        table.actualizados += len(updates)
        updates.clear()
