"""Real scheduler processes on a real clock, for tests/reliability/test_scheduler_kill.py.

`Cluster` starts several `python -m actors.scheduler_process --every N` processes and one
*stub* execution worker against PostgreSQL and real Redis, finds the leader from the lease
in Redis (`facho.scheduling.lease`), SIGKILLs it and measures the failover: kill -> another process
holds the lease -> that process's first tick (`last_tick` in Redis, written by every
leader tick).

The stub worker (`python -m tests.reliability._scheduler_kill worker`) is a real Dramatiq
worker consuming the real execution queues (`discovery_main`, `get_main`) with actors of
the real names whose body is only the real worker guard (`facho.executions.transitions.start` then
`finish(SUCCESS)`), and that counts every delivery in Redis. Why not the SNMP worker: the
scheduler's correctness does not depend on SNMP, and 500 pairs at 30 s are ~17 walks a
second that would only add CPU noise on a 2-core machine. Why not no worker at all: the
overlap rule would then SKIP every slot after the first (the first stays PENDING), which
hides whether each slot was really sent at its second after the takeover.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from facho.config import REPO_ROOT

REPO = REPO_ROOT
UTC = timezone.utc
DELIVERIES_KEY = "facho:test:kill:deliveries"     # execution id -> deliveries
REFUSED_KEY = "facho:test:kill:refused"           # execution id -> guard refusals
DELIVERY_LOG_KEY = "facho:test:kill:delivery_log"  # "execution id message id" per delivery
READY_KEY = "facho:test:kill:worker_ready"


# --- the stub worker (subprocess) ----------------------------------------------------------

def worker_main(redis_url: str, threads: int = 8) -> None:
    import threading

    import dramatiq
    import redis
    from dramatiq.middleware import CurrentMessage

    from app import create_app
    from facho.messaging import ACTOR_BY_JOB_TYPE, QUEUE_BY_JOB_TYPE, setup_broker
    from facho.middleware.app_context import set_app_factory
    from facho.models import SUCCESS

    set_app_factory(create_app)   # what `import actors` does for a real worker
    broker = setup_broker(redis_url)
    broker.add_middleware(CurrentMessage())
    client = redis.Redis.from_url(redis_url)

    def guard_only(execution_id: int) -> None:
        from facho.executions import transitions as executions
        client.hincrby(DELIVERIES_KEY, str(execution_id), 1)
        # Which message brought it: a twice-delivered execution then tells apart one
        # message delivered twice (the broker) from two messages sent (the product).
        message = CurrentMessage.get_current_message()
        client.rpush(DELIVERY_LOG_KEY, f"{execution_id} {message.message_id if message else '?'}")
        started = executions.start(int(execution_id), executions.worker_name())
        if started is None:
            client.hincrby(REFUSED_KEY, str(execution_id), 1)
            return
        executions.finish(started.execution_id, started.worker, SUCCESS,
                          summary={"stub": "scheduler kill test"})

    for job_type, actor_name in ACTOR_BY_JOB_TYPE.items():
        dramatiq.actor(lambda execution_id: guard_only(execution_id), actor_name=actor_name,
                       queue_name=QUEUE_BY_JOB_TYPE[job_type], max_retries=0)
    worker = dramatiq.Worker(broker, queues=set(QUEUE_BY_JOB_TYPE.values()),
                             worker_threads=threads, worker_timeout=100)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.start()
    client.set(READY_KEY, os.getpid())
    stop.wait()
    worker.stop(timeout=10_000)
    broker.close()


# --- the cluster (test side) -------------------------------------------------------------

@dataclass
class Kill:
    owner: str
    at: float                       # time.time() right after SIGKILL
    lease_s: float | None = None    # until another process held the lease
    tick_s: float | None = None     # until that process's first tick began (`now` of the tick)
    claim_s: float | None = None    # until its first tick that claimed slots had committed
    new_owner: str | None = None


@dataclass
class Cluster:
    database_url: str
    redis_url: str
    log_dir: Path
    schedulers: int = 3
    every_s: float = 3.0
    lease_ttl_ms: int = 1500
    procs: dict = field(default_factory=dict)       # name -> Popen
    worker: subprocess.Popen | None = None
    kills: list = field(default_factory=list)
    _serial: int = 0

    def env(self) -> dict:
        return dict(os.environ, DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
                    FACHO_ENV="testing", FACHO_VAR_DIR=str(self.log_dir),
                    SECRET_KEY="kill-test-secret-0123456789", PYTHONPATH=str(REPO),
                    FACHO_LEASE_TTL_MS=str(self.lease_ttl_ms), FACHO_LOG_LEVEL="INFO")

    def _popen(self, args, log_name):
        log = open(self.log_dir / log_name, "ab")
        return subprocess.Popen(args, cwd=REPO, env=self.env(), stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=_own_session_die_with_parent)

    @property
    def lease(self):
        import redis

        from facho.scheduling.lease import LeaderLease
        if not hasattr(self, "_lease"):
            self._lease = LeaderLease(redis.Redis.from_url(self.redis_url),
                                      ttl_ms=self.lease_ttl_ms, owner="test-observer")
        return self._lease

    def start_scheduler(self) -> str:
        name = f"s{self._serial}"
        self._serial += 1
        self.procs[name] = self._popen(
            [sys.executable, "-m", "actors.scheduler_process", "--every", str(self.every_s)],
            f"{name}.log")
        return name

    def start(self, timeout_s: float = 60) -> None:
        self.lease.redis.delete(READY_KEY)
        self.worker = self._popen([sys.executable, "-m", "tests.reliability._scheduler_kill",
                                   "worker", self.redis_url], "worker.log")
        for _ in range(self.schedulers):
            self.start_scheduler()
        deadline = time.time() + timeout_s
        while not (self.leader_name() and self.lease.redis.get(READY_KEY)):
            self.check_alive()
            if time.time() > deadline:
                raise AssertionError("no leader / worker within %s s:\n%s"
                                     % (timeout_s, self.logs_tail()))
            time.sleep(0.05)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items()
                if p.poll() is not None and p.returncode != -signal.SIGKILL}
        if self.worker is not None and self.worker.poll() is not None:
            dead["worker"] = self.worker.returncode
        assert not dead, f"processes exited: {dead}\n{self.logs_tail()}"

    def leader_name(self) -> str | None:
        holder = self.lease.holder()
        if not holder:
            return None
        pid = int(holder.split(":")[-2])
        for name, proc in self.procs.items():
            if proc.pid == pid and proc.poll() is None:
                return name
        return None

    def kill_leader(self, deadline_s: float, respawn: bool = False,
                    mid_tick: bool = False) -> Kill:
        """SIGKILL the lease holder; wait for another holder and its first claiming tick.

        `mid_tick`: aim the kill 10 ms after the leader's next tick should have begun (its
        ticks come every `every_s`), so that it most likely dies inside the tick's
        transactions; `respawn`: start a replacement process once the failover is measured.
        """
        name = self.leader_name()
        assert name, "no live leader to kill"
        owner = self.lease.holder()
        if mid_tick:
            seen = (self.lease.last_tick() or {}).get("at_ms")
            limit = time.time() + 3 * self.every_s
            tick = {}
            while time.time() < limit:
                tick = self.lease.last_tick() or {}
                if tick.get("owner") == owner and tick.get("at_ms") != seen:
                    break
                time.sleep(0.005)
            if tick.get("now"):
                aim = datetime.fromisoformat(tick["now"]).timestamp() + self.every_s + 0.01
                time.sleep(max(0.0, aim - time.time()))
        self.procs[name].send_signal(signal.SIGKILL)
        kill = Kill(owner=owner, at=time.time())
        self.procs[name].wait(10)
        self.await_takeover(kill, deadline_s)
        self.kills.append(kill)
        if respawn:
            self.start_scheduler()
        return kill

    def await_takeover(self, kill: Kill, deadline_s: float) -> Kill:
        """Fill `kill` with the times until another process held the lease, ticked, and
        claimed slots (the first tick that claimed anything), polling Redis every 20 ms."""
        limit = kill.at + deadline_s
        while time.time() < limit and kill.claim_s is None:
            holder = self.lease.holder()
            if kill.lease_s is None and holder and holder != kill.owner:
                kill.lease_s, kill.new_owner = round(time.time() - kill.at, 3), holder
            tick = self.lease.last_tick() or {}
            if tick.get("owner") not in (None, kill.owner):
                began = datetime.fromisoformat(tick["now"]).timestamp() - kill.at
                if began > 0:
                    kill.tick_s = kill.tick_s or round(began, 3)
                    if tick.get("claimed"):    # recorded after the claim committed
                        kill.claim_s = round(tick["at_ms"] / 1000 - kill.at, 3)
                    kill.new_owner = kill.new_owner or tick["owner"]
            time.sleep(0.02)
        return kill

    def stop_schedulers(self) -> dict:
        """SIGTERM every scheduler still running; return the exit codes (-9: killed)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return {name: _wait_or_kill(proc) for name, proc in self.procs.items()}

    def stop_worker(self, drain_s: float = 2.0) -> int:
        """Let the stub worker take what is still queued, then SIGTERM it."""
        time.sleep(drain_s)
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
        return _wait_or_kill(self.worker)

    def kill_all(self) -> None:
        for proc in [*self.procs.values(), self.worker]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self) -> dict[str, str]:
        return {p.stem: p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log"))}

    def logs_tail(self, n: int = 1500) -> str:
        return "\n".join(f"--- {k}\n{v[-n:]}" for k, v in self.logs().items())

    def tick_totals(self) -> Counter:
        """Sum of the `event=tick` log fields of every scheduler, plus tick_conflict lines."""
        totals: Counter = Counter()
        for name, text in self.logs().items():
            if name == "worker":
                continue
            for line in text.splitlines():
                if "event=tick " in line:
                    totals["busy_ticks"] += 1
                    for key, value in re.findall(r"(\w+)=(\d+)", line):
                        if key in ("claimed", "skipped", "missed", "sent", "lost_cas",
                                   "conflicts", "armed"):
                            totals[key] += int(value)
                elif "event=tick_conflict" in line:
                    totals["conflict_events"] += 1
                elif "event=leader_acquired" in line:
                    totals["leader_acquired"] += 1
        return totals


@dataclass
class Freeze:
    name: str
    owner: str
    backend_pid: int                # the frozen leader's PostgreSQL session
    at: float                       # time.time() right after SIGSTOP


def _pg(database_url: str):
    import psycopg
    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                           connect_timeout=5)


def freeze_leader_inside_claim(cluster: Cluster, timeout_s: float = 20) -> Freeze:
    """SIGSTOP the leader while its claim transaction holds the jobs' row locks.

    Deterministic, not a timed guess: this session locks every job row; the leader's next
    tick reaches its claim (`SELECT … FOR UPDATE` in id order) and waits on it; the leader
    is SIGSTOPped there, and this session lets go, so the leader's PostgreSQL session gets
    the locks and sits "idle in transaction" on behalf of a process that no longer runs: a
    scheduler frozen by the OS, a VM pause, or a machine cut off by the network with its
    TCP connection still open on the server."""
    name = cluster.leader_name()
    assert name, "no live leader to freeze"
    owner = cluster.lease.holder()
    blocker = _pg(cluster.database_url)
    watch = _pg(cluster.database_url)
    watch.autocommit = True
    waiting = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' AND query ILIKE '%%FOR UPDATE%%' "
               "AND query ILIKE '%%snmp_jobs%%'")
    try:
        blocker.execute("SELECT id FROM snmp_jobs ORDER BY id FOR UPDATE")
        deadline = time.time() + timeout_s
        pid = None
        while pid is None:
            assert time.time() < deadline, "the leader never reached its claim"
            row = watch.execute(waiting).fetchone()
            pid = row[0] if row else None
            time.sleep(0.01)
        cluster.procs[name].send_signal(signal.SIGSTOP)
        frozen = Freeze(name=name, owner=owner, backend_pid=pid, at=time.time())
        blocker.rollback()
        state = None
        while state != "idle in transaction":
            assert time.time() < deadline, f"the frozen leader's session is {state!r}"
            row = watch.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                                (pid,)).fetchone()
            state = row[0] if row else None
            time.sleep(0.01)
        return frozen
    finally:
        blocker.close()
        watch.close()


def backend_alive(database_url: str, pid: int) -> bool:
    with _pg(database_url) as conn:
        return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                            (pid,)).fetchone() is not None


def _own_session_die_with_parent() -> None:
    """In the child before exec: its own session (so SIGKILL of the group is ours alone),
    and SIGKILL when the test process dies, so a pytest killed by a timeout leaves no
    scheduler running against the next test's database (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes
    os.setsid()
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


def _wait_or_kill(proc, timeout: float = 20) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return proc.returncode


# --- the audit --------------------------------------------------------------------------

def audit_window(app, redis_client, a: datetime, b: datetime) -> dict:
    """Every (job, OLT) pair's slots in [a, b) against the ideal grid, with what happened
    to each: duplicates, off-grid rows, missing rows, rows never sent or SKIPPED as late
    (both lost), overlap skips, and the deliveries the stub worker counted."""
    from tests.scheduling.simulation import audit
    from facho.reasons import REASON_LATE
    from facho.extensions import db
    from facho.models import Execution, SnmpJob

    t = Execution.__table__
    deliveries = {int(k): int(v) for k, v in redis_client.hgetall(DELIVERIES_KEY).items()}
    refused = {int(k): int(v) for k, v in redis_client.hgetall(REFUSED_KEY).items()}
    delivered_by: dict[int, list[str]] = {}
    for entry in redis_client.lrange(DELIVERY_LOG_KEY, 0, -1):
        execution_id, message_id = entry.decode().split(" ", 1)
        delivered_by.setdefault(int(execution_id), []).append(message_id)
    twice = []
    out = Counter()
    with app.app_context():
        for job_id in db.session.execute(sa.select(SnmpJob.id)).scalars().all():
            report = audit(job_id, a, b)
            out["slots_expected"] += report["ideal"] * len(report["per_olt"])
            out["duplicates"] += report["duplicates"]
            out["off_grid"] += report["off_grid"]
            out["missing"] += report["missing"]
        rows = db.session.execute(
            sa.select(t.c.id, t.c.status, t.c.message_id, t.c.error_message, t.c.started_at,
                      t.c.scheduled_for)
            .where(t.c.scheduled_for >= a, t.c.scheduled_for < b)).all()
        db.session.rollback()
    lags = []
    for r in rows:
        out["executions"] += 1
        out[f"status_{r.status}"] += 1
        if r.status == "PENDING" and r.message_id is None:
            out["never_sent"] += 1
        elif r.status == "SKIPPED" and r.error_message and \
                r.error_message.startswith(REASON_LATE.split("{")[0]):
            out["skipped_late"] += 1
        elif r.status == "SKIPPED":
            out["skipped_overlap"] += 1
        if r.message_id is not None:
            n = deliveries.get(r.id, 0)
            out["sent"] += 1
            out["delivered_twice"] += n > 1
            if n > 1:   # shown by the failing assertion: messages received vs the row's
                twice.append(dict(id=r.id, slot=r.scheduled_for.isoformat(),
                                  status=r.status, row_message_id=r.message_id,
                                  delivered_by=delivered_by.get(r.id, [])))
            out["not_delivered"] += n == 0
        if r.started_at is not None:
            lags.append((r.scheduled_for.timestamp(),
                         (r.started_at - r.scheduled_for).total_seconds()))
    out["guard_refusals"] = sum(refused.values())
    out["lost_in_window"] = out["missing"] + out["never_sent"] + out["skipped_late"]
    result = dict(out)
    if twice:
        result["delivered_twice_detail"] = twice
    result["lags"] = sorted(lags)      # (slot epoch s, start lag s), by slot
    return result


def resend_lost_messages(app) -> list[float]:
    """The reconciler's lost-message pass (`facho.scheduling.reconcile.resend_lost`), as the next
    leader runs it every minute, with its 60 s grace shortened to 0 so a short test need not
    wait for it: PENDING rows with a message id whose message Redis no longer holds are
    re-sent. Only a leader killed between committing a message id and enqueueing it can
    leave such a row. Returns the slot epochs of the rows re-sent."""
    from facho.scheduling import reconcile
    from facho.extensions import db
    from facho.models import Execution, PENDING
    t = Execution.__table__
    with app.app_context():
        before = {r.id: r.message_id for r in db.session.execute(
            sa.select(t.c.id, t.c.message_id).where(t.c.status == PENDING,
                                                    t.c.message_id.is_not(None)))}
        reconcile.resend_lost(utc_now(), grace_s=0)
        after = db.session.execute(
            sa.select(t.c.id, t.c.message_id, t.c.scheduled_for)
            .where(t.c.id.in_(list(before) or [0]))).all()
        db.session.rollback()
    return [r.scheduled_for.timestamp() for r in after if r.message_id != before[r.id]]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def seed_pairs(app, jobs: int, olts: int, first_slot: datetime, spread_s: int = 30) -> None:
    """`jobs` 30 s jobs on the same `olts` OLTs, anchors spread one per second over
    `spread_s` seconds from `first_slot` (so every second of the grid has slots)."""
    from tests.scheduling.simulation import seed_bulk
    from facho.extensions import db
    with app.app_context():
        seed_bulk(jobs, olts, "30s", start=first_slot, spread_s=spread_s)
        db.session.remove()


def utc_now() -> datetime:
    return datetime.now(UTC)


def whole_second(t: datetime, plus_s: float = 0) -> datetime:
    return (t + timedelta(seconds=plus_s)).replace(microsecond=0)


if __name__ == "__main__":   # python -m tests.reliability._scheduler_kill worker REDIS_URL
    if sys.argv[1] == "worker":
        worker_main(sys.argv[2])
