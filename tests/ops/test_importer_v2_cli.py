"""`flask facho importar-v2`: exit codes and messages, and the old database left untouched
(its connection is read-only; a whole import leaves every old row as it was)."""
from __future__ import annotations

import json

import psycopg
import pytest

from facho.ops.importer_v2 import ImporterError
from facho.ops.importer_v2.source import OldDatabase
from tests.conftest import free_port, pg_available, require
from tests.ops.facho_v2_db import admin_url, scenario_database

OLD_TABLES = ("marcas", "olt_models", "olt", "oids", "index_formulas", "snmp_jobs",
              "snmp_job_hosts", "snmp_executions", "onu_index_map", "onu_status",
              "onu_inventory", "onu_state_lookup", "configuracion_sistema",
              "configuracion_snmp")


@pytest.fixture
def old_url():
    """A fresh Facho v2 database with the scenario's rows, dropped after the test."""
    with scenario_database("facho_v2_cli") as url:
        yield url


def fingerprint(url: str) -> dict[str, str]:
    """md5 of every old table's rows in id order."""
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), "
                                f"'')) FROM {t} x").fetchone()[0] for t in OLD_TABLES}


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["facho", "importar-v2", *args])


def test_a_write_through_the_importers_connection_is_refused_by_the_server(old_url):
    with OldDatabase(old_url) as old:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            old.conn.execute("INSERT INTO marcas (nombre, descripcion) VALUES ('x', '')")
    with psycopg.connect(old_url) as conn:
        assert conn.execute("SELECT count(*) FROM marcas WHERE nombre = 'x'").fetchone()[0] == 0


def test_a_full_import_leaves_the_old_database_as_it_was(any_app, old_url):
    before = fingerprint(old_url)
    result = cli(any_app, "--desde", old_url, "--alcance", "ejecuciones")
    assert result.exit_code == 0, result.stderr
    assert fingerprint(old_url) == before


def test_the_command_prints_the_report_and_a_second_run_says_nothing_changed(app, old_url):
    first = cli(app, "--desde", old_url, "--alcance", "inventario")
    assert first.exit_code == 0, first.stderr
    assert "olt → OLTs: leídos 9, creados 6" in first.stdout
    assert "s3creta" not in first.stdout + first.stderr
    second = cli(app, "--desde", old_url, "--alcance", "inventario")
    assert second.exit_code == 0
    assert second.stdout.strip().splitlines()[-1].startswith("Sin cambios: Facho ya tenía todo")


def test_simular_reports_without_writing(app, old_url):
    result = cli(app, "--desde", old_url, "--simular", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["simulado"] is True and report["cambios"] > 0
    assert cli(app, "--desde", old_url, "--simular").stdout.startswith("SIMULACIÓN")
    with app.app_context():
        from facho.models import Olt
        assert Olt.query.count() == 0


def test_an_unreachable_database_is_one_clear_line_and_exit_1(app):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/facho_v2"
    result = cli(app, "--desde", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no se pudo conectar a la base de Facho v2 "
                                    "(127.0.0.1:")
    assert result.stderr.rstrip().endswith("no se importó nada")
    assert "Traceback" not in result.stderr


def test_a_database_that_is_not_facho_v2_is_refused(app):
    require(pg_available(), "PostgreSQL at 127.0.0.1:5432")
    result = cli(app, "--desde", admin_url())
    assert result.exit_code == 1
    assert "no es de Facho v2" in result.stderr


def test_a_database_of_another_version_is_refused_naming_the_missing_columns(app, old_url):
    with psycopg.connect(old_url) as conn:
        conn.execute("ALTER TABLE index_formulas DROP COLUMN has_dot_notation")
    with pytest.raises(ImporterError, match="otra versión .*index_formulas.has_dot_notation"):
        with OldDatabase(old_url):
            pass
    result = cli(app, "--desde", old_url)
    assert result.exit_code == 1 and "otra versión de Facho v2" in result.stderr


def test_dates_without_a_time_zone_are_refused_rather_than_guessed(old_url):
    with psycopg.connect(old_url) as conn:
        conn.execute("ALTER TABLE onu_status ALTER COLUMN last_seen_at TYPE timestamp")
    with pytest.raises(ImporterError, match="onu_status.last_seen_at no tienen zona horaria"):
        with OldDatabase(old_url):
            pass


@pytest.mark.parametrize("args, message", [
    (["--desde", "mysql://x/y"], "debe ser una URL postgresql://"),
    (["--desde", "postgresql://h/d", "--zona-cron", "Lima/Marte"], "--zona-cron: Zona horaria"),
    (["--desde", "postgresql://h/d", "--alcance", "todo"], "--alcance: valor inválido"),
    (["--desde", "postgresql://h/d", "--dias", "0"], "--dias: debe ser un número entero"),
])
def test_bad_options_are_refused_in_spanish(app, args, message):
    result = cli(app, *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr


def test_the_cron_zone_option_reaches_the_jobs(app, old_url):
    assert cli(app, "--desde", old_url, "--zona-cron", "America/Lima").exit_code == 0
    with app.app_context():
        from facho.models import SnmpJob
        assert {j.cron_tz for j in SnmpJob.query if j.cron_expr} == {"America/Lima"}
