"""Dramatiq actors. `dramatiq actors` (worker) and `actors.scheduler_process` (scheduler)
import this.

The broker is set up before any actor module is imported, so every actor binds to it. This
package is the worker side's edge: it hands the app factory to the broker, so nothing under
`facho/` imports the web app.
"""
from app import create_app
from facho.messaging import setup_broker
from facho.middleware.app_context import set_app_factory
from facho.middleware.restart import WorkerRestart

set_app_factory(create_app)
broker = setup_broker()
broker.add_middleware(WorkerRestart())   # `flask facho restart`: worker processes only

from actors import alerts, executions, maintenance, scheduler  # noqa: E402,F401  (register the actors)
