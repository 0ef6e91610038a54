"""Parts of the worker-SIGKILL fault test: a worker process with tunable recovery knobs,
slow fake OLTs that record which UDP socket (one per walk) sent each request, and the
measurements taken on them (walk overlap per OLT, per-OLT holders of a process).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from facho.config import REPO_ROOT
from facho.inventory.uptime import SYS_UPTIME_OID
from tests.execution_helpers import huawei_indexes, slow_table_policy
from tests.factories import HW
from tests.snmp_agents import FakeAgent

REPO = str(REPO_ROOT)

# A real `dramatiq.Worker` in its own process. The knobs are production's with shorter
# times: the execution heartbeat and the stale threshold (facho.executions.run), the re-send
# delay of a busy OLT, and Dramatiq's own heartbeat timeout (after which a broker gives a
# dead worker's unacknowledged messages back) with maintenance on every broker command.
WORKER_SCRIPT = textwrap.dedent("""
    import os, socket, sys, time
    sys.path.insert(0, {repo!r})
    if {hostname!r}:   # pose as a worker on another machine: no pid check on the victim
        socket.gethostname = lambda: {hostname!r}
    from app import create_app
    from facho.middleware.app_context import bind_app
    import dramatiq
    import actors  # noqa: F401 - the broker, with every actor declared
    from dramatiq.brokers.redis import MAINTENANCE_SCALE
    import facho.executions.run as module
    module.HEARTBEAT_EVERY_S = {heartbeat_every_s!r}
    module.STALE_AFTER_S = {stale_after_s!r}
    module.BUSY_DELAY_MS = (200, 500)
    app = create_app()
    bind_app(app)
    broker = dramatiq.get_broker()
    if {dramatiq_heartbeat_timeout_ms!r}:
        broker.heartbeat_timeout = {dramatiq_heartbeat_timeout_ms!r}
        broker.maintenance_chance = MAINTENANCE_SCALE
    worker = dramatiq.Worker(broker, queues={{"discovery_main"}},
                             worker_threads={threads!r}, worker_timeout=100)
    worker.start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)
""")


@dataclass
class WorkerProcess:
    proc: subprocess.Popen
    log_path: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()


def start_worker(tmp_path, name: str, env: dict, *, threads: int, heartbeat_every_s: float,
                 stale_after_s: float, dramatiq_heartbeat_timeout_ms: int = 0,
                 hostname: str = "") -> WorkerProcess:
    """Start a worker process and wait for it to say it is consuming."""
    script = tmp_path / f"{name}.py"
    script.write_text(WORKER_SCRIPT.format(
        repo=REPO, threads=threads, heartbeat_every_s=heartbeat_every_s,
        stale_after_s=stale_after_s, dramatiq_heartbeat_timeout_ms=dramatiq_heartbeat_timeout_ms,
        hostname=hostname))
    log_path = str(tmp_path / f"{name}.log")
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ, **env),
                                cwd=REPO, stdout=subprocess.PIPE, stderr=log_file)
    worker = WorkerProcess(proc, log_path)
    line = proc.stdout.readline()
    if not line.startswith(b"ready"):
        worker.stop()
        raise AssertionError(f"worker {name} did not start:\n{worker.log()[-3000:]}")
    return worker


class _RecordingSocket:
    """The agent's socket, noting the arrival time and source port of every datagram: the
    SNMP layer opens one socket per walk, so a source port names one walk."""

    def __init__(self, sock: socket.socket, seen: list):
        self._sock, self._seen = sock, seen

    def recvfrom(self, size):
        data, addr = self._sock.recvfrom(size)
        self._seen.append((time.time(), addr[1]))
        return data, addr

    def __getattr__(self, name):
        return getattr(self._sock, name)


@dataclass
class SlowOlt:
    """One fake Huawei OLT: `rows` ONUs in a single column, each answer after `delay_s`."""

    agent: FakeAgent
    root: tuple[int, ...]
    arrivals: list = field(default_factory=list)   # (time, source port), one per request

    @property
    def port(self) -> int:
        return self.agent.port

    def walks(self) -> list[tuple[float, float]]:
        """[first request, last request] of every walk. A walk is one source port; a request
        for the column itself starts a new walk even on a reused port. The sysUpTime GET an
        execution sends after its walk (facho.inventory.uptime) is not a walk."""
        spans: dict[tuple[int, int], list[float]] = {}
        generation: dict[int, int] = {}
        for (at, port), (_, _, oids) in zip(list(self.arrivals), list(self.agent.requests)):
            if [tuple(o) for o in oids] == [SYS_UPTIME]:
                continue
            if tuple(oids[0]) == self.root:
                generation[port] = generation.get(port, 0) + 1
            key = (port, generation.get(port, 0))
            spans.setdefault(key, [at, at])[1] = at
        return [tuple(span) for span in spans.values()]


SYS_UPTIME = tuple(int(p) for p in SYS_UPTIME_OID.split("."))


@contextmanager
def slow_olts(count: int, rows: int, delay_s: float):
    """`count` slow OLT agents on 127.0.0.1, each its own UDP port and serving thread."""
    root = tuple(int(p) for p in f"{HW}.43.1.3".split("."))
    policy = slow_table_policy(root, huawei_indexes(rows))
    with ExitStack() as stack:
        olts = []
        for _ in range(count):
            agent = FakeAgent(policy, delay_s=delay_s)
            olt = SlowOlt(agent, root)
            agent.sock = _RecordingSocket(agent.sock, olt.arrivals)
            stack.enter_context(agent)
            olts.append(olt)
        yield olts


def holders_by_olt(limiter, olt_ids) -> dict[int, list[str]]:
    """Live (unexpired) holder tokens of each OLT, read in one round trip."""
    pipe = limiter.redis.pipeline(transaction=False)
    for olt_id in olt_ids:
        pipe.zrange(limiter.holders_key(olt_id), 0, -1, withscores=True)
    pipe.time()
    *rows, (seconds, micros) = pipe.execute()
    now_ms = seconds * 1000 + micros / 1000
    return {olt_id: [t.decode() for t, score in found if score > now_ms]
            for olt_id, found in zip(olt_ids, rows)}


def lease_expiries(limiter, olt_ids, tag: str) -> dict[int, float]:
    """Expiry (epoch seconds, Redis clock) of each OLT's holder whose token has `tag`."""
    pipe = limiter.redis.pipeline(transaction=False)
    for olt_id in olt_ids:
        pipe.zrange(limiter.holders_key(olt_id), 0, -1, withscores=True)
    found = {}
    for olt_id, rows in zip(olt_ids, pipe.execute()):
        scores = [score for token, score in rows if tag in token.decode()]
        if scores:
            found[olt_id] = max(scores) / 1000
    return found
