"""Data model (DESIGN section 2). Names follow the original system and its seeds.

All timestamps are stored as naive UTC and handed to Python as aware UTC datetimes
(`UTCDateTime`), so comparisons such as the dispatcher's compare-and-set on
`next_run_at` behave the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import relationship
from werkzeug.security import check_password_hash, generate_password_hash

from facho.extensions import db

UTC = timezone.utc

PENDING, RUNNING, SUCCESS, FAILED, INTERRUPTED, SKIPPED = (
    "PENDING", "RUNNING", "SUCCESS", "FAILED", "INTERRUPTED", "SKIPPED")
STATUSES = (PENDING, RUNNING, SUCCESS, FAILED, INTERRUPTED, SKIPPED)
ACTIVE_STATUSES = (PENDING, RUNNING)
FINAL_STATUSES = (SUCCESS, FAILED, INTERRUPTED, SKIPPED)

JOB_TYPES = ("descubrimiento", "get")
SNMP_VERSIONS = ("v1", "v2c", "v3")
V3_AUTH_PROTOCOLS = ("", "md5", "sha1")   # "" = noAuth
V3_PRIV_PROTOCOLS = ("", "des", "aes")    # "" = noPriv
ESPACIOS = ("descubrimiento", "descripcion", "serial", "estado", "mac", "plan_onu",
            "distancia_onu", "modelo_onu", "rx_power", "tx_power", "metrica", "causa_caida")
# "metrica": a numeric value kept only in the ONU's history, under the OID's nombre;
# "causa_caida": the vendor's last down cause (Huawei, ZTE), the cause of a state event
FORMULA_KINDS = ("linear", "bitshift", "dotted", "string")
# Oid.unidad: what the raw number is in, converted to dBm ("" = no conversion)
VALUE_UNITS = ("", "mw", "uw", "decimas_uw")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC in Python, naive UTC in the database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:   # the usual case skips the conversion (a write per ONU)
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Brand(db.Model):
    __tablename__ = "brands"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(80), nullable=False, unique=True)

    def __str__(self):
        return self.nombre


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(80), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    active = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    is_staff = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.text("false"))
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = sa.Column(UTCDateTime)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):  # Flask-Login refuses inactive users
        return bool(self.active)

    def __str__(self):
        return self.username


class Olt(db.Model):
    __tablename__ = "olts"
    id = sa.Column(sa.Integer, primary_key=True)
    abreviatura = sa.Column(sa.String(60), nullable=False, unique=True)
    ip_address = sa.Column(sa.String(255), nullable=False)
    snmp_port = sa.Column(sa.Integer, nullable=False, default=161, server_default="161")
    snmp_version = sa.Column(sa.String(4), nullable=False, default="v2c", server_default="v2c")
    comunidad = sa.Column(sa.String(255), nullable=False)  # secret: never listed or logged
    # SNMPv3 (snmp_version "v3"): the keys are secrets like `comunidad`
    v3_usuario = sa.Column(sa.String(80), nullable=False, default="", server_default="")
    v3_auth_proto = sa.Column(sa.String(10), nullable=False, default="", server_default="")
    v3_auth_clave = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    v3_priv_proto = sa.Column(sa.String(10), nullable=False, default="", server_default="")
    v3_priv_clave = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    brand_id = sa.Column(sa.Integer, sa.ForeignKey("brands.id"), nullable=False)
    modelo = sa.Column(sa.String(80), nullable=False, default="", server_default="")
    descripcion = sa.Column(sa.Text, nullable=False, default="", server_default="")
    habilitar_olt = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    max_concurrent = sa.Column(sa.Integer, nullable=False, default=1, server_default="1")
    max_starts_per_minute = sa.Column(sa.Integer, nullable=False, default=30, server_default="30")
    # sysUpTime as last read (s), when, and the last reboot it showed (facho.inventory.uptime)
    uptime_s = sa.Column(sa.BigInteger)
    uptime_at = sa.Column(UTCDateTime)
    rebooted_at = sa.Column(UTCDateTime)
    # The polling budget (issue 15, facho/snmp/pacing.py): rows per GetBulk, requests per
    # second to this OLT across every worker (0 = no cap), milliseconds of silence between
    # one answer and the next request of a walk, and GETNEXT instead of GetBulk. No Python
    # default: the panel's new-OLT form shows them empty, meaning "the vendor profile's
    # default" (admin/olts.py); rows built elsewhere get the server defaults.
    max_repetitions = sa.Column(sa.Integer, nullable=False, server_default="25")
    max_requests_per_second = sa.Column(sa.Integer, nullable=False, server_default="0")
    request_pause_ms = sa.Column(sa.Integer, nullable=False, server_default="0")
    getnext_only = sa.Column(sa.Boolean, nullable=False, default=False,
                             server_default=sa.text("false"))
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    brand = relationship(Brand)

    __table_args__ = (
        sa.CheckConstraint("snmp_port BETWEEN 1 AND 65535", name="snmp_port_range"),
        sa.CheckConstraint(_in("snmp_version", SNMP_VERSIONS), name="snmp_version"),
        sa.CheckConstraint(_in("v3_auth_proto", V3_AUTH_PROTOCOLS), name="v3_auth_proto"),
        sa.CheckConstraint(_in("v3_priv_proto", V3_PRIV_PROTOCOLS), name="v3_priv_proto"),
        sa.CheckConstraint("max_concurrent >= 1", name="max_concurrent_positive"),
        sa.CheckConstraint("max_starts_per_minute >= 1", name="max_starts_positive"),
        sa.CheckConstraint("max_repetitions BETWEEN 1 AND 100", name="max_repetitions_range"),
        sa.CheckConstraint("max_requests_per_second >= 0", name="max_requests_per_second_positive"),
        sa.CheckConstraint("request_pause_ms >= 0", name="request_pause_ms_positive"),
    )

    def __str__(self):
        return self.abreviatura


class Oid(db.Model):
    __tablename__ = "oids"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(120), nullable=False, unique=True)
    oid = sa.Column(sa.String(255), nullable=False)
    brand_id = sa.Column(sa.Integer, sa.ForeignKey("brands.id"))  # null = any brand
    espacio = sa.Column(sa.String(40), nullable=False)
    formato = sa.Column(sa.String(40), nullable=False, default="text", server_default="text")
    keep_previous_value = sa.Column(sa.Boolean, nullable=False, default=False,
                                    server_default=sa.text("false"))
    default_value = sa.Column(sa.String(255))  # written when the device gives no value
    # Value rule (facho.inventory.value_rules), applied after `formato`:
    regex = sa.Column(sa.String(255))            # extracts the number/text (group 1)
    sin_valor = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    unidad = sa.Column(sa.String(20), nullable=False, default="", server_default="")
    escala = sa.Column(sa.Float)                 # value * escala + desplazamiento
    desplazamiento = sa.Column(sa.Float)
    decimales = sa.Column(sa.Integer)
    etiquetas = sa.Column(sa.JSON)               # {"1": "en línea", ...} raw -> label

    brand = relationship(Brand)

    __table_args__ = (sa.CheckConstraint(_in("espacio", ESPACIOS), name="espacio"),
                      sa.CheckConstraint(_in("unidad", VALUE_UNITS), name="unidad"))

    def __str__(self):
        return f"{self.nombre} ({self.oid})"


class IndexFormula(db.Model):
    """How a row index decodes into slot / port / ONU id for a brand (and optionally a model)."""

    __tablename__ = "index_formulas"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(120), nullable=False, unique=True)
    brand_id = sa.Column(sa.Integer, sa.ForeignKey("brands.id"), nullable=False)
    modelo = sa.Column(sa.String(80), nullable=False, default="", server_default="")
    kind = sa.Column(sa.String(20), nullable=False)
    params = sa.Column(sa.JSON, nullable=False, default=dict)

    brand = relationship(Brand)

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "modelo"),
        sa.CheckConstraint(_in("kind", FORMULA_KINDS), name="kind"),
    )

    def __str__(self):
        return self.nombre


snmp_job_oids = sa.Table(
    "snmp_job_oids", db.metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("snmp_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("oid_id", sa.Integer, sa.ForeignKey("oids.id", ondelete="CASCADE"),
              primary_key=True),
)


class SnmpJob(db.Model):
    __tablename__ = "snmp_jobs"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(120), nullable=False, unique=True)
    descripcion = sa.Column(sa.Text, nullable=False, default="", server_default="")
    brand_id = sa.Column(sa.Integer, sa.ForeignKey("brands.id"), nullable=False)
    job_type = sa.Column(sa.String(20), nullable=False)
    interval_raw = sa.Column(sa.String(20))
    cron_expr = sa.Column(sa.String(120))
    cron_tz = sa.Column(sa.String(64), nullable=False, default="America/Lima",
                        server_default="America/Lima")
    enabled = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    max_retries = sa.Column(sa.Integer, nullable=False, default=2, server_default="2")
    retry_delay_seconds = sa.Column(sa.Integer, nullable=False, default=30, server_default="30")
    anchor_at = sa.Column(UTCDateTime)       # slots are anchor_at + k * interval
    next_run_at = sa.Column(UTCDateTime, index=True)
    last_run_at = sa.Column(UTCDateTime)
    missed_slots = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    # Bumped by every ORM write that changes when the job runs (see _bump_schedule_version):
    # the tick's claim compares it, so a plan made from a schedule that an edit has since
    # replaced never wins, even when the edit stored the same next_run_at.
    schedule_version = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    brand = relationship(Brand)
    oids = relationship(Oid, secondary=snmp_job_oids, order_by=Oid.id)
    job_hosts = relationship("SnmpJobHost", back_populates="job", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(_in("job_type", JOB_TYPES), name="job_type"),
        sa.CheckConstraint(
            "(interval_raw IS NULL) <> (cron_expr IS NULL)", name="interval_xor_cron"),
        sa.CheckConstraint("max_retries >= 0", name="max_retries_non_negative"),
        sa.CheckConstraint("retry_delay_seconds >= 0", name="retry_delay_non_negative"),
    )

    def __str__(self):
        return self.nombre


SCHEDULE_ATTRIBUTES = ("interval_raw", "cron_expr", "cron_tz", "anchor_at", "next_run_at",
                       "enabled")


@sa.event.listens_for(SnmpJob, "before_update")
def _bump_schedule_version(mapper, connection, job) -> None:
    """Edits go through the ORM (panel, CLI); the scheduler's own claims are Core UPDATEs
    and do not pass here, so only an edit moves the version."""
    state = sa.inspect(job)
    if any(state.attrs[name].history.has_changes() for name in SCHEDULE_ATTRIBUTES):
        job.schedule_version = SnmpJob.schedule_version + 1


class SnmpJobHost(db.Model):
    """A job on one OLT (the seeds call these `job_hosts`)."""

    __tablename__ = "job_hosts"
    id = sa.Column(sa.Integer, primary_key=True)
    job_id = sa.Column(sa.Integer, sa.ForeignKey("snmp_jobs.id", ondelete="CASCADE"),
                       nullable=False)
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"), nullable=False)
    enabled = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    last_success_at = sa.Column(UTCDateTime)
    last_failure_at = sa.Column(UTCDateTime)
    consecutive_failures = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")

    job = relationship(SnmpJob, back_populates="job_hosts")
    olt = relationship(Olt)

    __table_args__ = (sa.UniqueConstraint("job_id", "olt_id"),)

    def __str__(self):
        return f"{self.job} @ {self.olt}"


class Execution(db.Model):
    __tablename__ = "executions"
    id = sa.Column(sa.Integer, primary_key=True)
    job_id = sa.Column(sa.Integer, sa.ForeignKey("snmp_jobs.id", ondelete="CASCADE"),
                       nullable=False)
    job_host_id = sa.Column(sa.Integer, sa.ForeignKey("job_hosts.id", ondelete="SET NULL"))
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"), nullable=False)
    status = sa.Column(sa.String(12), nullable=False, default=PENDING, server_default=PENDING)
    scheduled_for = sa.Column(UTCDateTime)   # the slot; NULL for a manual run
    requested_by_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"))
    message_id = sa.Column(sa.String(64))
    attempt = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    started_at = sa.Column(UTCDateTime)
    finished_at = sa.Column(UTCDateTime)
    heartbeat_at = sa.Column(UTCDateTime)    # refreshed by the worker while RUNNING
    duration_ms = sa.Column(sa.Integer)
    result_summary = sa.Column(sa.JSON)
    error_message = sa.Column(sa.Text)       # also the stated reason of SKIPPED / INTERRUPTED
    worker = sa.Column(sa.String(120))

    job = relationship(SnmpJob)
    job_host = relationship(SnmpJobHost)
    olt = relationship(Olt)
    requested_by = relationship(User)

    __table_args__ = (
        sa.UniqueConstraint("job_id", "olt_id", "scheduled_for"),
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.Index("ix_executions_status_job_olt", "status", "job_id", "olt_id"),
        # Dispatch: PENDING rows by slot (fan-out per slot second, due-but-unsent sweep).
        sa.Index("ix_executions_status_scheduled_for", "status", "scheduled_for"),
        # An OLT's latest executions (OLT page: last successful walk; ONU page).
        sa.Index("ix_executions_olt_finished", "olt_id", "finished_at"),
        # The panel's list filtered by one OLT, newest first (admin.lists: every list page
        # within 150 ms at 10 M executions).
        sa.Index("ix_executions_olt_created", "olt_id", "created_at"),
        # At most one active manual run per (job, OLT): two quick clicks on "Ejecutar"
        # from two browsers cannot both queue one; the database refuses the second.
        sa.Index("uq_executions_manual_active", "job_id", "olt_id", unique=True,
                 sqlite_where=sa.text("scheduled_for IS NULL AND status IN ('PENDING', 'RUNNING')"),
                 postgresql_where=sa.text(
                     "scheduled_for IS NULL AND status IN ('PENDING', 'RUNNING')")),
    )

    def __str__(self):
        return f"#{self.id} {self.job} @ {self.olt} [{self.status}]"


class Onu(db.Model):
    """ONU inventory: one row per (OLT, raw row index)."""

    __tablename__ = "onus"
    id = sa.Column(sa.Integer, primary_key=True)
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"), nullable=False)
    # a string index (a serial as sub-ids) is about four characters per character of key
    raw_index = sa.Column(sa.String(255), nullable=False)
    slot = sa.Column(sa.Integer)
    port = sa.Column(sa.Integer)
    onu_id = sa.Column(sa.Integer)
    name = sa.Column(sa.String(40))          # normalised, e.g. 0/1/3:5
    serial = sa.Column(sa.String(40), index=True)
    descripcion = sa.Column(sa.String(255))
    status = sa.Column(sa.String(40))        # a vendor's label, "dying gasp (sin energía)"
    present = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    consecutive_misses = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    distance_km = sa.Column(sa.Float)
    rx_power = sa.Column(sa.Float)           # dBm
    tx_power = sa.Column(sa.Float)           # dBm
    mac = sa.Column(sa.String(17))
    last_down_cause = sa.Column(sa.String(80))   # a vendor's label, "LOS", "dying gasp …"
    plan = sa.Column(sa.String(80))
    modelo = sa.Column(sa.String(80))
    first_seen_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime)
    last_execution_id = sa.Column(sa.Integer,
                                  sa.ForeignKey("executions.id", ondelete="SET NULL"))

    olt = relationship(Olt)

    __table_args__ = (
        sa.UniqueConstraint("olt_id", "raw_index"),
        # The panel's ONU list (admin/inventory.py) in its order, whole or by OLT, by state,
        # absent ones: a page at 1 M ONUs reads its rows from these, never sorts them all.
        sa.Index("ix_onus_position", "olt_id", "slot", "port", "onu_id"),
        sa.Index("ix_onus_status_position", "status", "olt_id", "slot", "port", "onu_id"),
        sa.Index("ix_onus_absent_position", "olt_id", "slot", "port", "onu_id",
                 sqlite_where=sa.text("NOT present"), postgresql_where=sa.text("NOT present")),
    )

    def __str__(self):
        return f"{self.olt} {self.name or self.raw_index}"


class OnuMetricDay(db.Model):
    """One UTC day of one ONU's numeric metric: its raw samples, packed
    (`facho.inventory.history.samples`), kept `history_raw_days`."""

    __tablename__ = "onu_metric_days"
    # PostgreSQL: one partition per UTC day (facho.inventory.history.partitions)
    __table_args__ = {"postgresql_partition_by": "RANGE (day)"}
    onu_id = sa.Column(sa.Integer, sa.ForeignKey("onus.id", ondelete="CASCADE"),
                       primary_key=True)
    metric = sa.Column(sa.String(64), primary_key=True)
    day = sa.Column(sa.Date, primary_key=True, index=True)
    samples = sa.Column(sa.LargeBinary, nullable=False)


class OnuMetricHours(db.Model):
    """One UTC day of one ONU's metric as hourly roll-ups, packed
    (`facho.inventory.history.rollup`), kept `history_rollup_days`."""

    __tablename__ = "onu_metric_hours"
    onu_id = sa.Column(sa.Integer, sa.ForeignKey("onus.id", ondelete="CASCADE"),
                       primary_key=True)
    metric = sa.Column(sa.String(64), primary_key=True)
    day = sa.Column(sa.Date, primary_key=True, index=True)
    hours = sa.Column(sa.LargeBinary, nullable=False)
    # the day folded (`rollup.day_summary`): a year's chart reads these, not the hours;
    # NULL on rows rolled up before they existed (the reader folds the hours then)
    day_min = sa.Column(sa.Float)
    day_avg = sa.Column(sa.Float)
    day_max = sa.Column(sa.Float)
    day_count = sa.Column(sa.Integer)


sa.event.listen(OnuMetricDay.__table__, "after_create", sa.DDL(
    "CREATE TABLE onu_metric_days_default PARTITION OF onu_metric_days DEFAULT"
).execute_if(dialect="postgresql"))


class OnuEvent(db.Model):
    """A change the inventory saw on one ONU (`facho.inventory.events`): its state, its
    presence, its rx power beyond the threshold, its position (same serial, new index).
    `slot`/`port` are the ONU's PON when it happened, so a PON's events survive moves."""

    __tablename__ = "onu_events"
    id = sa.Column(sa.Integer, primary_key=True)
    onu_id = sa.Column(sa.Integer, sa.ForeignKey("onus.id", ondelete="CASCADE"),
                       nullable=False)
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"),
                       nullable=False)
    slot = sa.Column(sa.Integer)
    port = sa.Column(sa.Integer)
    at = sa.Column(UTCDateTime, nullable=False)
    kind = sa.Column(sa.String(20), nullable=False)
    old_value = sa.Column(sa.String(120))
    new_value = sa.Column(sa.String(120))
    cause = sa.Column(sa.String(80))
    execution_id = sa.Column(sa.Integer, sa.ForeignKey("executions.id", ondelete="SET NULL"))

    __table_args__ = (sa.Index("ix_onu_events_onu_id_at", "onu_id", "at"),
                      sa.Index("ix_onu_events_olt_id_at", "olt_id", "at"),
                      sa.Index("ix_onu_events_at", "at"))


class AuditEvent(db.Model):
    """Who did what to the data from the panel (ONU deletions, profile imports…)."""

    __tablename__ = "audit_events"
    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    username = sa.Column(sa.String(80), nullable=False)
    action = sa.Column(sa.String(40), nullable=False)
    target = sa.Column(sa.String(120), nullable=False, default="", server_default="")
    count = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    detail = sa.Column(sa.Text, nullable=False, default="", server_default="")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.target}"


API_SCOPES = ("lectura", "ejecutar", "administrar")

# Indexes a migration creates on one database only and the models do not declare: the
# trigram expression index of the API's ONU search (PostgreSQL, migration 9a41c7e2b6d3).
# Autogenerate and the models-vs-migrations test leave them alone.
MIGRATION_ONLY_INDEXES = frozenset({"ix_onus_search_trgm"})


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object`: everything but MIGRATION_ONLY_INDEXES."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


class ApiToken(db.Model):
    """A user's key to the REST API (`facho.api.tokens`): only its SHA-256 is stored; the
    token itself is shown once, when it is created. `prefix` (the token's first
    characters) names it in lists and logs without revealing it."""

    __tablename__ = "api_tokens"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(80), nullable=False)
    prefix = sa.Column(sa.String(16), nullable=False)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False)
    scopes = sa.Column(sa.String(80), nullable=False)    # space-separated API_SCOPES
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = sa.Column(UTCDateTime)                  # NULL = never
    last_used_at = sa.Column(UTCDateTime)
    revoked_at = sa.Column(UTCDateTime)                  # NULL = usable

    user = relationship(User)

    @property
    def scope_set(self) -> set[str]:
        return set((self.scopes or "").split())

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ApiCall(db.Model):
    """One REST API request: which token, which route, what status (the panel's
    Administración > Llamadas a la API). Token name and user are copied so the log still
    reads after the token is deleted."""

    __tablename__ = "api_calls"
    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    token_id = sa.Column(sa.Integer, sa.ForeignKey("api_tokens.id", ondelete="SET NULL"),
                         index=True)
    token_name = sa.Column(sa.String(80), nullable=False, default="", server_default="")
    username = sa.Column(sa.String(80), nullable=False, default="", server_default="")
    method = sa.Column(sa.String(8), nullable=False)
    route = sa.Column(sa.String(200), nullable=False)
    status = sa.Column(sa.Integer, nullable=False)
    duration_ms = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")

    token = relationship(ApiToken)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.method} {self.route} {self.status}"
# --- alerts (issue 13, `facho.monitoring`) ---------------------------------------------

ALERT_KINDS = ("onu_desconectada", "rx_baja", "degradacion", "olt_inalcanzable",
               "pon_caida", "pon_degradada")
SEVERITIES = ("aviso", "critico")                 # ordered: a rule's min_severity filters
SCOPES = ("todas", "marca", "olt", "pon")
INCIDENT_STATES = ("abierto", "reconocido", "resuelto")
OPEN_INCIDENT_STATES = ("abierto", "reconocido")
TRANSITIONS = ("abierto", "reconocido", "resuelto")
OUTBOX_STATUSES = ("pendiente", "enviando", "enviado", "fallido")

alert_rule_channels = sa.Table(
    "alert_rule_channels", db.metadata,
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("channel_id", sa.Integer,
              sa.ForeignKey("notification_channels.id", ondelete="CASCADE"), primary_key=True),
)


class NotificationChannel(db.Model):
    """Where notifications go: one Apprise URL (a secret: tokens and passwords live in it;
    never listed, logged or put in an error)."""

    __tablename__ = "notification_channels"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(80), nullable=False, unique=True)
    url = sa.Column(sa.Text, nullable=False)      # secret
    enabled = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    resumen_diario = sa.Column(sa.Boolean, nullable=False, default=False,
                               server_default=sa.text("false"))
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    def __str__(self):
        return self.nombre


class AlertRule(db.Model):
    """One alert condition (`kind`) over a scope, with its parameters (`params`, validated
    per kind by `facho.monitoring.rules`)."""

    __tablename__ = "alert_rules"
    id = sa.Column(sa.Integer, primary_key=True)
    nombre = sa.Column(sa.String(120), nullable=False, unique=True)
    kind = sa.Column(sa.String(30), nullable=False)
    scope = sa.Column(sa.String(10), nullable=False)
    brand_id = sa.Column(sa.Integer, sa.ForeignKey("brands.id", ondelete="CASCADE"))
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"))
    slot = sa.Column(sa.Integer)
    port = sa.Column(sa.Integer)
    params = sa.Column(sa.JSON, nullable=False, default=dict)
    severity = sa.Column(sa.String(10), nullable=False, default="aviso", server_default="aviso")
    min_severity = sa.Column(sa.String(10), nullable=False, default="aviso",
                             server_default="aviso")
    enabled = sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.text("true"))
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    brand = relationship(Brand)
    olt = relationship(Olt)
    channels = relationship(NotificationChannel, secondary=alert_rule_channels,
                            order_by=NotificationChannel.id)

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        sa.CheckConstraint(_in("scope", SCOPES), name="scope"),
        sa.CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        sa.CheckConstraint(_in("min_severity", SEVERITIES), name="min_severity"),
        sa.CheckConstraint(
            "(scope = 'todas') OR (scope = 'marca' AND brand_id IS NOT NULL) OR "
            "(scope = 'olt' AND olt_id IS NOT NULL) OR "
            "(scope = 'pon' AND olt_id IS NOT NULL AND slot IS NOT NULL AND port IS NOT NULL)",
            name="scope_keys"),
    )

    def __str__(self):
        return self.nombre


class Incident(db.Model):
    """An alert with a life: abierto → reconocido → resuelto. `dedupe_key` names the
    condition (rule and what it is about); at most one incident per key is open (a partial
    unique index), so two workers never open the same one twice."""

    __tablename__ = "incidents"
    id = sa.Column(sa.Integer, primary_key=True)
    rule_id = sa.Column(sa.Integer, sa.ForeignKey("alert_rules.id", ondelete="SET NULL"))
    kind = sa.Column(sa.String(30), nullable=False)
    severity = sa.Column(sa.String(10), nullable=False, default="aviso", server_default="aviso")
    dedupe_key = sa.Column(sa.String(200), nullable=False)
    state = sa.Column(sa.String(12), nullable=False, default="abierto", server_default="abierto")
    olt_id = sa.Column(sa.Integer, sa.ForeignKey("olts.id", ondelete="CASCADE"))
    slot = sa.Column(sa.Integer)
    port = sa.Column(sa.Integer)
    onu_id = sa.Column(sa.Integer, sa.ForeignKey("onus.id", ondelete="SET NULL"))
    title = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    cause = sa.Column(sa.String(80))              # "corte de fibra", "corte de energía", …
    detail = sa.Column(sa.Text, nullable=False, default="", server_default="")
    onus_included = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    onus_suppressed = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    flapping_count = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    parent_id = sa.Column(sa.Integer, sa.ForeignKey("incidents.id", ondelete="SET NULL"))
    opened_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime)         # the condition last held
    clear_since = sa.Column(UTCDateTime)          # the condition stopped holding (hold time)
    acknowledged_at = sa.Column(UTCDateTime)
    acknowledged_by = sa.Column(sa.String(80))
    ack_note = sa.Column(sa.Text)
    resolved_at = sa.Column(UTCDateTime)
    resolved_by = sa.Column(sa.String(80))        # NULL = automatically

    rule = relationship(AlertRule)
    olt = relationship(Olt)

    __table_args__ = (
        sa.CheckConstraint(_in("state", INCIDENT_STATES), name="state"),
        sa.CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        sa.Index("uq_incidents_open_dedupe", "dedupe_key", unique=True,
                 sqlite_where=sa.text("state IN ('abierto', 'reconocido')"),
                 postgresql_where=sa.text("state IN ('abierto', 'reconocido')")),
        sa.Index("ix_incidents_dedupe_resolved", "dedupe_key", "resolved_at"),
        sa.Index("ix_incidents_state_olt", "state", "olt_id"),
        sa.Index("ix_incidents_opened_at", "opened_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_INCIDENT_STATES

    def __str__(self):
        return f"#{self.id} {self.title}"


class NotificationOutbox(db.Model):
    """One notification to send: written in the transaction that makes the transition;
    `idempotency_key` (incident, transition, channel) is unique, so a transition is never
    queued twice, and a row marked `enviado` is never sent again."""

    __tablename__ = "notification_outbox"
    id = sa.Column(sa.Integer, primary_key=True)
    incident_id = sa.Column(sa.Integer, sa.ForeignKey("incidents.id", ondelete="CASCADE"))
    transition = sa.Column(sa.String(20), nullable=False)
    channel_id = sa.Column(sa.Integer,
                           sa.ForeignKey("notification_channels.id", ondelete="CASCADE"),
                           nullable=False)
    idempotency_key = sa.Column(sa.String(120), nullable=False, unique=True)
    title = sa.Column(sa.String(255), nullable=False, default="", server_default="")
    body = sa.Column(sa.Text, nullable=False, default="", server_default="")
    status = sa.Column(sa.String(12), nullable=False, default="pendiente",
                       server_default="pendiente")
    attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = sa.Column(UTCDateTime)
    sent_at = sa.Column(UTCDateTime)
    last_error = sa.Column(sa.Text)

    channel = relationship(NotificationChannel)

    __table_args__ = (
        sa.CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        sa.Index("ix_notification_outbox_status_next", "status", "next_attempt_at"),
    )
