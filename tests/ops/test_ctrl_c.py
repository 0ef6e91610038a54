"""Ctrl-C stops the serve-until-interrupted commands even when SIGINT came in ignored."""
from __future__ import annotations

import signal
import subprocess
import sys

from facho.config import REPO_ROOT

CHILD = """
import signal, sys, time
from facho.ops.ctrl_c import honour_ctrl_c
honour_ctrl_c()
print("listo", flush=True)
try:
    time.sleep(30)
except KeyboardInterrupt:
    print("detenido", flush=True)
"""


def _ignore_and_block_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def test_a_command_started_with_sigint_ignored_and_blocked_still_stops_on_ctrl_c():
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO_ROOT,
                             preexec_fn=_ignore_and_block_sigint, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "listo"
        child.send_signal(signal.SIGINT)
        output, _ = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
    assert output.strip() == "detenido"
