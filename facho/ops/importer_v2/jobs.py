"""Jobs (``snmp_jobs``, one OID each) and job hosts (``snmp_job_hosts``).

Types: ``descubrimiento`` and ``get`` map as they are; ``walk`` (a walk of the ONU table)
becomes ``descubrimiento`` when its OID is of espacio descubrimiento, ``bulk`` (a GetBulk
read) becomes ``get`` when its OID writes a field; ``table`` and the rest are refused.

Schedules: the old dispatcher evaluated ``cron_expr`` in UTC (the panel showed Lima times).
``Options.cron_tz`` is the zone Facho evaluates the imported expression in: "UTC" (default)
keeps the old instants; the operator's zone (``--zona-cron America/Lima``) keeps the times
as written. An interval is ``interval_raw``, else ``interval_seconds``.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from facho.models import SnmpJob, SnmpJobHost
from facho.ops.importer_v2.context import Context
from facho.ops.importer_v2.formulas import (JOB_NOT_IMPORTED, WILDCARD_BRAND_NOT_IMPORTED,
                                           Refused)
from facho.ops.importer_v2.write import upsert
from facho.scheduling.schedule import format_interval
from facho.validation import validate_cron, validate_interval, validate_job_oids

JOB_NAME_MAX = 120


def map_type(job_type: str, espacio: str) -> str:
    if job_type in ("descubrimiento", "get"):
        return job_type
    if job_type == "walk" and espacio == "descubrimiento":
        return "descubrimiento"
    if job_type == "bulk" and espacio != "descubrimiento":
        return "get"
    if job_type in ("walk", "bulk"):
        raise Refused(f"tipo {job_type} con un OID de espacio {espacio}: sin equivalente "
                      "(Facho tiene descubrimiento y get)")
    raise Refused(f"tipo {job_type!r} sin equivalente en Facho (descubrimiento o get); cree "
                  "la tarea a mano")


def map_schedule(row: Mapping[str, Any], cron_tz: str, minimum_s: int) -> dict:
    """{interval_raw, cron_expr[, cron_tz]}: exactly one of interval and cron."""
    cron = (row["cron_expr"] or "").strip()
    raw = (row["interval_raw"] or "").strip().lower()
    if cron:
        try:
            expr, tz = validate_cron(cron, cron_tz)
        except ValueError as exc:
            raise Refused(f"cron «{cron}»: {exc}") from None
        return {"interval_raw": None, "cron_expr": expr, "cron_tz": tz}
    if not raw and row["interval_seconds"]:
        raw = format_interval(timedelta(seconds=row["interval_seconds"]))
    if not raw:
        raise Refused("sin intervalo ni cron: el sistema anterior lo ejecutaba cada 5 minutos "
                      "por defecto; indique su programación en Facho")
    try:
        # cron_tz left as it is: it means nothing for an interval job, and a re-run with
        # another --zona-cron must not count the job as changed
        return {"interval_raw": validate_interval(raw, minimum_s), "cron_expr": None}
    except ValueError as exc:
        raise Refused(f"intervalo «{raw}»: {exc}") from None


def job_names(rows: list[Mapping[str, Any]]) -> dict[int, str]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["nombre"].strip()] = counts.get(row["nombre"].strip(), 0) + 1
    return {row["id"]: (row["nombre"].strip()[:JOB_NAME_MAX] if counts[row["nombre"].strip()] == 1
                        else f"{row['nombre'].strip()[:JOB_NAME_MAX - 12]} #{row['id']}")
            for row in rows}


def import_jobs(ctx: Context, minimum_s: int) -> None:
    table = ctx.report.table("snmp_jobs", "Tareas")
    rows = ctx.old.table("snmp_jobs")
    names = job_names(rows)
    for row in rows:
        label = f"#{row['id']} {row['nombre']}"
        try:
            oid = ctx.oids.get(row["oid_id"])
            if oid is None:
                raise Refused(f"su OID (#{row['oid_id']}) no se importó (ver oids)")
            brand = ctx.brands.get(row["marca_id"])
            if brand is None:
                raise Refused(WILDCARD_BRAND_NOT_IMPORTED)
            job_type = map_type(row["job_type"], oid.espacio)
            problems = validate_job_oids(job_type, [oid])
            if problems:
                raise Refused(" ".join(problems))
            values = {"descripcion": row["descripcion"] or "", "brand_id": brand.id,
                      "job_type": job_type, "enabled": bool(row["enabled"]),
                      "max_retries": row["max_retries"],
                      "retry_delay_seconds": row["retry_delay_seconds"],
                      **map_schedule(row, ctx.options.cron_tz, minimum_s)}
        except Refused as exc:
            table.refuse(label, str(exc))
            continue
        job, outcome = upsert_job(names[row["id"]], values, oid)
        ctx.jobs[row["id"]] = job
        table.count(outcome)
        if names[row["id"]] != row["nombre"].strip():
            table.note(label, f"nombre repetido: importada como «{names[row['id']]}»")
        if row["job_type"] != job_type:
            table.note(label, f"tipo {row['job_type']} importado como {job_type}")
        if values["cron_expr"]:
            table.note(label, f"cron «{values['cron_expr']}» en zona {values['cron_tz']} (el "
                              "sistema anterior lo evaluaba en UTC)")


def upsert_job(name: str, values: dict, oid) -> tuple[SnmpJob, str]:
    job, outcome = upsert(SnmpJob, {"nombre": name}, values)
    if [o.id for o in job.oids] != [oid.id]:
        job.oids = [oid]
        outcome = "actualizado" if outcome == "sin_cambios" else outcome
    return job, outcome


def import_job_hosts(ctx: Context) -> None:
    table = ctx.report.table("snmp_job_hosts", "Tareas por OLT")
    for row in ctx.old.table("snmp_job_hosts"):
        label = f"#{row['id']} tarea #{row['snmp_job_id']} en OLT #{row['olt_id']}"
        job, olt = ctx.jobs.get(row["snmp_job_id"]), ctx.olts.get(row["olt_id"])
        if job is None or olt is None:
            table.refuse(label, JOB_NOT_IMPORTED if job is None
                         else "su OLT no se importó (ver olt)")
            continue
        host, outcome = upsert(SnmpJobHost, {"job_id": job.id, "olt_id": olt.id},
                               {"enabled": bool(row["enabled"]),
                                "last_success_at": row["last_success_at"],
                                "last_failure_at": row["last_failure_at"],
                                "consecutive_failures": row["consecutive_failures"]})
        ctx.job_hosts[row["id"]] = host
        table.count(outcome)
