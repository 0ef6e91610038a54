"""What an operator should not have to read past: library chatter in the logs, a favicon
404 on every page, a message that is only an emoji."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from facho.config import REPO_ROOT
from tests.processes import start_process, stop_process

REPO = REPO_ROOT
BIN = Path(sys.executable).parent


def test_the_favicon_is_served_to_anyone_and_every_page_points_at_it(app):
    client = app.test_client()
    icon = client.get("/favicon.ico")            # asked by browsers before any login
    assert icon.status_code == 200
    assert icon.data[:4] == b"\x00\x00\x01\x00" and "icon" in icon.content_type
    login = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', login).group(1)
    assert client.get(href).status_code == 200 and "svg" in client.get(href).content_type


def _fresh_process_levels(level: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FACHO_LOG_LEVEL"}
    if level:
        env["FACHO_LOG_LEVEL"] = level
    code = ("import logging, facho.logging_setup as s; s.init_app(None); "
            "print(*(logging.getLogger(n).isEnabledFor(logging.INFO)"
            " for n in ('alembic.runtime.plugins', 'periodiq', 'facho.scheduling.claim')))")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.split()


def test_library_chatter_is_quiet_at_info_and_back_at_debug():
    # periodiq's "Scheduling …" (4 a minute) and alembic's plugin list are off at INFO;
    # our own events are not; FACHO_LOG_LEVEL=DEBUG brings everything back
    assert _fresh_process_levels("INFO") == ["False", "False", "True"]
    assert _fresh_process_levels("DEBUG") == ["True", "True", "True"]


def test_a_worker_starts_without_alembic_lines(tmp_path, redis_url):
    database = f"sqlite:///{tmp_path / 'w.db'}"
    env = dict(os.environ, FACHO_ENV="testing", DATABASE_URL=database, REDIS_URL=redis_url,
               FACHO_VAR_DIR=str(tmp_path), FACHO_LOG_LEVEL="INFO")
    log = tmp_path / "worker.log"
    proc = start_process([str(BIN / "dramatiq"), "actors", "--processes", "1", "--threads",
                          "1", "--queues", "maintenance"], env, log, REPO)
    try:
        deadline = time.monotonic() + 60
        while "Worker process is ready for action" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        stop_process(proc)
    text = log.read_text()
    assert "alembic" not in text, text
