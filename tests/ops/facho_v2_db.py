"""A "Facho Deluxe v2" database for the importer's tests and benchmark: a fresh PostgreSQL
database with the old schema (tests/data/facho_v2/schema.sql) and rows that exercise every
mapping rule (docs/importer-v2.md). ``SCENARIO`` documents what each row is for.
"""
from __future__ import annotations

import itertools
import json
import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "facho_v2" / "schema.sql"
HUAWEI_BASE = 4194304000
ZTE_BASE = 0x10000000
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def admin_url() -> str:
    url = os.environ.get("FACHO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def old_database(name: str):
    """Create the database ``name`` with the old schema; yield its URL; drop it after."""
    admin = admin_url()
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    try:
        with psycopg.connect(url) as conn:
            conn.execute(SCHEMA.read_text())
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def huawei_index(slot: int, port: int, onu: int) -> str:
    return f"{HUAWEI_BASE + slot * 8192 + port * 256}.{onu}"


def zte_index(slot: int, port: int, onu: int) -> str:
    return f"{ZTE_BASE + (slot << 16) + (port << 8)}.{onu}"


def universal_index(slot: int, port: int, onu: int) -> str:
    return f"{slot * 65536 + port * 256}.{onu}"


def _insert(conn, table: str, rows: list[dict]) -> None:
    for row in rows:
        cols = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                     [json.dumps(v) if isinstance(v, dict) else v for v in row.values()])


BRANDS = [(1, "🌐 Genérico"), (2, "Huawei"), (3, "ZTE"), (4, "FiberHome"), (5, "V-SOL")]
MODELS = [(1, "Genérico", 1), (2, "MA5800", 2), (3, "C320", 3), (4, "C300", 3), (5, "AN5516", 4)]
# id, abreviatura, marca, modelo, ip, habilitar
OLTS = [
    (1, "SMP-01", 2, 2, "10.10.0.1", True),
    (2, "SMP-02", 2, None, "10.10.0.2", True),
    (3, "SMP-01", 2, 2, "10.10.0.3", True),       # same abreviatura, other address: renamed
    (4, "SMP-02", 2, None, "10.10.0.2", True),    # same abreviatura and address: refused
    (5, "ZTE-01", 3, 3, "10.20.0.1", True),
    (6, "ZTE-02", 3, 4, "10.20.0.300", True),     # invalid address: refused
    (7, "FH-01", 4, 5, "10.30.0.1", False),       # no formula of its brand: the universal one
    (8, "GEN-01", 1, 1, "10.40.0.1", True),       # wildcard brand: refused
    (9, "ZTE-03", 3, 1, "10.20.0.3", True),       # model "Genérico" -> no model
]
# id, nombre, oid, marca, modelo, espacio, format_mac
OIDS = [
    (1, "Descubrimiento Huawei", "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3", 2, None,
     "descubrimiento", False),
    (2, "Descripción", "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9", 2, None, "descripcion", False),
    (3, "Descripción", "1.3.6.1.4.1.3902.1082.500.10.2.3.3.1.2", 3, None, "descripcion", False),
    (4, "Serial", "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3", 1, 1, "serial", False),  # wildcard
    (5, "MAC", "1.3.6.1.4.1.2011.6.128.1.1.2.62.1.20", None, None, "mac", True),  # NULL brand
    (6, "Suscriptor", "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.10", 2, None, "subscriber", False),
    (7, "Zabbix estado", "1.3.6.1.2.1.2.2.1.7", 2, None, "zabbix_state", False),
    (8, "Descubrimiento ZTE", "1.3.6.1.4.1.3902.1082.500.10.2.3.3.1.18", 3, 3,
     "descubrimiento", False),
    (9, "Distancia", "1.3.6.1.4.1.2011.6.128.1.1.2.46.1.20", 2, None, "distancia_onu", False),
    (10, "OID roto", "1.3.6.x.1", 2, None, "descripcion", False),
    (11, "Plan", "1.3.6.1.4.1.3902.1082.500.10.2.3.8.1.2", 3, None, "plan_onu", False),
]
LINEAR = {"calculation_mode": "linear", "has_dot_notation": True, "dot_is_onu_number": True}
BITSHIFT = {"calculation_mode": "bitshift", "shift_slot_bits": 16, "mask_slot": "0xFF",
            "shift_port_bits": 8, "mask_port": "0xFF", "has_dot_notation": True,
            "dot_is_onu_number": True}
FORMULAS = [
    {"id": 1, "marca_id": 2, "modelo_id": None, "nombre": "Huawei - Fórmula Estándar",
     "base_index": HUAWEI_BASE, "step_slot": 8192, "step_port": 256, **LINEAR},
    {"id": 2, "marca_id": 3, "modelo_id": None, "nombre": "ZTE - Bits", **BITSHIFT},
    {"id": 3, "marca_id": 3, "modelo_id": 4, "nombre": "ZTE C300", **BITSHIFT,
     "onu_offset": 1},
    {"id": 4, "marca_id": None, "modelo_id": None, "nombre": "Genérica universal",
     "base_index": 0, "step_slot": 65536, "step_port": 256, **LINEAR},
    # drift: the older wildcard spelling of a universal formula (the NULL one wins)
    {"id": 5, "marca_id": 1, "modelo_id": 1, "nombre": "Genérica antigua",
     "base_index": 0, "step_slot": 4096, "step_port": 64, **LINEAR},
    # drift: a brand default spelled with the model "Genérico" (the NULL-model one wins)
    {"id": 6, "marca_id": 2, "modelo_id": 1, "nombre": "Huawei genérica",
     "base_index": HUAWEI_BASE, "step_slot": 8192, "step_port": 256, **LINEAR},
    {"id": 7, "marca_id": 3, "modelo_id": 3, "nombre": "ZTE C320 mal",     # port always 0
     "base_index": 0, "step_slot": 256, "step_port": 8192, **LINEAR},
    {"id": 8, "marca_id": 4, "modelo_id": 5, "nombre": "FiberHome inactiva", "activo": False,
     "base_index": 0, "step_slot": 8192, "step_port": 256, **LINEAR},
]
# id, nombre, job_type, marca, oid, interval_raw, interval_seconds, cron, enabled
JOBS = [
    (1, "Descubrimiento Huawei", "descubrimiento", 2, 1, "5m", 300, None, True),
    (2, "Descripciones", "get", 2, 2, "", None, "0 */2 * * *", True),
    (3, "Descripciones", "get", 3, 3, "", 900, None, False),
    (4, "Descubrimiento ZTE", "walk", 3, 8, "", None, "30 3 * * *", True),
    (5, "Tabla ZTE", "table", 3, 8, "10m", 600, None, True),
    (6, "Suscriptores", "get", 2, 6, "1h", 3600, None, True),
    (7, "Sin horario", "get", 2, 2, "", None, None, True),
    (8, "MACs", "bulk", 2, 5, "1h", 3600, None, True),
]
# id, job, olt
JOB_HOSTS = [(1, 1, 1), (2, 1, 2), (3, 1, 3), (4, 1, 4), (5, 2, 1), (6, 2, 2), (7, 3, 5),
             (8, 3, 6), (9, 4, 5), (10, 4, 9), (11, 5, 5), (12, 8, 1)]


def _onu_rows(olt_id: int, index, slots=2, ports=2, onus=3) -> list[tuple]:
    rows = []
    for s in range(slots):
        for p in range(ports):
            for o in range(1, onus + 1):
                rows.append((olt_id, index(s, p, o), s, p, o))
    return rows


def fill(url: str) -> None:
    """The scenario: every rule of the mapping has a row here."""
    with psycopg.connect(url) as conn:
        _insert(conn, "marcas", [{"id": i, "nombre": n, "descripcion": ""} for i, n in BRANDS])
        _insert(conn, "olt_models", [{"id": i, "nombre": n, "marca_id": b, "descripcion": ""}
                                     for i, n, b in MODELS])
        _insert(conn, "olt", [{"id": i, "abreviatura": a, "marca_id": b, "modelo_id": m,
                               "ip_address": ip, "descripcion": f"OLT {a}",
                               "habilitar_olt": on, "comunidad": f"s3creta-{i}"}
                              for i, a, b, m, ip, on in OLTS])
        _insert(conn, "oids", [{"id": i, "nombre": n, "oid": o, "marca_id": b, "modelo_id": m,
                                "espacio": e, "format_mac": fm, "keep_previous_value": i == 2}
                               for i, n, o, b, m, e, fm in OIDS])
        _insert(conn, "index_formulas", FORMULAS)
        _insert(conn, "snmp_jobs", [
            {"id": i, "nombre": n, "job_type": t, "marca_id": b, "oid_id": o,
             "interval_raw": raw, "interval_seconds": sec, "cron_expr": cron, "enabled": on,
             "max_retries": 3, "retry_delay_seconds": 45}
            for i, n, t, b, o, raw, sec, cron, on in JOBS])
        _insert(conn, "snmp_job_hosts", [
            {"id": i, "snmp_job_id": j, "olt_id": o, "consecutive_failures": i % 3,
             "last_success_at": NOW - timedelta(hours=i)} for i, j, o in JOB_HOSTS])
        _insert(conn, "snmp_executions", [
            {"id": 1, "snmp_job_id": 1, "job_host_id": 1, "olt_id": 1, "status": "SUCCESS",
             "created_at": NOW - timedelta(days=1), "started_at": NOW - timedelta(days=1),
             "finished_at": NOW - timedelta(days=1) + timedelta(seconds=4),
             "duration_ms": 4000, "result_summary": {"onus": 12}, "worker_name": "celery@a"},
            {"id": 2, "snmp_job_id": 1, "job_host_id": 2, "olt_id": 2, "status": "FAILED",
             "created_at": NOW - timedelta(days=2), "error_message": "Timeout"},
            {"id": 3, "snmp_job_id": 1, "job_host_id": 1, "olt_id": 1, "status": "RUNNING",
             "created_at": NOW - timedelta(hours=1)},
            {"id": 4, "snmp_job_id": 1, "job_host_id": 1, "olt_id": 1, "status": "SUCCESS",
             "created_at": NOW - timedelta(days=60)},                  # outside 30 days
            {"id": 5, "snmp_job_id": 5, "job_host_id": 11, "olt_id": 5, "status": "SUCCESS",
             "created_at": NOW - timedelta(days=3)},                   # its job is refused
        ])
        onus = (_onu_rows(1, huawei_index) + _onu_rows(3, huawei_index, 1, 1, 2)
                + _onu_rows(4, huawei_index, 1, 1, 2) + _onu_rows(5, zte_index)
                + _onu_rows(7, universal_index, 1, 2, 2)
                + [(1, "12345.1", 9, 9, 9)])          # not decodable: the old position kept
        for n, (olt, raw, s, p, o) in enumerate(onus, start=1):
            conn.execute("INSERT INTO onu_index_map (id, olt_id, raw_index_key, slot, port, "
                         "logical, normalized_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, "
                         "%s, %s)", (n, olt, raw, s, p, o, f"{s}/{p}", NOW - timedelta(days=90)))
            if n % 7 == 0:
                continue                      # an ONU with only its index row
            conn.execute("INSERT INTO onu_status (onu_index_id, olt_id, last_seen_at, "
                         "last_state_value, last_state_label, presence, consecutive_misses) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (n, olt, NOW - timedelta(minutes=n), 1 if n % 5 else 2,
                          "ACTIVO" if n % 5 else "SUSPENDIDO",
                          "DISABLED" if n % 5 == 0 else "ENABLED", 3 if n % 5 == 0 else 0))
            conn.execute("INSERT INTO onu_inventory (onu_index_id, olt_id, serial_number, "
                         "mac_address, subscriber_id, snmp_description, plan_onu, "
                         "distancia_onu, modelo_onu) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                         "%s)",
                         (n, olt, f"HWTC{n:08X}", "zz" if n == 3 else f"ac:dc:00:00:00:{n:02x}",
                          "SUB-1" if n == 2 else None,
                          "x" * 300 if n == 4 else f"Cliente {n}", "100M", str(1000 + n),
                          "HG8546M"))
        _insert(conn, "onu_state_lookup", [
            {"value": 1, "label": "ACTIVO", "marca_id": 2},
            {"value": 2, "label": "SUSPENDIDO", "marca_id": 2},
            {"value": 1, "label": "ONLINE", "marca_id": None}])
        _insert(conn, "configuracion_sistema", [{"nombre": "zona", "valor": "America/Lima"},
                                                {"nombre": "debug", "valor": "false"}])
        _insert(conn, "configuracion_snmp", [{"nombre": "general"}])
        for table in ("marcas", "olt_models", "olt", "oids", "index_formulas", "snmp_jobs",
                      "snmp_job_hosts", "snmp_executions", "onu_index_map"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")


def fill_large(url: str, olts: int, onus_per_olt: int) -> None:
    """Benchmark size: ``olts`` Huawei OLTs (after the scenario's) with ``onus_per_olt``
    ONUs each, all three inventory tables, generated in SQL."""
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO olt (abreviatura, marca_id, modelo_id, ip_address, "
                     "descripcion, habilitar_olt, comunidad) SELECT 'BENCH-' || g, 2, 2, "
                     "'10.' || (g / 250) || '.' || (g %% 250) || '.1', '', true, 'public' "
                     "FROM generate_series(1, %s) g", (olts,))
        conn.execute(
            "INSERT INTO onu_index_map (olt_id, raw_index_key, slot, port, logical, "
            "normalized_id) SELECT o.id, (4194304000 + (n / 512) * 8192 + ((n / 64) %% 8) * "
            "256)::text || '.' || (n %% 64), n / 512, (n / 64) %% 8, n %% 64, '' FROM olt o, "
            "generate_series(0, %s - 1) n WHERE o.abreviatura LIKE 'BENCH-%%'",
            (onus_per_olt,))
        conn.execute("INSERT INTO onu_status (onu_index_id, olt_id, last_seen_at, presence, "
                     "last_state_label) SELECT m.id, m.olt_id, now(), 'ENABLED', 'ACTIVO' "
                     "FROM onu_index_map m JOIN olt o ON o.id = m.olt_id "
                     "WHERE o.abreviatura LIKE 'BENCH-%%'")
        conn.execute("INSERT INTO onu_inventory (onu_index_id, olt_id, serial_number, "
                     "snmp_description, distancia_onu) SELECT m.id, m.olt_id, 'HWTC' || "
                     "lpad(to_hex(m.id), 8, '0'), 'Cliente ' || m.id, '1500' "
                     "FROM onu_index_map m JOIN olt o ON o.id = m.olt_id "
                     "WHERE o.abreviatura LIKE 'BENCH-%%'")


_serial = itertools.count()


@contextmanager
def scenario_database(prefix: str):
    """A fresh old database with the scenario's rows (this process's own name), its URL
    yielded, dropped after. Fails (CI) or skips when PostgreSQL is not there."""
    from tests.conftest import pg_available, require
    require(pg_available(), "PostgreSQL at 127.0.0.1:5432")
    with old_database(f"{prefix}_{os.getpid()}_{next(_serial)}") as url:
        fill(url)
        yield url
