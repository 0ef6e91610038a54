"""Load: a large catalog in PostgreSQL (2,000 OLTs x 2 jobs at 5m, a day of executions for
some pairs, tens of thousands of executions and ONUs). Every list page of the panel, with
and without filters, search, sort and later pages, stays paginated, and its number of SQL
queries does not grow with the number of rows (no N+1); page times and the scheduler
tick's cost (every pair due, then nothing due) are recorded as figures, not asserted.

The same pages are first measured on a small catalog, then the catalog grows and they are
measured again: a page whose query count grew loads something per row.
"""
from __future__ import annotations

import re
import statistics
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from facho.scheduling import claim

from facho import messaging
from facho.extensions import db
from facho.models import Execution, Olt, SnmpJob
from tests.conftest import create_user, login
from tests.reliability._load_catalog import create_jobs, grow, slot_now, totals
from facho.ops.dashboard import MAX_OLTS_SHOWN
from tests.reliability._load_http import percentile
from tests.panel import chart_json

QUEUES = ("discovery_main", "get_main")
SMALL_OLTS = 60          # already more than one page of everything
PAGE_SIZE = 50           # admin.security.StaffModelView.page_size
MAX_PAGE_SIZE = 100      # the largest of Flask-Admin's page_size_options


class QueryCounter:
    """Counts the SQL statements this thread sends through the app's engine."""

    def __init__(self, engine):
        self.engine, self.count, self.thread = engine, 0, threading.get_ident()

    def _seen(self, *args):
        if threading.get_ident() == self.thread:
            self.count += 1

    @contextmanager
    def counting(self):
        self.count = 0
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def admin_view(app, endpoint: str):
    return next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)


def filter_arg(app, endpoint: str, label: str, kind: str | None = None) -> str:
    """The URL argument of the view's filter called `label` (of class `kind`)."""
    for key, (_, flt) in admin_view(app, endpoint)._filter_args.items():
        if flt.name == label and (kind is None or type(flt).__name__ == kind):
            return f"flt0_{key}"
    raise AssertionError(f"no filter {label!r} on {endpoint}")


def pages(app, ids: dict) -> dict[str, str]:
    """Every list page worth timing: name -> URL."""
    def url(endpoint, **args):
        return f"/admin/{endpoint}/" + (f"?{urlencode(args)}" if args else "")

    def flt(endpoint, label, value, kind=None, **more):
        return url(endpoint, **{filter_arg(app, endpoint, label, kind): value}, **more)

    return {
        "dashboard": "/admin/",
        "olts": url("olts"),
        "olts page 3": url("olts", page=2),
        "olts search": url("olts", search="OLT-001"),
        "olts sort ip desc": url("olts", sort=3, desc=1),
        "olts filter model": flt("olts", "Modelo", "MA5608T"),
        "olts page_size 100": url("olts", page_size=MAX_PAGE_SIZE),
        "olts page_size huge": url("olts", page_size=1_000_000),
        "jobs": url("snmp_jobs"),
        "jobs filter type": flt("snmp_jobs", "Tipo", "get"),
        "job details": f"/admin/snmp_jobs/details/?id={ids['job']}",
        "job edit form": f"/admin/snmp_jobs/edit/?id={ids['job']}",
        "job hosts": url("job_hosts"),
        "job hosts page 3": url("job_hosts", page=2),
        "job hosts filter job": flt("job_hosts", "Tarea", ids["job"]),
        "job hosts filter olt": flt("job_hosts", "OLT", ids["olt"]),
        "job hosts sort olt": url("job_hosts", sort=1),
        "executions": url("executions"),
        "executions page 3": url("executions", page=2),
        "executions page 100": url("executions", page=99),
        "executions filter failed": flt("executions", "Estado", "FAILED"),
        "executions filter olt": flt("executions", "OLT", ids["olt"]),
        "executions filter manual": flt("executions", "Origen", "manual"),
        "executions sort olt": url("executions", sort=3),
        "executions sort duration": url("executions", sort=8, desc=1),
        "onus": url("onus"),
        "onus page 3": url("onus", page=2),
        "onus search serial": url("onus", search=ids["serial"]),
        "onus filter olt": flt("onus", "OLT", ids["olt"]),
        "onus filter status": flt("onus", "Estado", "down"),
        "onus sort rx": url("onus", sort=6),
    }


ROW = re.compile(r'<td class="list-buttons-column">')
PAGER = re.compile(r'<ul class="pagination')


def _page_limit(name: str) -> int:
    return MAX_PAGE_SIZE if name.endswith("page_size 100") else PAGE_SIZE


def measure(client, counter: QueryCounter, urls: dict[str, str], repeats: int) -> dict:
    out = {}
    for name, url in urls.items():
        client.get(url)    # warm: templates compiled, caches filled
        times, queries, rows, pager, size = [], None, 0, False, 0
        for _ in range(repeats):
            with counter.counting():
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
            page = response.get_data(as_text=True)
            queries = counter.count if queries is None else max(queries, counter.count)
            rows, pager, size = len(ROW.findall(page)), bool(PAGER.search(page)), len(page)
        out[name] = {"queries": queries, "rows": rows, "pager": pager, "kb": round(size / 1024),
                     "p50_ms": round(statistics.median(times), 1),
                     "max_ms": round(max(times), 1)}
    return out


def _examined(plan: dict) -> int:
    """Rows a plan node and its children produced or threw away, times their loops."""
    loops = plan.get("Actual Loops", 1)
    own = (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
           + plan.get("Rows Removed by Join Filter", 0)) * loops
    return own + sum(_examined(child) for child in plan.get("Plans", ()))


class RowsExamined:
    """Captures the SELECTs sent while active, then replays each under EXPLAIN ANALYZE
    (PostgreSQL) and adds up the rows its plan went through: a robust measure of work
    (a plan that loops every row against every other shows up as n², whatever the
    machine's speed)."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in statement:
            self.statements.append((statement, parameters))

    @contextmanager
    def capturing(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def total(self) -> int:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            rows = 0
            for statement, parameters in self.statements:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                rows += _examined(cursor.fetchone()[0][0]["Plan"])
            raw.rollback()
            return rows
        finally:
            raw.close()


COOKIE_LIMIT = 4093      # bytes browsers keep for one cookie (werkzeug warns above it)


def click_run(app, client, counter: QueryCounter) -> dict:
    """"🚀 Ejecutar" on every job, as the panel's list form posts it."""
    from tests.panel import alerts
    from tests.panel import run_action
    with app.app_context():
        jobs = db.session.execute(sa.select(SnmpJob.id)).scalars().all()
    with counter.counting():
        started = time.perf_counter()
        response = run_action(client, "snmp_jobs", "ejecutar", jobs)
        ms = (time.perf_counter() - started) * 1000
    cookies = [len(c) for r in response.history for c in r.headers.getlist("Set-Cookie")]
    return {"ms": round(ms, 1), "queries": counter.count, "status": response.status_code,
            "cookie_bytes": max(cookies, default=0),
            "alerts": alerts(response.get_data(as_text=True))}


def finish_manual_runs() -> int:
    """Mark the clicks' executions done, so the tick finds every pair free."""
    t = Execution.__table__
    done = db.session.execute(t.update().where(t.c.scheduled_for.is_(None),
                                               t.c.status == "PENDING")
                              .values(status="SUCCESS", finished_at=sa.func.now())).rowcount
    db.session.commit()
    return done


def tick_cost(now) -> dict:
    """A tick that claims every pair (statistics as before the claim, as autovacuum would
    have left them), then ticks with nothing due while all of them wait in the queue."""
    sender = messaging.DramatiqSender()
    started, cpu = time.perf_counter(), time.process_time()
    due = claim.tick(now, sender=sender)
    due_s, due_cpu = time.perf_counter() - started, time.process_time() - cpu
    idle = []
    for i in range(5):
        started = time.perf_counter()
        again = claim.tick(now + timedelta(seconds=1 + i), sender=sender)
        idle.append((time.perf_counter() - started) * 1000)
        assert again.claimed == 0
    examined = None
    if db.engine.dialect.name == "postgresql":   # EXPLAIN (ANALYZE, FORMAT JSON)
        counter = RowsExamined(db.engine)
        with counter.capturing():
            claim.tick(now + timedelta(seconds=10), sender=sender)
        examined = counter.total()
    return {"claimed": due.claimed, "sent": due.sent, "skipped": due.skipped,
            "tick_due_s": round(due_s, 2), "tick_due_cpu_s": round(due_cpu, 2),
            "tick_idle_ms": round(statistics.median(idle), 1),
            "tick_idle_rows_examined": examined}


@pytest.mark.parametrize("backend,olts,day_pairs,repeats", [
    pytest.param("pg", 400, 30, 3, id="postgresql-400-olts"),
    pytest.param("sqlite", 400, 30, 3, id="sqlite-400-olts"),
    pytest.param("pg", 2000, 100, 5, id="postgresql-2000-olts", marks=pytest.mark.long),
    pytest.param("sqlite", 2000, 100, 5, id="sqlite-2000-olts", marks=pytest.mark.long),
])
def test_panel_lists_stay_paginated_with_constant_queries_as_the_catalog_grows(
        request, redis_client, reliability, backend, olts, day_pairs, repeats):
    app = request.getfixturevalue(f"{backend}_app")
    user_id = create_user(app)
    client = app.test_client()
    assert login(client).status_code == 302
    now_slot = slot_now()
    with app.app_context():
        create_jobs(now_slot)
        grow(0, SMALL_OLTS, day_pairs=2, now_slot=now_slot, user_id=user_id)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        ids = {"job": db.session.scalar(sa.select(SnmpJob.id).order_by(SnmpJob.id)),
               "olt": db.session.scalar(sa.select(Olt.id).order_by(Olt.id)),
               "serial": "HWTC0001000A"}
        counter = QueryCounter(db.engine)
    urls = pages(app, ids)
    small = measure(client, counter, urls, repeats=1)
    small_click = click_run(app, client, counter)
    with app.app_context():
        finish_manual_runs()
    redis_client.flushdb()
    with app.app_context():
        started = time.perf_counter()
        grow(SMALL_OLTS, olts - SMALL_OLTS, day_pairs=day_pairs, now_slot=now_slot,
             user_id=user_id)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        seed_s = time.perf_counter() - started
        size = totals()
    large = measure(client, counter, urls, repeats)
    jobs_page = client.get("/admin/snmp_jobs/").get_data(as_text=True)
    home = client.get("/admin/").get_data(as_text=True)
    first_click = click_run(app, client, counter)
    queued = {queue: redis_client.hlen(f"facho:{queue}.msgs") for queue in QUEUES}
    again_click = click_run(app, client, counter)
    with app.app_context():
        clicked = finish_manual_runs()
    redis_client.flushdb()
    with app.app_context():
        tick = tick_cost(now_slot)
        executions_after = db.session.scalar(sa.select(sa.func.count()).select_from(Execution))
    redis_client.flushdb()

    # a short first page counts itself from its rows (admin/lists.py); the same page full
    # runs the one count query: that is not a query per row
    counted = {name for name in urls if name != "dashboard" and not name.startswith("job ")
               and small[name]["rows"] < _page_limit(name) <= large[name]["rows"]}
    grew = {name: (small[name]["queries"], large[name]["queries"]) for name in urls
            if large[name]["queries"] > small[name]["queries"] + (name in counted)}
    times = [p["p50_ms"] for p in large.values()]
    reliability.record(
        "load", f"panel con {size['olts']} OLTs x 2 tareas a 5m ({backend})", **size, seed_s=round(seed_s, 1),
        pages=len(urls), page_p50_ms=round(statistics.median(times), 1),
        page_p99_ms=percentile(times, 0.99), slowest_page=max(large, key=lambda n: large[n]["p50_ms"]),
        queries_grew=grew, tick_due_pairs=2 * size["olts"], **tick,
        run_all_click={"pairs": 2 * size["olts"], "ms": first_click["ms"],
                       "queries": first_click["queries"], "queries_small": small_click["queries"],
                       "again_ms": again_click["ms"], "again_queries": again_click["queries"],
                       "cookie_bytes": again_click["cookie_bytes"]},
        per_page={name: dict(fig, queries_small=small[name]["queries"])
                  for name, fig in large.items()})

    assert grew == {}, f"queries per page grew with the rows (N+1): {grew}"
    for name, fig in large.items():
        if name == "dashboard" or name.startswith("job "):
            continue
        limit = _page_limit(name)
        assert fig["rows"] <= limit, (name, fig)
        many = not any(word in name for word in ("jobs", "search", "filter"))
        if many:    # lists far longer than a page: full pages and a pager
            assert fig["rows"] == limit and fig["pager"], (name, fig)
    assert large["olts page_size huge"]["rows"] == PAGE_SIZE
    names = ", ".join(f"OLT-{i:04d}" for i in range(5))   # from one query per page
    assert jobs_page.count(f"{names} y {size['olts'] - 5} más") == 2
    # the home page shows the OLTs needing attention and folds the rest into one entry
    onu_rows = [int(n) for n in re.findall(
        r'<tr data-olt="[^"]+"><td>[^<]+</td><td class="text-right">(\d+)</td>', home)]
    assert len(onu_rows) == MAX_OLTS_SHOWN and sum(onu_rows) == size["onus"]
    assert f'data-olt="Otras {size["olts"] - MAX_OLTS_SHOWN + 1} OLTs"' in home
    rates = chart_json(home)["success_rate"]
    assert len(rates) == MAX_OLTS_SHOWN and rates[-1]["others"] == size["olts"] - len(rates) + 1
    assert tick["claimed"] == 2 * size["olts"] and tick["sent"] == tick["claimed"]
    # an idle tick's work is linear in the executions waiting, not quadratic
    if tick["tick_idle_rows_examined"] is not None:
        assert tick["tick_idle_rows_examined"] <= 10 * tick["claimed"] + 1000, tick
    assert executions_after == size["executions"] + clicked + tick["claimed"]
    # "Ejecutar" on both jobs: every pair queued at once, at a cost that does not grow by
    # a query per pair; clicking again reports them all, in a flash that fits a cookie
    pairs = 2 * size["olts"]
    assert first_click["status"] == 200 and first_click["alerts"][0] == (
        "success", f"🚀 Ejecutadas 2 tareas: {pairs} ejecuciones creadas y encoladas")
    assert clicked == pairs and sum(queued.values()) == pairs, queued
    assert first_click["queries"] <= small_click["queries"] + pairs // 1000 + 2, first_click
    warning = [text for kind, text in again_click["alerts"] if kind == "warning"]
    assert warning and warning[0].endswith(f" y {pairs - 10} más"), warning
    assert again_click["cookie_bytes"] < COOKIE_LIMIT, again_click
