"""Dramatiq actors. `dramatiq actors` (worker) and `actors.scheduler_process` (scheduler)
import this.

The broker is set up before any actor module is imported, so every actor binds to it. This
package is the worker side's edge: it hands the app factory to the broker, so nothing under
`facho/` imports the web app.
"""
from app import create_app
from facho.broker import set_app_factory, setup_broker

set_app_factory(create_app)
broker = setup_broker()

from actors.restart_middleware import WorkerRestart  # noqa: E402  (`flask facho restart`)

broker.add_middleware(WorkerRestart())

from actors import executions, maintenance, scheduler  # noqa: E402,F401  (register the actors)
