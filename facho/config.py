"""Configuration: read from the environment in one place and validated at start-up.

Every process (web, worker, scheduler, CLI) calls `load_config()`; a bad value raises
`ConfigError` whose message is one line naming the variable, and the entry points turn it
into a non-zero exit without a traceback.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = REPO_ROOT / "var"
DEV_SECRET_KEY = "facho-development-only-secret"


class ConfigError(Exception):
    """A configuration value is missing or malformed; str() is one line naming the variable."""

    def line(self) -> str:
        """What a process that cannot start prints on stderr before exiting with 2."""
        return f"facho: error de configuración: {self}"


@dataclass(frozen=True)
class Config:
    env: str                      # "development" | "production" | "testing"
    database_url: str
    redis_url: str | None         # None = embedded Redis under var_dir
    secret_key: str
    timezone: str                 # operators' zone, e.g. America/Lima
    var_dir: Path
    snmp_timeout_s: float
    snmp_retries: int
    catchup_window_s: int
    tick_margin_s: int
    lease_ttl_ms: int
    min_interval_s: int           # shortest interval a job may be given (panel, CLI)
    olt_lease_ttl_ms: int
    retention_days: int
    absent_after_misses: int
    absent_onu_days: int          # absent ONUs unseen this long are deleted (0 = never)
    history_raw_days: int         # raw readings of the ONU time series are kept this long
    history_rollup_days: int      # their hourly roll-ups (and ONU events) are kept this long
    power_event_db: float         # |Δ rx power| (dB) between two readings that makes an event
    api_rate_per_minute: int = 600  # REST API calls per token per minute (0 = no limit)
    api_page_max: int = 1000        # largest page (`limite`) an API list accepts
    public_url: str = "http://127.0.0.1:5000"   # the panel's address, for links in notifications

    @property
    def claim_horizon_s(self) -> int:
        """How far ahead a tick claims slots (s): everything due before the next minute tick
        plus `tick_margin_s`, so a late tick never leaves a slot unclaimed."""
        return 60 + self.tick_margin_s

    @property
    def development(self) -> bool:
        return self.env in ("development", "testing")

    @property
    def embedded_redis_socket(self) -> Path:
        return self.var_dir / "redis.sock"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.embedded_redis_socket}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style postgres:// URLs; reject anything SQLAlchemy will not understand."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    scheme = urlparse(url).scheme
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        raise ConfigError(
            f"DATABASE_URL inválida: esquema '{scheme or '(vacío)'}' no soportado "
            "(use sqlite:///ruta.db o postgresql://usuario@host/base)")
    if scheme.startswith("postgresql") and not urlparse(url).hostname and "host=" not in url:
        raise ConfigError("DATABASE_URL inválida: falta el host de PostgreSQL")
    return url


def _int(env: dict, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise ConfigError(f"{name} inválida: '{raw}' no es un número entero")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name} inválida: {value} fuera de rango ({low}-{high})")
    return value


def _float(env: dict, name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} inválida: '{raw}' no es un número") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} inválida: {value} fuera de rango ({low}-{high})")
    return value


def load_config(environ: dict | None = None) -> Config:
    """Build the validated configuration from `environ` (default: os.environ)."""
    env = dict(os.environ if environ is None else environ)
    mode = env.get("FACHO_ENV", "production").strip().lower()
    if mode not in ("development", "production", "testing"):
        raise ConfigError(
            f"FACHO_ENV inválida: '{mode}' (valores: development, production, testing)")

    var_dir = Path(env.get("FACHO_VAR_DIR") or DEFAULT_VAR_DIR).resolve()

    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'facho.db'}"
    database_url = normalize_database_url(database_url.strip())

    redis_url = (env.get("REDIS_URL") or "").strip() or None
    if redis_url and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            "REDIS_URL inválida: use redis://host:puerto/db, rediss:// o unix:///ruta.sock")

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if mode == "production":
            raise ConfigError(
                "SECRET_KEY no definida: es obligatoria fuera de desarrollo "
                "(o defina FACHO_ENV=development)")
        secret_key = DEV_SECRET_KEY
    elif len(secret_key) < 16 and mode == "production":
        raise ConfigError("SECRET_KEY inválida: debe tener al menos 16 caracteres")

    timezone = env.get("FACHO_TIMEZONE", "America/Lima").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"FACHO_TIMEZONE inválida: zona horaria '{timezone}' desconocida "
            "(ejemplo: America/Lima)") from None

    history_raw_days = _int(env, "FACHO_HISTORY_RAW_DAYS", 30, 1, 3650)
    history_rollup_days = _int(env, "FACHO_HISTORY_ROLLUP_DAYS", 400, 1, 3650)
    if history_rollup_days < history_raw_days:
        raise ConfigError(
            f"FACHO_HISTORY_ROLLUP_DAYS inválida: {history_rollup_days} es menor que "
            f"FACHO_HISTORY_RAW_DAYS ({history_raw_days}); los resúmenes por hora deben "
            "guardarse al menos tanto como las lecturas")

    return Config(
        env=mode,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=secret_key,
        timezone=timezone,
        var_dir=var_dir,
        snmp_timeout_s=_float(env, "FACHO_SNMP_TIMEOUT_S", 2.0, 0.05, 60.0),
        snmp_retries=_int(env, "FACHO_SNMP_RETRIES", 2, 0, 10),
        catchup_window_s=_int(env, "FACHO_CATCHUP_WINDOW_S", 300, 30, 86400),
        tick_margin_s=_int(env, "FACHO_TICK_MARGIN_S", 15, 0, 300),
        # 3 s: a follower takes over within TTL + its 0.5 s poll, so a leader's death delays
        # no slot by more than ~4 s (issue 9: 8-10 s with 10 s); see facho.scheduling.process.
        lease_ttl_ms=_int(env, "FACHO_LEASE_TTL_MS", 3000, 500, 120000),
        min_interval_s=_int(env, "FACHO_MIN_INTERVAL_S", 10, 1, 3600),
        olt_lease_ttl_ms=_int(env, "FACHO_OLT_LEASE_TTL_MS", 30000, 500, 600000),
        retention_days=_int(env, "FACHO_RETENTION_DAYS", 30, 1, 3650),
        absent_after_misses=_int(env, "FACHO_ABSENT_AFTER_MISSES", 3, 1, 100),
        absent_onu_days=_int(env, "FACHO_ABSENT_ONU_DAYS", 30, 0, 3650),
        history_raw_days=history_raw_days,
        history_rollup_days=history_rollup_days,
        power_event_db=_float(env, "FACHO_POWER_EVENT_DB", 3.0, 0.1, 40.0),
        api_rate_per_minute=_int(env, "FACHO_API_RATE_PER_MINUTE", 600, 0, 1000000),
        api_page_max=_int(env, "FACHO_API_PAGE_MAX", 1000, 10, 100000),
        public_url=_public_url(env),
    )


def _public_url(env: dict) -> str:
    raw = (env.get("FACHO_PUBLIC_URL") or "").strip() or "http://127.0.0.1:5000"
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"FACHO_PUBLIC_URL inválida: '{raw}' (ejemplo: https://noc.ejemplo.pe)")
    return raw.rstrip("/")
