"""One asyncio event loop per process, on its own daemon thread, that runs coroutines
submitted from any thread.

Why: a walk mostly waits on the network. A thread per walk with its own fresh event loop
(``asyncio.run`` in each Dramatiq worker thread) costs an epoll instance, a self-pipe and a
loop per walk; here every walk of the process is a task of the same loop, so what walks in
flight cost is one UDP socket and a task each (``bench/bench_fleet.py`` measures both).

``shared_loop().run(coro)`` blocks the calling thread until ``coro`` ends and returns its
result (or raises its exception). The wait is a poll every ``POLL_S`` seconds, so an
exception raised asynchronously in the caller (Dramatiq's time limit, a shutdown) lands
within that time; the coroutine is then cancelled and the exception propagates.

The loop starts on first use (after a fork, never before: a worker process forked with
the loop running would inherit a loop without its thread).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from typing import Awaitable, TypeVar

T = TypeVar("T")
POLL_S = 0.2


class SharedLoop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def serve():
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=serve, daemon=True, name="snmp-loop").start()
                ready.wait()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coro: Awaitable[T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            while not future.done():
                concurrent.futures.wait([future], timeout=POLL_S)
        except BaseException:
            future.cancel()  # cancels the task on the loop; its sockets close on the way out
            raise
        return future.result()


_shared = SharedLoop()


def shared_loop() -> SharedLoop:
    """The process's shared loop (started on first use)."""
    return _shared
