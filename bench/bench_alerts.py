"""Alert evaluation: its cost after a polling round, and a mass outage's time to the
notification.

    .venv/bin/python -m bench.bench_alerts [--olts 200] [--onus 1000] [--history-days 7]

Builds `--olts` OLTs of `--onus` ONUs (16 PONs each) in a PostgreSQL database of its own
(created here and dropped at the end), each ONU with `--history-days` days of rx power
history (4 readings a day) and one successful execution per OLT, and the six rule kinds
scoped to all OLTs (degradation and PON degradation included, so every ONU's median is
read). Then, in this process (the functions the `alerts` actors call):

* trigger: what an execution itself pays, `trigger.after_execution` (one query and one
  enqueue on the real Redis broker), p50/p99 over one call per OLT;
* steady round: `evaluate_olt` on every OLT with nothing changed: per-OLT latency p50/p99,
  rules evaluated per second, ONU checks (rule × ONU) per second;
* mass outage: 5 % of every OLT's ONUs go LOS at once on one PON (an `estado` event each,
  as a walk writes them); per OLT, the time from the walk's write to the message arriving
  at a local HTTP receiver (evaluation, outbox commit, delivery through Apprise), and the
  incidents and messages counted (one each per OLT is right).

Prints a table and writes `bench/results/alerts.json`. Figures, not pass/fail. Redis:
database `--redis-db` (default 12), emptied before and after. PostgreSQL: FACHO_BENCH_PG or
postgresql://postgres@127.0.0.1:5432/postgres as the admin connection.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.bench_e2e import create_database, drop_database, redis_url  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "alerts.json"
UTC = timezone.utc
PONS = 16
OUTAGE_SHARE = 0.05


def pct(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else None


def setup(app, olts, onus, history_days, now, channel_url):
    import sqlalchemy as sa

    from facho.extensions import db
    from facho.inventory.history import samples
    from facho import models as m

    with app.app_context():
        db.create_all()
        brand = m.Brand(nombre="Huawei")
        db.session.add(brand)
        db.session.flush()
        job = m.SnmpJob(nombre="Get", brand_id=brand.id, job_type="get", interval_raw="15m")
        db.session.add(job)
        channel = m.NotificationChannel(nombre="Receptor", url=channel_url)
        db.session.add(channel)
        db.session.flush()
        olt_ids = []
        for n in range(olts):
            olt = m.Olt(abreviatura=f"OLT-{n:03d}", ip_address="127.0.0.1", comunidad="x",
                        brand_id=brand.id, created_at=now - timedelta(days=30))
            db.session.add(olt)
            db.session.flush()
            olt_ids.append(olt.id)
        db.session.execute(sa.insert(m.SnmpJobHost), [
            {"job_id": job.id, "olt_id": o} for o in olt_ids])
        db.session.execute(sa.insert(m.Execution), [
            {"job_id": job.id, "olt_id": o, "status": "SUCCESS", "attempt": 1,
             "created_at": now - timedelta(minutes=1), "finished_at": now,
             "scheduled_for": now} for o in olt_ids])
        per_pon = -(-onus // PONS)
        rows = [{"olt_id": o, "raw_index": f"{i}", "slot": 1, "port": i // per_pon,
                 "onu_id": i % per_pon, "name": f"0/1/{i // per_pon}:{i % per_pon}",
                 "status": "en línea", "present": True, "rx_power": -20.0 - (i % 7) * 0.1,
                 "first_seen_at": now - timedelta(days=30)}
                for o in olt_ids for i in range(onus)]
        for i in range(0, len(rows), 20000):
            db.session.execute(sa.insert(m.Onu), rows[i:i + 20000])
        db.session.commit()
        ids = db.session.execute(sa.select(m.Onu.id, m.Onu.rx_power)).all()
        day_rows = []
        for onu_id, rx in ids:
            for d in range(1, history_days + 1):
                blob = samples.pack_many((h * 21600, rx) for h in range(4))
                day_rows.append({"onu_id": onu_id, "metric": "rx_power",
                                 "day": (now - timedelta(days=d)).date(), "samples": blob})
            if len(day_rows) >= 50000:
                db.session.execute(sa.insert(m.OnuMetricDay), day_rows)
                day_rows = []
        if day_rows:
            db.session.execute(sa.insert(m.OnuMetricDay), day_rows)
        for kind, params in (("onu_desconectada", {"minutos": 10}), ("rx_baja", {}),
                             ("degradacion", {"min_muestras": 4}),
                             ("olt_inalcanzable", {}), ("pon_caida", {"min_onus": 4}),
                             ("pon_degradada", {"min_muestras": 4})):
            rule = m.AlertRule(nombre=kind, kind=kind, scope="todas", params=params,
                               severity="critico")
            rule.channels = [channel]
            db.session.add(rule)
        db.session.commit()
        return olt_ids, per_pon


def outage(app, olt_ids, onus, per_pon, at):
    """5 % of each OLT's ONUs, on its PON 0, go LOS at `at` (as a walk writes it)."""
    import sqlalchemy as sa

    from facho.extensions import db
    from facho import models as m

    down = max(1, int(onus * OUTAGE_SHARE))
    with app.app_context():
        for olt_id in olt_ids:
            rows = db.session.execute(sa.select(m.Onu.id).where(
                m.Onu.olt_id == olt_id, m.Onu.port == 0).order_by(m.Onu.id).limit(
                min(down, per_pon))).scalars().all()
            db.session.execute(sa.update(m.Onu).where(m.Onu.id.in_(rows)).values(
                status="desconectada", last_down_cause="LOS"))
            db.session.execute(sa.insert(m.OnuEvent), [
                {"onu_id": r, "olt_id": olt_id, "slot": 1, "port": 0, "at": at,
                 "kind": "estado", "old_value": "en línea", "new_value": "desconectada",
                 "cause": "LOS"} for r in rows])
        db.session.commit()
    return down


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olts", type=int, default=200)
    parser.add_argument("--onus", type=int, default=1000)
    parser.add_argument("--history-days", type=int, default=7)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)

    from tests.monitoring.receivers import HttpReceiver, wait_for

    name = f"facho_bench_alerts_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="facho-bench-alerts-"))
    r_url = redis_url(args.redis_db)
    redis.Redis.from_url(r_url).flushdb()
    os.environ.update(FACHO_ENV="testing", REDIS_URL=r_url, FACHO_LOG_LEVEL="WARNING",
                      SECRET_KEY="bench-secret-key-0123456789", FACHO_VAR_DIR=str(workdir))
    os.environ["DATABASE_URL"] = create_database(name)
    try:
        with HttpReceiver() as receiver:
            from app import create_app
            from facho.config import load_config
            from facho.extensions import db
            from facho.monitoring import evaluate, outbox, trigger

            app = create_app(load_config())
            # simulated instants a few minutes back, so the outbox rows they queue are due
            now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
            t0 = time.monotonic()
            olt_ids, per_pon = setup(app, args.olts, args.onus, args.history_days, now,
                                     receiver.url)
            setup_s = round(time.monotonic() - t0, 1)

            trigger_ms = []
            with app.app_context():
                for olt_id in olt_ids:
                    started = time.perf_counter()
                    trigger.after_execution(olt_id)
                    trigger_ms.append((time.perf_counter() - started) * 1000)
            redis.Redis.from_url(r_url).flushdb()

            steady_ms = []
            started_round = time.perf_counter()
            with app.app_context():
                for olt_id in olt_ids:
                    started = time.perf_counter()
                    counts = evaluate.evaluate_olt(olt_id, now + timedelta(seconds=30),
                                                   "http://127.0.0.1:5000")
                    steady_ms.append((time.perf_counter() - started) * 1000)
                    assert counts["opened"] == 0, counts
            round_s = time.perf_counter() - started_round

            at = now + timedelta(minutes=1)
            down = outage(app, olt_ids, args.onus, per_pon, at)
            to_message_ms, evaluate_ms = [], []
            with app.app_context():
                for olt_id in olt_ids:
                    expected = len(receiver.messages) + 1
                    started = time.perf_counter()
                    counts = evaluate.evaluate_olt(olt_id, at + timedelta(seconds=1),
                                                   "http://127.0.0.1:5000")
                    assert counts["opened"] == 1, counts
                    evaluate_ms.append((time.perf_counter() - started) * 1000)
                    outbox.deliver_due()
                    wait_for(lambda: len(receiver.messages) >= expected, 30, "the message")
                    to_message_ms.append((time.perf_counter() - started) * 1000)
                from facho.models import Incident
                incidents = db.session.query(Incident).count()
                db.engine.dispose()
            messages = len(receiver.messages)
    finally:
        drop_database(name)
        redis.Redis.from_url(r_url).flushdb()

    rules = 6
    results = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "setup": {"olts": args.olts, "onus_per_olt": args.onus, "rules": rules,
                  "history_days": args.history_days, "database": "postgresql",
                  "setup_s": setup_s},
        "trigger_ms": {"p50": pct(trigger_ms, 0.5), "p99": pct(trigger_ms, 0.99)},
        "steady_round": {"wall_s": round(round_s, 2), "per_olt_ms_p50": pct(steady_ms, 0.5),
                         "per_olt_ms_p99": pct(steady_ms, 0.99),
                         "rules_per_s": round(rules * len(olt_ids) / round_s, 1),
                         "onu_checks_per_s": round(rules * len(olt_ids) * args.onus / round_s)},
        "mass_outage": {"onus_down_per_olt": down, "share": OUTAGE_SHARE,
                        "evaluate_ms_p50": pct(evaluate_ms, 0.5),
                        "evaluate_ms_p99": pct(evaluate_ms, 0.99),
                        "walk_to_message_ms_p50": pct(to_message_ms, 0.5),
                        "walk_to_message_ms_p99": pct(to_message_ms, 0.99),
                        "walk_to_message_ms_max": round(max(to_message_ms), 1),
                        "incidents": incidents, "messages": messages},
    }
    print_table(results)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwritten {RESULTS.relative_to(ROOT)}")
    return results


def print_table(results: dict) -> None:
    s, st, mo = results["setup"], results["steady_round"], results["mass_outage"]
    print(f"\nAlerts: {s['olts']} OLTs x {s['onus_per_olt']} ONUs, {s['rules']} rules on all "
          f"OLTs, {s['history_days']} days of rx history, PostgreSQL, "
          f"{results['machine']['cpus']} CPUs")
    rows = [
        ("trigger per execution ms p50 / p99",
         f"{results['trigger_ms']['p50']} / {results['trigger_ms']['p99']}"),
        ("steady round wall s", str(st["wall_s"])),
        ("evaluate_olt ms p50 / p99", f"{st['per_olt_ms_p50']} / {st['per_olt_ms_p99']}"),
        ("rules evaluated / s", str(st["rules_per_s"])),
        ("ONU checks / s", str(st["onu_checks_per_s"])),
        ("outage: ONUs down per OLT", str(mo["onus_down_per_olt"])),
        ("outage: evaluate ms p50 / p99", f"{mo['evaluate_ms_p50']} / {mo['evaluate_ms_p99']}"),
        ("outage: walk -> message ms p50 / p99 / max",
         f"{mo['walk_to_message_ms_p50']} / {mo['walk_to_message_ms_p99']} / "
         f"{mo['walk_to_message_ms_max']}"),
        ("outage: incidents / messages", f"{mo['incidents']} / {mo['messages']}"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
