"""A large catalog, bulk-inserted: many Huawei OLTs, two 5-minute jobs (discovery and
rx-power reads) on every OLT, a day of executions for some pairs, the last slot for every
pair, and ONUs behind every OLT. It grows in steps (`grow`), so a test can measure the
same pages on a small and on a large database."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.models import (FAILED, SUCCESS, Execution, Olt, Onu, SnmpJob, SnmpJobHost,
                          utcnow)
from tests.factories import brand, make_job, seed_catalog

INTERVAL = timedelta(minutes=5)
SLOTS_PER_DAY = 288
ONUS_PER_OLT = 16
MODELS = ("MA5800-X7", "MA5608T", "MA5683T")
BATCH = 5000


def slot_now() -> datetime:
    """The current 5-minute slot (the jobs' next run: due for the tick)."""
    now = utcnow().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 5)


def create_jobs(now_slot: datetime) -> dict[str, int]:
    """The two jobs, anchored a day back so yesterday's slots are on their grid."""
    seed_catalog()
    anchor = now_slot - timedelta(days=1)
    jobs = {
        "discovery": make_job("descubrir-onus", ["Huawei ONT descubrimiento"],
                              interval_raw="5m", max_retries=0),
        "get": make_job("leer-potencia", ["Huawei ONT potencia RX"], job_type="get",
                        interval_raw="5m", max_retries=0),
    }
    db.session.execute(sa.update(SnmpJob).values(anchor_at=anchor, next_run_at=now_slot))
    db.session.commit()
    return jobs


def _insert(table, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[i:i + BATCH])


def _execution(job_id, host_id, olt_id, slot, rng, manual_user=None) -> dict:
    failed = rng.random() < 0.05
    started = slot + timedelta(milliseconds=rng.randint(5, 900))
    duration = rng.randint(200, 4000)
    return {"job_id": job_id, "job_host_id": host_id, "olt_id": olt_id,
            "status": FAILED if failed else SUCCESS,
            "scheduled_for": None if manual_user else slot, "requested_by_id": manual_user,
            "message_id": f"m-{job_id}-{olt_id}-{int(slot.timestamp())}", "attempt": 1,
            "created_at": slot - timedelta(seconds=10), "started_at": started,
            "finished_at": started + timedelta(milliseconds=duration), "duration_ms": duration,
            "result_summary": None if failed else {"found": ONUS_PER_OLT, "new": 0,
                                                   "updated": rng.randint(0, 3)},
            "error_message": ("La OLT no respondió a tiempo (SNMP, 127.0.0.1:9)."
                              if failed else None),
            "worker": "worker-1"}


def grow(first: int, count: int, day_pairs: int, now_slot: datetime,
         user_id: int | None = None) -> dict:
    """Add OLTs number `first` .. `first + count - 1`, their job hosts on both jobs, the
    last slot's execution for each new pair, a whole day of slots for `day_pairs` of the
    new pairs, one manual run per new OLT when `user_id` is given, and their ONUs."""
    rng = random.Random(first)
    huawei = brand("Huawei").id
    jobs = db.session.execute(sa.select(SnmpJob.id).order_by(SnmpJob.id)).scalars().all()
    _insert(Olt.__table__, [
        {"abreviatura": f"OLT-{i:04d}", "ip_address": f"10.{i // 250}.{i % 250}.1",
         "snmp_port": 161, "snmp_version": "v2c", "comunidad": f"secreta-{i}",
         "brand_id": huawei, "modelo": MODELS[i % len(MODELS)],
         "descripcion": f"Nodo {i} ({'norte' if i % 2 else 'sur'})",
         "habilitar_olt": True, "max_concurrent": 1, "max_starts_per_minute": 30,
         "created_at": now_slot} for i in range(first, first + count)])
    olt_ids = db.session.execute(sa.select(Olt.id).where(
        Olt.abreviatura.in_([f"OLT-{i:04d}" for i in range(first, first + count)]))
        .order_by(Olt.id)).scalars().all()
    _insert(SnmpJobHost.__table__, [
        {"job_id": j, "olt_id": o, "enabled": True, "consecutive_failures": 0,
         "last_success_at": now_slot - INTERVAL} for j in jobs for o in olt_ids])
    hosts = db.session.execute(
        sa.select(SnmpJobHost.job_id, SnmpJobHost.olt_id, SnmpJobHost.id)
        .where(SnmpJobHost.olt_id.in_(olt_ids))).all()
    executions = []
    for n, (job_id, olt_id, host_id) in enumerate(sorted(hosts)):
        slots = SLOTS_PER_DAY if n < day_pairs else 1
        for k in range(1, slots + 1):
            executions.append(_execution(job_id, host_id, olt_id, now_slot - k * INTERVAL, rng))
        if user_id is not None and job_id == jobs[0]:
            executions.append(_execution(job_id, host_id, olt_id,
                                         now_slot - timedelta(hours=2), rng, user_id))
    _insert(Execution.__table__, executions)
    onus = []
    for olt_id in olt_ids:
        for k in range(ONUS_PER_OLT):
            slot, port, onu = 1 + k // 8, k % 8, k
            onus.append({
                "olt_id": olt_id, "raw_index": f"{4194304000 + slot * 8192 + port * 256}.{onu}",
                "slot": slot, "port": port, "onu_id": onu, "name": f"0/{slot}/{port}:{onu}",
                "serial": f"HWTC{olt_id:04X}{k:04X}", "descripcion": f"cliente {olt_id}-{k}",
                "status": "up" if rng.random() < 0.9 else "down", "present": True,
                "consecutive_misses": 0, "distance_km": round(rng.uniform(0.1, 20), 3),
                "rx_power": round(rng.uniform(-28, -15), 2), "first_seen_at": now_slot,
                "last_seen_at": now_slot - INTERVAL})
    _insert(Onu.__table__, onus)
    db.session.commit()
    return {"olts": len(olt_ids), "job_hosts": len(hosts), "executions": len(executions),
            "onus": len(onus)}


def totals() -> dict:
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    return {"olts": count(Olt), "job_hosts": count(SnmpJobHost),
            "executions": count(Execution), "onus": count(Onu)}
