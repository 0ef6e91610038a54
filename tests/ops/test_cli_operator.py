"""What a new operator meets in `flask facho …`: the README's commands work as written after
`make run`, no command leaves an embedded redis-server behind, every word is Spanish, and
setup commands say what they did (or did not do)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from facho.config import REPO_ROOT
from facho.extensions import db
from facho.models import User
from tests.execution_helpers import wait_for

REPO = REPO_ROOT
FLASK = str(Path(sys.executable).parent / "flask")


def flask(args, env, cwd=REPO, timeout=60):
    return subprocess.run([FLASK, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def bare_env(**extra) -> dict:
    """What an operator's fresh shell has: no FACHO_*, no DATABASE_URL, no REDIS_URL."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def migrate(database_url: str, var_dir: Path) -> None:
    done = flask(["--app", "app", "db", "upgrade"], bare_env(
        FACHO_ENV="development", DATABASE_URL=database_url, FACHO_VAR_DIR=str(var_dir),
        REDIS_URL="", FLASK_SKIP_DOTENV="1"))
    assert done.returncode == 0, done.stderr


# --- item 1: the README's commands right after `make run` --------------------------------

def test_after_make_run_the_readmes_commands_work_in_that_folder(tmp_path, redis_url):
    database = f"sqlite:///{tmp_path / 'facho.db'}"
    migrate(database, tmp_path)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    # what scripts/run-dev does first, with the variables `make run` was given
    written = subprocess.run([str(REPO / "scripts" / "write-flaskenv"), str(checkout)],
                             env=bare_env(DATABASE_URL=database, REDIS_URL=redis_url),
                             capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    assert "FACHO_ENV='development'" in (checkout / ".flaskenv").read_text()
    # then, in a new shell in that folder, the commands exactly as the README gives them
    operator = bare_env(PYTHONPATH=str(REPO))   # `app` is found in the folder itself
    status = flask(["--app", "app", "facho", "status"], operator, cwd=checkout)
    assert "SECRET_KEY" not in status.stderr, status.stderr
    assert "Ejecuciones (últimas 24 h)" in status.stdout and "Colas:" in status.stdout
    seeded = flask(["--app", "app", "facho", "seed"], operator, cwd=checkout)
    assert seeded.returncode == 0 and "Datos iniciales agregados" in seeded.stdout
    # the same command in a folder `make run` never wrote to fails as the issue reported
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = flask(["--app", "app", "facho", "status"], operator, cwd=elsewhere)
    assert refused.returncode == 2 and "SECRET_KEY no definida" in refused.stderr


# --- item 2: no embedded redis-server started by a command, none left behind -------------

def embedded_servers(socket_path: Path) -> list[psutil.Process]:
    """redis-server processes serving `socket_path` (redis titles itself unixsocket:PATH)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            line = " ".join(proc.info["cmdline"] or ())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "redis-server" in (proc.info["name"] or "") and str(socket_path) in line:
            found.append(proc)
    return found


def test_commands_neither_start_nor_leave_an_embedded_redis(tmp_path):
    var = tmp_path / "var"
    socket_path = var / "redis.sock"
    env = bare_env(FACHO_ENV="development", FACHO_VAR_DIR=str(var), REDIS_URL="",
                   DATABASE_URL=f"sqlite:///{tmp_path / 'facho.db'}", FLASK_SKIP_DOTENV="1")
    migrate(env["DATABASE_URL"], var)
    assert embedded_servers(socket_path) == [] and not socket_path.exists()
    for args in (["facho", "--help"], ["facho", "status", "--help"], ["facho", "seed"],
                 ["facho", "status"], ["facho", "workers"], ["facho", "recover"],
                 ["db", "current"]):
        done = flask(["--app", "app", *args], env)
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert embedded_servers(socket_path) == [], args
        assert not socket_path.exists(), args
    # with Facho not running, a command that needs Redis says so instead of starting one
    status = flask(["--app", "app", "facho", "status"], env)
    assert status.returncode == 1 and "no está activo" in status.stdout
    # `embedded-redis start` is the one command that starts it (make run uses it) ...
    assert flask(["--app", "app", "facho", "embedded-redis", "start"], env).returncode == 0
    try:
        assert len(embedded_servers(socket_path)) == 1
        up = flask(["--app", "app", "facho", "status"], env)
        assert "Colas:" in up.stdout                    # a running one is used ...
        assert len(embedded_servers(socket_path)) == 1  # ... and left running
    finally:
        stopped = flask(["--app", "app", "facho", "embedded-redis", "stop"], env)
    assert stopped.returncode == 0 and "detenido" in stopped.stdout
    wait_for(lambda: embedded_servers(socket_path) == [], 10, "redis-server to exit")


# --- item 5: Spanish help pages -----------------------------------------------------------

ENGLISH = re.compile(r"Show this message|Usage:|Options:|Commands:|\[default:|\bINTEGER\b|"
                     r"\bTEXT\b|\bUSERNAME\b|\bJOB\b|Create a user|Load brands|"
                     r"Run the reconciler|The latest")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["facho", *args])


def test_every_help_page_is_in_spanish(app, cli):
    top = cli("--help")
    assert top.exit_code == 0
    assert "Uso: " in top.output and "facho [OPCIONES] COMANDO [ARGUMENTOS]" in top.output
    assert "Muestra esta ayuda y termina." in top.output
    from facho.ops.cli import facho_cli
    for name in facho_cli.commands:
        page = cli(name, "--help")
        assert page.exit_code == 0, (name, page.output)
        assert "Opciones:" in page.output and "Muestra esta ayuda y termina." in page.output
        assert not ENGLISH.search(page.output), (name, page.output)
    assert not ENGLISH.search(top.output), top.output
    assert "[por defecto: 20" in cli("recent", "--help").output


# --- item 9: setup commands say what happened ---------------------------------------------

def test_ensure_admin_says_when_the_admin_password_is_ignored(app, cli, monkeypatch):
    monkeypatch.setenv("FACHO_ADMIN_PASSWORD", "clave-inicial-1")
    assert "clave-inicial-1" in cli("ensure-admin").output
    monkeypatch.setenv("FACHO_ADMIN_PASSWORD", "otra-clave-2")
    again = cli("ensure-admin")
    assert again.exit_code == 0
    assert "se ignoran" in again.output and "create-user admin --update" in again.output
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        assert admin.check_password("clave-inicial-1")       # unchanged, as it says
    monkeypatch.delenv("FACHO_ADMIN_PASSWORD")
    assert "se ignoran" not in cli("ensure-admin").output  # nothing to warn about


def test_a_password_reset_as_the_readme_gives_it_keeps_the_user_staff(app, cli, monkeypatch):
    monkeypatch.setenv("FACHO_ADMIN_PASSWORD", "clave-inicial-1")
    cli("ensure-admin")
    monkeypatch.setenv("FACHO_PASSWORD", "clave-nueva-22")
    reset = cli("create-user", "admin", "--update")
    assert reset.exit_code == 0 and "(staff)" in reset.output, reset.output
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        assert admin.check_password("clave-nueva-22") and admin.is_staff
    cli("create-user", "admin", "--update", "--no-staff")
    with app.app_context():
        assert not db.session.execute(
            db.select(User.is_staff).filter_by(username="admin")).scalar_one()
