"""A fleet on this machine (issue 15; section ``fleet`` of ``bench/results/fleet.json``).

    python -m bench fleet -- --fleet --olts 2000 --minutes 15 [--workers 1] [--threads T]

``--olts`` simulated Huawei OLTs of ``--onus`` ONUs (default 2,000 × 256), one discovery
job every 15 minutes (serial, description, status) and one get job of 3 metrics every 5
minutes (rx and tx power, distance) on every OLT, each OLT with a polling budget of 200
requests/s (``max_requests_per_second``). The OLTs are served by one ``fast_agent`` process
on 127.0.0.1 with 20 ms of RTT: 8 distinct recordings, each answering to as many
communities as needed (``--alias``), the agent counting every OLT's requests per
wall-clock second (a second above 200 is a budget violation).

The real processes run as the Procfile says (``scheduler``: ``python -m
actors.scheduler_process``; ``worker``: ``dramatiq actors --processes N --threads T
--queues …``) on a PostgreSQL database of the benchmark's own (``flask db upgrade``, the
release command) and Redis database ``--redis-db``. The discovery's first slot comes 30 s
after the processes start, the get's 90 s after (an operator offsets them the same way).

After ``--minutes`` the scheduler stops; the worker keeps running until every slot that
came due during the run is final or past its interval. Reported: slots due, share that
finished (SUCCESS) inside their interval, start lag (``started_at - scheduled_for``)
p50/p99/max, the slowest slot's makespan (slot → its last execution's end) against its
interval, CPU share and peak RSS of the scheduler, the worker(s) and the agent, load
average, the agent's budget count.
"""
from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_RPS, RTT_MS, RECORDINGS = 200, 20, 8
DISCOVERY = ("15m", 900, ["Huawei ONT descubrimiento", "Huawei ONT descripción",
                          "Huawei ONT estado"])
GET = ("5m", 300, ["Huawei ONT potencia RX", "Huawei ONT potencia TX",
                   "Huawei ONT distancia"])


def procfile_commands(workers: int, threads: int) -> dict[str, list[str]]:
    """The Procfile's scheduler and worker commands, run with this interpreter, with the
    worker's process and thread counts replaced."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name in ("scheduler", "worker"):
            command = re.sub(r"--processes \d+", f"--processes {workers}", command)
            command = re.sub(r"--threads \d+", f"--threads {threads}", command)
            words = command.split()
            if words[0] == "python":
                words = [sys.executable, *words[1:]]
            elif words[0] == "dramatiq":
                words = [sys.executable, "-m", "dramatiq", *words[1:]]
            commands[name] = words
    return commands


class Usage:
    """CPU seconds and peak RSS of process trees (a process and its children), and the
    load average, sampled every ``every_s``."""

    def __init__(self, pids: dict[str, int], every_s: float = 5.0) -> None:
        import psutil
        self.roots = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak_rss_mb = {name: 0.0 for name in pids}
        self.cpu0 = {name: self._cpu(name) for name in pids}
        self.load: list[float] = []
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self, name):
        import psutil
        root = self.roots[name]
        try:
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _cpu(self, name) -> float:
        total = 0.0
        for p in self._tree(name):
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except Exception:  # noqa: BLE001 - a child that just ended
                pass
        return total

    def _run(self) -> None:
        self.last_cpu = dict(self.cpu0)
        while not self._stop.wait(self.every_s):
            self.load.append(os.getloadavg()[0])
            for name in self.roots:
                rss = 0
                for p in self._tree(name):
                    try:
                        rss += p.memory_info().rss
                    except Exception:  # noqa: BLE001
                        pass
                self.peak_rss_mb[name] = max(self.peak_rss_mb[name], rss / 2**20)
                self.last_cpu[name] = max(self.last_cpu[name], self._cpu(name))

    def stop(self) -> dict[str, float]:
        """CPU seconds used per tree since the start (last sample for ended processes)."""
        self._stop.set()
        self._thread.join()
        return {name: max(self.last_cpu[name], self._cpu(name)) - self.cpu0[name]
                for name in self.roots}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def setup(app, olts: int, port: int, anchor) -> dict[str, int]:
    from facho.extensions import db
    from facho.inventory.seed import seed
    from facho.models import Brand, Oid, Olt, SnmpJob, SnmpJobHost

    with app.app_context():
        seed()
        db.session.commit()
        huawei = db.session.execute(db.select(Brand).filter_by(nombre="Huawei")).scalar_one()
        rows = [Olt(abreviatura=f"FLOTA-{n:04d}", ip_address="127.0.0.1", snmp_port=port,
                    comunidad=f"fleet{n % RECORDINGS}-{n // RECORDINGS}", brand=huawei,
                    max_repetitions=25, max_requests_per_second=BUDGET_RPS)
                for n in range(olts)]
        db.session.add_all(rows)
        jobs = {}
        for kind, (raw, _, names), offset in (("descubrimiento", DISCOVERY, 0),
                                              ("get", GET, 60)):
            start = anchor + timedelta(seconds=offset)
            job = SnmpJob(nombre=f"Flota {kind}", brand=huawei, job_type=kind,
                          interval_raw=raw, anchor_at=start, next_run_at=start)
            job.oids = [db.session.execute(db.select(Oid).filter_by(nombre=n)).scalar_one()
                        for n in names]
            db.session.add(job)
            db.session.add_all(SnmpJobHost(job=job, olt=o) for o in rows)
            jobs[kind] = job
        db.session.commit()
        return {kind: job.id for kind, job in jobs.items()}


def slot_figures(app, job_id: int, interval_s: int, olts: int, anchor, end) -> dict:
    """Slots of one job that came due in [anchor, end): how many finished in time."""
    from facho.extensions import db
    from facho.models import Execution

    due = [anchor + timedelta(seconds=k * interval_s)
           for k in range(int((end - anchor).total_seconds() // interval_s) + 1)
           if anchor + timedelta(seconds=k * interval_s) < end]
    with app.app_context():
        t = Execution.__table__
        rows = db.session.execute(db.select(
            t.c.scheduled_for, t.c.status, t.c.started_at, t.c.finished_at).where(
            t.c.job_id == job_id, t.c.scheduled_for < end)).all()
        db.session.remove()
    expected = len(due) * olts
    in_time = [r for r in rows if r.status == "SUCCESS" and r.finished_at is not None
               and (r.finished_at - r.scheduled_for).total_seconds() <= interval_s]
    lags = [(r.started_at - r.scheduled_for).total_seconds() for r in rows if r.started_at]
    makespans = {}
    for r in rows:
        if r.finished_at:
            span = (r.finished_at - r.scheduled_for).total_seconds()
            makespans[r.scheduled_for] = max(makespans.get(r.scheduled_for, 0.0), span)
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    return {"interval_s": interval_s, "slots_due": len(due), "executions_expected": expected,
            "executions_found": len(rows), "by_status": by_status,
            "finished_in_interval": len(in_time),
            "share_in_interval": round(len(in_time) / expected, 4) if expected else None,
            "start_lag_p50_s": _r(percentile(lags, 0.5)),
            "start_lag_p99_s": _r(percentile(lags, 0.99)),
            "start_lag_max_s": _r(max(lags) if lags else None),
            "slot_makespan_max_s": _r(max(makespans.values()) if makespans else None),
            # how much of its interval the slowest slot used: below 1 the worker(s) kept
            # up; the worker processes needed scale with it (at the same CPU per ONU)
            "interval_used_max": _r(max(makespans.values()) / interval_s if makespans else None),
            "slot_makespans_s": [_r(makespans[k]) for k in sorted(makespans)]}


def _r(value):
    return None if value is None else round(value, 2)


def wait_settled(app, job_ids: dict[str, int], end, deadline_s: float) -> None:
    """Until every execution of a slot due before ``end`` is final (or ``deadline_s``)."""
    from facho.extensions import db
    from facho.models import FINAL_STATUSES, Execution

    stop_at = time.monotonic() + deadline_s
    while time.monotonic() < stop_at:
        with app.app_context():
            open_rows = db.session.execute(db.select(db.func.count()).select_from(
                Execution).where(Execution.job_id.in_(list(job_ids.values())),
                                 Execution.scheduled_for < end,
                                 Execution.status.not_in(list(FINAL_STATUSES)))).scalar_one()
            db.session.remove()
        if not open_rows:
            return
        time.sleep(2)


def fleet_run(workdir: Path, args) -> dict:
    from bench.fleet_big_olt import bench_app
    from facho.ops.fast_agent import FastAgentProcess
    from facho.ops.olt_sim import write_snmprec
    from facho.models import utcnow

    load_before = os.getloadavg()
    factory, drop = bench_app(workdir, args.redis_db)
    env = dict(os.environ, FACHO_ENV="production", PYTHONPATH=str(ROOT),
               SECRET_KEY="bench-fleet-secret-key-0123456789")
    env.pop("FACHO_TICK_EVERY_S", None)
    recordings = []
    for r in range(RECORDINGS):
        recordings.append(workdir / f"fleet{r}.snmprec")
        write_snmprec(recordings[-1], "huawei", args.onus, seed=100 + r)
    processes: dict[str, subprocess.Popen] = {}
    agent = None
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        agent = FastAgentProcess(recordings, rtt_ms=RTT_MS, budget_rps=BUDGET_RPS,
                                 alias=math.ceil(args.olts / RECORDINGS))
        app = factory()
        anchor = (utcnow() + timedelta(seconds=30)).replace(microsecond=0)
        job_ids = setup(app, args.olts, agent.port, anchor)
        print(f"  {args.olts} OLTs × {args.onus} ONUs on 127.0.0.1:{agent.port}; first slot "
              f"{anchor:%H:%M:%S} UTC; {args.minutes} min", flush=True)
        commands = procfile_commands(args.workers, args.threads)
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env,
                                               stdout=open(workdir / f"{name}.log", "wb"),
                                               stderr=subprocess.STDOUT)
        usage = Usage({"scheduler": processes["scheduler"].pid,
                       "worker": processes["worker"].pid, "agent": agent.process.pid})
        started = time.monotonic()
        end = anchor + timedelta(minutes=args.minutes)
        while utcnow() < end:
            time.sleep(5)
            for name, proc in processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} ended: {(workdir / f'{name}.log').read_text()[-2000:]}")
        processes["scheduler"].terminate()
        processes["scheduler"].wait(30)
        wait_settled(app, job_ids, end, deadline_s=GET[1] + 60)
        wall = time.monotonic() - started
        cpu = usage.stop()
        stats = agent.stats()
        figures = {kind: slot_figures(app, job_ids[kind], spec[1], args.olts,
                                      anchor + timedelta(seconds=offset), end)
                   for kind, spec, offset in (("descubrimiento", DISCOVERY, 0), ("get", GET, 60))}
        from facho.extensions import db
        with app.app_context():
            db.engine.dispose()
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in processes.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if agent is not None:
            agent.stop()
        drop()
    peaks = stats["community_peak_per_second"]
    result = {
        "measured_at": anchor.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "setup": {"olts": args.olts, "onus_per_olt": args.onus, "minutes": args.minutes,
                  "rtt_ms": RTT_MS, "budget_rps_per_olt": BUDGET_RPS,
                  "discovery": {"every": DISCOVERY[0], "oids": DISCOVERY[2]},
                  "get": {"every": GET[0], "oids": GET[2], "first_slot_offset_s": 60},
                  "worker_processes": args.workers, "threads_per_worker": args.threads,
                  "commands": {k: " ".join(v[1:] if v[0] == sys.executable else v)
                               for k, v in procfile_commands(args.workers, args.threads).items()},
                  "database": "postgresql", "agent": "fast_agent, 1 process, "
                  f"{RECORDINGS} recordings × aliases"},
        "full_size": args.olts >= 2000 and args.minutes >= 15,
        "fraction_of_full_size": {"olts": round(args.olts / 2000, 3),
                                  "minutes": round(args.minutes / 15, 3)},
        "wall_s": round(wall, 1),
        "slots": figures,
        "cpu_share_of_one_core": {k: round(v / wall, 3) for k, v in cpu.items()},
        "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in usage.peak_rss_mb.items()},
        "load_average_1m": {"before": round(load_before[0], 2),
                            "during_mean": round(statistics.mean(usage.load), 2)
                            if usage.load else None,
                            "during_max": round(max(usage.load), 2) if usage.load else None,
                            "after": round(os.getloadavg()[0], 2)},
        "agent": {"requests": stats["requests"], "varbinds": stats["varbinds"],
                  "pdus": stats["pdus"], "olts_polled": len(peaks),
                  "budget_violations": stats["budget_violations"],
                  "busiest_olt_second": max(peaks.values(), default=0)},
    }
    print_fleet(result)
    return result


def print_fleet(result: dict) -> None:
    s = result["setup"]
    print(f"  fleet {s['olts']} OLTs × {s['onus_per_olt']} ONUs, {s['minutes']} min, "
          f"{s['worker_processes']} worker(s) × {s['threads_per_worker']} threads; load "
          f"{result['load_average_1m']}", flush=True)
    for kind, f in result["slots"].items():
        print(f"  {kind:15} slots {f['slots_due']}, executions {f['executions_found']}/"
              f"{f['executions_expected']}, in interval {f['share_in_interval']}, start lag "
              f"p50 {f['start_lag_p50_s']} s p99 {f['start_lag_p99_s']} s, slowest slot "
              f"{f['slot_makespan_max_s']} s of {f['interval_s']}", flush=True)
    a = result["agent"]
    print(f"  agent: {a['requests']} requests, {a['budget_violations']} budget violations, "
          f"busiest OLT second {a['busiest_olt_second']}; CPU share "
          f"{result['cpu_share_of_one_core']}; peak RSS MB {result['peak_rss_mb']}", flush=True)
