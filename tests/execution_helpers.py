"""Helpers for the execution tests (rows are built in tests.factories): running an
execution here or sending it to an in-process Dramatiq worker on the real Redis broker,
reading the rows back, watching them from a thread, and a slow Huawei-like fake agent."""
from __future__ import annotations

import bisect
import threading
import time
from contextlib import contextmanager

from facho import messaging
from facho.extensions import db
from facho.inventory.decoders import HUAWEI_GPON, encode_index
from facho.models import FINAL_STATUSES, Execution, Onu
from tests.factories import HW
from tests.snmp_agents import FakeAgent


def send_execution(app, execution_id, job_type="descubrimiento"):
    """Send the execution's message as the scheduler would, recording its message id."""
    with app.app_context():
        message_id = messaging.send_execution(execution_id, job_type)
        row = db.session.get(Execution, execution_id)
        row.message_id = message_id
        db.session.commit()
    return message_id


def run_now(app, execution_id: int) -> Execution:
    """Run the actor's body in this thread (no Dramatiq), return the fresh row."""
    from facho.executions.run import run_execution
    with app.app_context():
        row = db.session.get(Execution, execution_id)
        job_type = row.job.job_type
        db.session.remove()
        run_execution(execution_id, job_type)
        db.session.remove()
    return fetch(app, execution_id)


def fetch(app, execution_id: int) -> Execution:
    with app.app_context():
        row = db.session.get(Execution, execution_id)
        db.session.expunge(row)
        return row


def onus(app, olt_id: int) -> dict[str, Onu]:
    with app.app_context():
        rows = db.session.execute(db.select(Onu).filter_by(olt_id=olt_id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return {row.raw_index: row for row in rows}


def wait_final(app, execution_ids, timeout_s: float = 30.0) -> dict[int, Execution]:
    """Poll until every execution is final; fail with the states seen otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = {i: fetch(app, i) for i in execution_ids}
        if all(r.status in FINAL_STATUSES for r in rows.values()):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError("executions not final in time: " + ", ".join(
                f"#{i} {r.status} attempt={r.attempt} error={r.error_message!r}"
                for i, r in rows.items()))
        time.sleep(0.05)


@contextmanager
def in_process_worker(app, threads: int = 4, queues=("discovery_main", "get_main")):
    """A real dramatiq.Worker on the real Redis broker (db 13), using `app`."""
    import dramatiq

    import actors.executions  # noqa: F401 - declares the actors on the broker
    from facho.middleware.app_context import bind_app

    bind_app(app)
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues=set(queues), worker_threads=threads,
                             worker_timeout=100)
    worker.start()
    # `dramatiq` (the CLI) emits process_boot, which starts the time-limit thread; an
    # in-process Worker does not, so start it as the CLI would (once per process).
    from dramatiq.middleware import TimeLimit
    for middleware in broker.middleware:
        if isinstance(middleware, TimeLimit) and not middleware.manager.is_alive():
            middleware.manager.start()
    try:
        yield worker
    finally:
        worker.stop(timeout=10_000)
        # Worker.start() adds a middleware that Worker.stop() leaves behind
        from dramatiq.worker import _WorkerMiddleware
        broker.middleware[:] = [m for m in broker.middleware
                                if not (isinstance(m, _WorkerMiddleware) and m.worker is worker)]


def huawei_indexes(count: int, per_port: int = 16) -> list[tuple[int, int]]:
    out = []
    for n in range(count):
        position, onu_id = divmod(n, per_port)
        slot, port = 1 + position // 16, position % 16
        out.append(encode_index(slot, port, onu_id, HUAWEI_GPON))
    return sorted(out)


def slow_table_policy(root: tuple[int, ...], indexes: list[tuple[int, ...]], value: int = 1):
    """A single-column table `root.<index>` served in index order (value = `value`)."""
    full = [root + tuple(i) for i in sorted(indexes)]
    after = root[:-1] + (root[-1] + 1, 1)

    def policy(kind, oids, max_repetitions):
        out = []
        for requested in oids:
            position = bisect.bisect_right(full, tuple(requested))
            for n in range(max(1, max_repetitions)):
                if position + n < len(full):
                    out.append((full[position + n], value))
                else:
                    out.append((after, 0))
                    break
        return out

    return policy


@contextmanager
def slow_huawei_agent(rows: int, delay_s: float):
    """A fake Huawei OLT whose serial column (as INTEGER values, so the discovery OID in
    tests uses formato `int`) has `rows` ONUs and answers each request after `delay_s`."""
    root = tuple(int(p) for p in f"{HW}.43.1.3".split("."))
    agent = FakeAgent(slow_table_policy(root, huawei_indexes(rows)), delay_s=delay_s)
    with agent:
        yield agent


class BackgroundLoop:
    """A daemon thread running `_run` while the `with` block lasts; `_run` loops until
    `self._stop` is set."""

    join_timeout_s = 10.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(self.join_timeout_s)

    def _run(self) -> None:
        raise NotImplementedError


class RowWatcher(BackgroundLoop):
    """Polls execution rows from its own thread and keeps every distinct state seen."""

    join_timeout_s = 5.0

    def __init__(self, app, execution_ids, every_s: float = 0.01, extra=None):
        self.app, self.ids, self.every_s, self.extra = app, list(execution_ids), every_s, extra
        self.history = {i: [] for i in self.ids}
        self.extra_seen: list = []
        self.passes = 0      # complete looks at every row so far
        super().__init__()

    def _run(self):
        while not self._stop.is_set():
            with self.app.app_context():
                for i in self.ids:
                    row = db.session.get(Execution, i)
                    state = (row.status, row.worker, row.attempt, row.error_message)
                    if not self.history[i] or self.history[i][-1][1:] != state:
                        self.history[i].append((time.time(),) + state)
                db.session.remove()
            if self.extra:
                self.extra_seen.append((time.time(), self.extra()))
            self.passes += 1
            time.sleep(self.every_s)

    def states(self, execution_id):
        """(status, worker, attempt) in the order seen, consecutive repeats merged."""
        out = []
        for h in self.history[execution_id]:
            if not out or out[-1] != h[1:4]:
                out.append(h[1:4])
        return out


def end_lines(caplog, execution_id=None) -> list[str]:
    """The `event=execution_end` log lines captured (of one execution when given)."""
    return [m for m in (r.getMessage() for r in caplog.records) if "event=execution_end" in m
            and (execution_id is None or f"execution={execution_id} " in m)]


def wait_for(predicate, timeout_s: float, what: str):
    """Poll `predicate` every 50 ms until it returns something true; fail with `what`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def peak_overlap(intervals) -> int:
    """Most of the (start, end) intervals that overlap at one instant (an end and a start
    at the same instant do not overlap)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals],
                    key=lambda e: (e[0], e[1]))
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak
