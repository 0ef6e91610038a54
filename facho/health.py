"""`/healthz` for load balancers: database and Redis reachable. Reveals nothing else."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from facho.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means "not healthy", never a 500
        db.session.rollback()
        checks["database"] = False
    try:
        from facho.redis_conn import get_redis
        checks["redis"] = bool(get_redis().ping())
    except Exception:  # noqa: BLE001
        checks["redis"] = False
    ok = all(checks.values())
    return jsonify(status="ok" if ok else "error", **checks), (200 if ok else 503)


def init_app(app) -> None:
    app.register_blueprint(bp)
