"""The worker side of `flask facho restart` (protocol in facho/worker_restart.py).

Each worker process watches the restart request in Redis. When it names this process,
a process started by `dramatiq` (CLI) answers and sends SIGHUP to its `dramatiq` main
process, once per main process. Dramatiq's main process forwards SIGHUP to its worker
processes, which stop gracefully: `Worker.stop` raises Shutdown in the execution actors
(`notify_shutdown=True`), whose row goes back to PENDING with a new message
(actors/executions.py `_last_resort`); messages fetched but not started are requeued by
Dramatiq. Then the main process re-executes itself (`os.execvp`, same pid) and starts new
worker processes. A process manager (honcho, systemd) sees no exit, so web and the
scheduler keep running.

Processes that are not `dramatiq` worker processes but run a Worker (the scheduler's
in-process worker, tests) answer `skipped`: restarting them is not this command's job.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading

from dramatiq.middleware import Middleware, SkipMessage

from facho.ops import worker_restart as protocol
from facho.logging_setup import kv
from facho.messaging import EXECUTION_ACTORS, worker_id, worker_key

log = logging.getLogger("facho.actors.restart")

NOT_DRAMATIQ = ("no es un proceso worker de `dramatiq actors` (p. ej. el worker interno del "
                "scheduler); el comando no lo toca")


class WorkerRestart(Middleware):
    """Watch for a restart request every POLL_S seconds (from after_worker_boot until
    before_worker_shutdown), and count what happened to the executions that were running."""

    POLL_S = 1.0
    # A message put back waits this long (ms) before it can be fetched again: an idle
    # thread of a process that is still stopping would otherwise fetch and put back the
    # same message in a tight loop, starving the stop of the GIL under load.
    PUT_BACK_DELAY_MS = 1000

    def __init__(self):
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()     # the watcher and the shutdown both check
        self._stop = threading.Event()
        self._dramatiq_child = False
        self._handled: set[str] = set()
        self._in_flight: dict[str, int] = {}      # message id -> execution id
        self._restart: dict | None = None         # the request this process answered

    # --- which process this is ------------------------------------------------------------
    def after_process_boot(self, broker):
        # `dramatiq` emits process_boot only in the worker processes it forks; the scheduler
        # and in-process test workers never do. The parent is then the `dramatiq` main.
        self._dramatiq_child = multiprocessing.parent_process() is not None

    @staticmethod
    def worker_id() -> str:
        return worker_id(worker_key())

    # --- watching -------------------------------------------------------------------------
    def after_worker_boot(self, broker, worker):
        # one event per Worker: the scheduler starts and stops one at each leadership change
        self._stop = threading.Event()
        if self._dramatiq_child:
            self._announce_if_new(broker.client)
        threading.Thread(target=self._watch, args=(broker.client, self._stop), daemon=True,
                         name="facho-restart").start()

    def before_worker_shutdown(self, broker, worker):
        self._stop.set()
        if self._dramatiq_child:
            # With --processes > 1, a sibling may have signalled our `dramatiq` main before
            # this process looked at the request: answer now, so the CLI hears from it too.
            try:
                self.check(broker.client, stopping=True)
            except Exception as exc:  # noqa: BLE001 - only the CLI's report misses it
                log.warning(kv(event="worker_restart_check_failed", error=str(exc)[:200]))

    def _watch(self, client, stop: threading.Event) -> None:
        while not stop.wait(self.POLL_S):
            try:
                self.check(client)
            except Exception as exc:  # noqa: BLE001 - Redis down: look again at the next poll
                log.debug(kv(event="worker_restart_check_failed", error=str(exc)[:200]))

    def check(self, client, stopping: bool = False) -> str | None:
        """Answer the current request if it names this process; the state answered.

        `stopping`: this process is already shutting down. It answers only when a sibling
        signalled its main process for this request, and never signals itself: a SIGHUP
        to a main process stopping for SIGTERM would turn that stop into a restart."""
        with self._check_lock:
            return self._check(client, stopping)

    def _check(self, client, stopping: bool) -> str | None:
        request = protocol.current_request(client)
        me = self.worker_id()
        if not request or request["id"] in self._handled or me not in request["targets"]:
            return None
        host, pid, ppid = socket.gethostname(), os.getpid(), os.getppid()
        if stopping and protocol.signalled_by(client, request["id"], host, ppid) is None:
            return None
        self._handled.add(request["id"])
        if not self._dramatiq_child:
            protocol.answer(client, request["id"], me, {"state": protocol.SKIPPED,
                                                         "reason": NOT_DRAMATIQ})
            return protocol.SKIPPED
        with self._lock:
            running = sorted(set(self._in_flight.values()))
            self._restart = {"id": request["id"], "executions": set(running),
                             "handed_back": set()}
        protocol.answer(client, request["id"], me, {
            "state": protocol.RESTARTING, "host": host, "pid": pid, "ppid": ppid,
            "running": running})
        log.warning(kv(event="worker_restart", request=request["id"], running=len(running)))
        if not stopping and protocol.claim_signal(client, request["id"], host, ppid, me):
            try:
                os.kill(ppid, signal.SIGHUP)
            except OSError as exc:
                with self._lock:
                    self._restart = None
                protocol.answer(client, request["id"], me, {
                    "state": protocol.FAILED, "host": host, "pid": pid, "ppid": ppid,
                    "reason": f"no se pudo avisar al proceso `dramatiq` {ppid} ({exc})"})
                return protocol.FAILED
        return protocol.RESTARTING

    def _announce_if_new(self, client) -> None:
        """A worker process started by a restart tells the waiting CLI so."""
        try:
            request = protocol.current_request(client)
            if not request or self.worker_id() in request["targets"]:
                return
            host, ppid = socket.gethostname(), os.getppid()
            if protocol.signalled_by(client, request["id"], host, ppid) is None:
                return    # this main process was not restarted by the request
            protocol.answer(client, request["id"], f"new:{self.worker_id()}",
                            {"host": host, "pid": os.getpid(), "ppid": ppid})
        except Exception as exc:  # noqa: BLE001 - only the CLI's report misses it
            log.warning(kv(event="worker_restart_announce_failed", error=str(exc)[:200]))

    # --- what happened to the running executions ------------------------------------------
    def before_process_message(self, broker, message):
        with self._lock:
            restarting = self._restart is not None
        if restarting:
            self._put_back(broker, message)
        if message.actor_name not in EXECUTION_ACTORS or not message.args:
            return
        with self._lock:
            self._in_flight[message.message_id] = int(message.args[0])

    def _put_back(self, broker, message) -> None:
        """A process that is restarting starts nothing new: the message goes back to its
        queue for the next worker process, and Dramatiq acks this copy (SkipMessage).
        Without this, a worker thread that is idle when the shutdown begins still takes
        one more message (even the one a running execution just handed back) and runs it
        to the end, holding the restart up for a whole walk. The copy goes through the
        delay queue, which the next worker process consumes as well."""
        try:
            broker.enqueue(message.copy(), delay=self.PUT_BACK_DELAY_MS)
        except Exception as exc:  # noqa: BLE001 - Redis refused: run it here, never lose it
            log.warning(kv(event="worker_restart_put_back_failed", actor=message.actor_name,
                           message=message.message_id, error=str(exc)[:200]))
            return
        log.info(kv(event="worker_restart_put_back", actor=message.actor_name,
                    message=message.message_id))
        raise SkipMessage("el worker se está reiniciando")

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self._lock:
            self._in_flight.pop(message.message_id, None)

    after_skip_message = after_process_message

    def after_enqueue(self, broker, message, delay):
        # A running execution that sends its own message again has handed its row back
        # (shutdown, busy OLT): someone else finishes it.
        if message.actor_name not in EXECUTION_ACTORS or not message.args:
            return
        with self._lock:
            if self._restart is not None and int(message.args[0]) in self._restart["executions"]:
                self._restart["handed_back"].add(int(message.args[0]))

    def after_worker_shutdown(self, broker, worker):
        with self._lock:
            restart, self._restart = self._restart, None
            still = set(self._in_flight.values())
        if restart is None:
            return
        executions = restart["executions"]
        handed_back = restart["handed_back"] & executions
        unfinished = (executions & still) - handed_back
        finished = executions - handed_back - unfinished
        data = {"state": protocol.STOPPED, "host": socket.gethostname(), "pid": os.getpid(),
                "ppid": os.getppid(), "finished": len(finished),
                "handed_back": len(handed_back), "unfinished": len(unfinished),
                "handed_back_ids": sorted(handed_back), "unfinished_ids": sorted(unfinished)}
        log.warning(kv(event="worker_restart_stopped", request=restart["id"],
                       finished=len(finished), handed_back=len(handed_back),
                       unfinished=len(unfinished)))
        try:
            protocol.answer(broker.client, restart["id"], self.worker_id(), data)
        except Exception as exc:  # noqa: BLE001 - the CLI then reports it as still stopping
            log.warning(kv(event="worker_restart_answer_failed", error=str(exc)[:200]))
