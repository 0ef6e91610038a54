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

from facho.models import FAILED, INTERRUPTED, SUCCESS, Execution
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import Refused
from facho.ops.importer_v2.write import upsert

FINISHED = (SUCCESS, FAILED, INTERRUPTED)
MESSAGE_PREFIX = "facho-v2:"


def map_execution(row: Mapping[str, Any], job, olt, host) -> dict:
    if row["status"] not in FINISHED:
        raise Refused(f"estado {row['status']}: sin terminar en el sistema anterior")
    if job is None:
        raise Refused("su tarea no se importó" if row["snmp_job_id"] else "sin tarea")
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
    table = ctx.report.table("snmp_executions", f"Ejecuciones (últimos {ctx.options.days} días)")
    rows = ctx.old.executions_since(ctx.options.days)
    advance = ctx.advance("Ejecuciones", len(rows))
    for row in rows:
        advance(1)
        try:
            values = map_execution(row, ctx.jobs.get(row["snmp_job_id"]),
                                   ctx.olts.get(row["olt_id"]),
                                   ctx.job_hosts.get(row["job_host_id"]))
        except Refused as exc:
            table.refuse(f"#{row['id']}", str(exc))
            continue
        _, outcome = upsert(Execution, {"message_id": f"{MESSAGE_PREFIX}{row['id']}"}, values)
        table.count(outcome)
