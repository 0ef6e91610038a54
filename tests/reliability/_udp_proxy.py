"""A loopback UDP proxy that loses and delays a share of the datagrams it forwards.

    with LossyUdpProxy(upstream_port=agent.port, loss=0.5, seed=7) as proxy:
        olt.snmp_port = proxy.port           # the OLT is now "behind a bad link"
    proxy.stats  ->  {"received": …, "forwarded": …, "dropped": …, "delayed": …}

Each client address gets its own upstream socket (as a NAT would), so the agent's answers
go back to the client that asked. ``loss`` is the probability that any one datagram, in
either direction, is dropped; ``delay_share`` of the survivors wait ``delay_s`` first.
Decisions come from a seeded ``random.Random`` so a run can be repeated; with several
clients at once the interleaving still varies. An upstream socket idle for ``idle_s`` is
closed (the client opens a new socket per walk, so a long run would pile them up).
Only 127.0.0.1 is ever used.
"""
from __future__ import annotations

import heapq
import itertools
import random
import selectors
import socket
import threading
import time

LOOPBACK = "127.0.0.1"


class LossyUdpProxy:
    def __init__(self, upstream_port: int, *, loss: float = 0.0, delay_s: float = 0.0,
                 delay_share: float = 0.0, seed: int = 0, idle_s: float = 10.0,
                 upstream_host: str = LOOPBACK):
        if upstream_host != LOOPBACK:
            raise ValueError("the proxy only forwards to 127.0.0.1")
        self.upstream = (upstream_host, upstream_port)
        self.loss, self.delay_s, self.delay_share = loss, delay_s, delay_share
        self._random = random.Random(seed)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listener.bind((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.idle_s = idle_s
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, selectors.EVENT_READ)
        self._by_client: dict[tuple, socket.socket] = {}
        self._client_of: dict[socket.socket, tuple] = {}
        self._used: dict[socket.socket, float] = {}
        self._later: list[tuple[float, int, socket.socket, bytes, tuple | None]] = []
        self._order = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="lossy-udp-proxy")
        self.stats = {"received": 0, "forwarded": 0, "dropped": 0, "delayed": 0}

    def __enter__(self) -> "LossyUdpProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(2)
        for sock in [self.listener, *self._client_of]:
            sock.close()
        self._selector.close()

    # -- forwarding ---------------------------------------------------------------------

    def _decide(self) -> float | None:
        """None: drop. Otherwise the delay before forwarding (0 = now)."""
        if self._random.random() < self.loss:
            return None
        if self.delay_s and self._random.random() < self.delay_share:
            return self.delay_s
        return 0.0

    def _forward(self, sock: socket.socket, data: bytes, addr: tuple | None) -> None:
        self.stats["received"] += 1
        delay = self._decide()
        if delay is None:
            self.stats["dropped"] += 1
            return
        if delay:
            self.stats["delayed"] += 1
            heapq.heappush(self._later, (time.monotonic() + delay, next(self._order), sock,
                                         data, addr))
            return
        self._send(sock, data, addr)

    def _send(self, sock: socket.socket, data: bytes, addr: tuple | None) -> None:
        try:
            if addr is None:
                sock.send(data)          # upstream socket: connected to the agent
            else:
                sock.sendto(data, addr)  # back to the client through the listener
            self.stats["forwarded"] += 1
        except OSError:                  # the agent's port closed: like a lost datagram
            self.stats["dropped"] += 1

    def _upstream_for(self, client: tuple) -> socket.socket:
        sock = self._by_client.get(client)
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((LOOPBACK, 0))
            sock.connect(self.upstream)
            self._by_client[client] = sock
            self._client_of[sock] = client
            self._selector.register(sock, selectors.EVENT_READ)
        self._used[sock] = time.monotonic()
        return sock

    def _close_idle(self, now: float) -> None:
        for sock, used in list(self._used.items()):
            if now - used > self.idle_s and not any(s is sock for _, _, s, _, _ in self._later):
                self._selector.unregister(sock)
                client = self._client_of.pop(sock)
                del self._by_client[client]
                del self._used[sock]
                sock.close()

    @property
    def upstream_sockets(self) -> int:
        return len(self._client_of)

    def _serve(self) -> None:
        swept = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            while self._later and self._later[0][0] <= now:
                _, _, sock, data, addr = heapq.heappop(self._later)
                self._send(sock, data, addr)
            if now - swept > 1.0:
                self._close_idle(now)
                swept = now
            wait = 0.05 if not self._later else max(0.0, min(0.05, self._later[0][0] - now))
            try:
                ready = [key.fileobj for key, _ in self._selector.select(wait)]
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    data, addr = sock.recvfrom(65535)
                except OSError:          # ICMP refused from the agent side: nothing to read
                    continue
                if sock is self.listener:
                    self._forward(self._upstream_for(addr), data, None)
                else:
                    self._forward(self.listener, data, self._client_of[sock])
