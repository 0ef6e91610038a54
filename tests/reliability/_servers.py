"""Private servers the restart tests may stop, crash and restart at will: a redis-server
on a free loopback port with nothing saved, and a PostgreSQL cluster (initdb + pg_ctl in a
temp dir, socket dir inside it, free port, trust auth). The machine's shared Redis and
PostgreSQL are never touched.

As root, the PostgreSQL binaries run as user `postgres` (`runuser -u postgres --`), since
initdb refuses to run as root; as any other user they run as that user.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis as redis_lib

from tests.conftest import free_port


def _wait(predicate, timeout_s: float, what: str) -> float:
    """Poll until `predicate()` is true; returns the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{what}: not ready after {timeout_s} s")
        time.sleep(0.02)
    return time.monotonic() - started


# --- Redis -------------------------------------------------------------------------------

def redis_binary() -> str | None:
    if os.path.exists("/usr/bin/redis-server"):
        return "/usr/bin/redis-server"
    try:
        from facho.redis_conn import redis_server_binary
        path = redis_server_binary()
        return path if os.path.exists(path) else None
    except ImportError:
        return None


class PrivateRedis:
    """A redis-server of our own: `url`, `stop()` (SHUTDOWN NOSAVE: nothing survives),
    `start()` on the same port, `restart_empty(down_s)`, `cleanup()`."""

    def __init__(self):
        self.binary = redis_binary()
        if self.binary is None:
            raise RuntimeError("no redis-server binary")
        self.workdir = tempfile.mkdtemp(prefix="facho-rel-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def answers(self) -> bool:
        try:
            return bool(redis_lib.Redis.from_url(self.url, socket_timeout=0.5,
                                                 socket_connect_timeout=0.5).ping())
        except (redis_lib.RedisError, OSError):
            return False

    def start(self) -> float:
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return _wait(self.answers, 10, "private redis-server")

    def stop(self) -> None:
        """Shut down without saving (as a crash or an empty restart would leave it)."""
        if self.proc is None:
            return
        try:
            redis_lib.Redis.from_url(self.url, socket_timeout=2).shutdown(nosave=True)
        except (redis_lib.RedisError, OSError):
            pass                     # the server closes the connection as it exits
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart_empty(self, down_s: float) -> dict:
        """Stop, stay down `down_s`, start again with nothing: returns the timings."""
        stopped_at = time.time()
        self.stop()
        time.sleep(down_s)
        start_s = self.start()
        return {"stopped_at": stopped_at, "up_at": time.time(),
                "downtime_s": time.time() - stopped_at, "start_s": start_s}

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- PostgreSQL --------------------------------------------------------------------------

def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


def postgres_usable() -> tuple[bool, str]:
    """(usable, why not): binaries present, and a non-root user to run them as."""
    if postgres_bin_dir() is None:
        return False, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False, "user postgres (initdb refuses to run as root)"
        if shutil.which("runuser") is None:
            return False, "runuser (to run initdb as postgres)"
    return True, ""


class PrivatePostgres:
    """A PostgreSQL cluster of our own. `url(db)`, `stop(mode)` (`fast`: clean shutdown that
    disconnects every client; `immediate`: a crash, recovery on the next start), `start()`,
    `restart(mode, down_s)`, `create_database(name)`, `cleanup()`."""

    def __init__(self):
        self.bin = postgres_bin_dir()
        self.workdir = Path(tempfile.mkdtemp(prefix="facho-rel-pg-"))
        self.data = self.workdir / "data"
        self.log = self.workdir / "postgres.log"
        self.port = free_port()
        self.running = False
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.workdir, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.workdir)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}"
                               f"\n{self.log_tail()}")
        return done

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def answers(self) -> bool:
        import psycopg
        try:
            psycopg.connect(self.url(), connect_timeout=1).close()
            return True
        except psycopg.Error:
            return False

    def start(self) -> float:
        """Start (and wait until it accepts connections); returns the seconds it took."""
        started = time.monotonic()
        options = (f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off "
                   "-c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start", timeout=90)
        self.running = True
        _wait(self.answers, 30, "private PostgreSQL")
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> None:
        assert mode in ("smart", "fast", "immediate")
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                  timeout=90)
        self.running = False

    def restart(self, mode: str, down_s: float) -> dict:
        stopped_at = time.time()
        self.stop(mode)
        time.sleep(down_s)
        start_s = self.start()
        return {"stopped_at": stopped_at, "up_at": time.time(),
                "downtime_s": time.time() - stopped_at, "start_s": start_s}

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def cleanup(self) -> None:
        if self.running:
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)
