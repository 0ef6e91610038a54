"""Imported by the worker process of the restart tests
(`dramatiq actors actors.executions tests.reliability._restart_worker`):

- an OLT that is busy re-sends its waiting executions after 0.2-0.5 s instead of 2-5 s, so
  executions queued behind a one-slot OLT do not make the test wait;
- with FACHO_TEST_WORKER_STATE set, the worker writes what it holds in memory to that file
  (JSON, replaced atomically every 20 ms; `WorkerState.snapshot`), so the test waits on
  what the worker really holds instead of sleeping.

Nothing else changes."""
from __future__ import annotations

import json
import os
import threading
import time

import dramatiq
from dramatiq.middleware import Middleware

import facho.executions.run as module
from facho.messaging import EXECUTION_ACTORS

module.BUSY_DELAY_MS = (200, 500)


def _held(message) -> dict | None:
    """An execution message the worker holds: its execution id, queue and Redis id."""
    if message.actor_name not in EXECUTION_ACTORS or not message.args:
        return None
    return {"execution": int(message.args[0]), "queue": message.queue_name,
            "redis_id": message.options.get("redis_message_id")}


class WorkerState(Middleware):
    """Every 20 ms, writes {"at", "settled", "held", "consumers"}:

    - `held`: the execution messages in the work queue, being processed, or in a consumer's
      delay queue (each with the Redis id it was fetched under);
    - `settled`: no message is between two of those places (taken off a queue and not yet
      announced as processing, or processed and not yet acknowledged), so `held` is all the
      worker holds;
    - `consumers`: per queue, whether its thread is alive and the identity of its delay
      queue (Dramatiq replaces it when the consumer meets a connection error, dropping what
      it held)."""

    EVERY_S = 0.02

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._processing: dict[str, dict | None] = {}
        self._stop = threading.Event()

    def before_process_message(self, broker, message):
        with self._lock:
            self._processing[message.message_id] = _held(message)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self._lock:
            self._processing.pop(message.message_id, None)

    after_skip_message = after_process_message

    def after_worker_boot(self, broker, worker):
        threading.Thread(target=self._write_loop, args=(worker,), daemon=True,
                         name="test-worker-state").start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()

    def snapshot(self, worker) -> dict:
        held, settled, consumers = [], True, {}
        work = worker.work_queue
        with work.mutex:
            queued = [item.message for item in work.queue]
            unfinished = work.unfinished_tasks
            with self._lock:
                processing = list(self._processing.values())
        settled &= unfinished == len(queued) + len(processing)
        held += [h for h in processing if h is not None]
        for name, consumer in list(worker.consumers.items()):
            delay = consumer.delay_queue
            with delay.mutex:
                delayed = [item.message for item in delay.queue]
                settled &= delay.unfinished_tasks == len(delayed)
            queued += delayed
            consumers[name] = {"alive": consumer.is_alive(), "delay_queue": id(delay)}
        held += [h for h in map(_held, queued) if h is not None]
        return {"at": time.time(), "settled": settled, "held": held, "consumers": consumers}

    def _write_loop(self, worker) -> None:
        partial = f"{self.path}.part"
        while not self._stop.wait(self.EVERY_S):
            with open(partial, "w") as out:
                json.dump(self.snapshot(worker), out)
            os.replace(partial, self.path)


if os.environ.get("FACHO_TEST_WORKER_STATE"):
    dramatiq.get_broker().add_middleware(WorkerState(os.environ["FACHO_TEST_WORKER_STATE"]))
