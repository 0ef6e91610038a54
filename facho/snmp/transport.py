"""UDP transport: one connected socket per operation, always closed, short explicit retries.

Stock puresnmp opens a socket per request and loses it when the port is refused (a bare
``ConnectionRefusedError`` escapes before the socket is closed: one fd leaked per failed
request), and its defaults wait 6 s x 10 attempts. Here:

* ``UdpChannel`` is an async context manager: the socket is closed on every exit path,
  and it is reused for all requests of one operation (a whole walk), which also saves a
  socket set-up per GetBulk;
* ``timeout_s`` is per attempt and ``retries`` counts the extra attempts (net-snmp's
  ``-t``/``-r`` meaning): ``timeout_s=0.3, retries=1`` fails after ~0.6 s;
* replies are matched by the caller's ``accept`` function (request id), so a late answer
  to an earlier request on the same socket is skipped instead of being taken as this one
  (a timeout during which only such replies arrived says so: "no answer" would send the
  operator to check a device that is in fact answering wrongly);
* ICMP "port unreachable" becomes ``SnmpUnreachable`` at once (retrying within the same
  second cannot help; the job-level retry with backoff can).

``make_sender`` wraps the same logic in puresnmp's ``sender`` signature, for the code paths
that still go through ``puresnmp.Client`` (SNMPv3).
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable, TypeVar

from facho.snmp.errors import SnmpTimeout, SnmpUnreachable
from facho.snmp.pacing import Pacer

T = TypeVar("T")


class _Protocol(asyncio.DatagramProtocol):
    """Collects datagrams and socket errors; wakes the one waiting request."""

    def __init__(self) -> None:
        self.queue: deque[bytes] = deque()
        self.error: Exception | None = None
        self.waiter: asyncio.Future | None = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def datagram_received(self, data: bytes, addr) -> None:
        self.queue.append(data)
        self._wake()

    def error_received(self, exc: Exception) -> None:
        self.error = exc
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._wake()


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


class UdpChannel:
    """A connected UDP socket to ``host:port`` for the duration of an ``async with``.

    ``timeout_s``: seconds to wait for an answer to each attempt.
    ``retries``: extra attempts after the first one (so ``1 + retries`` sends in total).
    """

    def __init__(self, host: str, port: int, *, timeout_s: float, retries: int,
                 target: str | None = None, pacer: Pacer | None = None) -> None:
        self.host = host
        self.pacer = pacer  # the OLT's polling budget, awaited before every datagram
        self.port = port
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.target = target or f"{host}:{port}"
        self.sends = 0  # datagrams sent, retries included (for stats)
        self.ignored = 0  # datagrams received that ``accept`` skipped (stale, not ours)
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None

    async def __aenter__(self) -> "UdpChannel":
        loop = asyncio.get_running_loop()
        try:
            self._transport, self._protocol = await loop.create_datagram_endpoint(
                _Protocol, remote_addr=(self.host, self.port))
        except OSError as exc:  # unresolvable name, no route…: nothing was opened
            raise SnmpUnreachable(self.target, exc.strerror or type(exc).__name__) from exc
        return self

    async def __aexit__(self, *exc_info) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            # close() defers the real socket close to the next loop iteration; let it run
            # so a caller counting fds (or closing its loop right away) sees it gone.
            await asyncio.sleep(0)

    async def exchange(self, packet: bytes, accept: Callable[[bytes], T | None]) -> T:
        """Send ``packet`` and return ``accept(reply)`` for the first reply it accepts
        (``accept`` returns None to skip a datagram: stale id, other community…).

        Raises SnmpTimeout after ``1 + retries`` unanswered attempts, SnmpUnreachable when
        the port is refused. Exceptions raised by ``accept`` propagate unchanged.
        """
        if self._transport is None:
            raise RuntimeError("UdpChannel used outside 'async with'")
        loop = asyncio.get_running_loop()
        attempts = 1 + self.retries
        ignored = 0
        pacer = self.pacer
        for _ in range(attempts):
            if pacer is not None:
                await pacer.before_send()
            self._check_error()
            self._transport.sendto(packet)
            self.sends += 1
            deadline = loop.time() + self.timeout_s
            while True:
                data = await self._next_datagram(loop, deadline)
                if data is None:
                    if pacer is not None:
                        pacer.answered()
                    break
                result = accept(data)
                if result is not None:
                    if pacer is not None:
                        pacer.answered()
                    return result
                ignored += 1
                self.ignored += 1
        # One late duplicate of an earlier request (a lossy link) is not "answering wrongly";
        # a wrong reply to every attempt is.
        raise SnmpTimeout(self.target, attempts, self.timeout_s,
                          ignored if ignored >= attempts else 0)

    def _check_error(self) -> None:
        proto = self._protocol
        if proto is not None and proto.error is not None:
            exc, proto.error = proto.error, None
            detail = "" if isinstance(exc, ConnectionRefusedError) else str(exc)
            raise SnmpUnreachable(self.target, detail) from exc

    async def _next_datagram(self, loop: asyncio.AbstractEventLoop,
                             deadline: float) -> bytes | None:
        """The next received datagram, or None once ``deadline`` (loop time) passes."""
        proto = self._protocol
        while True:
            self._check_error()
            if proto.queue:
                return proto.queue.popleft()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            fut = loop.create_future()
            proto.waiter = fut
            handle = loop.call_later(remaining, _expire, fut)
            try:
                await fut
            finally:
                handle.cancel()
                proto.waiter = None


def make_sender(timeout_s: float, retries: int, target: str | None = None,
                pacer: Pacer | None = None):
    """A puresnmp-compatible ``sender`` that always closes its socket and uses our timeout
    and retries (puresnmp's own ``timeout``/``retries`` arguments are ignored on purpose)."""

    async def sender(endpoint, packet: bytes, timeout=None, loop=None, retries_=None,
                     **_ignored) -> bytes:
        async with UdpChannel(str(endpoint.ip), endpoint.port, timeout_s=timeout_s,
                              retries=retries, target=target, pacer=pacer) as channel:
            return await channel.exchange(packet, lambda data: data)

    return sender
