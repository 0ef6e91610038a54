"""`/healthz` for load balancers and monitors, without login.

    {"status": "ok" | "error", "database": bool, "redis": bool, "scheduler": bool,
     "clock_jump": null | {"direction": "atrás" | "adelante", "step_s", "age_s"}}

`database`: a `SELECT 1` answered. `redis`: Redis answered a PING. `scheduler`: the leader
scheduler recorded a tick recently (`facho.ops.status.scheduler_state`: within
`ops.TICK_STALE_S` seconds), i.e. scheduled jobs are being dispatched. 200 when all three
hold, 503 otherwise. `clock_jump`: the last wall-clock step the scheduler saw in the last
24 h (informative, never a 503). Nothing else is revealed (no versions, hosts, counts or errors).

The same module answers for the rest of the app when a part is down: an unreachable
database or Redis anywhere in a request gives a 503 page in Spanish that says what is down
and what to do, instead of a bare 500 (see `outage_page`).
"""
from __future__ import annotations

import logging

import redis
from flask import Blueprint, g, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from facho.extensions import db, login_manager
from facho.ops.status import scheduler_state
from facho.redis_conn import get_redis

bp = Blueprint("health", __name__)
log = logging.getLogger("facho.web")

# What the operator reads, per part: what is down, what it means, what to do.
OUTAGES = {
    "database": ("La base de datos no responde",
                 "No se puede mostrar ni guardar nada del panel mientras tanto; no se perdió "
                 "ningún cambio ya guardado.",
                 "Verifique que PostgreSQL esté activo y que DATABASE_URL sea correcta. "
                 "El panel se recupera solo cuando la base vuelva: recargue la página."),
    "schema": ("La base de datos no tiene las tablas de Facho",
               "La base responde, pero no fue migrada a esta versión: el panel no puede leer "
               "ni guardar nada mientras tanto.",
               "Ejecute «flask db upgrade» (lo hacen la fase release del Procfile y make run) "
               "y recargue la página."),
    "redis": ("Redis no responde",
              "No se pueden encolar ejecuciones ni leer el estado de colas y workers; las "
              "ejecuciones ya registradas siguen en la base de datos.",
              "Verifique que Redis esté activo y que REDIS_URL sea correcta, y recargue "
              "la página."),
    "internal": ("Error interno",
                 "La operación no se completó. El detalle quedó registrado en el servidor.",
                 "Recargue la página; si se repite, avise al administrador con la hora "
                 "del error."),
}
RETRY_AFTER_S = 30


def _database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", never a 500
        db.session.rollback()
        return False


def _redis_and_scheduler() -> tuple[bool, bool, dict | None]:
    try:
        client = get_redis()
        if not client.ping():
            return False, False, None
    except Exception:  # noqa: BLE001
        return False, False, None
    try:
        state = scheduler_state(client)
        jump = state.get("clock_jump")
        # Direction, size and age only: the owner names a host, not for an open endpoint.
        jump = jump and {k: jump[k] for k in ("direction", "step_s", "age_s")}
        return True, bool(state["healthy"]), jump
    except Exception:  # noqa: BLE001 - unreadable tick record: not healthy
        return True, False, None


@bp.route("/healthz")
def healthz():
    checks = {"database": _database()}
    checks["redis"], checks["scheduler"], clock_jump = _redis_and_scheduler()
    ok = all(checks.values())
    # A clock step the scheduler saw in the last 24 h is said, not failed: it is over.
    response = jsonify(status="ok" if ok else "error", clock_jump=clock_jump, **checks)
    response.headers["Cache-Control"] = "no-store"
    return response, (200 if ok else 503)


def connection_lost(exc: BaseException) -> bool:
    """The database cannot be reached (refused, dropped, shutting down or starting), as
    opposed to an error of the statement itself (deadlock, serialization failure, statement
    timeout…), which the same OperationalError class also carries in psycopg. PostgreSQL:
    no SQLSTATE (the driver's own connection errors), class 08 or 57P01-57P03. SQLite
    errors have no SQLSTATE: a locked or unreadable file counts as unreachable."""
    if getattr(exc, "connection_invalidated", False):
        return True
    original = getattr(exc, "orig", None) or exc
    state = getattr(original, "sqlstate", None) or ""
    return not state or state.startswith(("08", "57P"))


def schema_missing(exc: BaseException) -> bool:
    """The database answered but Facho's tables are not there (never migrated): SQLite
    says "no such table", PostgreSQL raises SQLSTATE 42P01 (undefined_table)."""
    original = getattr(exc, "orig", None) or exc
    return getattr(original, "sqlstate", None) == "42P01" or "no such table" in str(original)


def outage_page(part: str, status: int = 503):
    title, meaning, action = OUTAGES[part]
    # Flask-Login's template context loads the user from the database: with the database
    # down (or without its tables) that raises again inside this handler. Who is asking is
    # unknown here anyway.
    if part in ("database", "schema"):
        g._login_user = login_manager.anonymous_user()
    response = render_template("outage.html", title=title, meaning=meaning, action=action)
    headers = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
    return response, status, headers


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it later
        pass


def database_unavailable(exc):
    if not schema_missing(exc) and not connection_lost(exc):
        return database_refused(exc)           # a deadlock or timeout: not an outage
    _rollback_quietly()
    original = getattr(exc, "orig", None) or exc
    part = "schema" if schema_missing(exc) else "database"
    # The exception class only: its text names the host and port, never for the page.
    log.warning("event=web_outage part=%s endpoint=%s error=%s", part, request.endpoint,
                type(original).__name__)
    return outage_page(part)


def database_refused(exc):
    """A database error that is no outage: a missing table (never migrated) gets the schema
    page; anything else (a bug, a deadlock) is logged in full and answered with the
    internal-error page."""
    if schema_missing(exc):
        return database_unavailable(exc)
    log.error("event=web_error endpoint=%s", request.endpoint, exc_info=exc)
    return internal_error(exc)


def redis_unavailable(exc):
    log.warning("event=web_outage part=redis endpoint=%s error=%s", request.endpoint,
                type(exc).__name__)
    return outage_page("redis")


def internal_error(error):
    """Unhandled exceptions outside testing (Flask logged them in full already)."""
    _rollback_quietly()
    return outage_page("internal", status=500)


def init_app(app) -> None:
    app.register_blueprint(bp)
    # OperationalError: refused, reset or dropped connections (PostgreSQL and SQLite);
    # InterfaceError: a connection psycopg already closed.
    app.register_error_handler(sa_exc.OperationalError, database_unavailable)
    app.register_error_handler(sa_exc.InterfaceError, database_unavailable)
    app.register_error_handler(sa_exc.TimeoutError, database_unavailable)   # pool exhausted
    app.register_error_handler(sa_exc.ProgrammingError, database_refused)   # not migrated
    app.register_error_handler(redis.RedisError, redis_unavailable)
    app.register_error_handler(500, internal_error)
