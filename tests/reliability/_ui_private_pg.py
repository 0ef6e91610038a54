"""A private PostgreSQL cluster for one test: initdb + pg_ctl as user `postgres` in a temp
dir on a free 127.0.0.1 port, so a test may stop it mid-session without touching the
machine's shared server. Stopped and removed at the end, whatever happened."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile

from tests.conftest import free_port


def pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found or os.geteuid() != 0 or not shutil.which("runuser"):
        return None
    return os.path.dirname(found[-1])


class PrivatePostgres:
    def __init__(self):
        self.bin = pg_bin()
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="facho-ui-pg-")
        os.chmod(self.root, 0o777)
        self.data = os.path.join(self.root, "data")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def init(self) -> None:
        self._as_postgres(f"{self.bin}/initdb", "-D", self.data, "-A", "trust", "-U",
                          "postgres", "--no-sync")

    def start(self) -> None:
        self._as_postgres(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-t", "30", "-l",
                          os.path.join(self.root, "log"), "-o",
                          f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                          "-c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                          "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres():
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.remove()
