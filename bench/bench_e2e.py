"""End to end: ONUs discovered and stored per second by one worker process.

    .venv/bin/python -m bench.bench_e2e [--olts 50] [--onus 512] [--agents 5] [--threads T]
        [--agent snmpsim|fast] [--rtt-ms 0]

Builds `--olts` simulated Huawei OLTs of `--onus` ONUs each (facho.ops.olt_sim), served by
`--agents` snmpsim processes on 127.0.0.1 (one community per OLT), a PostgreSQL database of
its own (created here and dropped at the end) and one discovery job (serial + status +
description, the seeds' Huawei OIDs) on every OLT. Then one worker process - the real
actors on a dramatiq.Worker with `--threads` threads and the real Redis broker, as
`dramatiq actors --processes 1 --threads 50` (the Procfile) runs them - gets one execution
per OLT, all at once, twice:

* first pass: every ONU is new (bulk INSERT);
* second pass: every ONU is seen again, unchanged (the steady state of a periodic job).

Reported per pass: wall time from the first message to the last finished execution, ONUs
stored per second, varbinds per second, the worker's CPU time (user + system, and per
ONU), its peak resident memory (VmHWM), and the agents' CPU time: snmpsim is pure Python
and on a small machine it, not the worker, bounds the rate. Prints a table and writes
`bench/results/e2e.json`. Figures, not pass/fail.

`--agent fast` serves the same recordings with `facho.ops.fast_agent` processes instead
(issue 15: the worker, not the simulator, is then the limit), optionally with `--rtt-ms` of
injected latency per request (slow OLTs: how many walks one worker keeps in flight), and
writes `bench/results/e2e_fast_agent.json`.

Redis: database `--redis-db` (default 12) on REDIS_URL's server or 127.0.0.1:6379, emptied
before and after (use a database nobody else uses). PostgreSQL: FACHO_BENCH_PG or
postgresql://postgres@127.0.0.1:5432/postgres as the admin connection.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import peak_rss_mb, procfile_threads, write_results  # noqa: E402
import psutil  # noqa: E402
import redis  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "e2e.json"
PG_ADMIN = os.environ.get("FACHO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The demo's discovery: serial, description, status and cause of the last drop (4 columns,
# as issue 15's end-to-end figure asks).
from facho.ops.demo import DISCOVERY_OIDS  # noqa: E402

WORKER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from app import create_app
    from facho.middleware.app_context import bind_app
    import dramatiq
    import actors.executions  # noqa: F401
    app = create_app()
    bind_app(app)
    worker = dramatiq.Worker(dramatiq.get_broker(), queues={{"discovery_main"}},
                             worker_threads={threads})
    worker.start()
    print("ready", flush=True)
    sys.stdin.read()          # runs until the benchmark closes our stdin
    worker.stop()
""")


def _pg_connect(url: str):
    import psycopg
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def create_database(name: str) -> str:
    with _pg_connect(PG_ADMIN) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    with _pg_connect(PG_ADMIN) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url(db_number: int) -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    scheme, rest = base.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db_number}"


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL server on this machine (the worker's writes
    cost it CPU on the same 2 cores): its live processes, plus what its exited backends used
    (counted in the postmaster's children times)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if not (proc.info["name"] or "").startswith("postgres"):
            continue
        try:
            times = proc.cpu_times()
            total += times.user + times.system
            parent = proc.parent()
            if parent is None or not parent.name().startswith("postgres"):   # postmaster
                total += times.children_user + times.children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def start_agents(workdir: Path, olts: int, onus: int, agents: int, kind: str = "snmpsim",
                 rtt_ms: float = 0.0):
    from facho.ops.fast_agent import FastAgentProcess
    from facho.ops.olt_sim import SnmpSim, write_snmprec
    from tests.snmp_agents import udp_free_port

    folders = [workdir / f"agent{i}" for i in range(agents)]
    for folder in folders:
        folder.mkdir(parents=True)
    placement = []
    for n in range(olts):
        folder = folders[n % agents]
        community = f"olt{n:03d}"
        write_snmprec(folder / f"{community}.snmprec", "huawei", onus, seed=n)
        placement.append((n % agents, community))
    sims = []
    for folder in folders:
        if kind == "fast":
            sims.append(FastAgentProcess(sorted(folder.glob("*.snmprec")), rtt_ms=rtt_ms))
            continue
        probe = next(p.stem for p in sorted(folder.glob("*.snmprec")))
        sims.append(SnmpSim(folder, udp_free_port()).start(wait_s=120, probe_community=probe))
    return sims, [(sims[i].port, community) for i, community in placement]


def setup_rows(app, targets, oid_names=DISCOVERY_OIDS, **olt_fields) -> tuple[int, list[int]]:
    """Schema, seed data, one Huawei discovery job reading ``oid_names`` on one OLT per
    (port, community) of ``targets`` (``olt_fields`` set on each); (job id, OLT ids)."""
    from facho.extensions import db
    from facho.models import Brand, Oid, Olt, SnmpJob, SnmpJobHost
    from facho.inventory.seed import seed

    with app.app_context():
        db.create_all()
        seed()
        db.session.commit()
        huawei = db.session.execute(db.select(Brand).filter_by(nombre="Huawei")).scalar_one()
        job = SnmpJob(nombre="Descubrimiento Huawei", brand=huawei, job_type="descubrimiento",
                      interval_raw="1h", max_retries=0)
        job.oids = [db.session.execute(db.select(Oid).filter_by(nombre=n)).scalar_one()
                    for n in oid_names]
        olts = []
        for n, (port, community) in enumerate(targets):
            olt = Olt(abreviatura=f"OLT-{n:03d}", ip_address="127.0.0.1", snmp_port=port,
                      comunidad=community, brand=huawei,
                      **{"max_starts_per_minute": 60, **olt_fields})
            olts.append(olt)
            db.session.add(SnmpJobHost(job=job, olt=olt))
        db.session.add(job)
        db.session.commit()
        return job.id, [o.id for o in olts]


def run_pass(app, job_id: int, olt_ids: list[int], worker: psutil.Process,
             agents: list[psutil.Process], timeout_s: float) -> dict:
    from facho import messaging
    from facho.extensions import db
    from facho.models import FINAL_STATUSES, Execution, Onu, SnmpJobHost

    with app.app_context():
        hosts = {h.olt_id: h.id for h in db.session.execute(
            db.select(SnmpJobHost).filter_by(job_id=job_id)).scalars()}
        rows = [Execution(job_id=job_id, olt_id=o, job_host_id=hosts[o]) for o in olt_ids]
        db.session.add_all(rows)
        db.session.commit()
        ids = [r.id for r in rows]
        db.session.remove()
    worker_cpu, agent_cpu = cpu_s(worker), sum(cpu_s(a) for a in agents)
    pg_cpu = postgres_cpu_s()
    started = time.monotonic()
    wall_start = datetime.now(timezone.utc)
    with app.app_context():
        for execution_id in ids:
            messaging.send_execution(execution_id, "descubrimiento")
    deadline = time.monotonic() + timeout_s
    peak_running = 0  # executions RUNNING at once (walks in flight in the worker)
    while True:
        with app.app_context():
            states = db.session.execute(
                db.select(Execution.status).where(Execution.id.in_(ids))).scalars().all()
            db.session.remove()
        peak_running = max(peak_running, sum(1 for s in states if s == "RUNNING"))
        if all(s in FINAL_STATUSES for s in states):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"executions not finished after {timeout_s} s: "
                               f"{sorted(set(states))}")
        time.sleep(0.05)
    wall_fallback = time.monotonic() - started
    worker_cpu, agent_cpu = cpu_s(worker) - worker_cpu, sum(cpu_s(a) for a in agents) - agent_cpu
    pg_cpu = postgres_cpu_s() - pg_cpu
    with app.app_context():
        done = db.session.execute(db.select(Execution).where(Execution.id.in_(ids))).scalars().all()
        stored = db.session.execute(db.select(db.func.count()).select_from(Onu)).scalar_one()
        db.session.remove()
    failed = [(e.id, e.status, e.error_message) for e in done if e.status != "SUCCESS"]
    last = max(e.finished_at for e in done)
    wall = max((last - wall_start).total_seconds(), 0.001) if last else wall_fallback
    summaries = [e.result_summary or {} for e in done]
    onus_written = sum(s.get("found", 0) for s in summaries)
    varbinds = sum(s.get("varbinds", 0) for s in summaries)
    durations = sorted(e.duration_ms for e in done if e.duration_ms is not None)
    return {
        "executions": len(ids), "failed": len(failed), "failures": failed[:3],
        "peak_running": peak_running,
        "onus_found": onus_written, "onus_in_inventory": stored,
        "new": sum(s.get("new", 0) for s in summaries),
        "unchanged": sum(s.get("unchanged", 0) for s in summaries),
        "varbinds": varbinds, "wall_s": round(wall, 3),
        "onus_per_s": round(onus_written / wall, 1),
        "varbinds_per_s": round(varbinds / wall, 1),
        "worker_cpu_s": round(worker_cpu, 3),
        "worker_cpu_ms_per_onu": round(worker_cpu * 1000 / max(1, onus_written), 4),
        "worker_cpu_share": round(worker_cpu / wall, 2),
        "agents_cpu_s": round(agent_cpu, 3),
        "postgres_cpu_s": round(pg_cpu, 3),
        "postgres_cpu_share": round(pg_cpu / wall, 2),
        "execution_ms_p50": durations[len(durations) // 2] if durations else None,
        "execution_ms_max": durations[-1] if durations else None,
        "walk_ms_p50": statistics.median(s.get("walk_ms", 0) for s in summaries),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olts", type=int, default=50)
    parser.add_argument("--onus", type=int, default=512)
    parser.add_argument("--agents", type=int, default=5, help="snmpsim processes")
    parser.add_argument("--threads", type=int, default=procfile_threads(),
                        help="worker threads (default: the Procfile's)")
    parser.add_argument("--agent", choices=("snmpsim", "fast"), default="snmpsim")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="fast agent only")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    parser.add_argument("--output", help="results file name under bench/results (default "
                                         "e2e.json, or e2e_fast_agent.json with --agent fast)")
    args = parser.parse_args(argv)

    name = f"facho_bench_e2e_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="facho-bench-e2e-"))
    r_url = redis_url(args.redis_db)
    redis.Redis.from_url(r_url).flushdb()
    os.environ.update(FACHO_ENV="testing", REDIS_URL=r_url, FACHO_LOG_LEVEL="WARNING",
                      SECRET_KEY="bench-secret-key-0123456789", FACHO_VAR_DIR=str(workdir))
    database_url = create_database(name)
    os.environ["DATABASE_URL"] = database_url
    sims, worker_proc = [], None
    try:
        t0 = time.monotonic()
        sims, targets = start_agents(workdir, args.olts, args.onus, args.agents, args.agent,
                                     args.rtt_ms)
        agents_ready_s = time.monotonic() - t0
        from app import create_app
        from facho.config import load_config
        app = create_app(load_config())
        job_id, olt_ids = setup_rows(app, targets)
        script = workdir / "worker.py"
        script.write_text(WORKER.format(root=str(ROOT), threads=args.threads))
        worker_proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=open(workdir / "worker.log", "wb"))
        if not worker_proc.stdout.readline().startswith(b"ready"):
            raise RuntimeError((workdir / "worker.log").read_text())
        worker = psutil.Process(worker_proc.pid)
        agents = [psutil.Process(s.process.pid) for s in sims]
        rss_after_boot = peak_rss_mb(worker.pid)
        first = run_pass(app, job_id, olt_ids, worker, agents, args.timeout)
        second = run_pass(app, job_id, olt_ids, worker, agents, args.timeout)
        peak = peak_rss_mb(worker.pid)
        from facho.extensions import db
        with app.app_context():
            db.engine.dispose()
    finally:
        if worker_proc is not None:
            try:
                worker_proc.stdin.close()
                worker_proc.wait(30)
            except Exception:  # noqa: BLE001
                worker_proc.kill()
        for sim in sims:
            sim.stop()
        try:
            drop_database(name)
        finally:
            redis.Redis.from_url(r_url).flushdb()
    results = {
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "setup": {"olts": args.olts, "onus_per_olt": args.onus, "snmpsim_agents": args.agents,
                  "agent": args.agent, "rtt_ms": args.rtt_ms,
                  "worker_threads": args.threads, "database": "postgresql",
                  "columns_walked": DISCOVERY_OIDS, "agents_ready_s": round(agents_ready_s, 1)},
        "worker_peak_rss_mb": peak, "worker_rss_after_boot_mb": rss_after_boot,
        "first_pass_new": first, "second_pass_unchanged": second,
    }
    print_table(results)
    if not args.no_write:
        out = RESULTS if args.agent == "snmpsim" else RESULTS.with_name("e2e_fast_agent.json")
        if args.output:
            out = RESULTS.with_name(Path(args.output).name)
        write_results(out, results)
    return results


def print_table(results: dict) -> None:
    s = results["setup"]
    print(f"\nEnd to end: {s['olts']} simulated Huawei OLTs x {s['onus_per_olt']} ONUs, "
          f"{s['snmpsim_agents']} {s.get('agent', 'snmpsim')} agents (RTT "
          f"{s.get('rtt_ms', 0):g} ms), one worker process ({s['worker_threads']} "
          f"threads), PostgreSQL, {results['machine']['cpus']} CPUs")
    rows = [("", "first pass (new)", "second pass (unchanged)")]
    keys = [("ONUs stored", "onus_found"), ("failed executions", "failed"),
            ("wall s", "wall_s"), ("ONUs / s", "onus_per_s"), ("varbinds / s", "varbinds_per_s"),
            ("worker CPU s", "worker_cpu_s"), ("worker CPU ms / ONU", "worker_cpu_ms_per_onu"),
            ("worker CPU / wall", "worker_cpu_share"), ("agents CPU s", "agents_cpu_s"),
            ("PostgreSQL CPU / wall", "postgres_cpu_share"),
            ("execution ms p50", "execution_ms_p50"), ("execution ms max", "execution_ms_max")]
    for label, key in keys:
        rows.append((label, str(results["first_pass_new"][key]),
                     str(results["second_pass_unchanged"][key])))
    rows.append(("worker peak RSS MB", str(results["worker_peak_rss_mb"]), ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)))


if __name__ == "__main__":
    main()
