"""Polling a fleet (issue 15): the fast simulated agent, and how many OLT walks one worker
process keeps in flight.

    python -m bench fleet [-- --quick] [--only SECTION ...] [--redis-db 12]
    python -m bench fleet -- --fleet --olts 2000 --minutes 15   (section 5, long)

1. **Fast agent throughput** (``facho.ops.fast_agent``, its own process): a simulated
   8,192-ONU Huawei OLT walked (4 columns, GetBulk x25) by net-snmp's C ``snmpbulkwalk``
   (so the client is not the limit) and by Facho's own client; varbinds/s at the wall and
   per CPU-second of the agent. The same for snmpsim, for comparison.
2. **Agent models**: a walk with 5 ms / 50 ms injected RTT and with a 2,000 requests/s CPU
   cap (wall time vs the RTT floor, requests the agent counted).
3. **Walks in flight in one worker process**, RTT 50 ms, 256-ONU OLTs (4 columns, x25):
   a thread per walk with its own event loop (what a Dramatiq worker thread does today,
   ``executions.targets.run_snmp``) against one shared event loop running every walk as a
   task (``facho.snmp.shared_loop``). For each concurrency: walks/s against the ideal
   (concurrency / walk time at zero load), threads, file descriptors, RSS, CPU.
4. **Big OLT against Prometheus snmp_exporter** (``bench/fleet_big_olt.py``): 8,192 ONUs,
   4 columns, RTT 5 / 50 ms, agent CPU 2,000 requests/s; wall time and requests counted
   at the agent, Facho's execution against one scrape of a hand-written module.
5. **Fleet** (``bench/fleet_run.py``, only with ``--fleet``): the real scheduler and worker
   processes polling ``--olts`` simulated OLTs for ``--minutes``.

``--only`` and ``--fleet`` keep the other sections of ``fleet.json`` as they were.

Figures, not pass/fail: printed and written to ``bench/results/fleet.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facho.ops.fast_agent import FastAgentProcess  # noqa: E402
from facho.ops.olt_sim import SnmpSim, write_snmprec  # noqa: E402
from facho.snmp import SnmpClient, SnmpTarget, run  # noqa: E402

HW = "1.3.6.1.4.1.2011.6.128.1.1.2"
COLUMNS = [f"{HW}.43.1.3", f"{HW}.43.1.9", f"{HW}.46.1.15", f"{HW}.51.1.4"]
RESULTS = ROOT / "bench" / "results" / "fleet.json"


# --- helpers -------------------------------------------------------------------------------

def udp_port() -> int:  # for snmpsim
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc, clock ticks -> s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class AgentProcess(FastAgentProcess):
    """The fast agent in its own process, with its CPU time."""

    def __init__(self, recording: Path, **options) -> None:
        super().__init__([recording], **options)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    close = FastAgentProcess.stop


def target(port: int, community: str, **options) -> SnmpTarget:
    options.setdefault("bulk_size", 25)
    return SnmpTarget("127.0.0.1", port, community=community, timeout_s=5, retries=1,
                      **options)


# --- 1. agent throughput --------------------------------------------------------------------

def bulkwalk_load(port: int, community: str, walkers: int) -> tuple[int, float]:
    """``walkers`` snmpbulkwalk processes at once, each walking the OLT's whole ONU
    subtree (6 columns); returns (varbinds, seconds)."""
    binary = shutil.which("snmpbulkwalk")
    started = time.perf_counter()
    procs = [subprocess.Popen([binary, "-v2c", "-c", community, "-Cr25", "-On", "-Oq",
                               "-t", "5", "-r", "1", f"127.0.0.1:{port}", HW],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
             for _ in range(walkers)]
    varbinds = sum(len(p.communicate()[0].splitlines()) for p in procs)
    return varbinds, time.perf_counter() - started


def facho_load(port: int, community: str, walkers: int) -> tuple[int, float]:
    async def main():
        clients = [SnmpClient(target(port, community)) for _ in range(walkers)]
        walked = await asyncio.gather(*(c.walk_columns(COLUMNS) for c in clients))
        return sum(len(rows) for w in walked for rows in w.values())

    started = time.perf_counter()
    varbinds = run(main())
    return varbinds, time.perf_counter() - started


def agent_throughput(workdir: Path, quick: bool) -> dict:
    onus = 2048 if quick else 8192
    recording = workdir / "big.snmprec"
    write_snmprec(recording, "huawei", onus, seed=5)
    out = {"onus": onus, "columns": len(COLUMNS), "bulk": 25}
    with AgentProcess(recording) as agent:
        for name, load, walkers in (("snmpbulkwalk", bulkwalk_load, 2),
                                    ("facho_client", facho_load, 4)):
            if name == "snmpbulkwalk" and not shutil.which("snmpbulkwalk"):
                continue
            load(agent.port, "big", 1)  # warm-up
            cpu0 = agent.cpu()
            varbinds, seconds = load(agent.port, "big", walkers)
            cpu = agent.cpu() - cpu0
            out[name] = {"walkers": walkers, "varbinds": varbinds,
                         "seconds": round(seconds, 3),
                         "varbinds_per_s": round(varbinds / seconds),
                         "agent_cpu_s": round(cpu, 2),
                         "varbinds_per_agent_cpu_s": round(varbinds / cpu) if cpu else None}
    sim_dir = workdir / "sim"
    sim_dir.mkdir()
    shutil.copy(recording, sim_dir / "big.snmprec")
    with SnmpSim(sim_dir, udp_port()) as sim:
        facho_load(sim.port, "big", 1)
        cpu0 = cpu_seconds(sim.process.pid)
        varbinds, seconds = facho_load(sim.port, "big", 1)
        cpu = cpu_seconds(sim.process.pid) - cpu0
        out["snmpsim"] = {"walkers": 1, "varbinds": varbinds, "seconds": round(seconds, 3),
                          "varbinds_per_s": round(varbinds / seconds),
                          "agent_cpu_s": round(cpu, 2)}
    return out


# --- 2. the agent's RTT and CPU models -----------------------------------------------------

def agent_models(workdir: Path, quick: bool) -> list[dict]:
    onus = 2048 if quick else 8192
    recording = workdir / "models.snmprec"
    write_snmprec(recording, "huawei", onus, seed=6)
    out = []
    for rtt_ms, max_rps in ((5, 0), (50, 0), (5, 2000), (50, 2000)):
        with AgentProcess(recording, rtt_ms=rtt_ms, max_rps=max_rps) as agent:
            client = SnmpClient(target(agent.port, "models"))
            started = time.perf_counter()
            rows = run(client.walk_columns(COLUMNS))
            seconds = time.perf_counter() - started
        requests = client.stats["requests"]
        out.append({"rtt_ms": rtt_ms, "agent_max_rps": max_rps or None, "onus": onus,
                    "rows": len(rows[COLUMNS[0]]), "requests": requests,
                    # GetBulks to reach the end (ceil((rows + 1) / 25)) + the GETNEXT that
                    # confirms it
                    "min_round_trips": -(-(onus + 1) // 25) + 1,
                    "seconds": round(seconds, 3),
                    "rtt_floor_s": round(requests * rtt_ms / 1000, 3)})
    return out


# --- 3. walks in flight in one process ------------------------------------------------------

class Sampler:
    """Peaks of threads, fds and RSS of this process while a load runs."""

    def __init__(self) -> None:
        self.threads = self.fds = 0
        self.rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.threads = max(self.threads, threading.active_count())
            self.fds = max(self.fds, open_fds())
            self.rss = max(self.rss, rss_mb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def threads_load(port: int, concurrency: int, seconds: float) -> int:
    """``concurrency`` threads, each walking again and again on its own fresh event loop
    (``asyncio.run`` per walk, as a Dramatiq worker thread does); walks finished."""
    stop_at = time.monotonic() + seconds
    done = [0]
    lock = threading.Lock()

    def worker():
        client = SnmpClient(target(port, "small"))
        while time.monotonic() < stop_at:
            run(client.walk_columns(COLUMNS))
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0]


def shared_loop_load(port: int, concurrency: int, seconds: float) -> int:
    """The same walks as ``concurrency`` tasks of the process's shared event loop
    (``facho.snmp.shared_loop``, what ``run_snmp`` uses); walks finished."""
    from facho.snmp.shared_loop import shared_loop

    stop_at = time.monotonic() + seconds

    async def walker():
        client = SnmpClient(target(port, "small"))
        n = 0
        while time.monotonic() < stop_at:
            await client.walk_columns(COLUMNS)
            n += 1
        return n

    async def main():
        return sum(await asyncio.gather(*(walker() for _ in range(concurrency))))

    return shared_loop().run(main())


def in_flight(workdir: Path, quick: bool) -> dict:
    recording = workdir / "small.snmprec"
    write_snmprec(recording, "huawei", 256, seed=7)
    seconds = 4.0 if quick else 8.0
    levels = (10, 50, 200) if quick else (10, 50, 200, 500)
    out = {"rtt_ms": 50, "onus_per_olt": 256, "seconds_per_level": seconds, "levels": []}
    with AgentProcess(recording, rtt_ms=50) as agent:
        client = SnmpClient(target(agent.port, "small"))
        started = time.perf_counter()
        run(client.walk_columns(COLUMNS))
        walk_s = time.perf_counter() - started
        out["walk_s_alone"] = round(walk_s, 3)
        out["requests_per_walk"] = client.stats["requests"]
        for concurrency in levels:
            for mechanism, load in (("thread_per_walk", threads_load),
                                    ("shared_loop", shared_loop_load)):
                before_threads = threading.active_count()
                cpu0 = time.process_time()
                with Sampler() as sampler:
                    began = time.perf_counter()
                    walks = load(agent.port, concurrency, seconds)
                    wall = time.perf_counter() - began
                cpu = time.process_time() - cpu0
                ideal = concurrency * wall / walk_s
                row = {"mechanism": mechanism, "concurrency": concurrency,
                       "walks": walks, "walks_per_s": round(walks / wall, 1),
                       "ideal_walks_per_s": round(concurrency / walk_s, 1),
                       "efficiency": round(walks / ideal, 3),
                       "extra_threads": sampler.threads - before_threads,
                       "peak_fds": sampler.fds, "peak_rss_mb": round(sampler.rss, 1),
                       "cpu_s": round(cpu, 2),
                       "cpu_ms_per_walk": round(cpu * 1000 / walks, 2) if walks else None}
                out["levels"].append(row)
                print(f"  {mechanism:16} x{concurrency:<4} {row['walks_per_s']:>7} walks/s "
                      f"(ideal {row['ideal_walks_per_s']}, {row['efficiency']:.0%}) "
                      f"threads +{row['extra_threads']} fds {row['peak_fds']} "
                      f"rss {row['peak_rss_mb']} MB cpu {row['cpu_s']} s", flush=True)
    return out


# --- main -----------------------------------------------------------------------------------

SECTIONS = ("agent_throughput", "agent_models", "walks_in_flight", "big_olt_vs_snmp_exporter")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fleet")
    parser.add_argument("--quick", action="store_true", help="smaller tables, fewer levels")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None)
    parser.add_argument("--redis-db", type=int, default=12,
                        help="Redis database of the benchmark (emptied before and after)")
    parser.add_argument("--fleet", action="store_true", help="the fleet run only (long)")
    parser.add_argument("--olts", type=int, default=2000, help="fleet: OLTs")
    parser.add_argument("--onus", type=int, default=256, help="fleet: ONUs per OLT")
    parser.add_argument("--minutes", type=float, default=15.0, help="fleet: run length")
    parser.add_argument("--workers", type=int, default=1, help="fleet: worker processes")
    parser.add_argument("--threads", type=int, default=None,
                        help="fleet: threads per worker (default: the Procfile's)")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.threads is None:
        from bench import procfile_threads
        args.threads = procfile_threads()
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    workdir = Path(tempfile.mkdtemp(prefix="facho-bench-fleet-"))
    load_before = os.getloadavg()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.fleet:
        from bench.fleet_run import fleet_run
        try:
            run = fleet_run(workdir, args)
            if "fleet" in previous:   # earlier runs (other sizes) stay, newest first
                previous["fleet_earlier_runs"] = [previous["fleet"],
                                                  *previous.get("fleet_earlier_runs", [])]
            previous["fleet"] = run
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n")
        print(f"written {RESULTS.relative_to(ROOT)} (section fleet)")
        return
    only = set(args.only or SECTIONS)
    found = {}
    try:
        if "agent_throughput" in only:
            found["agent_throughput"] = agent_throughput_section(workdir, args.quick)
        if "agent_models" in only:
            found["agent_models"] = agent_models_section(workdir, args.quick)
        if "walks_in_flight" in only:
            print("walks in flight in one process (RTT 50 ms) ...", flush=True)
            found["walks_in_flight"] = in_flight(workdir, args.quick)
        if "big_olt_vs_snmp_exporter" in only:
            from bench.fleet_big_olt import bench_app, big_olt_vs_snmp_exporter
            print("big OLT: Facho against snmp_exporter ...", flush=True)
            factory, drop = bench_app(workdir, args.redis_db)
            try:
                found["big_olt_vs_snmp_exporter"] = big_olt_vs_snmp_exporter(
                    workdir, args.quick, factory)
            finally:
                drop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # a shared 2-core machine: wall-clock figures depend on what else ran
    load = {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)}
    if args.only:   # the other sections keep their own date and load
        result = dict(previous)
        for section in found.values():
            if isinstance(section, dict):
                section.update(measured_at=measured_at, load_average_1m=load,
                               **({"quick": True} if args.quick else {}))
        result["sections_measured_at"] = {**previous.get("sections_measured_at", {}),
                                          **{k: measured_at for k in found}}
    else:
        result = {"measured_at": measured_at,
                  "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                              "platform": platform.platform()},
                  "quick": args.quick, "load_average_1m": load,
                  "sections_measured_at": {k: measured_at for k in found}}
        for key in ("fleet", "fleet_earlier_runs"):
            if key in previous:
                result[key] = previous[key]
    result.update(found)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


def agent_throughput_section(workdir: Path, quick: bool) -> dict:
    print("fast agent throughput ...", flush=True)
    throughput = agent_throughput(workdir, quick)
    for name in ("snmpbulkwalk", "facho_client", "snmpsim"):
        if name in throughput:
            t = throughput[name]
            print(f"  {name:13} {t['varbinds_per_s']:>8} varbinds/s at the wall "
                  f"({t['walkers']} walkers; agent CPU {t['agent_cpu_s']} s"
                  + (f", {t['varbinds_per_agent_cpu_s']} varbinds per agent CPU-s)"
                     if t.get("varbinds_per_agent_cpu_s") else ")"), flush=True)
    return throughput


def agent_models_section(workdir: Path, quick: bool) -> list[dict]:
    print("agent RTT and CPU models ...", flush=True)
    models = agent_models(workdir, quick)
    for m in models:
        print(f"  rtt {m['rtt_ms']} ms cap {m['agent_max_rps']}: {m['seconds']} s, "
              f"{m['requests']} requests (minimum {m['min_round_trips']}), RTT floor "
              f"{m['rtt_floor_s']} s", flush=True)
    return models


if __name__ == "__main__":
    main()
