"""The Dramatiq broker shared by the worker (`dramatiq actors`) and the scheduler
(`periodiq actors`): Redis broker, periodiq middleware, and a Flask app context
around every message.

`setup_broker()` runs once per process when `actors` is imported, before any actor
is declared. The domain never imports the web app: the `actors` package hands its app
factory in (`set_app_factory(create_app)`), and tests call `bind_app(app)` to make actors
use their own app.
"""
from __future__ import annotations

import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware
from periodiq import PeriodiqMiddleware

NAMESPACE = "facho"

_app = None
_app_factory = None
_lock = threading.Lock()


class AppContextMiddleware(Middleware):
    """Push the Flask app context for the duration of each message (per worker thread)."""

    def __init__(self):
        self._local = threading.local()

    def before_process_message(self, broker, message):
        ctx = get_app().app_context()
        ctx.push()
        self._local.ctx = ctx

    def after_process_message(self, broker, message, *, result=None, exception=None):
        ctx = getattr(self._local, "ctx", None)
        if ctx is not None:
            from facho.extensions import db
            db.session.remove()
            ctx.pop()
            self._local.ctx = None

    after_skip_message = after_process_message


class WorkerPresence(Middleware):
    """Announce worker processes in Redis (`facho:worker:<host:pid>`, 30 s TTL, refreshed
    every 10 s). Dramatiq's own heartbeats also come from processes that only enqueue
    (web, CLI), so `flask facho workers` and the dashboard count these keys instead."""

    TTL_S = 30
    EVERY_S = 10

    def __init__(self):
        self._stop = threading.Event()

    @staticmethod
    def key() -> str:
        import os
        import socket
        return f"{NAMESPACE}:worker:{socket.gethostname()}:{os.getpid()}"

    def _beat(self, broker, worker) -> None:
        import json
        import time
        started = time.time()
        while True:
            try:
                broker.client.set(self.key(), json.dumps({
                    "queues": sorted(worker.consumer_whitelist or broker.get_declared_queues()),
                    "threads": worker.worker_threads, "started_at": started}), ex=self.TTL_S)
            except Exception:  # noqa: BLE001 - Redis down: try again at the next beat
                pass
            if self._stop.wait(self.EVERY_S):
                return

    def after_worker_boot(self, broker, worker):
        self._stop.clear()
        threading.Thread(target=self._beat, args=(broker, worker), daemon=True,
                         name="facho-presence").start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()
        try:
            broker.client.delete(self.key())
        except Exception:  # noqa: BLE001
            pass


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


def setup_broker(redis_url: str | None = None) -> RedisBroker:
    """Create the Redis broker and make it Dramatiq's global broker."""
    if redis_url is None:
        from facho.config import load_config
        from facho.redis_conn import redis_url_for
        redis_url = redis_url_for(load_config())
    broker = RedisBroker(url=redis_url, namespace=NAMESPACE, heartbeat_timeout=60_000)
    broker.add_middleware(PeriodiqMiddleware(skip_delay=30))
    broker.add_middleware(AppContextMiddleware())
    broker.add_middleware(WorkerPresence())
    dramatiq.set_broker(broker)
    return broker
