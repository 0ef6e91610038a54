"""The `scheduler` process (Procfile: `python -m actors.scheduler_process`, which builds
the app and the broker with the actors declared and hands them in here).

One process runs, until SIGTERM / SIGINT:

- periodiq's scheduler loop (main thread: it uses SIGALRM), which sends the periodic
  actors' messages: the minute tick (`actors.scheduler.scheduler_tick`, `* * * * *`),
  the reconciler and retention (`actors.maintenance`);
- a leader-lease keeper thread: it acquires/renews the `LeaderLease` every TTL/3;
- while this process is the leader, a small in-process Dramatiq worker consuming the
  `scheduler` and `maintenance` queues, so the tick and the per-second fan-out never
  wait behind long SNMP walks in the main worker. Only the leader consumes `scheduler`
  (a follower that consumed the leader's tick would have to drop it). On becoming
  leader the process re-arms the fan-out of every reservation (the previous leader's
  delayed messages may be stuck in its dead worker's memory) and ticks at once; on
  losing the lease it stops consuming. Only the leader's periodiq sends messages, so a
  cluster does one tick per minute. The leader renews every TTL/3; followers try every
  FOLLOWER_POLL_S, so failover takes at most TTL + FOLLOWER_POLL_S plus the takeover
  itself (re-arm, send what fell due): with the default 3 s TTL a leader's death delays
  no slot by more than ~4 s (bench/results/scheduler.json, "failover");
- a clock watch (`ClockWatch`, in the keeper thread): a wall-clock step back, or a jump
  forward by more than a tick, is logged and recorded in Redis for `flask facho status`,
  /healthz and the dashboard (slots are wall-clock instants: a step back pauses them).

Several scheduler processes may run (high availability): followers stay idle. The lease
is an optimisation only: the tick's compare-and-set keeps every slot exactly-once even
with two leaders. On PostgreSQL the process's sessions carry an idle-in-transaction
timeout (`idle_transaction_timeout_ms`), so a leader frozen inside its claim cannot hold
the jobs' row locks, and with them the whole cluster, once its lease is gone.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import timedelta

from facho.scheduling.lease import process_lease
from facho import messaging
from facho.extensions import db
from facho.logging_setup import kv
from facho.models import utcnow
from facho.scheduling import claim, release

log = logging.getLogger("facho.scheduling.process")

WORKER_TIMEOUT_MS = 100     # idle poll of the in-process workers: fan-out fires within ~0.1 s
MIN_IDLE_TX_TIMEOUT_MS = 5_000
FOLLOWER_POLL_S = 0.5       # a follower's acquire attempt: one Lua call, cheap
CLOCK_BACK_TOLERANCE_S = 1.0    # NTP slews by milliseconds; a step is seconds


class ClockWatch:
    """Compares the wall clock with the monotonic clock between two looks. Pure: both
    readings are arguments. `observe` returns the step in seconds (negative: the wall
    clock went back) when it went back by more than CLOCK_BACK_TOLERANCE_S or forward by
    more than `forward_limit_s` beyond the time that really passed, else None."""
    def __init__(self, forward_limit_s: float):
        self.forward_limit_s = forward_limit_s
        self._last: tuple[float, float] | None = None

    def observe(self, wall: float, mono: float) -> float | None:
        last, self._last = self._last, (wall, mono)
        if last is None:
            return None
        step = (wall - last[0]) - (mono - last[1])
        if step < -CLOCK_BACK_TOLERANCE_S or step > self.forward_limit_s:
            return round(step, 3)
        return None


def idle_transaction_timeout_ms(lease_ttl_ms: int) -> int:
    """How long PostgreSQL lets a session of this process sit idle inside a transaction.

    A leader frozen inside its claim (SIGSTOP, a VM pause, a machine cut off while its TCP
    connection stays open on the server: for hours with default keepalives) keeps the
    jobs' row locks; its lease expires after one TTL, but the next leader's claim and the
    workers' `last_run_at` updates would wait on those locks for as long as the frozen
    session lives. The server ends such a session after this timeout, so the failover
    stays a few TTLs. A healthy tick is never idle in a transaction for more than the
    Python work between two statements (under a second for a 1,000-job batch); if one
    ever were, its batch fails and the next tick claims it (the compare-and-set decides).
    """
    return max(MIN_IDLE_TX_TIMEOUT_MS, 3 * int(lease_ttl_ms))


def limit_idle_transactions(engine, timeout_ms: int) -> bool:
    """Give every new PostgreSQL connection of `engine` the idle-in-transaction timeout
    (and drop pooled ones, opened without it). False (nothing done) on other databases."""
    import sqlalchemy as sa
    if engine.dialect.name != "postgresql":
        return False

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET idle_in_transaction_session_timeout = {int(timeout_ms)}")
        cursor.close()
        dbapi_connection.commit()   # SET, not SET LOCAL: it outlives this transaction

    engine.dispose()
    return True


class SchedulerProcess:
    """`broker` must have the actors declared (the entry point imports `actors`);
    `tick_actor` is the minute tick it sends while leader."""
    def __init__(self, broker, app, tick_actor, *, every_s: float = 0.0, threads: int = 4):
        self.broker = broker
        self.app = app
        self.every_s = every_s
        self.threads = threads
        self.tick_actor = tick_actor
        self.stopping = threading.Event()
        self.leader = False
        self.worker = None
        self.periodiq = None
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        with app.app_context():
            self.lease = process_lease()
            config = app.config["FACHO"]
            self.ttl_ms = config.lease_ttl_ms
            self.horizon_s = config.claim_horizon_s
            self.idle_tx_timeout_ms = idle_transaction_timeout_ms(self.ttl_ms)
            limit_idle_transactions(db.engine, self.idle_tx_timeout_ms)

    # --- the in-process worker -----------------------------------------------------------
    def _start_worker(self):
        from dramatiq import Worker
        worker = Worker(self.broker, queues={messaging.SCHEDULER_QUEUE, messaging.MAINTENANCE_QUEUE},
                        worker_threads=self.threads, worker_timeout=WORKER_TIMEOUT_MS)
        worker.start()
        return worker

    def _stop_worker(self, worker) -> None:
        worker.stop(timeout=10_000)
        # Worker.start() adds a middleware that stop() leaves behind; drop it so leadership
        # changes do not pile them up on the broker.
        self.broker.middleware[:] = [m for m in self.broker.middleware
                                     if getattr(m, "worker", None) is not worker]

    # --- leadership --------------------------------------------------------------------
    def _keep_lease(self) -> None:
        renew_every = max(0.1, self.ttl_ms / 3000)
        clock = ClockWatch(forward_limit_s=self.every_s or 60)
        while not self.stopping.is_set():
            try:
                held = self.lease.acquire()
            except Exception as exc:  # Redis unreachable: not leader until it answers
                log.warning(kv(event="lease_error", error=repr(exc)[:200]))
                held = False
            if held and not self.leader:
                self._become_leader()
            elif not held and self.leader:
                self._step_down()
            step = clock.observe(time.time(), time.monotonic())
            if step is not None:
                self._clock_jumped(step)
            # The leader renews at TTL/3; a follower polls faster, so that the failover is
            # the TTL plus at most FOLLOWER_POLL_S, not plus a third of the TTL.
            self.stopping.wait(renew_every if self.leader else min(renew_every,
                                                                   FOLLOWER_POLL_S))

    def _clock_jumped(self, step_s: float) -> None:
        log.warning(kv(event="clock_jump", step_s=step_s, owner=self.lease.owner))
        try:
            self.lease.record_clock_jump(step_s)
        except Exception as exc:  # noqa: BLE001 - the log line stays
            log.warning(kv(event="clock_jump_record_failed", error=repr(exc)[:200]))

    def _become_leader(self) -> None:
        with self._lock:
            if self.stopping.is_set():
                return
            self.worker = self._start_worker()
            self.leader = True
        log.info(kv(event="leader_acquired", owner=self.lease.owner))
        try:
            with self.app.app_context():
                now = utcnow()
                # What fell due while nobody led goes out now, from this thread, not after
                # the in-process worker has started and taken the tick message.
                release.send_due(now)
                release.arm_pending(now, now + timedelta(seconds=self.horizon_s))
            self.tick_actor.send()
        except Exception as exc:  # the periodic tick will do it
            log.error(kv(event="leader_takeover_failed", error=repr(exc)[:200]))

    def _step_down(self) -> None:
        with self._lock:
            self.leader = False
            worker, self.worker = self.worker, None
        log.warning(kv(event="leader_lost", owner=self.lease.owner))
        if worker is not None:
            self._stop_worker(worker)

    # --- ticking -----------------------------------------------------------------------
    def _tick_every(self) -> None:
        while not self.stopping.is_set():
            if self.leader:
                try:
                    self.tick_actor.send()
                except Exception as exc:
                    log.error("event=tick_send_failed error=%r", str(exc)[:200])
            if self.stopping.wait(self.every_s):
                return

    def _run_periodiq(self) -> None:
        from periodiq import Scheduler
        actors = [a for a in self.broker.actors.values() if "periodic" in a.options
                  and not (self.every_s and a is self.tick_actor)]
        if not actors:
            self.stopping.wait()
            return
        process = self

        class LeaderOnlyScheduler(Scheduler):
            """periodiq, but only the leader sends: one tick per minute per cluster."""
            def send_actors(self, actors, now):
                if process.leader and not process.stopping.is_set():
                    super().send_actors(actors, now)

        self.periodiq = LeaderOnlyScheduler(actors=actors)
        # periodiq's own start-up rule: late in a minute, wait for the next one.
        second = time.localtime().tm_sec
        if second > 55 and self.stopping.wait(60 - second):
            return
        self.periodiq.schedule()
        self.periodiq.loop()

    # --- lifecycle ---------------------------------------------------------------------
    def stop(self, *_args) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        signal.alarm(0)
        if self.periodiq is not None:
            self.periodiq.alarm_q.put_nowait(False)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info(kv(event="scheduler_start", every_s=self.every_s or "cron",
                    owner=self.lease.owner, ttl_ms=self.ttl_ms,
                    idle_tx_timeout_ms=self.idle_tx_timeout_ms))
        keeper = threading.Thread(target=self._keep_lease, name="lease-keeper", daemon=True)
        keeper.start()
        self._threads.append(keeper)
        if self.every_s:
            ticker = threading.Thread(target=self._tick_every, name="ticker", daemon=True)
            ticker.start()
            self._threads.append(ticker)
        try:
            self._run_periodiq()
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            worker, self.worker = self.worker, None
            was_leader, self.leader = self.leader, False
        if worker is not None:
            self._stop_worker(worker)
        if was_leader:
            try:
                self.lease.release()   # a follower takes over now, not after the TTL
            except Exception:  # noqa: BLE001 - the TTL frees it anyway
                pass
        self.broker.close()
        log.info(kv(event="scheduler_stop"))


def run_once(app) -> int:
    """One tick now, in this process (no lease: safe, the tick is idempotent)."""
    with app.app_context():
        result = claim.tick(utcnow())
    print(kv(**result.log_fields()))
    return 0
