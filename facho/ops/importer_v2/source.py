"""Reading the old system's PostgreSQL database, read-only.

The connection is opened with ``default_transaction_read_only=on`` and the whole read runs
in one ``REPEATABLE READ, READ ONLY`` transaction: every table is read from the same
snapshot, and the server itself refuses any write through this connection (the importer
never tries one). Before reading, the columns the importer needs are checked, so a database
of another version (or not Facho v2 at all) is refused with one Spanish line.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg.rows import dict_row


class ImporterError(Exception):
    """A reason the import cannot go on: str() is the Spanish line the CLI prints."""


# table -> columns the importer reads (the last migration of each app, see
# tests/data/facho_v2/README.md).
REQUIRED: dict[str, tuple[str, ...]] = {
    "marcas": ("id", "nombre"),
    "olt_models": ("id", "nombre", "marca_id"),
    "olt": ("id", "abreviatura", "marca_id", "modelo_id", "ip_address", "descripcion",
            "habilitar_olt", "comunidad"),
    "oids": ("id", "nombre", "oid", "marca_id", "modelo_id", "espacio", "keep_previous_value",
             "format_mac"),
    "index_formulas": ("id", "marca_id", "modelo_id", "nombre", "activo", "calculation_mode",
                       "base_index", "step_slot", "step_port", "shift_slot_bits",
                       "shift_port_bits", "mask_slot", "mask_port", "onu_offset",
                       "has_dot_notation", "dot_is_onu_number"),
    "snmp_jobs": ("id", "nombre", "descripcion", "marca_id", "job_type", "interval_raw",
                  "interval_seconds", "cron_expr", "enabled", "max_retries",
                  "retry_delay_seconds", "oid_id"),
    "snmp_job_hosts": ("id", "snmp_job_id", "olt_id", "enabled", "last_success_at",
                       "last_failure_at", "consecutive_failures"),
    "snmp_executions": ("id", "snmp_job_id", "job_host_id", "olt_id", "worker_name",
                        "attempt", "status", "started_at", "finished_at", "duration_ms",
                        "result_summary", "error_message", "created_at"),
    "onu_index_map": ("id", "olt_id", "raw_index_key", "slot", "port", "logical",
                      "normalized_id", "created_at"),
    "onu_state_lookup": ("value", "label", "marca_id"),
    "onu_status": ("onu_index_id", "last_seen_at", "last_state_label", "presence",
                   "consecutive_misses"),
    "onu_inventory": ("onu_index_id", "serial_number", "mac_address", "subscriber_id",
                      "snmp_description", "plan_onu", "distancia_onu", "modelo_onu"),
    "configuracion_sistema": ("id", "nombre"),
    "configuracion_snmp": ("id", "nombre"),
}

# Read as instants: Django with USE_TZ = True (Facho v2's setting) makes them timestamptz; a
# naive column would be local times of an unknown zone.
INSTANTS = ("onu_index_map.created_at", "onu_status.last_seen_at", "snmp_executions.created_at",
            "snmp_executions.started_at", "snmp_executions.finished_at",
            "snmp_job_hosts.last_success_at", "snmp_job_hosts.last_failure_at")

ONU_QUERY = """
SELECT m.id, m.olt_id, m.raw_index_key, m.slot, m.port, m.logical, m.normalized_id,
       m.created_at, s.last_seen_at, s.last_state_label, s.presence, s.consecutive_misses,
       i.serial_number, i.mac_address, i.subscriber_id, i.snmp_description, i.plan_onu,
       i.distancia_onu, i.modelo_onu
FROM onu_index_map m
LEFT JOIN onu_status s ON s.onu_index_id = m.id
LEFT JOIN onu_inventory i ON i.onu_index_id = m.id
ORDER BY m.olt_id, m.id
"""


def _without_password(url: str) -> str:
    """The URL as messages may show it: no password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(URL inválida)"
    host, db = info.get("host", "localhost"), info.get("dbname", "?")
    return f"{host}:{info.get('port', 5432)}/{db}"


class OldDatabase:
    """One read-only snapshot of the old database; use as a context manager."""

    def __init__(self, url: str, connect_timeout_s: int = 10):
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> "OldDatabase":
        where = _without_password(self.url)
        if not self.url.startswith(("postgresql://", "postgres://")):
            raise ImporterError("--desde debe ser una URL postgresql://usuario@host:puerto/base "
                                "de la base de Facho v2")
        try:
            self.conn = psycopg.connect(
                self.url, connect_timeout=self.connect_timeout_s, row_factory=dict_row,
                options="-c default_transaction_read_only=on -c TimeZone=UTC")
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ImporterError(f"no se pudo conectar a la base de Facho v2 ({where}): "
                                f"{first}") from None
        self.conn.read_only = True
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.check_schema()
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.rollback()     # nothing to keep: it was read-only
            self.conn.close()

    def check_schema(self) -> None:
        rows = self.conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema()").fetchall()
        present: dict[str, set[str]] = {}
        types: dict[str, str] = {}
        for row in rows:
            present.setdefault(row["table_name"], set()).add(row["column_name"])
            types[f"{row['table_name']}.{row['column_name']}"] = row["data_type"]
        missing_tables = [t for t in REQUIRED if t not in present]
        if len(missing_tables) == len(REQUIRED):
            raise ImporterError("la base indicada no es de Facho v2: no tiene ninguna de sus "
                                "tablas (marcas, olt, oids, snmp_jobs…)")
        if missing_tables:
            raise ImporterError("la base no tiene el esquema de Facho v2 que este importador "
                                f"conoce: faltan las tablas {', '.join(missing_tables)}")
        missing = [f"{t}.{c}" for t, cols in REQUIRED.items() for c in cols
                   if c not in present[t]]
        if missing:
            raise ImporterError("la base es de otra versión de Facho v2: faltan las columnas "
                                f"{', '.join(missing[:8])}"
                                f"{' …' if len(missing) > 8 else ''}; actualícela a la última "
                                "versión (migraciones de Django) antes de importar")
        naive = [c for c in INSTANTS if types.get(c) != "timestamp with time zone"]
        if naive:
            raise ImporterError(f"las fechas de {', '.join(naive[:3])} no tienen zona horaria "
                                "(Facho v2 con USE_TZ = False): no se sabe qué instante "
                                "representan; esta versión no se puede importar")

    def rows(self, sql: str, params=()) -> list[dict]:
        return self.conn.execute(sql, params).fetchall()

    def table(self, name: str) -> list[dict]:
        """Every row of an old table, by id (names come from REQUIRED, never from input)."""
        assert name in REQUIRED
        order = " ORDER BY id" if "id" in REQUIRED[name] else ""
        return self.rows(f"SELECT * FROM {name}{order}")

    def count(self, name: str) -> int:
        assert name in REQUIRED
        return self.rows(f"SELECT count(*) AS n FROM {name}")[0]["n"]

    def onus(self, batch: int = 5000) -> Iterator[dict]:
        """The split inventory joined per ONU, streamed with a server-side cursor."""
        with self.conn.cursor(name="facho_import_onus", row_factory=dict_row) as cur:
            cur.itersize = batch
            cur.execute(ONU_QUERY)
            yield from cur

    @staticmethod
    def since(days: int, now: datetime | None = None) -> datetime:
        return (now or datetime.now(timezone.utc)) - timedelta(days=days)

    def executions_since(self, since: datetime, batch: int = 5000) -> Iterator[dict]:
        """Executions created at or after ``since`` (aware UTC), streamed by id."""
        with self.conn.cursor(name="facho_import_executions", row_factory=dict_row) as cur:
            cur.itersize = batch
            cur.execute("SELECT * FROM snmp_executions WHERE created_at >= %s ORDER BY id",
                        (since,))
            yield from cur

    def sample_indexes(self, olt_ids: list[int], limit: int = 500) -> list[str]:
        """Some raw index keys of these OLTs' ONUs (to learn a bitshift formula's fixed bits)."""
        if not olt_ids:
            return []
        return [r["raw_index_key"] for r in self.rows(
            "SELECT raw_index_key FROM onu_index_map WHERE olt_id = ANY(%s) ORDER BY id "
            "LIMIT %s", (olt_ids, limit))]
