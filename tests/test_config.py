"""Configuration is read from the environment once and refuses bad values clearly."""
import subprocess
import sys

import pytest

from facho.config import REPO_ROOT, ConfigError, load_config


def test_defaults_run_on_sqlite_and_embedded_redis_in_development(tmp_path):
    config = load_config({"FACHO_ENV": "development", "FACHO_VAR_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'facho.db'}"
    assert config.redis_url is None
    assert config.effective_redis_url == f"unix://{tmp_path / 'redis.sock'}"
    assert config.timezone == "America/Lima"
    assert (config.history_raw_days, config.history_rollup_days) == (30, 400)


def test_heroku_style_postgres_urls_are_accepted():
    config = load_config({"FACHO_ENV": "development",
                          "DATABASE_URL": "postgres://u:p@db.local:5432/facho"})
    assert config.database_url == "postgresql://u:p@db.local:5432/facho"


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "mysql://x@h/db"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql:///nohost"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
    ({"FACHO_TIMEZONE": "Mars/Olympus"}, "FACHO_TIMEZONE"),
    ({"FACHO_SNMP_TIMEOUT_S": "rápido"}, "FACHO_SNMP_TIMEOUT_S"),
    ({"FACHO_SNMP_RETRIES": "99"}, "FACHO_SNMP_RETRIES"),
    ({"FACHO_ENV": "staging"}, "FACHO_ENV"),
    ({"FACHO_HISTORY_RAW_DAYS": "0"}, "FACHO_HISTORY_RAW_DAYS"),
    ({"FACHO_HISTORY_RAW_DAYS": "un mes"}, "FACHO_HISTORY_RAW_DAYS"),
    ({"FACHO_HISTORY_ROLLUP_DAYS": "99999"}, "FACHO_HISTORY_ROLLUP_DAYS"),
    ({"FACHO_HISTORY_RAW_DAYS": "60", "FACHO_HISTORY_ROLLUP_DAYS": "30"},
     "FACHO_HISTORY_ROLLUP_DAYS"),
    ({"FACHO_PUBLIC_URL": "noc.ejemplo.pe"}, "FACHO_PUBLIC_URL"),
    ({"FACHO_PUBLIC_URL": "ftp://noc.ejemplo.pe"}, "FACHO_PUBLIC_URL"),
])
def test_a_bad_value_names_its_variable(env, variable):
    environ = {"FACHO_ENV": "development", **env}
    with pytest.raises(ConfigError) as excinfo:
        load_config(environ)
    message = str(excinfo.value)
    assert message.startswith(variable)
    assert "\n" not in message


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError, match="^SECRET_KEY"):
        load_config({"FACHO_ENV": "production"})
    assert load_config({"FACHO_ENV": "production", "SECRET_KEY": "x" * 32}).secret_key == "x" * 32


def test_development_gets_a_fixed_development_key():
    """The same key at every start, so sessions survive a restart of `make run`: a key
    drawn once per process would pass a comparison made inside one process, so the key
    is also read by a second interpreter."""
    first = load_config({"FACHO_ENV": "development"}).secret_key
    second = load_config({"FACHO_ENV": "development"}).secret_key
    assert first and first == second
    assert first == load_config({"FACHO_ENV": "testing"}).secret_key
    another_start = subprocess.run(
        [sys.executable, "-c", "from facho.config import load_config; "
         "print(load_config({'FACHO_ENV': 'development'}).secret_key)"],
        cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=60)
    assert another_start.returncode == 0, another_start.stderr
    assert another_start.stdout.strip() == first


def test_the_cli_exits_with_one_clear_line_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "facho", "seed"],
        env={"PATH": "/usr/bin:/bin", "FACHO_ENV": "production", "FACHO_VAR_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, cwd=str(REPO_ROOT))
    assert result.returncode == 2
    assert "SECRET_KEY no definida" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_public_url_for_notification_links_loses_its_trailing_slash():
    config = load_config({"FACHO_ENV": "development", "FACHO_PUBLIC_URL": "https://noc.isp.pe/"})
    assert config.public_url == "https://noc.isp.pe"
    assert load_config({"FACHO_ENV": "development"}).public_url == "http://127.0.0.1:5000"
