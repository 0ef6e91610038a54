"""Load: 20 staff sessions clicking "🚀 Ejecutar tareas seleccionadas" at once, on
overlapping selections, against the real panel (gunicorn, PostgreSQL, real Redis).

Two phases on the same sessions:
1. no worker: every execution stays PENDING, so each pair is queued exactly once and every
   later click must report it as already queued;
2. a real `dramatiq` worker process runs the executions (OLTs on a closed UDP port: each
   fails in milliseconds), so pairs free up and get queued again, never twice at a time.

Each click is the panel's list form (action, rowid…, url, csrf_token) followed by the
redirect to the list page, which must carry the Spanish flash messages; what the messages
count is checked against the database.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.models import ACTIVE_STATUSES, FINAL_STATUSES, Execution, SnmpJob
from tests.conftest import create_user, csrf_token_from
from tests.execution_helpers import BackgroundLoop
from tests.factories import make_job, make_olt, seed_catalog
from tests.reliability._load_http import (Session, gunicorn_server, location_path,
                                          percentile, worker_process)
from tests.snmp_agents import udp_free_port
from tests.panel import alerts, queued_message_ids

SESSIONS = 20
OLTS, OLTS_PER_JOB, JOBS = 10, 5, 7        # job j runs on OLTs j..j+4 (mod 10): overlaps
DISABLED_OLT = OLTS - 1                   # every job touching it warns about it
PASSWORD = "clave-segura-123"
SUCCESS = re.compile(r"^🚀 (?:Ejecutadas \d+ tareas|Encolada 1 tarea): "
                     r"(\d+) (?:ejecuciones creadas y encoladas|ejecución creada y encolada)$")
ALREADY = "Ya en curso, no se encolaron de nuevo: "
LIST_MARK = 'action="/admin/snmp_jobs/action/"'


def seed(app) -> dict:
    """OLTs on a closed port, 7 overlapping jobs (the last one disabled), 20 staff users."""
    closed = udp_free_port()
    with app.app_context():
        seed_catalog()
        olts = [make_olt(f"OLT-{i:02d}", closed, "publica", max_concurrent=4,
                         max_starts_per_minute=6000, habilitar_olt=(i != DISABLED_OLT))
                for i in range(OLTS)]
        jobs = {}
        for j in range(JOBS):
            chosen = tuple(olts[(j + k) % OLTS] for k in range(OLTS_PER_JOB))
            jobs[make_job(f"descubrir-{j}", ["Huawei ONT descubrimiento"], olt_ids=chosen,
                          max_retries=0, enabled=(j != JOBS - 1))] = chosen
        db.session.commit()
    for n in range(SESSIONS):
        create_user(app, username=f"operador{n:02d}", password=PASSWORD)
    enabled = {olt for olt in olts if olt != olts[DISABLED_OLT]}
    qualifying = {job: [o for o in chosen if o in enabled]
                  for job, chosen in jobs.items() if job != max(jobs)}
    return {"jobs": sorted(jobs), "qualifying": qualifying}


class PairWatcher(BackgroundLoop):
    """Samples, from its own thread, the most active manual executions any (job, OLT)
    pair has at one moment (the contract: at most one)."""

    QUERY = sa.text(
        "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM executions "
        "WHERE scheduled_for IS NULL AND status IN ('PENDING', 'RUNNING') "
        "GROUP BY job_id, olt_id) AS active")

    def __init__(self, app, every_s: float = 0.05):
        self.app, self.every_s = app, every_s
        self.samples, self.max_active = 0, 0
        super().__init__()

    def _run(self):
        with self.app.app_context():
            while not self._stop.is_set():
                self.max_active = max(self.max_active, db.session.scalar(self.QUERY))
                db.session.rollback()
                self.samples += 1
                time.sleep(self.every_s)
            db.session.remove()


class Operator:
    """One staff session clicking the action on random overlapping selections."""

    def __init__(self, session: Session, jobs: list[int], seed_value: int):
        self.session, self.jobs, self.random = session, jobs, random.Random(seed_value)
        self.clicks: list[dict] = []

    def run(self, until: float) -> None:
        token = csrf_token_from(self.session.get("/admin/snmp_jobs/").text)
        while time.monotonic() < until:
            selection = self.random.sample(self.jobs, self.random.randint(1, 4))
            self.clicks.append(self.click(selection, token))

    def click(self, selection: list[int], token: str) -> dict:
        started = time.perf_counter()
        posted = self.session.post("/admin/snmp_jobs/action/", {
            "action": "ejecutar", "rowid": [str(i) for i in selection],
            "url": "/admin/snmp_jobs/", "csrf_token": token})
        statuses, page = [posted.status], ""
        if posted.status == 302:
            listed = self.session.get(location_path(posted))
            statuses.append(listed.status)
            page = listed.text
        return {"selection": selection, "statuses": statuses, "page": page,
                "ms": (time.perf_counter() - started) * 1000}


def read_click(click: dict) -> dict:
    """What the flashed messages say: executions created, pairs reported as queued."""
    shown = alerts(click["page"])
    created = 0
    already: list[str] = []
    for kind, text in shown:
        match = SUCCESS.match(text)
        if kind == "success" and match:
            created += int(match.group(1))
        if kind == "warning" and text.startswith(ALREADY):
            names = text[len(ALREADY):]
            more = re.search(r" y (\d+) más$", names)   # long lists end with a count
            if more:
                names = names[:more.start()]
                already.extend(["…"] * int(more.group(1)))
            already.extend(names.split(", "))
    return {"alerts": shown, "created": created, "already": already}


def run_phase(operators: list[Operator], seconds: float) -> list[dict]:
    """All sessions click at once for `seconds`; returns every click."""
    until = time.monotonic() + seconds
    for op in operators:
        op.clicks = []
    threads = [threading.Thread(target=op.run, args=(until,), daemon=True) for op in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
        assert not thread.is_alive(), "a session hung"
    return [click for op in operators for click in op.clicks]


def executions(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(sa.select(Execution.__table__).order_by(Execution.id))
        out = [dict(r._mapping) for r in rows]
        db.session.remove()
    return out


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def overlapping_runs(rows: list[dict]) -> list[tuple[dict, dict]]:
    """Runs of one pair that overlap in time (started .. finished), as (earlier, later).

    Runs, not lifetimes: a click's insert may wait for the transaction that finishes the
    pair's previous execution (the unique index on active manual runs makes it wait), so
    its `created_at`, computed just before the insert, can precede that `finished_at` by
    a few milliseconds although the two were never active together."""
    by_pair: dict[tuple[int, int], list[dict]] = {}
    for row in rows:
        if row["started_at"] is not None:
            by_pair.setdefault((row["job_id"], row["olt_id"]), []).append(row)
    overlaps = []
    for runs in by_pair.values():
        runs.sort(key=lambda r: r["started_at"])
        for before, after in zip(runs, runs[1:]):
            if before["finished_at"] is None or after["started_at"] < before["finished_at"]:
                overlaps.append((before, after))
    return overlaps


def check_clicks(clicks: list[dict], qualifying: dict) -> tuple[list, int]:
    """Per click: the list page came back with Spanish messages, no error, and every
    qualifying pair of the selection was either queued or reported as already queued."""
    problems, created = [], 0
    for click in clicks:
        said = read_click(click)
        created += said["created"]
        expected = sum(len(qualifying.get(job, ())) for job in click["selection"])
        if click["statuses"] != [302, 200] or LIST_MARK not in click["page"]:
            problems.append(("not the list page", click["statuses"]))
        elif not said["alerts"] or any(kind == "danger" for kind, _ in said["alerts"]):
            problems.append(("messages", said["alerts"]))
        elif said["created"] + len(said["already"]) != expected:
            problems.append(("pairs unaccounted", expected, said["created"], said["already"]))
    return problems, created


def figures(clicks: list[dict], seconds: float) -> dict:
    times = [c["ms"] for c in clicks]
    return {"duration_s": seconds, "clicks": len(clicks),
            "requests": sum(len(c["statuses"]) for c in clicks),
            "p50_ms": round(percentile(times, 0.5) or 0, 1),
            "p99_ms": round(percentile(times, 0.99) or 0, 1),
            "max_ms": round(max(times, default=0), 1),
            "errors_5xx": sum(s >= 500 for c in clicks for s in c["statuses"])}


@pytest.mark.parametrize("queued_s,worker_s", [
    pytest.param(5, 5, id="10s"),
    pytest.param(20, 40, id="60s", marks=pytest.mark.long),
])
def test_twenty_sessions_clicking_run_on_overlapping_jobs_never_queue_a_pair_twice(
        pg_app, pg_database_url, tmp_path, redis_client, reliability, queued_s, worker_s):
    catalog = seed(pg_app)
    qualifying = catalog["qualifying"]
    all_pairs = {(job, olt) for job, olts in qualifying.items() for olt in olts}
    with gunicorn_server(pg_database_url, tmp_path) as base:
        operators = []
        for n in range(SESSIONS):
            session = Session(base)
            session.login(f"operador{n:02d}", PASSWORD)
            operators.append(Operator(session, catalog["jobs"], seed_value=n))

        with PairWatcher(pg_app) as watcher:
            queued_clicks = run_phase(operators, queued_s)
            after_queued = executions(pg_app)
            in_redis = queued_message_ids(redis_client)
            with worker_process(pg_database_url, tmp_path):
                worker_ready = wait_for(lambda: any(
                    r["status"] in FINAL_STATUSES for r in executions(pg_app)), 60)
                worker_clicks = run_phase(operators, worker_s)
                wait_for(lambda: not any(   # let the worker finish what was queued
                    r["status"] in ACTIVE_STATUSES for r in executions(pg_app)), 60)
            final = executions(pg_app)

    queued_problems, queued_said = check_clicks(queued_clicks, qualifying)
    worker_problems, worker_said = check_clicks(worker_clicks, qualifying)
    clicks = queued_clicks + worker_clicks
    overlaps = overlapping_runs(final)
    per_pair = Counter((r["job_id"], r["olt_id"]) for r in after_queued)
    queued_fig, worker_fig = figures(queued_clicks, queued_s), figures(worker_clicks, worker_s)
    reliability.record(
        "load", "20 sesiones pulsando Ejecutar sobre selecciones solapadas",
        sessions=SESSIONS, duration_s=queued_s + worker_s, **{
            k: v for k, v in figures(clicks, queued_s + worker_s).items() if k != "duration_s"},
        executions_created=len(final), duplicates=len(overlaps) + max(0, watcher.max_active - 1),
        max_active_per_pair=watcher.max_active, watcher_samples=watcher.samples,
        pairs=len(all_pairs), without_worker=dict(queued_fig, executions=len(after_queued)),
        with_worker=dict(worker_fig, executions=len(final) - len(after_queued),
                         statuses=dict(Counter(r["status"] for r in final))))

    assert queued_fig["clicks"] >= SESSIONS and worker_fig["clicks"] >= SESSIONS
    assert queued_fig["errors_5xx"] == 0 and worker_fig["errors_5xx"] == 0
    assert queued_problems == [] and worker_problems == []
    # without a worker: each pair queued exactly once, and only by the panel's own count
    assert set(per_pair) <= all_pairs and max(per_pair.values()) == 1
    assert queued_said == len(after_queued)
    assert all(r["message_id"] in in_redis and r["requested_by_id"] for r in after_queued)
    assert worker_ready, "the worker process ran nothing within 60 s"
    # with the worker: pairs ran again, never two at a time, everything sent and finished
    assert worker_said == len(final) - len(after_queued) > 0
    assert watcher.samples > 0 and watcher.max_active <= 1
    assert overlaps == [], [[{k: str(r[k]) for k in ("id", "status", "attempt", "created_at",
                                                       "started_at", "finished_at",
                                                       "error_message")} for r in pair]
                            for pair in overlaps]
    assert all(r["message_id"] for r in final)
    assert all(r["status"] in FINAL_STATUSES for r in final), Counter(r["status"] for r in final)
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SnmpJob).where(
            SnmpJob.last_run_at.is_not(None))) == len(qualifying)
