"""The polling budget at the wire: what happens before each datagram goes to an OLT.

An OLT's CPU answers SNMP; polling too hard hurts it (ZTE advises hourly optical reads, a
Huawei MA5680 with 1,000+ ONTs becomes "very cpu heavy"). The budget of one OLT
(``Olt.max_repetitions``, ``max_requests_per_second``, ``request_pause_ms``,
``getnext_only``) reaches this layer through ``SnmpTarget``:

* ``bulk_size`` is max-repetitions per GetBulk (``walk.py``);
* ``getnext_only`` makes walks use GETNEXT (``walk.py``);
* ``pause_ms``: silence between an answer and the next request of the same operation
  (a walk), applied here per channel;
* ``gate``: a ``RequestGate`` shared by every process polling the OLT (the Redis limiter
  ``facho.executions.request_rate``); each datagram, retransmissions included, waits for it.

``Pacer`` combines the last two for one channel. The SNMP layer knows nothing of Redis:
the gate is any object with ``async wait()``.
"""
from __future__ import annotations

import asyncio
from typing import Protocol


class RequestGate(Protocol):
    """Returns when one more request may be sent to the OLT (it books that request)."""

    async def wait(self) -> None: ...


class Pacer:
    """Before each send: the pause since the last answer, then the OLT's shared gate.

    ``pause_s``: seconds between an answer (or a timeout) and the next datagram.
    """

    def __init__(self, pause_s: float = 0.0, gate: RequestGate | None = None) -> None:
        self.pause_s = max(0.0, pause_s)
        self.gate = gate
        self._last_answer: float | None = None
        self.waited_s = 0.0  # time spent waiting on the budget (for stats)

    @property
    def active(self) -> bool:
        return self.pause_s > 0 or self.gate is not None

    async def before_send(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.pause_s and self._last_answer is not None:
            remaining = self._last_answer + self.pause_s - started
            if remaining > 0:
                await asyncio.sleep(remaining)
        if self.gate is not None:
            await self.gate.wait()
        self.waited_s += loop.time() - started

    def answered(self) -> None:
        """An answer arrived (or an attempt timed out): the pause counts from now."""
        self._last_answer = asyncio.get_running_loop().time()


def pacer_for(target) -> Pacer | None:
    """The pacer of an ``SnmpTarget``'s budget, or None when it has none."""
    pacer = Pacer(getattr(target, "pause_ms", 0) / 1000.0, getattr(target, "gate", None))
    return pacer if pacer.active else None
