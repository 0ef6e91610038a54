"""The panel and `flask facho` while Redis or the database is down (issue 6): every page
and every command, enumerated from the app, answers in Spanish with what is down and what
to do; no bare 500, no traceback. Existing single-page checks (dashboard and status with
Redis down, /healthz) are in tests/admin/test_dashboard_page.py, tests/ops/test_cli.py
and tests/ops/test_health.py."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from facho.config import REPO_ROOT
from facho.extensions import db
from tests.conftest import (_fresh_schema, create_user, csrf_token_from, free_port, login,
                            make_test_app, require)
from tests.reliability._ui_pages import (CLI_ARGS, TRACEBACK_MARKS, cli_commands, fetch,
                                         first_ids, panel_get_urls, seed_panel, verdict)
from tests.reliability._ui_private_pg import pg_bin, private_postgres

REPO = str(REPO_ROOT)
CLOSED_REDIS = "redis://127.0.0.1:{port}/0"
NEEDS_REDIS = {"status", "workers", "locks", "recover", "run", "demo", "restart"}
NO_DATABASE = {"workers", "embedded-redis", "simulate-olt", "restart"}


def _staff_app(tmp_path, name="up.db", **env):
    app = make_test_app(f"sqlite:///{tmp_path / name}", tmp_path, **env)
    _fresh_schema(app)
    seed_panel(app)
    create_user(app)
    return app


def _staff_client(app):
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def _walk_pages(client, urls) -> dict:
    """GET every url; count verdicts; list what was unexplained."""
    counts = {"ok": 0, "explained": 0, "unexplained": 0}
    bad = []
    for endpoint, url in urls:
        response = fetch(client, url)
        result = "unexplained" if response is None else verdict(response)
        counts[result] += 1
        if result == "unexplained":
            bad.append((endpoint, None if response is None else response.status_code))
    return {"counts": counts, "bad": bad}


def _action_post(client, list_url: str, action: str, row_id: int):
    page = client.get(list_url)
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"{list_url}action/", data={"action": action, "rowid": str(row_id),
                                                   "csrf_token": token},
                       follow_redirects=True)


@pytest.fixture
def dead_broker():
    """The process's Dramatiq broker pointed at a closed port, as in a web process whose
    REDIS_URL names a Redis that is down (the broker is bound once per process)."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from facho.messaging import NAMESPACE
    previous = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url=CLOSED_REDIS.format(port=free_port()),
                                    namespace=NAMESPACE, socket_connect_timeout=0.5))
    yield
    dramatiq.set_broker(previous)


# --- the panel ---------------------------------------------------------------------------

def test_every_panel_page_and_redis_action_with_redis_down_answers_in_spanish(
        tmp_path, redis_url, reliability, dead_broker):
    app = _staff_app(tmp_path, REDIS_URL=CLOSED_REDIS.format(port=free_port()))
    ids = first_ids(app)
    client = _staff_client(app)
    pages = _walk_pages(client, panel_get_urls(app, ids))
    # What needs Redis: run now, re-run a failed execution, the background purge.
    actions = {
        "ejecutar": _action_post(client, "/admin/snmp_jobs/", "ejecutar", ids["snmp_jobs"]),
        "reejecutar": _action_post(client, "/admin/executions/", "reejecutar",
                                   ids["executions"]),
    }
    purge_form = client.get("/admin/executions/eliminar-antiguas/").get_data(as_text=True)
    actions["purga"] = client.post("/admin/executions/eliminar-antiguas/", data={
        "dias": "30", "csrf_token": csrf_token_from(purge_form)}, follow_redirects=True)
    explained_actions = sum(r.status_code < 500 and "Redis" in r.get_data(as_text=True)
                            and "no responde" in r.get_data(as_text=True)
                            for r in actions.values())
    with app.app_context():
        from facho.models import Execution
        executions_left = db.session.scalar(db.select(db.func.count(Execution.id)))
    dashboard = client.get("/admin/").get_data(as_text=True)
    reliability.record("fault", "panel con Redis caído", pages_checked=len(pages["bad"]) +
                       pages["counts"]["ok"] + pages["counts"]["explained"],
                       actions_checked=len(actions), actions_explained=explained_actions,
                       with_5xx_unexplained=pages["counts"]["unexplained"],
                       tracebacks=sum(b[1] is None for b in pages["bad"]),
                       unsent_executions_left=executions_left - 1)
    assert pages["bad"] == []
    assert explained_actions == len(actions)
    assert executions_left == 1            # the failed one; nothing nobody will run
    assert "Redis no responde" in dashboard


@pytest.mark.parametrize("database", ["postgresql-puerto-cerrado", "sqlite-inaccesible"])
def test_every_panel_page_with_the_database_unreachable_is_a_spanish_503(
        tmp_path, redis_url, reliability, database):
    up = _staff_app(tmp_path)
    ids = first_ids(up)
    session_cookie = _staff_client(up).get_cookie("session")
    url = (f"postgresql://postgres@127.0.0.1:{free_port()}/facho"
           if database.startswith("postgresql") else
           f"sqlite:///{tmp_path / 'no-existe' / 'facho.db'}")
    down = make_test_app(url, tmp_path)
    staff = down.test_client()
    staff.set_cookie("session", session_cookie.value)   # logged in before the outage
    pages = _walk_pages(staff, panel_get_urls(down, ids))
    anonymous = down.test_client()
    login_page = fetch(anonymous, "/login")
    login_post = login(anonymous) if login_page is not None else None
    login_verdicts = [verdict(r) if r is not None else "unexplained"
                      for r in (login_page, login_post)]
    checked = sum(pages["counts"].values())
    reliability.record("fault", f"panel sin base de datos ({database})",
                       pages_checked=checked + 2, explained_503=pages["counts"]["explained"],
                       with_5xx_unexplained=pages["counts"]["unexplained"] +
                       login_verdicts.count("unexplained"),
                       tracebacks=sum(b[1] is None for b in pages["bad"]),
                       login_page=login_verdicts[0], login_post=login_verdicts[1])
    assert pages["bad"] == []
    assert pages["counts"]["explained"] >= len(ids) * 3   # lists, details, edit forms…
    assert login_verdicts[0] == "ok"                       # the form itself needs no DB
    assert login_verdicts[1] == "explained"
    assert "La base de datos no responde" in login_post.get_data(as_text=True)


def test_an_unhandled_error_outside_testing_is_a_spanish_page_not_a_bare_500(
        tmp_path, redis_url):
    app = _staff_app(tmp_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False        # as in production

    @app.route("/admin/falla-a-proposito")
    def broken():
        raise RuntimeError("secreto interno que no debe verse")

    response = _staff_client(app).get("/admin/falla-a-proposito")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Error interno" in body and "Qué hacer" in body
    assert "secreto interno" not in body


@pytest.mark.long      # a private cluster: initdb and two starts take ~10 s
def test_a_private_postgresql_stopped_mid_session_gives_503_then_the_panel_recovers(
        tmp_path, redis_url, reliability):
    require(pg_bin() is not None, "PostgreSQL binaries and root to run a private cluster")
    with private_postgres() as pg:
        app = make_test_app(pg.url, tmp_path)
        _fresh_schema(app)
        seed_panel(app)
        create_user(app)
        ids = first_ids(app)
        # /healthz stays 503 after the restart (no scheduler ticks here): tests/ops/test_health.py
        urls = [(e, u) for e, u in panel_get_urls(app, ids)
                if "ajax" not in u and e != "health.healthz"]
        client = _staff_client(app)
        before = _walk_pages(client, urls)
        pg.stop()
        during = _walk_pages(client, urls)
        cli = app.test_cli_runner().invoke(args=["facho", "tasks"])
        started = time.monotonic()
        pg.start()
        after = _walk_pages(client, urls)
        recovered_s = time.monotonic() - started
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    reliability.record("fault", "PostgreSQL privado detenido con sesión abierta",
                       pages_checked=len(urls) * 3, during_explained=during["counts"]["explained"],
                       with_5xx_unexplained=sum(w["counts"]["unexplained"]
                                                for w in (before, during, after)),
                       tracebacks=int("Traceback" in cli.output),
                       commands_checked=1, restart_and_first_pass_s=recovered_s)
    assert before["bad"] == [] and during["bad"] == [] and after["bad"] == []
    assert during["counts"]["explained"] >= len(ids) * 3
    assert after["counts"]["explained"] == 0              # the pool reconnected by itself
    assert cli.exit_code == 1 and "la base de datos no responde" in cli.output


# --- the CLI -----------------------------------------------------------------------------

def _cli_outage_app(tmp_path, outage: str):
    if outage == "redis":
        return _staff_app(tmp_path, REDIS_URL=CLOSED_REDIS.format(port=free_port()))
    return make_test_app(f"postgresql://postgres@127.0.0.1:{free_port()}/facho", tmp_path)


@pytest.mark.parametrize("outage", ["redis", "database"])
def test_every_cli_command_during_an_outage_ends_with_one_clear_line(
        tmp_path, redis_url, reliability, outage, monkeypatch, request):
    monkeypatch.setenv("FACHO_PASSWORD", "una-clave-larga")
    if outage == "redis":
        request.getfixturevalue("dead_broker")
    app = _cli_outage_app(tmp_path, outage)
    runner = app.test_cli_runner()
    commands = cli_commands(app)
    checked, unclear, escaped = [], [], []
    for name in sorted(commands):
        args = CLI_ARGS.get(name, [])
        if args is None or name == "demo":    # demo runs below as a real process
            continue
        result = runner.invoke(args=["facho", name, *args])
        checked.append(name)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            escaped.append((name, type(result.exception).__name__))
            continue
        needs = name in NEEDS_REDIS if outage == "redis" else name not in NO_DATABASE
        if needs and (result.exit_code == 0 or len(_down_lines(result.output)) != 1):
            unclear.append((name, result.exit_code, result.output[-200:]))
    unknown = set(commands) - set(CLI_ARGS)
    reliability.record("fault", f"CLI con {'Redis caído' if outage == 'redis' else 'base caída'}",
                       commands_checked=len(checked), unclear=len(unclear),
                       tracebacks=len(escaped), not_enumerated=sorted(unknown))
    assert escaped == [] and unclear == []
    assert unknown == set(), "a new command: give it arguments in _ui_pages.CLI_ARGS"


def _flask(tmp_path, env: dict, *args, timeout=60):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "FLASK_"))}
    environ.update(FACHO_ENV="testing", SECRET_KEY="test-secret-key-0123456789",
                   FACHO_VAR_DIR=str(tmp_path), FACHO_LOG_LEVEL="DEBUG", **env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "facho", *args],
                          cwd=REPO, env=environ, capture_output=True, text=True,
                          timeout=timeout)


def _down_lines(output: str) -> list[str]:
    """Lines that say a part is down, log lines left out (they are for the log)."""
    return [line for line in output.splitlines() if "no responde" in line and " level=" not in line]


@pytest.mark.parametrize("command", [
    ["status"],
    pytest.param(["demo", "--onus", "4"], marks=pytest.mark.long),   # starts snmpsim
])
@pytest.mark.parametrize("outage", ["redis", "database"])
def test_real_cli_processes_print_no_traceback_during_an_outage(
        tmp_path, redis_url, reliability, outage, command):
    from facho.inventory.seed import seed
    from tests.snmp_agents import udp_free_port
    db_file = tmp_path / "cli.db"
    env = {"DATABASE_URL": f"sqlite:///{db_file}", "REDIS_URL": os.environ["REDIS_URL"]}
    if outage == "redis":
        app = make_test_app(f"sqlite:///{db_file}", tmp_path)
        _fresh_schema(app)
        with app.app_context():
            seed()
            db.session.commit()
            db.engine.dispose()
        env["REDIS_URL"] = CLOSED_REDIS.format(port=free_port())
    else:
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/facho"
    args = command + (["--port", str(udp_free_port())] if command[0] == "demo" else [])
    run = _flask(tmp_path, env, *args)
    output = run.stdout + run.stderr
    tracebacks = int(any(m in output for m in TRACEBACK_MARKS))
    reliability.record("fault", f"proceso CLI real: {command[0]} ({outage} caído)",
                       commands_checked=1, tracebacks=tracebacks, exit_code=run.returncode)
    assert tracebacks == 0, run.stderr[-800:]
    assert run.returncode != 0, run.stdout
    assert len(_down_lines(output)) == 1, output[-800:]


def test_seed_beside_an_operators_own_formula_for_the_same_brand_keeps_it(
        tmp_path, redis_url):
    """Found by the CLI walk above: seed crashed with IntegrityError (a traceback) when an
    operator had written their own default Huawei formula under another name."""
    from facho.models import IndexFormula
    app = _staff_app(tmp_path)                       # seed_panel wrote "Huawei UI"
    result = app.test_cli_runner().invoke(args=["facho", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        huawei_default = db.session.scalars(db.select(IndexFormula.nombre).where(
            IndexFormula.modelo == "", IndexFormula.brand.has(nombre="Huawei"))).all()
    assert huawei_default == ["Huawei UI"]
