"""Operational facts shared by `flask facho status|tasks|workers|locks` and the dashboard.

Each function reads one thing and returns plain data (dicts, lists); rendering is the
caller's job. Redis keys follow Dramatiq's Redis broker layout under our namespace:
`facho:<queue>` (ready ids), `facho:<queue>.DQ` (delayed), `facho:<queue>.XQ` (dead
letters); live workers announce themselves under `facho:worker:<host:pid>`.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa

from facho.messaging import (QUEUES, WORKER_KEY_PATTERN, dead_key, delayed_key, ready_key,
                             worker_id)
from facho.extensions import db
from facho.models import (PENDING, RUNNING, STATUSES, Execution, Olt, SnmpJob, User,
                          utcnow)
from facho.executions.olt_limiter import OltLimiter
from facho.scheduling.lease import LeaderLease

REDIS_DOWN = "Redis no responde"
TICK_STALE_S = 150         # a minute tick plus margin: older means the scheduler is not ticking


def executions_by_status(since: datetime) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Execution.status, sa.func.count()).where(Execution.created_at >= since)
        .group_by(Execution.status)).all()
    counts = {status: 0 for status in STATUSES}
    counts.update({status: n for status, n in rows})
    return counts


def queue_depths(client: redis.Redis) -> dict[str, dict[str, int]]:
    pipe = client.pipeline()
    for queue in QUEUES:
        pipe.llen(ready_key(queue))
        pipe.llen(delayed_key(queue))
        pipe.zcard(dead_key(queue))
    values = pipe.execute()
    return {queue: {"ready": values[i * 3], "delayed": values[i * 3 + 1],
                    "dead": values[i * 3 + 2]} for i, queue in enumerate(QUEUES)}


def live_workers(client: redis.Redis) -> list[dict]:
    """Worker processes announced by facho.middleware.presence.WorkerPresence (keys expire 30 s after
    a worker stops beating), with how many messages each has fetched but not finished."""
    import json
    workers = []
    for key in sorted(client.scan_iter(WORKER_KEY_PATTERN, count=500)):
        raw = client.get(key)
        if raw is None:
            continue
        info = json.loads(raw)
        workers.append({"id": worker_id(key), "queues": ",".join(info["queues"]),
                        "threads": info["threads"],
                        "up_s": int(time.time() - info["started_at"])})
    return workers


def scheduler_state(client: redis.Redis) -> dict:
    lease = LeaderLease(client)
    last = lease.last_tick() or {}
    age_s = None
    if last.get("at_ms"):
        age_s = round(time.time() - int(last["at_ms"]) / 1000, 1)
    return {"leader": lease.holder(), "last_tick": last, "last_tick_age_s": age_s,
            "healthy": age_s is not None and age_s <= TICK_STALE_S,
            "clock_jump": clock_jump_state(client)}


def _span(seconds: float) -> str:
    seconds = int(round(abs(seconds)))
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "min"), (seconds % 60, "s")]
    text = " ".join(f"{n} {unit}" for n, unit in parts if n)
    return text or "0 s"


def clock_jump_state(client: redis.Redis) -> dict | None:
    """The last wall-clock step the scheduler saw (facho.scheduling.process.ClockWatch) in
    the last 24 h, or None: {"direction": "atrás" | "adelante", "step_s", "age_s", "owner",
    "message"} with `message` one Spanish sentence for the CLI and the dashboard."""
    jump = LeaderLease(client).last_clock_jump()
    if not jump or jump.get("step_s") is None:
        return None
    step = float(jump["step_s"])
    age_s = max(0.0, round(time.time() - int(jump.get("at_ms") or 0) / 1000, 1))
    back = step < 0
    if back:
        what = (f"el reloj del servidor retrocedió {_span(step)}: la programación quedó "
                f"en pausa ese tiempo (los turnos son horas del reloj)")
    else:
        what = (f"el reloj del servidor se adelantó {_span(step)}: los turnos de ese salto "
                f"se agruparon o se contaron como perdidos")
    message = (f"Aviso: hace {_span(age_s)} {what}; lo vio el scheduler "
               f"{jump.get('owner') or '?'}. Revise la sincronización de hora (NTP).")
    return {"direction": "atrás" if back else "adelante", "step_s": step, "age_s": age_s,
            "owner": jump.get("owner"), "message": message}


def olt_slots(client: redis.Redis) -> list[dict]:
    """Per-OLT concurrency holders, with the OLT's name; `stale` ones have expired."""
    limiter = OltLimiter(client)
    now = limiter.server_now()
    names = dict(db.session.execute(sa.select(Olt.id, Olt.abreviatura)).all())
    slots = []
    for olt_id, holders in limiter.all_holders().items():
        for holder in holders:
            slots.append({"olt_id": int(olt_id), "olt": names.get(int(olt_id), "?"),
                          "token": holder.token, "expires_at": holder.expires_at.isoformat(),
                          "stale": holder.expires_at <= now})
    return slots


def active_tasks(now: datetime | None = None) -> list[dict]:
    """PENDING and RUNNING executions, oldest first, with their age in seconds."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Execution.id, Execution.status, SnmpJob.nombre, Olt.abreviatura,
                  Execution.created_at, Execution.started_at, Execution.scheduled_for,
                  Execution.attempt, Execution.worker)
        .join(SnmpJob, SnmpJob.id == Execution.job_id).join(Olt, Olt.id == Execution.olt_id)
        .where(Execution.status.in_((PENDING, RUNNING))).order_by(Execution.created_at)).all()
    return [{"id": r.id, "status": r.status, "job": r.nombre, "olt": r.abreviatura,
             "scheduled_for": r.scheduled_for.isoformat() if r.scheduled_for else None,
             "age_s": int((now - (r.started_at if r.status == RUNNING else r.created_at))
                          .total_seconds()),
             "attempt": r.attempt, "worker": r.worker} for r in rows]


def requested_by_label(username: str | None, scheduled_for) -> str:
    """Who asked for an execution, as the panel and the CLI show it: the user's name;
    "programada" for a slot of the schedule; "manual (CLI)" for a run started without a
    user (`flask facho run` without --user)."""
    if username is not None:
        return username
    return "programada" if scheduled_for is not None else "manual (CLI)"


def recent_executions(limit: int = 20, status: str | None = None) -> list[dict]:
    query = (sa.select(Execution, SnmpJob.nombre, Olt.abreviatura, User.username)
             .join(SnmpJob, SnmpJob.id == Execution.job_id)
             .join(Olt, Olt.id == Execution.olt_id)
             .outerjoin(User, User.id == Execution.requested_by_id)
             .order_by(Execution.id.desc()).limit(limit))
    if status:
        query = query.where(Execution.status == status)
    out = []
    for execution, job, olt, username in db.session.execute(query).all():
        out.append({"id": execution.id, "status": execution.status, "job": job, "olt": olt,
                    "created_at": execution.created_at.isoformat(),
                    "duration_ms": execution.duration_ms, "attempt": execution.attempt,
                    "requested_by": requested_by_label(username, execution.scheduled_for),
                    "error": execution.error_message})
    return out


def status_report(client: redis.Redis | None, now: datetime | None = None) -> dict:
    """Everything `flask facho status` prints; `healthy` is False when something is wrong."""
    now = now or utcnow()
    report = {"executions_24h": executions_by_status(now - timedelta(hours=24)),
              "problems": []}
    if client is None:
        report["problems"].append(REDIS_DOWN)
        report["healthy"] = False
        return report
    try:
        report["queues"] = queue_depths(client)
        report["workers"] = live_workers(client)
        report["scheduler"] = scheduler_state(client)
        report["olt_slots"] = olt_slots(client)
    except (redis.RedisError, OSError):
        report["problems"].append(REDIS_DOWN)
        report["healthy"] = False
        return report
    if not report["workers"]:
        report["problems"].append("no hay workers activos")
    if not report["scheduler"]["healthy"]:
        report["problems"].append("el scheduler no registra un tick reciente")
    stale = [s for s in report["olt_slots"] if s["stale"]]
    if stale:
        report["problems"].append(f"{len(stale)} cupos de OLT vencidos sin liberar")
    dead = sum(q["dead"] for q in report["queues"].values())
    if dead:
        report["problems"].append(f"{dead} mensajes en dead-letter")
    report["healthy"] = not report["problems"]
    return report
