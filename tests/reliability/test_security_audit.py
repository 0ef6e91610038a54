"""Security audit of the panel (issue 6): search boxes and filters fed with classic SQL
injection payloads, and the SNMP community grepped for everywhere an operator or a log
reader could see it (pages, exports, CLI output, the web's and a real worker's logs, the
stored error messages). Route auth, CSRF, cookies and throttling are tested in
tests/admin/test_security.py and tests/admin/test_admin_security.py; a compact re-run here only
records their figures."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest

from facho.config import REPO_ROOT
from facho.extensions import db
from facho import models as m
from tests.conftest import create_user, csrf_token_from, login
from tests.reliability._ui_pages import (SECRET_COMMUNITY, first_ids, model_views,
                                         panel_get_urls, seed_panel)
from tests.snmp_agents import udp_free_port

REPO = str(REPO_ROOT)
PUBLIC = {"auth.login", "static", "admin.static", "health.healthz",
          "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
          "api_docs_assets.swagger_asset"}   # the REST API's description and docs page
INJECTIONS = ["' OR '1'='1", "1 OR 1=1", "'; DROP TABLE olts; --", "\" OR \"\"=\"",
              "1' UNION SELECT comunidad FROM olts --", "%' --", "admin'--", ") OR (1=1",
              "1; SELECT pg_sleep(3)--", "%", "_", "\\", "' AND 1=CAST(version() AS int)--"]


def _staff(app):
    create_user(app)
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def _sleep_ran(client, base, param, payload) -> bool:
    """A slow answer to the pg_sleep(3) payload is the payload executing only if it is slow
    again, by the 3 s, next to a harmless string of the same length (a loaded machine slows
    both alike)."""
    def timed(value):
        started = time.monotonic()
        client.get(base, query_string={param: value})
        return time.monotonic() - started
    return timed(payload) - timed("x" * len(payload)) > 2.5


def _rows(html: str) -> int:
    body = html.split("<tbody>", 1)[-1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return sum(1 for row in body.split("<tr")[1:] if "colspan" not in row.split("</tr>")[0])


def _table_counts(app) -> dict:
    with app.app_context():
        return {e: db.session.scalar(db.select(db.func.count()).select_from(v.model))
                for e, v in model_views(app).items()}


@pytest.mark.parametrize("per_filter", [3, pytest.param(len(INJECTIONS), marks=pytest.mark.long)],
                         ids=["fast", "long"])
def test_search_boxes_and_filters_are_safe_from_sql_injection(pg_app, reliability, per_filter):
    seed_panel(pg_app)
    client = _staff(pg_app)
    tables_before = _table_counts(pg_app)
    tried, server_errors, extra_rows, leaks, slow = 0, [], [], [], []
    for endpoint, view in model_views(pg_app).items():
        base = f"/admin/{endpoint}/"
        total = _rows(client.get(base).get_data(as_text=True))
        params = (["search"] if view.column_searchable_list else []) + \
            [f"flt{i}_{arg}" for i, arg in enumerate(view._filter_args or {})]
        for n, param in enumerate(params):
            # Search boxes get every payload; filters a rotating share (all in `long`).
            count = len(INJECTIONS) if param == "search" else per_filter
            for payload in (INJECTIONS * 2)[n % len(INJECTIONS):][:count]:
                started = time.monotonic()
                response = client.get(base, query_string={param: payload})
                elapsed = time.monotonic() - started
                tried += 1
                html = response.get_data(as_text=True)
                if response.status_code >= 500:
                    server_errors.append((endpoint, param, payload))
                elif _rows(html) > total:
                    extra_rows.append((endpoint, param, payload))
                if SECRET_COMMUNITY in html:
                    leaks.append((endpoint, param, payload))
                if "pg_sleep" in payload and elapsed > 2.5 and _sleep_ran(client, base, param,
                                                                         payload):
                    slow.append((endpoint, param, payload, round(elapsed, 1)))
    tables_after = _table_counts(pg_app)
    reliability.record("security", "inyección SQL en búsquedas y filtros",
                       lists=len(model_views(pg_app)), payloads_tried=tried,
                       server_errors=len(server_errors), extra_rows=len(extra_rows),
                       community_leaks=len(leaks), payload_executed=len(slow),
                       tables_intact=tables_before == tables_after)
    assert server_errors == [] and extra_rows == [] and leaks == [] and slow == []
    assert tables_before == tables_after
    assert tried > 50


# --- the community, everywhere it must not be ---------------------------------------------

def _worker(env: dict, stderr_path):
    """A real `dramatiq actors` worker process (as in the Procfile), stderr to a file."""
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "actors", "--processes", "1", "--threads", "4",
         "--queues", "discovery_main", "get_main"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=open(stderr_path, "w"), start_new_session=True)


def test_the_community_appears_in_no_page_export_log_cli_output_or_error_message(
        tmp_path, redis_url, olt_agents, caplog, reliability):  # noqa: F811
    from tests.conftest import _fresh_schema, make_test_app
    from tests.execution_helpers import wait_final
    from tests.factories import make_job, make_olt, seed_catalog
    db_url = f"sqlite:///{tmp_path / 'leak.db'}"
    snmp_env = {"FACHO_SNMP_TIMEOUT_S": "0.3", "FACHO_SNMP_RETRIES": "0"}
    app = make_test_app(db_url, tmp_path, **snmp_env)
    _fresh_schema(app)
    seed_panel(app)
    with app.app_context():
        seed_catalog()
        closed = make_olt("OLT-CERRADA", udp_free_port(), SECRET_COMMUNITY)
        wrong = make_olt("OLT-EQUIVOCADA", olt_agents.port, SECRET_COMMUNITY)
        jobs = [make_job("descubrir-fuga", ["Huawei ONT descubrimiento"],
                         olt_ids=(closed, wrong), max_retries=0),
                # seed_panel's "Serial UI" is the operator's row for the serial column, so
                # the seed skipped the shipped "Huawei ONT serial" (same OID and space)
                make_job("leer-fuga", ["Serial UI"], job_type="get",
                         olt_ids=(closed, wrong), max_retries=0)]
        for olt_id in (closed, wrong):     # a get reads the ONUs already in the inventory
            db.session.add(m.Onu(olt_id=olt_id, raw_index="4194312448.1", slot=1, port=1,
                                 onu_id=1, name="0/1/1:1", present=True))
        db.session.commit()
    client = _staff(app)
    caplog.set_level(logging.DEBUG)
    # Run them from the panel ("Ejecutar"), executed by a real worker process at DEBUG.
    page = client.get("/admin/snmp_jobs/").get_data(as_text=True)
    ran = client.post("/admin/snmp_jobs/action/", data={
        "action": "ejecutar", "rowid": [str(j) for j in jobs],
        "csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "4 ejecuciones creadas" in ran.get_data(as_text=True)
    env = {**os.environ, "DATABASE_URL": db_url, "FACHO_VAR_DIR": str(tmp_path),
           "SECRET_KEY": "test-secret-key-0123456789", "FACHO_LOG_LEVEL": "DEBUG", **snmp_env}
    stderr_path = tmp_path / "worker.stderr"
    worker = _worker(env, stderr_path)
    try:
        with app.app_context():
            ids = db.session.scalars(db.select(m.Execution.id).where(
                m.Execution.requested_by_id.isnot(None))).all()
        finals = {i: (r.status, r.error_message)
                  for i, r in wait_final(app, ids, timeout_s=60).items()}
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(20)
    # Every page (lists, details, edit forms, dashboard), each execution's details, a
    # search for the community itself (it must not be searchable), the export URLs.
    pages = [u for _, u in panel_get_urls(app, first_ids(app))]
    pages += [f"/admin/executions/details/?id={i}" for i in ids]
    pages += [f"/admin/olts/details/?id={o}" for o in (closed, wrong)]
    pages += [f"/admin/olts/edit/?id={o}" for o in (closed, wrong)]
    pages += ["/admin/olts/export/csv/"]       # (a search for it echoes the typed term)
    page_leaks = [u for u in pages if SECRET_COMMUNITY in
                  client.get(u, follow_redirects=True).get_data(as_text=True)]
    searchable = _rows(client.get("/admin/olts/", query_string={
        "search": SECRET_COMMUNITY}).get_data(as_text=True))
    runner = app.test_cli_runner()
    cli_runs = [["status"], ["status", "--json"], ["recent"], ["recent", "--json"],
                ["tasks"], ["tasks", "--json"], ["workers", "--json"], ["locks", "--json"]]
    cli_leaks = [a for a in cli_runs
                 if SECRET_COMMUNITY in runner.invoke(args=["facho", *a]).output]
    worker_lines = stderr_path.read_text(errors="replace").splitlines()
    log_lines = [r.getMessage() for r in caplog.records] + worker_lines
    log_leaks = [line for line in log_lines if SECRET_COMMUNITY in line]
    stored = json.dumps([finals[i] for i in ids], default=str)
    reliability.record("security", "comunidad SNMP ausente de páginas, CLI, logs y errores",
                       pages_grepped=len(pages), cli_outputs_grepped=len(cli_runs),
                       log_lines_grepped=len(log_lines), worker_log_lines=len(worker_lines),
                       executions=len(ids), leaks=len(page_leaks) + len(cli_leaks) +
                       len(log_leaks) + int(SECRET_COMMUNITY in stored),
                       searchable_by_community=searchable)
    assert [s for s, _ in finals.values()] == [m.FAILED] * 4, finals
    assert len(worker_lines) > 5, "the worker logged nothing: the grep proves nothing"
    assert page_leaks == [] and cli_leaks == [] and log_leaks == []
    assert SECRET_COMMUNITY not in stored
    assert searchable == 0


# --- compact re-run of the route rules (figures only; full tests in test_security.py) -----

def _concrete(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)


def test_route_rules_summary(app, reliability):
    anonymous = app.test_client()
    refused_anonymous = checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            checked += 1
            response = anonymous.open(_concrete(rule), method=method)
            refused_anonymous += response.status_code in (302, 400, 401, 403) and (
                response.status_code != 302 or
                response.headers["Location"].startswith("/login"))
    staff = _staff(app)
    # the REST API takes a bearer token, not the session cookie: no CSRF (tests/api)
    posts = [r for r in app.url_map.iter_rules()
             if r.methods & {"POST", "PUT", "PATCH", "DELETE"} and r.endpoint not in PUBLIC
             and not r.endpoint.startswith("api_v1.")]
    csrf_refused = sum(staff.post(_concrete(r), data={"rowid": "1", "action": "x"})
                       .status_code == 400 for r in posts)
    open_redirects = ["https://evil.example/", "//evil.example/", "/\\evil.example",
                      "javascript:alert(1)"]
    redirected_away = 0
    for target in open_redirects:
        client = app.test_client()
        page = client.get(f"/login?next={target}")
        response = client.post(f"/login?next={target}", data={
            "username": "operador", "password": "clave-segura-123",
            "csrf_token": csrf_token_from(page.get_data(as_text=True))})
        redirected_away += not response.headers.get("Location", "").startswith("/")
    reliability.record("security", "rutas: login, CSRF y redirecciones abiertas",
                       routes_checked=checked, refused_anonymous=refused_anonymous,
                       state_changing_routes=len(posts), csrf_refused=csrf_refused,
                       open_redirects_tried=len(open_redirects),
                       open_redirects_followed=redirected_away)
    assert refused_anonymous == checked and csrf_refused == len(posts) > 10
    assert redirected_away == 0
