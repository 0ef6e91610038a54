"""Rows as the API's JSON: Spanish field names like the panel, UTC ISO 8601 times. Never
an OLT's community or SNMPv3 keys: each dict is built from an explicit list of fields."""
from __future__ import annotations

from datetime import datetime

from facho.inventory.events.kinds import describe as describe_event
from facho.labels import JOB_TYPE_NAMES, STATUS_NAMES


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def olt(row, brand_name: str | None, counts: dict | None) -> dict:
    """`row`: an Olt or a row of its columns (`/olts` reads plain rows: 1,000 ORM objects
    cost more than the query)."""
    return {
        "id": row.id, "abreviatura": row.abreviatura, "ip": row.ip_address,
        "puerto_snmp": row.snmp_port, "version_snmp": row.snmp_version,
        "marca": brand_name, "modelo": row.modelo,
        "descripcion": row.descripcion, "habilitada": bool(row.habilitar_olt),
        "onus": counts or {"total": 0, "presentes": 0, "ausentes": 0, "por_estado": {}},
    }


def onu(row, olt_name: str | None) -> dict:
    return {
        "id": row.id, "olt": {"id": row.olt_id, "abreviatura": olt_name},
        "nombre": row.name, "indice": row.raw_index, "slot": row.slot, "puerto": row.port,
        "onu_id": row.onu_id, "serie": row.serial, "descripcion": row.descripcion,
        "estado": row.status, "presente": bool(row.present),
        "distancia_km": row.distance_km, "rx_dbm": row.rx_power, "tx_dbm": row.tx_power,
        "mac": row.mac, "plan": row.plan, "modelo": row.modelo,
        "vista_primera_vez": iso(row.first_seen_at), "vista_ultima_vez": iso(row.last_seen_at),
    }


def execution(row, job_name, olt_name, username, job_type) -> dict:
    return {
        "id": row.id, "tarea": {"id": row.job_id, "nombre": job_name, "tipo": job_type},
        "olt": {"id": row.olt_id, "abreviatura": olt_name},
        "estado": row.status, "estado_texto": STATUS_NAMES.get(row.status, row.status),
        "turno": iso(row.scheduled_for), "manual": row.scheduled_for is None,
        "solicitada_por": username, "intento": row.attempt,
        "creada": iso(row.created_at), "inicio": iso(row.started_at),
        "fin": iso(row.finished_at), "duracion_ms": row.duration_ms,
        "error": row.error_message, "resultado": row.result_summary,
    }


def job(row, olts: int, next_at=None) -> dict:
    """`next_at`: the job's next slot that has not run yet (facho.scheduling.upcoming)."""
    return {
        "id": row.id, "nombre": row.nombre, "descripcion": row.descripcion,
        "tipo": row.job_type, "tipo_texto": JOB_TYPE_NAMES.get(row.job_type, row.job_type),
        "marca": row.brand.nombre if row.brand else None,
        "intervalo": row.interval_raw, "cron": row.cron_expr,
        "zona_cron": row.cron_tz if row.cron_expr else None,
        "habilitada": bool(row.enabled), "olts": olts,
        "proxima_ejecucion": iso(next_at) if row.enabled else None,
        "ultima_ejecucion": iso(row.last_run_at), "turnos_perdidos": row.missed_slots,
    }


def event(row, onu_name: str | None, olt_name: str | None) -> dict:
    return {
        "id": row.id, "onu": {"id": row.onu_id, "nombre": onu_name},
        "olt": {"id": row.olt_id, "abreviatura": olt_name},
        "pon": None if row.slot is None or row.port is None else f"0/{row.slot}/{row.port}",
        "t": iso(row.at), "tipo": row.kind, "anterior": row.old_value, "nuevo": row.new_value,
        "causa": row.cause, "texto": describe_event(row.kind, row.old_value, row.new_value,
                                                    row.cause),
        "ejecucion": row.execution_id,
    }


def incident(row, olt_name: str | None) -> dict:
    return {
        "id": row.id, "tipo": row.kind, "severidad": row.severity, "estado": row.state,
        "titulo": row.title, "causa": row.cause,
        "olt": {"id": row.olt_id, "abreviatura": olt_name},
        "pon": None if row.slot is None or row.port is None else f"0/{row.slot}/{row.port}",
        "onu": row.onu_id, "onus_incluidas": row.onus_included,
        "alertas_suprimidas": row.onus_suppressed, "abierto": iso(row.opened_at),
        "reconocido": iso(row.acknowledged_at), "reconocido_por": row.acknowledged_by,
        "nota": row.ack_note, "resuelto": iso(row.resolved_at),
        "resuelto_por": row.resolved_by,
    }
