"""Product processes (worker, scheduler, flask commands) started by the tests as the
Procfile would: each in its own session, so stopping it stops its children too."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def start_process(args: list[str], env: dict, log_path: Path, cwd: Path) -> subprocess.Popen:
    """Start `args` in its own session, stdout and stderr to `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process(proc: subprocess.Popen, timeout_s: float = 20) -> int:
    """SIGTERM, then SIGKILL of its whole process group if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode
