"""One big OLT, Facho against Prometheus ``snmp_exporter`` (issue 15; section
``big_olt_vs_snmp_exporter`` of ``bench/results/fleet.json``).

A simulated 8,192-ONU Huawei OLT (``facho.ops.olt_sim``, Huawei row indexes) is served by
``facho.ops.fast_agent`` in its own process with an injected RTT (5 ms, then 50 ms) and a
CPU of 2,000 requests/s. On the same agent:

* **Facho**: one discovery execution reading the same 4 columns (serial, description,
  status, rx power), run by ``executions.run.run_execution`` (the actor's body) on a
  PostgreSQL database of its own, twice: first every ONU is new, then every ONU is
  unchanged (the steady state). The OLT's own requests-per-second cap is off (0), so both
  tools meet only the agent's CPU; max-repetitions 25.
* **snmp_exporter** (Debian ``prometheus-snmp-exporter``, 0.21): the hand-written module
  ``bench/snmp_exporter/snmp.yml`` (the same 4 columns, max-repetitions 25) served on
  127.0.0.1 and scraped once with ``/snmp?target=…&module=huawei_onu``.

Requests are counted by the agent (``FastAgentProcess.stats()``), not by either client.
Reported: wall time and requests of each, the ratios (snmp_exporter / Facho), and the
minimum round trips the table needs. Without the binary the section says so and is skipped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPORTER_CONFIG = HERE / "snmp_exporter" / "snmp.yml"
EXPORTER_BINARY = "prometheus-snmp-exporter"
FACHO_OIDS = ["Huawei ONT descubrimiento", "Huawei ONT descripción", "Huawei ONT estado",
              "Huawei ONT potencia RX"]
BULK = 25


def _tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    """snmp_exporter on a free 127.0.0.1 port with the bench's module."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = _tcp_port()
        self.log = open(workdir / "snmp_exporter.log", "wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={EXPORTER_CONFIG}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("snmp_exporter no arrancó: ver snmp_exporter.log")
                time.sleep(0.1)

    def scrape(self, agent_port: int) -> tuple[float, dict[str, int]]:
        """(seconds, samples per metric) of one scrape of the module."""
        url = (f"http://127.0.0.1:{self.port}/snmp?target=127.0.0.1:{agent_port}"
               f"&module=huawei_onu")
        request = urllib.request.Request(url, headers={
            "X-Prometheus-Scrape-Timeout-Seconds": "600"})
        started = time.perf_counter()
        body = urllib.request.urlopen(request, timeout=600).read().decode()
        seconds = time.perf_counter() - started
        samples: dict[str, int] = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name = line.split("{", 1)[0].split(" ", 1)[0]
                samples[name] = samples.get(name, 0) + 1
        return seconds, samples

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def _facho_setup(app, port: int) -> tuple[int, int]:
    """A fresh schema with one OLT (the agent, community ``big``) and its discovery job."""
    from bench.bench_e2e import setup_rows
    from facho.extensions import db

    with app.app_context():
        db.drop_all()
    job_id, (olt_id,) = setup_rows(app, [(port, "big")], FACHO_OIDS, max_repetitions=BULK,
                                   max_requests_per_second=0)
    return job_id, olt_id


def _facho_run(app, job_id: int, olt_id: int) -> dict:
    from facho.executions.run import run_execution
    from facho.extensions import db
    from facho.models import Execution, SnmpJobHost

    with app.app_context():
        host = db.session.execute(db.select(SnmpJobHost).filter_by(
            job_id=job_id, olt_id=olt_id)).scalar_one()
        row = Execution(job_id=job_id, olt_id=olt_id, job_host_id=host.id)
        db.session.add(row)
        db.session.commit()
        execution_id = row.id
        db.session.remove()
        started = time.perf_counter()
        run_execution(execution_id, "descubrimiento")
        seconds = time.perf_counter() - started
        done = db.session.get(Execution, execution_id)
        summary = done.result_summary or {}
        out = {"status": done.status, "error": done.error_message,
               "seconds": round(seconds, 3), "onus_found": summary.get("found"),
               "new": summary.get("new"), "unchanged": summary.get("unchanged"),
               "walk_ms": summary.get("walk_ms")}
        db.session.remove()
    return out


def big_olt_vs_snmp_exporter(workdir: Path, quick: bool, app_factory) -> dict:
    """The section; ``app_factory()`` gives a Facho app on a PostgreSQL database and a
    Redis database of the benchmark's own."""
    from bench.bench_fleet import AgentProcess
    from facho.ops.olt_sim import write_snmprec

    onus = 2048 if quick else 8192
    binary = shutil.which(EXPORTER_BINARY)
    out = {"onus": onus, "columns": len(FACHO_OIDS), "max_repetitions": BULK,
           "agent_max_rps": 2000, "facho_olt_max_rps": 0,
           "exporter": None, "exporter_module": str(EXPORTER_CONFIG.relative_to(HERE.parent)),
           # GetBulks to reach the end of 4 columns walked together (ceil((rows + 1) / 25))
           # + the GETNEXT that confirms it; snmp_exporter walks each column on its own
           "min_round_trips_together": -(-(onus + 1) // BULK) + 1,
           "min_round_trips_column_by_column": len(FACHO_OIDS) * -(-(onus + 1) // BULK),
           "runs": []}
    if binary is None:
        out["exporter"] = (f"{EXPORTER_BINARY} no instalado (apt-get install -y "
                           f"prometheus-snmp-exporter): solo se mide Facho")
        print(f"  {out['exporter']}", flush=True)
    else:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True)
        out["exporter"] = (version.stdout or version.stderr).splitlines()[0]
    recording = workdir / "big.snmprec"
    write_snmprec(recording, "huawei", onus, seed=5)
    app = app_factory()
    exporter = Exporter(binary, workdir) if binary else None
    try:
        for rtt_ms in (5, 50):
            with AgentProcess(recording, rtt_ms=rtt_ms, max_rps=2000) as agent:
                row = {"rtt_ms": rtt_ms}
                job_id, olt_id = _facho_setup(app, agent.port)
                for label in ("facho_first", "facho_unchanged"):
                    before = agent.stats()["requests"]
                    row[label] = _facho_run(app, job_id, olt_id)
                    row[label]["requests"] = agent.stats()["requests"] - before
                if exporter is not None:
                    before = agent.stats()["requests"]
                    seconds, samples = exporter.scrape(agent.port)
                    row["snmp_exporter"] = {
                        "seconds": round(seconds, 3),
                        "requests": agent.stats()["requests"] - before,
                        "samples_per_column": sorted(
                            n for name, n in samples.items() if name.startswith("hw"))}
                    e, f = row["snmp_exporter"], row["facho_unchanged"]
                    row["exporter_over_facho"] = {
                        "wall": round(e["seconds"] / f["seconds"], 2),
                        "wall_vs_first": round(e["seconds"] / row["facho_first"]["seconds"], 2),
                        "requests": round(e["requests"] / f["requests"], 2)}
                row["rtt_floor_facho_s"] = round(row["facho_unchanged"]["requests"]
                                                 * rtt_ms / 1000, 3)
                out["runs"].append(row)
                _print(row)
    finally:
        if exporter is not None:
            exporter.stop()
        from facho.extensions import db
        with app.app_context():
            db.engine.dispose()
    return out


def _print(row: dict) -> None:
    f1, f2 = row["facho_first"], row["facho_unchanged"]
    line = (f"  rtt {row['rtt_ms']} ms: Facho {f1['seconds']} s new / {f2['seconds']} s "
            f"unchanged, {f2['requests']} requests ({f2['status']})")
    e = row.get("snmp_exporter")
    if e:
        ratio = row["exporter_over_facho"]
        line += (f"; snmp_exporter {e['seconds']} s, {e['requests']} requests "
                 f"(x{ratio['wall']} wall, x{ratio['requests']} requests)")
    print(line, flush=True)


def bench_app(workdir: Path, redis_db: int):
    """A Facho app on a fresh PostgreSQL database (dropped by ``drop``) and Redis database
    ``redis_db`` (emptied); returns (factory, drop)."""
    import redis

    from bench.bench_e2e import create_database, drop_database, redis_url

    name = f"facho_bench_fleet_{os.getpid()}"
    r_url = redis_url(redis_db)
    redis.Redis.from_url(r_url).flushdb()
    os.environ.update(FACHO_ENV="testing", REDIS_URL=r_url, FACHO_LOG_LEVEL="WARNING",
                      SECRET_KEY="bench-secret-key-0123456789", FACHO_VAR_DIR=str(workdir),
                      DATABASE_URL=create_database(name))

    def factory():
        from app import create_app
        from facho.config import load_config
        return create_app(load_config())

    def drop():
        try:
            drop_database(name)
        finally:
            redis.Redis.from_url(r_url).flushdb()

    return factory, drop
