"""Ctrl-C ends the commands that serve until interrupted, however they were started."""
from __future__ import annotations

import signal


def honour_ctrl_c() -> None:
    """Make SIGINT raise KeyboardInterrupt in this process. A process inherits an ignored or
    blocked SIGINT from whoever started it (a background job of a non-interactive shell, a
    supervisor, a test runner), and Python then never installs its own handler: `Ctrl-C
    para detener` would do nothing."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)
