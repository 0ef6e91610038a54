"""Scheduler simulation harness, shared by the scheduling tests and bench/bench_scheduler.py
(the benchmarks import it from here; tests never import from bench/).

`Simulation` is a discrete-event loop over a driven clock: minute ticks (`claim.tick`),
the fan-out `dispatch_slot` messages the ticks arm (`release.send_due` at each slot
second), and a simulated worker that takes each message it receives with the same
compare-and-set as the real one (PENDING -> RUNNING) and finishes it `duration` seconds
later (0 = at once, SUCCESS). Nothing sleeps: a day takes seconds.

`racer_main` is one scheduler process for the racing tests: its own app and connection,
ticking a shared simulated clock sequence, lease on or off.
"""
from __future__ import annotations

import heapq
import itertools
import json
import os
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

import sqlalchemy as sa

from app import create_app
from facho.config import REPO_ROOT, load_config
from facho.extensions import db
from facho.messaging import Outgoing, Sender
from facho.models import PENDING, RUNNING, SUCCESS, Brand, Execution, Olt, SnmpJob, SnmpJobHost
from facho.scheduling import claim, release, schedule
from facho.scheduling.lease import LeaderLease

UTC = timezone.utc


class RecordingSender(Sender):
    """Keeps what would have been sent (tests, benchmarks, simulations)."""

    def __init__(self):
        self.executions: list[Outgoing] = []
        self.slots: list[tuple[int, int]] = []   # (slot_epoch_s, delay_ms)

    def send_executions(self, items: Sequence[Outgoing]) -> None:
        self.executions.extend(items)

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        self.slots.append((int(slot_epoch_s), int(delay_ms)))


# --- fixtures -----------------------------------------------------------------------------

def seed(olt_count: int, jobs: list[dict], *, start: datetime, brand: str = "Huawei",
         olt_prefix: str = "OLT") -> dict:
    """Create a brand, `olt_count` OLTs and the jobs (each on every OLT unless `olts` says
    how many). A job dict: nombre, interval_raw | cron_expr (+cron_tz), job_type.
    Jobs are planned as the panel does (anchor = start, next_run_at = first slot >= start).
    Returns {"olts": [ids], "jobs": {nombre: id}}. Needs an app context."""

    b = Brand.query.filter_by(nombre=brand).first() or Brand(nombre=brand)
    db.session.add(b)
    olts = [Olt(abreviatura=f"{olt_prefix}-{i}", ip_address="127.0.0.1", snmp_port=9,
                comunidad="public", brand=b) for i in range(olt_count)]
    db.session.add_all(olts)
    created = []
    for spec in jobs:
        spec = dict(spec)
        n = spec.pop("olts", olt_count)
        spec.setdefault("job_type", "descubrimiento")
        job = SnmpJob(brand=b, max_retries=0, **spec)
        if job.interval_raw:
            job.anchor_at = start
        job.next_run_at = schedule.first_run_at(
            schedule.Schedule.build(job.interval_raw, job.cron_expr, job.cron_tz or "America/Lima",
                                    job.anchor_at), start)
        db.session.add(job)
        db.session.add_all(SnmpJobHost(job=job, olt=o) for o in olts[:n])
        created.append(job)
    db.session.commit()
    return {"olts": [o.id for o in olts], "jobs": {j.nombre: j.id for j in created}}


def seed_bulk(jobs: int, olts_per_job: int, interval_raw: str, *, start: datetime,
              spread_s: int = 0) -> None:
    """Many jobs at once with Core inserts (benchmarks): `jobs` jobs on `olts_per_job` OLTs
    each (the same OLTs for every job). `spread_s` spreads the anchors over that many
    seconds (0 = all on the same second)."""

    brand = Brand(nombre="Bench")
    db.session.add(brand)
    db.session.flush()
    db.session.execute(sa.insert(Olt.__table__), [
        {"abreviatura": f"B-{i}", "ip_address": "127.0.0.1", "snmp_port": 9,
         "comunidad": "public", "brand_id": brand.id, "modelo": "", "descripcion": "",
         "habilitar_olt": True, "max_concurrent": 1, "max_starts_per_minute": 30,
         "snmp_version": "v2c", "created_at": start} for i in range(olts_per_job)])
    olt_ids = [r[0] for r in db.session.execute(
        sa.select(Olt.id).where(Olt.brand_id == brand.id).order_by(Olt.id))]
    rows = []
    for j in range(jobs):
        anchor = start + timedelta(seconds=(j % spread_s) if spread_s else 0)
        rows.append({"nombre": f"bench-{j}", "descripcion": "", "brand_id": brand.id,
                     "job_type": "descubrimiento", "interval_raw": interval_raw,
                     "cron_expr": None, "cron_tz": "America/Lima", "enabled": True,
                     "max_retries": 0, "retry_delay_seconds": 30, "anchor_at": anchor,
                     "next_run_at": anchor, "missed_slots": 0, "created_at": start,
                     "updated_at": start})
    for i in range(0, len(rows), 2000):
        db.session.execute(sa.insert(SnmpJob.__table__), rows[i:i + 2000])
    job_ids = [r[0] for r in db.session.execute(
        sa.select(SnmpJob.id).where(SnmpJob.brand_id == brand.id).order_by(SnmpJob.id))]
    hosts = [{"job_id": j, "olt_id": o, "enabled": True, "consecutive_failures": 0}
             for j in job_ids for o in olt_ids]
    for i in range(0, len(hosts), 5000):
        db.session.execute(sa.insert(SnmpJobHost.__table__), hosts[i:i + 5000])
    db.session.commit()


def fast_commits(app) -> None:
    """Simulations commit thousands of times; durability is not what they test. SQLite:
    synchronous=OFF; PostgreSQL: synchronous_commit=off (per connection of this app)."""
    with app.app_context():
        engine = db.engine

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, record):
            cursor = dbapi_connection.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("PRAGMA synchronous=OFF")
            else:
                cursor.execute("SET synchronous_commit = off")
            cursor.close()
            if engine.dialect.name != "sqlite":
                dbapi_connection.commit()

        engine.dispose()


# --- the discrete-event simulation ----------------------------------------------------------

class _SimSender:
    def __init__(self, sim: "Simulation"):
        self.sim = sim
        self.sent_ids: Counter = Counter()

    def send_executions(self, items):
        by_time = defaultdict(list)
        for item in items:
            self.sent_ids[item.execution_id] += 1
            by_time[self.sim.now + timedelta(milliseconds=item.delay_ms)].append(
                item.execution_id)
        for at, ids in by_time.items():
            self.sim.push(at, "deliver", ids)

    def arm_slot(self, slot_epoch_s, delay_ms):
        self.sim.arm(slot_epoch_s)


_ORDER = {"finish": 0, "slot": 1, "tick": 2, "deliver": 3}


@dataclass
class Simulation:
    """Drive the scheduler over simulated time. Use inside an app context.

    durations: job_id -> seconds a run takes (default 0: finishes as it starts).
    down: list of (from, to) during which the scheduler process is down: no tick runs and
          fan-out messages wait (in Redis) until it is back.
    """

    start: datetime
    tick_every_s: float = 60.0
    tick_offset_s: float = 0.5
    horizon_s: int = 75
    catchup_window_s: int = 300
    durations: dict = field(default_factory=dict)
    down: list = field(default_factory=list)
    check_overlap: bool = False

    def __post_init__(self):
        self.now = self.start
        self._heap: list = []
        self._seq = itertools.count()
        self._armed: set[int] = set()
        self.sender = _SimSender(self)
        self.ticks: list = []
        self.deliveries = 0
        self.refused = 0
        self.max_active_per_pair = 0
        self._next_tick = self.start + timedelta(seconds=self.tick_offset_s)

    # events
    def push(self, at: datetime, kind: str, payload=None):
        heapq.heappush(self._heap, (at, _ORDER[kind], next(self._seq), kind, payload))

    def arm(self, epoch: int):
        if epoch not in self._armed:
            self._armed.add(epoch)
            self.push(datetime.fromtimestamp(epoch, UTC), "slot", epoch)

    def _is_down(self, t: datetime) -> datetime | None:
        for a, b in self.down:
            if a <= t < b:
                return b
        return None

    def run_until(self, end: datetime, on_tick: Callable | None = None) -> None:
        """Process every event before `end` (ticks every tick_every_s from start+offset)."""
        while True:
            while self._next_tick < end:
                self.push(self._next_tick, "tick")
                self._next_tick += timedelta(seconds=self.tick_every_s)
            if not self._heap or self._heap[0][0] >= end:
                break
            at, _, _, kind, payload = heapq.heappop(self._heap)
            self.now = at
            back = self._is_down(at)
            if kind == "tick":
                if back is not None:
                    continue
                result = claim.tick(at, horizon_s=self.horizon_s,
                                       catchup_window_s=self.catchup_window_s,
                                       sender=self.sender)
                self.ticks.append(result)
                if on_tick:
                    on_tick(self, result)
            elif kind == "slot":
                self._armed.discard(payload)
                if back is not None:  # the message waits in Redis for the scheduler
                    self.push(back, "slot", payload)
                    continue
                release.send_due(at, sender=self.sender,
                                  catchup_window_s=self.catchup_window_s)
            elif kind == "deliver":
                self._deliver(at, payload)
            elif kind == "finish":
                self._finish(at, payload)
            if self.check_overlap:
                self._check_active()
        self.now = end

    # the simulated worker
    def _deliver(self, at: datetime, execution_ids: list[int]):
        """The worker guard for each message: PENDING -> RUNNING (or straight to SUCCESS
        for a zero-length run); a message for a row that is not PENDING is refused."""
        t = Execution.__table__
        self.deliveries += len(execution_ids)
        if not self.durations:
            done = db.session.execute(
                t.update().where(t.c.id.in_(execution_ids), t.c.status == PENDING).values(
                    status=SUCCESS, started_at=at, heartbeat_at=at, finished_at=at,
                    worker="sim", attempt=t.c.attempt + 1, duration_ms=0)
                .returning(t.c.id)).all()
            db.session.commit()
            self.refused += len(execution_ids) - len(done)
            return
        rows = db.session.execute(
            t.update().where(t.c.id.in_(execution_ids), t.c.status == PENDING).values(
                status=RUNNING, started_at=at, heartbeat_at=at, worker="sim",
                attempt=t.c.attempt + 1).returning(t.c.id, t.c.job_id)).all()
        self.refused += len(execution_ids) - len(rows)
        quick = [r.id for r in rows if not self.durations.get(r.job_id, 0)]
        if quick:
            db.session.execute(t.update().where(t.c.id.in_(quick)).values(
                status=SUCCESS, finished_at=at, duration_ms=0))
        for r in rows:
            if self.durations.get(r.job_id, 0):
                self.push(at + timedelta(seconds=self.durations[r.job_id]), "finish", r.id)
        db.session.commit()

    def _finish(self, at: datetime, execution_id: int):
        t = Execution.__table__
        db.session.execute(t.update().where(t.c.id == execution_id, t.c.status == RUNNING)
                           .values(status=SUCCESS, finished_at=at))
        db.session.commit()

    def _check_active(self):
        """Overlap invariant: at most one execution per (job, OLT) that was sent and has not
        finished (reservations not yet due do not count)."""
        t = Execution.__table__
        worst = db.session.execute(
            sa.select(sa.func.count()).where(
                sa.or_(t.c.status == RUNNING,
                       sa.and_(t.c.status == PENDING, t.c.message_id.is_not(None))))
            .group_by(t.c.job_id, t.c.olt_id).order_by(sa.func.count().desc()).limit(1)
        ).scalar() or 0
        db.session.rollback()
        self.max_active_per_pair = max(self.max_active_per_pair, worst)


# --- audits ---------------------------------------------------------------------------------

def execution_rows(job_id: int, **filters) -> list:
    """The job's execution rows (column filters by name), by slot then OLT."""
    table = Execution.__table__
    query = sa.select(table).where(table.c.job_id == job_id)
    for key, value in filters.items():
        query = query.where(getattr(table.c, key) == value)
    rows = db.session.execute(query.order_by(table.c.scheduled_for, table.c.olt_id)).all()
    db.session.rollback()
    return rows


def ideal_slots(job_id: int, a: datetime, b: datetime) -> list[datetime]:
    """Grid slots of the job in [a, b) (from its stored schedule)."""
    job = db.session.get(SnmpJob, job_id)
    return list(schedule.schedule_of(job).slots_between(a, b))


def audit(job_id: int, a: datetime, b: datetime, statuses=None) -> dict:
    """Compare a job's executions with scheduled_for in [a, b) against its ideal grid.

    Returns per_olt counts, duplicates (extra rows for one (OLT, slot)), off_grid rows,
    missing (ideal slot x OLT with no row), max_drift_s (started_at - scheduled_for), and
    counts by status."""
    t = Execution.__table__
    ideal = ideal_slots(job_id, a, b)
    ideal_set = set(ideal)
    olts = [r[0] for r in db.session.execute(
        sa.select(SnmpJobHost.olt_id).where(SnmpJobHost.job_id == job_id))]
    query = sa.select(t.c.olt_id, t.c.scheduled_for, t.c.status, t.c.started_at).where(
        t.c.job_id == job_id, t.c.scheduled_for >= a, t.c.scheduled_for < b)
    if statuses:
        query = query.where(t.c.status.in_(statuses))
    rows = db.session.execute(query).all()
    seen = Counter((r.olt_id, r.scheduled_for) for r in rows)
    drift = [abs((r.started_at - r.scheduled_for).total_seconds()) for r in rows if r.started_at]
    result = {
        "ideal": len(ideal),
        "per_olt": {o: sum(1 for r in rows if r.olt_id == o) for o in olts},
        "duplicates": sum(n - 1 for n in seen.values() if n > 1),
        "off_grid": sum(1 for r in rows if r.scheduled_for not in ideal_set),
        "missing": sum(1 for o in olts for s in ideal if (o, s) not in seen),
        "max_drift_s": max(drift) if drift else 0.0,
        "by_status": dict(Counter(r.status for r in rows)),
    }
    db.session.rollback()
    return result


# --- racing scheduler processes ---------------------------------------------------------------

@dataclass
class RaceSpec:
    database_url: str
    redis_url: str
    var_dir: str
    t0: str                    # ISO, simulated start
    steps: int
    step_s: float = 60.0
    step_wall_s: float = 0.0   # pacing: step k runs no earlier than wall_start + k*step_wall_s
    wall_start: float = 0.0    # set from go_key when the coordinator starts the clock
    first_step: int = 0        # a racer started late (respawned) joins at this step
    go_key: str = "facho:test:race:go"   # the coordinator writes wall_start here
    ready_key: str = "facho:test:race:ready"
    lease: bool = False
    lease_ttl_ms: int = 1000
    lease_name: str = "facho:test:race:leader"
    report_key: str = "facho:test:race:ticks"
    stall_steps: list = field(default_factory=list)  # steps whose claim the leader holds open
    stall_key: str = "facho:test:race:stalled"
    horizon_s: int = 75
    catchup_window_s: int = 300


def racer_main(spec_json: str, name: str) -> None:
    """One racing scheduler (multiprocessing spawn target or `python -m tests.scheduling.simulation`)."""
    spec = RaceSpec(**json.loads(spec_json))
    import redis

    app = create_app(load_config({
        "FACHO_ENV": "testing", "DATABASE_URL": spec.database_url, "REDIS_URL": spec.redis_url,
        "FACHO_VAR_DIR": spec.var_dir, "SECRET_KEY": "race-secret-key-0123456789"}))
    client = redis.Redis.from_url(spec.redis_url)
    lease = (LeaderLease(client, name=spec.lease_name, ttl_ms=spec.lease_ttl_ms,
                         owner=f"{name}:{os.getpid()}") if spec.lease else None)
    t0 = datetime.fromisoformat(spec.t0)
    totals = Counter()
    sent_ids: list[int] = []

    class Sender(RecordingSender):
        def send_executions(self, items):
            sent_ids.extend(i.execution_id for i in items)

    sender = Sender()
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))   # connected before the clock starts
        db.session.rollback()
        client.rpush(spec.ready_key, name)
        wall_start = None
        while wall_start is None:
            raw = client.get(spec.go_key)
            wall_start = float(raw) if raw else None
            if wall_start is None:
                time.sleep(0.01)
        spec.wall_start = wall_start
        for k in range(spec.first_step, spec.steps):
            if spec.step_wall_s:
                wait = spec.wall_start + k * spec.step_wall_s - time.time()
                if wait > 0:
                    time.sleep(wait)
            now = t0 + timedelta(seconds=k * spec.step_s)
            hook = None
            due_stalls = [st for st in spec.stall_steps
                          if st <= k and not client.exists(f"{spec.stall_key}:used:{st}")]
            if due_stalls:
                def hook(job_ids, _k=k, _st=due_stalls[0]):
                    # inside the claim transaction, CAS done, nothing committed; once per
                    # listed step across all racers
                    if job_ids and client.set(f"{spec.stall_key}:used:{_st}", 1, nx=True):
                        client.set(spec.stall_key, json.dumps({"owner": name, "step": _k}))
                        time.sleep(3600)
            try:
                result = claim.tick(now, horizon_s=spec.horizon_s,
                                       catchup_window_s=spec.catchup_window_s, sender=sender,
                                       lease=lease, on_claim=hook)
            except Exception as exc:  # noqa: BLE001 - report, keep racing
                totals["errors"] += 1
                client.rpush(spec.report_key, json.dumps(
                    {"name": name, "step": k, "error": repr(exc)[:300], "wall": time.time()}))
                db.session.rollback()
                continue
            if not result.leader:
                totals["not_leader"] += 1
                continue
            totals["ticks"] += 1
            for key in ("claimed", "skipped", "lost_cas", "conflicts", "missed", "sent"):
                totals[key] += getattr(result, key)
            client.rpush(spec.report_key, json.dumps(
                {"name": name, "step": k, "wall": time.time(), "claimed": result.claimed,
                 "lost_cas": result.lost_cas, "conflicts": result.conflicts}))
    client.rpush(spec.report_key, json.dumps(
        {"name": name, "done": True, "totals": dict(totals), "sent_ids": sent_ids}))
    if lease is not None:
        lease.release()


def read_reports(client, key: str) -> list[dict]:
    return [json.loads(x) for x in client.lrange(key, 0, -1)]


@dataclass
class RaceReport:
    racers: int
    ticks: list            # every leader tick: {name, step, wall, claimed, lost_cas, conflicts}
    totals: dict           # name -> counters
    sent_ids: Counter      # execution id -> how many times any racer sent it
    errors: list
    kills: list            # {name, step, wall}
    takeovers_s: list      # per kill: wall time until another racer ticked
    exit_codes: dict
    wall_s: float

    def total(self, key: str) -> int:
        return sum(t.get(key, 0) for t in self.totals.values())


def run_race(spec: RaceSpec, racers: int = 3, *, respawn: bool = False,
             timeout_s: float = 120) -> RaceReport:
    """Start `racers` scheduler processes on the same database and simulated clock, start
    their clock together and, at each step of `spec.stall_steps`, SIGKILL the leader while
    it holds its claim transaction open (only the leader gets that far), respawning a
    replacement racer if asked. Returns what they reported."""
    import subprocess
    import sys
    import redis
    client = redis.Redis.from_url(spec.redis_url)
    client.delete(spec.report_key, spec.go_key, spec.ready_key, spec.stall_key, spec.lease_name,
                  *[f"{spec.stall_key}:used:{st}" for st in spec.stall_steps])
    repo = str(REPO_ROOT)
    env = dict(os.environ, PYTHONPATH=repo, FACHO_LOG_LEVEL="WARNING")
    stall_steps = list(spec.stall_steps)
    procs: dict[str, subprocess.Popen] = {}

    def spawn(name: str, first_step: int = 0):
        one = RaceSpec(**{**spec.__dict__, "first_step": first_step})
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "tests.scheduling.simulation", json.dumps(one.__dict__), name],
            cwd=repo, env=env)

    started = time.time()
    for i in range(racers):
        spawn(f"r{i}")
    deadline = time.time() + 120
    while client.llen(spec.ready_key) < racers:
        if time.time() > deadline or any(p.poll() is not None for p in procs.values()):
            for p in procs.values():
                p.kill()
            raise RuntimeError("racers did not start")
        time.sleep(0.05)
    wall_start = time.time() + 0.3
    client.set(spec.go_key, repr(wall_start))
    killed: list[dict] = []
    serial = racers
    for _ in stall_steps:
        deadline = time.time() + timeout_s
        while not client.get(spec.stall_key):
            if time.time() > deadline or all(p.poll() is not None for p in procs.values()):
                for p in procs.values():
                    p.kill()
                raise RuntimeError("the leader never reached the stall step")
            time.sleep(0.005)
        info = json.loads(client.get(spec.stall_key))
        procs[info["owner"]].send_signal(signal.SIGKILL)
        kill_wall = time.time()
        killed.append({"name": info["owner"], "step": info["step"], "wall": kill_wall})
        client.delete(spec.stall_key)
        if respawn:
            step_now = int((kill_wall - wall_start) / spec.step_wall_s) if spec.step_wall_s else 0
            spawn(f"r{serial}", first_step=max(0, step_now + 1))
            serial += 1
    deadline = time.time() + timeout_s
    for p in procs.values():
        try:
            p.wait(max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    reports = read_reports(client, spec.report_key)
    ticks = [r for r in reports if "claimed" in r and "done" not in r]
    errors = [r for r in reports if "error" in r]
    totals, sent = {}, Counter()
    for r in reports:
        if r.get("done"):
            totals[r["name"]] = r["totals"]
            sent.update(r["sent_ids"])
    takeovers = []
    for k in killed:
        after = [t["wall"] for t in ticks if t["wall"] > k["wall"] and t["name"] != k["name"]]
        takeovers.append(round(min(after) - k["wall"], 3) if after else None)
    return RaceReport(racers=racers, ticks=ticks, totals=totals, sent_ids=sent, errors=errors,
                      kills=killed, takeovers_s=takeovers,
                      exit_codes={n: p.returncode for n, p in procs.items()},
                      wall_s=round(time.time() - started, 2))


if __name__ == "__main__":  # python -m tests.scheduling.simulation SPEC_JSON NAME
    import sys
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    racer_main(sys.argv[1], sys.argv[2])
