"""Fake Huawei-like agents on 127.0.0.1 that answer a discovery walk wrongly, one way each.

The base is a correct agent (``mib_policy``: GetBulk over a sorted MIB with the varbinds
interleaved per repetition, as RFC 3416 orders them) serving ``ROWS`` ONUs: the serial column
``43.1.3`` (8-octet GPON serials) and the distance column ``46.1.20`` (INTEGER metres). Each
``Variant`` breaks one thing (the packet, the PDU, a value, the order of OIDs…) and states
what an execution against it must end as.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Callable

from facho.snmp import codec
from tests.execution_helpers import huawei_indexes
from tests.factories import HW
from tests.snmp_agents import (END_OF_MIB_VIEW_VALUE, NO_SUCH_OBJECT_VALUE, FakeAgent,
                               Request, encode_response)

ROWS = 20
CUT_AT = 8                       # where the "in the middle" variants break the table
SERIAL = tuple(int(p) for p in f"{HW}.43.1.3".split("."))
DISTANCE = tuple(int(p) for p in f"{HW}.46.1.20".split("."))
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
INDEXES = huawei_indexes(ROWS)
GENERR, TOO_BIG, NO_SUCH_NAME = 5, 1, 2
SERIAL_OIDS = ("Huawei ONT descubrimiento",)
DISTANCE_OIDS = ("Huawei ONT descubrimiento", "Huawei ONT distancia")


def serial_of(n: int) -> bytes:
    return b"HWTC" + (0xA3B10000 + n).to_bytes(4, "big")


def huawei_mib(serial=serial_of, distance=lambda n: 1000 + n) -> dict:
    mib = {}
    for n, index in enumerate(INDEXES):
        mib[SERIAL + tuple(index)] = serial(n)
        mib[DISTANCE + tuple(index)] = distance(n)
    return mib


def mib_policy(mib: dict, rewrite: Callable | None = None):
    """GET / GETNEXT / GETBULK over ``mib``; ``rewrite(oid, value)`` may replace any varbind
    of an answer (the broken agents)."""
    keys = sorted(mib)

    def policy(kind, oids, max_repetitions):
        if kind == codec.GET:
            out = [(o, mib.get(o, NO_SUCH_OBJECT_VALUE)) for o in oids]
        else:
            cursors = list(oids)
            out = []
            for _ in range(max(1, max_repetitions) if kind == codec.GETBULK else 1):
                for n, cursor in enumerate(cursors):
                    position = bisect.bisect_right(keys, cursor)
                    if position < len(keys):
                        cursors[n] = keys[position]
                        out.append((keys[position], mib[keys[position]]))
                    else:
                        out.append((cursor, END_OF_MIB_VIEW_VALUE))
        return [rewrite(o, v) for o, v in out] if rewrite else out

    return policy


def _row(column: tuple, n: int) -> tuple:
    return column + tuple(INDEXES[n])


def at_row(n: int, replacement: Callable[[tuple, object], tuple]):
    """A rewrite that replaces the serial varbind of row ``n`` (any repetition that holds it)."""
    target = _row(SERIAL, n)
    return lambda oid, value: replacement(oid, value) if oid == target else (oid, value)


# --- whole-datagram manglers --------------------------------------------------------------

def truncated(reply: bytes, request: Request, answer) -> bytes:
    return reply[: len(reply) // 2]


def garbage(reply: bytes, request: Request, answer) -> bytes:
    return bytes((0xDE, 0xAD, 0xBE, 0xEF)) * 16


def empty_datagram(reply: bytes, request: Request, answer) -> bytes:
    return b""


def other_request_id(reply: bytes, request: Request, answer) -> bytes:
    return encode_response(request.version, request.community, request.request_id ^ 0x1234,
                           answer)


def other_community(reply: bytes, request: Request, answer) -> bytes:
    return encode_response(request.version, b"otra-" + request.community, request.request_id,
                           answer)


def pdu_type(kind: int):
    def mangle(reply: bytes, request: Request, answer) -> bytes:
        return encode_response(request.version, request.community, request.request_id, answer,
                               pdu_type=kind)
    return mangle


def no_varbinds(reply: bytes, request: Request, answer) -> bytes:
    return encode_response(request.version, request.community, request.request_id, [])


def varbind_without_oid_tag(reply: bytes, request: Request, answer) -> bytes:
    """The first varbind's name is sent as an OCTET STRING instead of an OID."""
    first = codec.encode_oid(answer[0][0])
    return reply.replace(bytes((0x06, len(first))) + first, bytes((0x04, len(first))) + first, 1)


def bad_oid_encoding(reply: bytes, request: Request, answer) -> bytes:
    """The first varbind's OID ends with a continuation byte (a truncated sub-identifier)."""
    first = codec.encode_oid(answer[0][0])
    broken = first[:-1] + b"\x81"
    return reply.replace(bytes((0x06, len(first))) + first, bytes((0x06, len(broken))) + broken, 1)


# --- policies that need their own logic --------------------------------------------------

def status_policy(status: int, above_repetitions: int = 0):
    """error-status ``status`` for every GetBulk asking more than ``above_repetitions`` rows;
    the correct table otherwise."""
    healthy = mib_policy(huawei_mib())

    def policy(kind, oids, max_repetitions):
        if max_repetitions > above_repetitions:
            return status
        return healthy(kind, oids, max_repetitions)

    return policy


def going_back_policy():
    """After row CUT_AT the agent jumps back to row 2 (a loop, not merely a repeat)."""
    healthy = mib_policy(huawei_mib())
    back = _row(SERIAL, 2)

    def policy(kind, oids, max_repetitions):
        return [(back, v) if o == _row(SERIAL, CUT_AT) else (o, v)
                for o, v in healthy(kind, oids, max_repetitions)]

    return policy


def endless_policy():
    """Rows that never end: each answer is the next ``max_repetitions`` indexes."""

    def policy(kind, oids, max_repetitions):
        out = []
        for oid in oids:
            last = oid[len(SERIAL)] if oid[:len(SERIAL)] == SERIAL and len(oid) > len(SERIAL) else 0
            out.extend((SERIAL + (last + n,), serial_of(n)) for n in range(1, max_repetitions + 1))
        return out

    return policy


def repeating_policy():
    """The first row, then the very OID it was asked for, forever."""
    first = _row(SERIAL, 0)
    return lambda kind, oids, reps: [(o if o[:len(SERIAL)] == SERIAL and len(o) > len(SERIAL)
                                      else first, serial_of(0)) for o in oids]


@dataclass(frozen=True)
class Variant:
    key: str                         # pytest id
    name: str                        # what was injected (recorded)
    policy: Callable[[], Callable]
    status: str                      # the execution's expected end state
    message: tuple[str, ...] = ()    # fragments error_message must contain
    found: int | None = None         # ONUs stored, when SUCCESS
    invalid_values: int | None = None
    oids: tuple[str, ...] = SERIAL_OIDS
    mangle: Callable | None = None
    stale_first: bool = False
    max_retries: int = 0
    attempts: int = 1

    def agent(self) -> FakeAgent:
        return FakeAgent(self.policy(), community=b"publica", mangle=self.mangle,
                         stale_first=self.stale_first)


def healthy() -> Callable:
    return mib_policy(huawei_mib())
