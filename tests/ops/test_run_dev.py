"""`make run` / `make demo` ended with Ctrl-C: everything stops and make stays quiet (no
"make: *** [run] Error 130"). The real scripts/run-dev and honcho, with stub commands."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from facho.config import REPO_ROOT

REPO = REPO_ROOT


def test_ctrl_c_ends_make_run_quietly(tmp_path):
    (tmp_path / "scripts").mkdir()
    for name in ("run-dev", "write-flaskenv"):
        shutil.copy2(REPO / "scripts" / name, tmp_path / "scripts" / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "flask").write_text("#!/bin/sh\nexit 0\n")       # db upgrade, seed, …
    (bin_dir / "flask").chmod(0o755)
    (bin_dir / "honcho").symlink_to(Path(sys.executable).parent / "honcho")
    (tmp_path / "Procfile.dev").write_text("web: sleep 60\n")
    (tmp_path / "Makefile").write_text("run:\n\tscripts/run-dev\n")
    env = dict(os.environ, REDIS_URL="redis://127.0.0.1:1/0")   # no embedded Redis
    log = tmp_path / "make.log"
    with open(log, "wb") as out:
        make = subprocess.Popen(["make", "run"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while "web.1 started" not in log.read_text():
            assert make.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        os.killpg(make.pid, signal.SIGINT)      # what Ctrl-C in the terminal does
        make.wait(30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
    text = log.read_text()
    assert "Error 130" not in text and "Interrupt" not in text and "***" not in text, text
    assert "Facho detenido." in text and "web.1 stopped" in text
    assert (tmp_path / ".flaskenv").exists()     # written on the way (item 1)
