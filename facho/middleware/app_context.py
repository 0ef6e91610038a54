"""A Flask app context around every message, and which app that is.

The domain never imports the web app: the worker's entry point (`actors`) hands its app
factory in with `set_app_factory(create_app)`, and tests call `bind_app(app)`."""
from __future__ import annotations

import logging
import threading

from dramatiq.middleware import Middleware

from facho.extensions import db

_app = None
_app_factory = None
_lock = threading.Lock()


def get_app():
    """The Flask app messages run in: the one bound, else one built by the factory handed
    in by the process's entry point (`actors`)."""
    global _app
    with _lock:
        if _app is None:
            if _app_factory is None:
                raise RuntimeError("no Flask app bound: import actors or call bind_app(app)")
            _app = _app_factory()
        return _app


def set_app_factory(factory) -> None:
    global _app_factory
    _app_factory = factory


def bind_app(app) -> None:
    global _app
    _app = app


class AppContextMiddleware(Middleware):
    """Push the Flask app context for the duration of each message (per worker thread)."""

    def __init__(self):
        self._local = threading.local()

    def after_worker_boot(self, broker, worker):
        # Build the app now, not on the first message: its start-up (about a second of
        # imports and set-up) was the start lag of the first slot a new worker ran.
        if _app is None and _app_factory is not None:
            try:
                get_app()
            except Exception:  # the first message meets the same error and reports it
                logging.getLogger(__name__).exception("event=app_build_failed")

    def before_process_message(self, broker, message):
        ctx = get_app().app_context()
        ctx.push()
        self._local.ctx = ctx

    def after_process_message(self, broker, message, *, result=None, exception=None):
        ctx = getattr(self._local, "ctx", None)
        if ctx is not None:
            db.session.remove()
            ctx.pop()
            self._local.ctx = None

    after_skip_message = after_process_message
