"""Figures for the panel's home page: executions per hour, success per OLT, start lag,
next jobs, ONUs per OLT. Aggregation happens in SQL (one query per figure) so the page stays fast
with millions of executions. Hours are labelled in the operator's time zone.

Per-OLT figures show at most MAX_OLTS_SHOWN OLTs, the ones needing attention first, and fold
the rest into one "Otras N OLTs" entry: with 2,000 OLTs the page would otherwise carry a
2,000-row table and a 2,000-bar chart (half a megabyte)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from facho.scheduling import upcoming
from facho.extensions import db
from facho.models import (FAILED, STATUSES, SUCCESS, Execution, Olt, Onu, SnmpJob, SnmpJobHost,
                          utcnow)

MAX_OLTS_SHOWN = 25


def _fold(rows: list[dict], worst_first, merged) -> list[dict]:
    """At most MAX_OLTS_SHOWN rows: the first by `worst_first` (shown in name order), and
    `merged(rest)` standing for all the others."""
    if len(rows) <= MAX_OLTS_SHOWN:
        return rows
    ranked = sorted(rows, key=worst_first)
    shown = sorted(ranked[:MAX_OLTS_SHOWN - 1], key=lambda r: r["olt"])
    rest = ranked[MAX_OLTS_SHOWN - 1:]
    return shown + [dict(merged(rest), olt=f"Otras {len(rest)} OLTs", others=len(rest))]


def _rate(success: int, failed: int) -> float | None:
    total = success + failed
    return round(100.0 * success / total, 1) if total else None


def _hour_bucket(column):
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.date_trunc("hour", column), "YYYY-MM-DD HH24:00")
    return sa.func.strftime("%Y-%m-%d %H:00", column)


def executions_per_hour(tz: ZoneInfo, now: datetime | None = None, hours: int = 24) -> dict:
    """{'labels': [local 'HH:00' …], 'series': {status: [count per hour]}} for the last `hours`."""
    now = now or utcnow()
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    bucket = _hour_bucket(Execution.created_at)
    rows = db.session.execute(
        sa.select(bucket, Execution.status, sa.func.count())
        .where(Execution.created_at >= start).group_by(bucket, Execution.status)).all()
    keys = [(start + timedelta(hours=i)) for i in range(hours)]
    index = {k.strftime("%Y-%m-%d %H:00"): i for i, k in enumerate(keys)}
    series = {status: [0] * hours for status in STATUSES}
    for hour, status, count in rows:
        i = index.get(hour)
        if i is not None and status in series:
            series[status][i] = count
    labels = [k.astimezone(tz).strftime("%H:00") for k in keys]
    return {"labels": labels, "series": series}


def success_rate_per_olt(now: datetime | None = None, hours: int = 24) -> list[dict]:
    """Finished executions per OLT in the window; rate = SUCCESS / (SUCCESS + FAILED)."""
    since = (now or utcnow()) - timedelta(hours=hours)
    ok = sa.func.sum(sa.case((Execution.status == SUCCESS, 1), else_=0))
    bad = sa.func.sum(sa.case((Execution.status == FAILED, 1), else_=0))
    rows = db.session.execute(
        sa.select(Olt.abreviatura, ok, bad).join(Execution, Execution.olt_id == Olt.id)
        .where(Execution.created_at >= since).group_by(Olt.abreviatura)
        .order_by(Olt.abreviatura)).all()
    out = []
    for name, success, failed in rows:
        success, failed = int(success or 0), int(failed or 0)
        out.append({"olt": name, "success": success, "failed": failed,
                    "rate": _rate(success, failed)})

    def merged(rest):
        success, failed = sum(r["success"] for r in rest), sum(r["failed"] for r in rest)
        return {"success": success, "failed": failed, "rate": _rate(success, failed)}

    # lowest rate first, then most failures; OLTs with nothing finished last
    return _fold(out, lambda r: (r["rate"] is None, r["rate"] or 0, -r["failed"], r["olt"]),
                 merged)


def olts_without_rate(rates: list[dict]) -> list[str]:
    """Enabled OLTs with no finished (SUCCESS or FAILED) execution in the window, by name:
    they have no success rate, which is not a rate of 0 %. `rates` is
    success_rate_per_olt()'s answer (OLTs it folded into "Otras N" are left out)."""
    rated = {r["olt"] for r in rates if r["rate"] is not None or r.get("others")}
    names = db.session.execute(sa.select(Olt.abreviatura).where(Olt.habilitar_olt.is_(True))
                               .order_by(Olt.abreviatura)).scalars().all()
    return [name for name in names if name not in rated]


def _seconds_between(later, earlier):
    if db.engine.dialect.name == "postgresql":
        return sa.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def start_lag_per_hour(tz: ZoneInfo, now: datetime | None = None, hours: int = 24) -> dict:
    """How late scheduled executions started (`started_at - scheduled_for`), per hour of
    their slot over the last `hours`: {'labels', 'avg_s': [..|None], 'max_s': [..|None],
    'count': [..]}. Manual runs have no slot and are left out."""
    now = now or utcnow()
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    bucket = _hour_bucket(Execution.scheduled_for)
    lag = _seconds_between(Execution.started_at, Execution.scheduled_for)
    rows = db.session.execute(
        sa.select(bucket, sa.func.avg(lag), sa.func.max(lag), sa.func.count())
        .where(Execution.scheduled_for >= start, Execution.scheduled_for <= now,
               Execution.started_at.is_not(None))
        .group_by(bucket)).all()
    keys = [(start + timedelta(hours=i)) for i in range(hours)]
    index = {k.strftime("%Y-%m-%d %H:00"): i for i, k in enumerate(keys)}
    avg_s, max_s, count = [None] * hours, [None] * hours, [0] * hours
    for hour, average, longest, n in rows:
        i = index.get(hour)
        if i is None:
            continue
        avg_s[i] = round(max(float(average), 0.0), 2)
        max_s[i] = round(max(float(longest), 0.0), 2)
        count[i] = n
    labels = [k.astimezone(tz).strftime("%H:00") for k in keys]
    return {"labels": labels, "avg_s": avg_s, "max_s": max_s, "count": count}


def next_jobs(limit: int = 10) -> list[tuple[SnmpJob, datetime]]:
    """The enabled jobs that run next, with their next slot that has not run yet (a claimed
    PENDING one before `next_run_at`: facho.scheduling.upcoming), soonest first."""
    jobs = db.session.execute(
        sa.select(SnmpJob).where(SnmpJob.enabled.is_(True), SnmpJob.next_run_at.is_not(None))
        .order_by(SnmpJob.next_run_at).limit(limit)).scalars().all()
    slots = upcoming.next_slots(jobs)
    return sorted(((job, slots[job.id]) for job in jobs), key=lambda pair: pair[1])


def onus_per_olt() -> list[dict]:
    present = sa.func.sum(sa.case((Onu.present.is_(True), 1), else_=0))
    rows = db.session.execute(
        sa.select(Olt.abreviatura, sa.func.count(Onu.id), present)
        .join(Onu, Onu.olt_id == Olt.id).group_by(Olt.abreviatura)
        .order_by(Olt.abreviatura)).all()
    out = [{"olt": name, "total": total, "present": int(p or 0), "absent": total - int(p or 0)}
           for name, total, p in rows]
    return _fold(out, lambda r: (-r["absent"], r["olt"]), lambda rest: {
        key: sum(r[key] for r in rest) for key in ("total", "present", "absent")})


def enabled_olts_per_job(job_ids: list[int]) -> dict[int, int]:
    """{job id: how many enabled job hosts it has}, counted in SQL."""
    if not job_ids:
        return {}
    return dict(db.session.execute(
        sa.select(SnmpJobHost.job_id, sa.func.count())
        .where(SnmpJobHost.job_id.in_(job_ids), SnmpJobHost.enabled.is_(True))
        .group_by(SnmpJobHost.job_id)).all())
