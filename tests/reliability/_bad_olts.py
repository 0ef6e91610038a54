"""Helpers for the bad-OLT tests: a worker process to measure, its open files and memory,
and executions sent in waves.

``WorkerProcess`` runs a real Dramatiq worker (``create_app()`` from the environment, the
execution actors, N threads) as a child process, so ``/proc/<pid>/fd`` and its RSS belong
to the worker alone and not to pytest, the fake agents or the proxy.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from facho.config import REPO_ROOT
from facho import messaging
from facho.extensions import db
from facho.models import Execution, SnmpJobHost

REPO = REPO_ROOT

WORKER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from app import create_app
    from facho.middleware.app_context import bind_app
    import dramatiq
    import actors  # noqa: F401 - the broker, with every actor declared
    import facho.executions.run as module
    module.BUSY_DELAY_MS = (50, 150)   # waves never share an OLT, but stay quick if they do
    app = create_app()
    bind_app(app)
    worker = dramatiq.Worker(dramatiq.get_broker(), queues={{"discovery_main"}},
                             worker_threads={threads}, worker_timeout=100)
    worker.start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)
""")


class WorkerProcess:
    """``with WorkerProcess(tmp, env, threads=8) as worker: worker.fds()``"""

    def __init__(self, workdir: Path, env: dict, threads: int = 8):
        self.workdir, self.env, self.threads = Path(workdir), env, threads
        self.log_path = self.workdir / "worker.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "WorkerProcess":
        script = self.workdir / "bad_olts_worker.py"
        script.write_text(WORKER_SCRIPT.format(repo=str(REPO), threads=self.threads))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, str(script)], cwd=REPO,
                                            env=dict(os.environ, **self.env),
                                            stdout=subprocess.PIPE, stderr=log)
        line = self.process.stdout.readline()
        if not line.startswith(b"ready"):
            self.__exit__()
            raise AssertionError(f"worker did not start: {self.log_text()}")
        return self

    def __exit__(self, *exc_info) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process is not None and process.stdout:
            process.stdout.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def fds(self) -> Counter:
        """Open file descriptors: ``total``, and by kind: ``socket`` (all), ``udp``, ``tcp:<remote port>``
        (5432 PostgreSQL, 6379 Redis…), ``unix``, ``pipe``, ``anon_inode``, ``file``."""
        kinds: Counter = Counter()
        sockets = self._socket_table()
        base = f"/proc/{self.pid}/fd"
        for name in os.listdir(base):
            try:
                target = os.readlink(f"{base}/{name}")
            except OSError:          # closed between listdir and readlink
                continue
            kind = target.split(":", 1)[0] if ":" in target else "file"
            kinds["total"] += 1
            kinds[kind] += 1
            if kind == "socket":
                kinds[sockets.get(target[len("socket:["):-1], "socket-other")] += 1
        return kinds

    def _socket_table(self) -> dict[str, str]:
        """socket inode -> udp / tcp:<remote port> / unix, from the process's net tables."""
        table = {}
        for proto in ("tcp", "tcp6", "udp", "udp6", "unix"):
            try:
                lines = Path(f"/proc/{self.pid}/net/{proto}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if proto == "unix":
                    table[fields[6]] = "unix"
                elif proto.startswith("udp"):
                    table[fields[9]] = "udp"
                else:
                    table[fields[9]] = f"tcp:{int(fields[2].rsplit(':', 1)[1], 16)}"
        return table

    def _status(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"no {field}")

    def rss_mb(self) -> float:
        return self._status("VmRSS") / 1024

    def thread_count(self) -> int:
        return self._status("Threads")

    def settled_fds(self, ceiling: int, wait_s: float = 5.0) -> Counter:
        """fds once the worker is idle: a socket closes on the event loop's next turn and
        a database connection returns to its pool after the commit, so sample until the
        count is at most ``ceiling`` or ``wait_s`` passes (then the last sample)."""
        deadline = time.monotonic() + wait_s
        while True:
            kinds = self.fds()
            if kinds["total"] <= ceiling or time.monotonic() > deadline:
                return kinds
            time.sleep(0.1)


def send_wave(app, pairs: list[tuple[int, int]]) -> list[int]:
    """One manual execution per (job, OLT) pair, inserted together, then sent."""
    with app.app_context():
        hosts = {(h.job_id, h.olt_id): h.id for h in db.session.execute(
            db.select(SnmpJobHost)).scalars()}
        rows = [Execution(job_id=j, olt_id=o, job_host_id=hosts[(j, o)]) for j, o in pairs]
        db.session.add_all(rows)
        db.session.commit()
        ids = [r.id for r in rows]
        for row in rows:
            row.message_id = messaging.send_execution(row.id, "descubrimiento")
        db.session.commit()
    return ids


def final_rows(app, ids: list[int], timeout_s: float) -> dict[int, Execution]:
    """Wait for every execution to be final (one query per poll, not one per row)."""
    from facho.models import FINAL_STATUSES
    deadline = time.monotonic() + timeout_s
    while True:
        with app.app_context():
            rows = db.session.execute(db.select(Execution).where(
                Execution.id.in_(ids))).scalars().all()
            for row in rows:
                db.session.expunge(row)
            db.session.remove()
        if len(rows) == len(ids) and all(r.status in FINAL_STATUSES for r in rows):
            return {r.id: r for r in rows}
        if time.monotonic() > deadline:
            pending = [(r.id, r.status, r.error_message) for r in rows
                       if r.status not in FINAL_STATUSES]
            raise AssertionError(f"executions not final in time: {pending[:10]}")
        time.sleep(0.05)
