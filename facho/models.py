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
            "distancia_onu", "modelo_onu", "rx_power", "tx_power", "metrica")
# "metrica": a numeric value kept only in the ONU's history, under the OID's nombre
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
        return value.astimezone(UTC).replace(tzinfo=None)

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
    plan = sa.Column(sa.String(80))
    modelo = sa.Column(sa.String(80))
    first_seen_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = sa.Column(UTCDateTime)
    last_execution_id = sa.Column(sa.Integer,
                                  sa.ForeignKey("executions.id", ondelete="SET NULL"))

    olt = relationship(Olt)

    __table_args__ = (sa.UniqueConstraint("olt_id", "raw_index"),)

    def __str__(self):
        return f"{self.olt} {self.name or self.raw_index}"


class OnuMetricDay(db.Model):
    """One UTC day of one ONU's numeric metric: its raw samples, packed
    (`facho.inventory.history.samples`), kept `history_raw_days`."""

    __tablename__ = "onu_metric_days"
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
