"""Dramatiq actors. `dramatiq actors` (worker) and `periodiq actors` (scheduler) import this.

The broker is set up before any actor module is imported, so every actor binds to it.
"""
from facho.broker import setup_broker

broker = setup_broker()

from actors.restart_middleware import WorkerRestart  # noqa: E402  (`flask facho restart`)

broker.add_middleware(WorkerRestart())

from actors import executions, maintenance, scheduler  # noqa: E402,F401  (register the actors)
