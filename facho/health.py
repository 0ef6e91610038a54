"""`/healthz` for load balancers and monitors, without login.

    {"status": "ok" | "error", "database": bool, "redis": bool, "scheduler": bool}

`database`: a `SELECT 1` answered. `redis`: Redis answered a PING. `scheduler`: the leader
scheduler recorded a tick recently (`facho.ops.scheduler_state`: within
`ops.TICK_STALE_S` seconds), i.e. scheduled jobs are being dispatched. 200 when all three
hold, 503 otherwise. Nothing else is revealed (no versions, hosts, counts or errors).
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from facho.extensions import db

bp = Blueprint("health", __name__)


def _database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", never a 500
        db.session.rollback()
        return False


def _redis_and_scheduler() -> tuple[bool, bool]:
    try:
        from facho.redis_conn import get_redis
        client = get_redis()
        if not client.ping():
            return False, False
    except Exception:  # noqa: BLE001
        return False, False
    try:
        from facho.ops import scheduler_state
        return True, bool(scheduler_state(client)["healthy"])
    except Exception:  # noqa: BLE001 - unreadable tick record: not healthy
        return True, False


@bp.route("/healthz")
def healthz():
    checks = {"database": _database()}
    checks["redis"], checks["scheduler"] = _redis_and_scheduler()
    ok = all(checks.values())
    response = jsonify(status="ok" if ok else "error", **checks)
    response.headers["Cache-Control"] = "no-store"
    return response, (200 if ok else 503)


def init_app(app) -> None:
    app.register_blueprint(bp)
