"""A database that answers but was never migrated (no Facho tables): the panel and every
`flask facho` command say to run `flask db upgrade`, on SQLite and on PostgreSQL, instead of
a traceback or "the database does not answer"."""
import os

import pytest

from tests.conftest import (_pg_admin_connect, csrf_token_from, make_test_app, pg_available,
                            require)


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_app(request, tmp_path, redis_url):
    if request.param == "sqlite":
        yield make_test_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
        return
    require(pg_available(), "PostgreSQL")
    name = f"facho_test_{os.getpid()}_empty"
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    app = make_test_app(f"postgresql://postgres@127.0.0.1:5432/{name}", tmp_path)
    yield app
    from facho.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_panel_says_to_migrate_the_database(unmigrated_app):
    client = unmigrated_app.test_client()
    assert client.get("/admin/executions/").status_code == 302      # to the login form
    login_form = client.get("/login")
    assert login_form.status_code == 200                  # the form itself needs no table
    response = client.post("/login", data={
        "username": "operador", "password": "clave-segura-123",
        "csrf_token": csrf_token_from(login_form.get_data(as_text=True))})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "La base de datos no tiene las tablas de Facho" in page
    assert "flask db upgrade" in page and "Traceback" not in page


@pytest.mark.parametrize("command", [["status"], ["tasks"], ["recent"], ["seed"],
                                     ["run", "descubrir"], ["create-user", "ana", "--staff"]])
def test_every_command_says_to_migrate_the_database(unmigrated_app, command, monkeypatch):
    monkeypatch.setenv("FACHO_PASSWORD", "clave-segura-123")
    result = unmigrated_app.test_cli_runner().invoke(args=["facho", *command])
    assert result.exit_code == 1, result.output
    assert "error: la base de datos no tiene las tablas de Facho: ejecute `flask db upgrade`" \
        in result.output
    assert "Traceback" not in result.output and "no responde" not in result.output


def _wrapped(original):
    from sqlalchemy import exc as sa_exc
    return sa_exc.OperationalError("SELECT 1", {}, original)


def test_only_an_unreachable_database_counts_as_an_outage():
    import sqlite3

    import psycopg

    from facho.ops.health import connection_lost, schema_missing
    assert connection_lost(_wrapped(psycopg.OperationalError("connection refused")))
    assert connection_lost(_wrapped(psycopg.errors.AdminShutdown("terminating connection")))
    assert connection_lost(_wrapped(psycopg.errors.ConnectionFailure("server closed")))
    assert connection_lost(_wrapped(sqlite3.OperationalError("database is locked")))
    # errors of the statement itself: the same OperationalError class, no outage
    assert not connection_lost(_wrapped(psycopg.errors.DeadlockDetected("deadlock")))
    assert not connection_lost(_wrapped(psycopg.errors.SerializationFailure("retry")))
    assert not connection_lost(_wrapped(psycopg.errors.QueryCanceled("statement timeout")))
    assert schema_missing(_wrapped(sqlite3.OperationalError("no such table: olts")))
    assert schema_missing(_wrapped(psycopg.errors.UndefinedTable("relation does not exist")))
    assert not schema_missing(_wrapped(psycopg.errors.DeadlockDetected("deadlock")))
