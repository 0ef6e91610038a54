"""A fast simulated SNMP agent (v1/v2c) for tests and benchmarks: the worker, not the
simulator, is the limit.

snmpsim answers about 3,000 ONUs/s, which bounded every end-to-end figure. This agent loads
a ``.snmprec`` recording (a real one from ``tests/data/snmprec`` or one written by
``olt_sim.write_snmprec``: Huawei and ZTE row indexes) into a sorted table of pre-encoded
varbinds and answers Get, GetNext and GetBulk with a binary search and a join of bytes,
on one asyncio UDP socket, using Facho's own ``facho.snmp.codec`` to read requests.

It models an OLT's limits:

* ``rtt_ms``: every answer leaves that long after its request arrived (the network);
* ``max_rps``: a CPU that serves that many requests per second, one after another; a
  request arriving while it is busy waits its turn (answers get later, none is dropped).
  Each community is one OLT with its own CPU (one process can stand in for a fleet).

and records what it saw (``AgentStats``): requests per PDU type, requests per wall-clock
second (to check a polling budget at the device), varbinds sent; per community, its
requests and its busiest wall-clock second, and with ``budget_rps`` the seconds in which a
community received more than that (budget violations, counted at the device). ``faults`` make it
misbehave on GetBulk like some ZTE C300s: ``bulk="empty"`` (an answer with no varbinds),
``bulk="silent"`` (no answer), ``bulk_end_at=OID`` (GetBulk says endOfMibView from that OID
on, while GETNEXT still walks the whole table).

``FastAgent(...).serve_in_thread()`` runs it beside a test; ``python -m facho.ops.fast_agent
FILE.snmprec --port P [--rtt-ms] [--max-rps] [--budget-rps]`` runs it as a process
(benchmarks); SIGUSR1 makes that process print its stats as one JSON line
(``FastAgentProcess.stats()``).
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from facho.snmp import codec

_tlv, _integer = codec._tlv, codec._integer
END_OF_MIB_VIEW = b"\x82\x00"
NO_SUCH_OBJECT = b"\x80\x00"
NO_SUCH_NAME = 2
MAX_DATAGRAM = 65_000     # answers stay below the UDP limit: fewer repetitions, as RFC 3416
UNSIGNED_TAGS = {"65": 0x41, "66": 0x42, "67": 0x43, "70": 0x46}


def encode_snmprec_value(tag: str, text: bytes) -> bytes:
    """One snmprec value (``tag`` as in the file: ``2``, ``4``, ``4x``, ``4e``, ``6``,
    ``64``, ``65``, ``66``, ``67``, ``70``…) -> its BER TLV, as snmpsim would send it."""
    kind, form = (tag[:-1], tag[-1]) if tag[-1:] in ("x", "e") else (tag, "")
    if form == "x":
        raw = bytes.fromhex(text.decode("ascii"))
    elif form == "e":
        raw = text.decode("latin-1").encode("latin-1").decode("unicode_escape").encode("latin-1")
    else:
        raw = text
    if kind == "2":
        return _integer(int(raw))
    if kind in ("4", "68"):
        return _tlv(0x04 if kind == "4" else 0x44, raw)
    if kind in UNSIGNED_TAGS:
        value = int(raw)
        return _tlv(UNSIGNED_TAGS[kind], value.to_bytes(value.bit_length() // 8 + 1, "big"))
    if kind == "6":
        return _tlv(0x06, codec.encode_oid(codec.parse_oid(raw.decode("ascii"))))
    if kind == "64":
        return _tlv(0x40, raw if form == "x" else bytes(int(p) for p in raw.split(b".")))
    if kind == "5":
        return b"\x05\x00"
    raise ValueError(f"tipo snmprec no soportado: {tag}")


class Table:
    """A recording as sorted OIDs (tuples) and their pre-encoded varbinds."""

    def __init__(self, records: list[tuple[tuple[int, ...], bytes]]) -> None:
        # An OID recorded twice (real recordings have some) keeps its last value, as snmpsim.
        records = sorted(dict(records).items())
        self.keys = [oid for oid, _ in records]
        self.varbinds = [_tlv(0x30, _tlv(0x06, codec.encode_oid(oid)) + value)
                         for oid, value in records]
        self.exact = {oid: i for i, oid in enumerate(self.keys)}

    @classmethod
    def from_snmprec(cls, path: str | Path) -> "Table":
        records = []
        for line in Path(path).read_bytes().splitlines():
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            oid, tag, value = line.split(b"|", 2)
            records.append((codec.parse_oid(oid.decode("ascii")),
                            encode_snmprec_value(tag.decode("ascii"), value)))
        return cls(records)

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class AgentStats:
    pdus: collections.Counter = field(default_factory=collections.Counter)   # PDU tag -> n
    per_second: collections.Counter = field(default_factory=collections.Counter)  # epoch s
    varbinds: int = 0
    requests: int = 0
    outstanding: int = 0        # requests received and not answered yet (RTT, CPU queue)
    peak_outstanding: int = 0   # the most at once: how many walks a client kept in flight
    by_community: collections.Counter = field(default_factory=collections.Counter)
    # community -> its busiest wall-clock second (requests in it)
    community_peak_per_second: dict = field(default_factory=dict)
    budget_violations: int = 0  # (community, second) pairs above ``budget_rps``
    _second: dict = field(default_factory=dict)   # community -> [epoch s, requests in it]

    @property
    def peak_per_second(self) -> int:
        return max(self.per_second.values(), default=0)

    def count(self, community: bytes, kind: int, budget_rps: float) -> None:
        now = int(time.time())
        self.requests += 1
        self.pdus[kind] += 1
        self.per_second[now] += 1
        self.by_community[community] += 1
        second = self._second.get(community)
        if second is None or second[0] != now:
            second = self._second[community] = [now, 0]
        second[1] += 1
        if second[1] > self.community_peak_per_second.get(community, 0):
            self.community_peak_per_second[community] = second[1]
        if budget_rps and second[1] == int(budget_rps) + 1:   # once per second over
            self.budget_violations += 1

    def as_dict(self) -> dict:
        """JSON-ready summary (communities as text, PDU types by name)."""
        names = {codec.GET: "get", codec.GETNEXT: "getnext", codec.GETBULK: "getbulk"}
        return {"requests": self.requests, "varbinds": self.varbinds,
                "pdus": {names.get(k, str(k)): n for k, n in self.pdus.items()},
                "peak_outstanding": self.peak_outstanding,
                "peak_per_second": self.peak_per_second,
                "budget_violations": self.budget_violations,
                "by_community": {c.decode(): n for c, n in self.by_community.items()},
                "community_peak_per_second": {
                    c.decode(): n for c, n in self.community_peak_per_second.items()}}


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, agent: "FastAgent") -> None:
        self.agent = agent

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.agent.handle(self.transport, data, addr)


class FastAgent:
    """Serve ``tables`` ({community: Table}) on 127.0.0.1:``port`` (0 = any free port)."""

    def __init__(self, tables: dict[str, Table], port: int = 0, *, rtt_ms: float = 0.0,
                 max_rps: float = 0.0, bulk: str | None = None,
                 bulk_end_at: str | None = None, budget_rps: float = 0.0) -> None:
        self.tables = {c.encode(): t for c, t in tables.items()}
        self.port = port
        self.rtt_s = rtt_ms / 1000.0
        self.service_s = 1.0 / max_rps if max_rps else 0.0
        self.bulk = bulk                  # None | "empty" | "silent"
        self.bulk_end_at = codec.parse_oid(bulk_end_at) if bulk_end_at else None
        self.budget_rps = budget_rps
        self.stats = AgentStats()
        self._busy_until: dict[bytes, float] = {}   # community (one OLT's CPU) -> loop time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- serving --------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", self.port))
        self.port = self._transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def handle(self, transport, data: bytes, addr) -> None:
        try:
            version, community, kind, request = codec.decode_message(data)
        except (ValueError, IndexError):
            return
        table = self.tables.get(community)
        if table is None:
            return  # a wrong community is silence, as on a real agent
        stats = self.stats
        stats.count(community, kind, self.budget_rps)
        if kind == codec.GETBULK and self.bulk == "silent":
            return
        body, status, index, count = self._answer(table, version, kind, request)
        stats.varbinds += count
        pdu = (_integer(request.request_id) + _integer(status) + _integer(index)
               + _tlv(0x30, body))
        reply = _tlv(0x30, _integer(version) + _tlv(0x04, community) + _tlv(codec.RESPONSE, pdu))
        delay = self.rtt_s
        if self.service_s:
            now = self._loop.time()
            busy_until = max(now, self._busy_until.get(community, 0.0)) + self.service_s
            self._busy_until[community] = busy_until
            delay += busy_until - now
        if delay > 0:
            stats.outstanding += 1
            stats.peak_outstanding = max(stats.peak_outstanding, stats.outstanding)
            self._loop.call_later(delay, self._send_late, transport, reply, addr)
        else:
            transport.sendto(reply, addr)

    def _send_late(self, transport, reply: bytes, addr) -> None:
        self.stats.outstanding -= 1
        if not transport.is_closing():
            transport.sendto(reply, addr)

    def _answer(self, table: Table, version: int, kind: int, request) -> tuple[bytes, int, int, int]:
        """(varbind list body, error-status, error-index, varbinds) for one request."""
        oids = [codec.decode_oid(o) for o, _ in request.varbinds]
        keys, varbinds = table.keys, table.varbinds
        if kind == codec.GET:
            out = []
            for position, oid in enumerate(oids, 1):
                i = table.exact.get(oid)
                if i is None:
                    if version == codec.VERSION_V1:
                        return _echo(oids), NO_SUCH_NAME, position, 0
                    out.append(_tlv(0x30, _tlv(0x06, codec.encode_oid(oid)) + NO_SUCH_OBJECT))
                else:
                    out.append(varbinds[i])
            return b"".join(out), 0, 0, len(out)
        starts = [bisect.bisect_right(keys, oid) for oid in oids]
        if kind == codec.GETNEXT:
            out = []
            for position, (oid, i) in enumerate(zip(oids, starts), 1):
                if i < len(keys):
                    out.append(varbinds[i])
                elif version == codec.VERSION_V1:
                    return _echo(oids), NO_SUCH_NAME, position, 0
                else:
                    out.append(_end(oid))
            return b"".join(out), 0, 0, len(out)
        if kind != codec.GETBULK or version == codec.VERSION_V1:
            return _echo(oids), 5, 0, 0  # genErr: not something an OLT is asked
        if self.bulk == "empty":
            return b"", 0, 0, 0
        # In a GetBulk request the error fields carry non-repeaters and max-repetitions.
        non_repeaters, repetitions = request.error_status, max(1, request.error_index)
        end = len(keys)
        if self.bulk_end_at is not None:
            end = bisect.bisect_left(keys, self.bulk_end_at)
        out, size = [], 0
        for position in range(min(non_repeaters, len(oids))):
            i = starts[position]
            out.append(varbinds[i] if i < end else _end(oids[position]))
        columns = list(range(non_repeaters, len(oids)))
        last = {c: oids[c] for c in columns}
        for r in range(repetitions):
            row, ended = [], 0
            for c in columns:
                i = starts[c] + r
                if i < end:
                    row.append(varbinds[i])
                else:
                    row.append(_end(last[c]))
                    ended += 1
            width = sum(len(v) for v in row)
            if out and size + width > MAX_DATAGRAM:
                break
            out.extend(row)
            size += width
            if ended == len(columns):
                break
        return b"".join(out), 0, 0, len(out)

    # -- running beside a test ------------------------------------------------------

    def serve_in_thread(self) -> "FastAgent":
        """Start serving on a daemon thread with its own event loop; returns self."""
        def main():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            self._ready.set()
            loop.run_forever()
            self.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=main, daemon=True, name="fast-agent")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("el agente SNMP simulado no arrancó")
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "FastAgent":
        return self.serve_in_thread()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _end(oid: tuple[int, ...]) -> bytes:
    return _tlv(0x30, _tlv(0x06, codec.encode_oid(oid)) + END_OF_MIB_VIEW)


def _echo(oids: list[tuple[int, ...]]) -> bytes:
    return b"".join(_tlv(0x30, _tlv(0x06, codec.encode_oid(o)) + b"\x05\x00") for o in oids)


class FastAgentProcess:
    """``python -m facho.ops.fast_agent`` serving ``recordings`` on a free 127.0.0.1 port
    in its own process (benchmarks: the agent's CPU apart from the client's); ``stop()``
    ends it, ``stats()`` asks it for ``AgentStats.as_dict()``. ``options``: ``rtt_ms``,
    ``max_rps``, ``budget_rps``."""

    def __init__(self, recordings, **options) -> None:
        import subprocess
        import sys

        args = [sys.executable, "-m", "facho.ops.fast_agent",
                *[str(p) for p in recordings], "--port", "0"]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "listening" not in line:
            self.stop()
            raise RuntimeError(f"el agente SNMP simulado no arrancó: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def stats(self) -> dict:
        """What the agent has received so far (it answers SIGUSR1 with one JSON line)."""
        self.process.send_signal(signal.SIGUSR1)
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)

    def __enter__(self) -> "FastAgentProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Agente SNMP simulado rápido (v1/v2c).")
    parser.add_argument("snmprec", nargs="+", help="grabaciones .snmprec (comunidad = nombre)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--max-rps", type=float, default=0.0,
                        help="CPU de cada OLT (comunidad): solicitudes por segundo")
    parser.add_argument("--budget-rps", type=float, default=0.0,
                        help="contar los segundos en que una comunidad recibe más que esto")
    parser.add_argument("--alias", type=int, default=0, metavar="N",
                        help="servir cada grabación también como <comunidad>-0 … -(N-1) "
                             "(una flota de OLTs iguales con una sola tabla en memoria)")
    args = parser.parse_args(argv)
    tables = {Path(p).name.removesuffix(".snmprec"): Table.from_snmprec(p) for p in args.snmprec}
    if args.alias:
        tables = {f"{name}-{n}": table for name, table in tables.items()
                  for n in range(args.alias)}
    agent = FastAgent(tables, args.port, rtt_ms=args.rtt_ms, max_rps=args.max_rps,
                      budget_rps=args.budget_rps)

    def dump_stats():
        sys.stdout.write(json.dumps(agent.stats.as_dict()) + "\n")
        sys.stdout.flush()

    async def serve():
        await agent.start()
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_stats)
        print(f"listening 127.0.0.1:{agent.port}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
