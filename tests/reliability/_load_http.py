"""Real processes for the load tests: the panel under gunicorn, a `dramatiq` worker process,
and a browser-like HTTP session (cookie jar, CSRF token, no automatic redirects).

Everything listens on 127.0.0.1 only and is stopped by the context managers that start it.
"""
from __future__ import annotations

import http.cookiejar
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from facho.config import REPO_ROOT
from tests.conftest import csrf_token_from, free_port

REPO = REPO_ROOT
BIN = Path(sys.executable).parent
SECRET = "test-secret-key-0123456789"


def process_env(database_url: str, var_dir, **extra) -> dict:
    """The environment the test app gets (tests.conftest.make_test_app), for a subprocess."""
    env = dict(os.environ, FACHO_ENV="testing", DATABASE_URL=database_url,
               FACHO_VAR_DIR=str(var_dir), REDIS_URL=os.environ["REDIS_URL"],
               SECRET_KEY=SECRET, PYTHONPATH=str(REPO), FACHO_LOG_LEVEL="WARNING")
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def gunicorn_server(database_url: str, var_dir, workers: int = 2, threads: int = 4):
    """`gunicorn 'app:create_app()'` (as the Procfile) on a free loopback port; yields its URL."""
    port = free_port()
    log = open(Path(var_dir) / "gunicorn.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--timeout", "60", "app:create_app()"],
        cwd=REPO, env=process_env(database_url, var_dir), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + _tail(var_dir, "gunicorn.log"))
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer: " + _tail(var_dir, "gunicorn.log"))
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)
        log.close()


@contextmanager
def worker_process(database_url: str, var_dir, threads: int = 8):
    """A real `dramatiq actors` worker process on the execution queues (as the Procfile)."""
    log = open(Path(var_dir) / "worker.log", "wb")
    env = process_env(database_url, var_dir, dramatiq_worker_timeout="100")
    proc = subprocess.Popen(
        [str(BIN / "dramatiq"), "actors", "--processes", "1", "--threads", str(threads),
         "--queues", "discovery_main", "get_main"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        _stop(proc, 30)
        log.close()


def _tail(var_dir, name: str, size: int = 2000) -> str:
    try:
        return (Path(var_dir) / name).read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


class _LoopbackCookies(http.cookiejar.DefaultCookiePolicy):
    """Send `Secure` cookies to 127.0.0.1 over plain HTTP, as browsers do for loopback:
    the panel may mark its session cookie Secure and the test must still log in."""

    def return_ok_secure(self, cookie, request):
        return True

    def set_ok(self, cookie, request):
        return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes, elapsed_ms: float):
        self.status, self.headers, self.body, self.elapsed_ms = status, headers, body, elapsed_ms

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Session:
    """One operator's browser: its own cookies; redirects are returned, not followed."""

    def __init__(self, base: str, timeout_s: float = 60):
        self.base, self.timeout_s = base, timeout_s
        self.jar = http.cookiejar.CookieJar(policy=_LoopbackCookies())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path: str, data: dict | None = None) -> Response:
        body = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=self.timeout_s) as r:
                status, headers, payload = r.status, r.headers, r.read()
        except urllib.error.HTTPError as exc:   # 3xx (not followed), 4xx, 5xx
            status, headers, payload = exc.code, exc.headers, exc.read()
        return Response(status, headers, payload, (time.perf_counter() - started) * 1000)

    def get(self, path: str) -> Response:
        return self.request(path)

    def post(self, path: str, data: dict) -> Response:
        return self.request(path, data)

    def login(self, username: str, password: str) -> None:
        token = csrf_token_from(self.get("/login").text)
        response = self.post("/login", {"username": username, "password": password,
                                        "csrf_token": token})
        assert response.status == 302, f"login of {username}: HTTP {response.status}"


def location_path(response: Response) -> str:
    """The path (and query) a redirect points at, for following it by hand."""
    parts = urllib.parse.urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]
