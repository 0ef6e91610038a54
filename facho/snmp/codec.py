"""BER encoding and single-pass decoding of SNMP v1/v2c messages.

Why not puresnmp's decoder: x690 values are lazy and never cache, so puresnmp decodes a
response PDU about four times on the way to Python values (mpm decode, varbind unpacking,
sorting/dedup in its walk, pythonize). Here each response is read once, front to back,
straight into plain Python values. Requests are tiny and built directly too, which lets a
walk resend the raw OID bytes of the last answer without re-encoding them.

OIDs travel as their BER *content* bytes (no tag/length). Values decode to:
INTEGER -> int; OCTET STRING / Opaque -> bytes; NULL -> None; OBJECT IDENTIFIER -> dotted
str; IpAddress -> dotted str; Counter32 / Gauge32 / TimeTicks / Counter64 -> int (TimeTicks
in hundredths of a second); noSuchObject / noSuchInstance / endOfMibView -> the markers
below. Anything else decodes to its raw content bytes.
"""
from __future__ import annotations

import itertools
import random
from typing import Any, NamedTuple

GET, GETNEXT, RESPONSE, SET, GETBULK, REPORT = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA8
VERSION_V1, VERSION_V2C = 0, 1


class Marker:
    """An SNMPv2 exception value (RFC 3416): not data, a statement about the OID."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


NO_SUCH_OBJECT = Marker("noSuchObject")
NO_SUCH_INSTANCE = Marker("noSuchInstance")
END_OF_MIB_VIEW = Marker("endOfMibView")
_MARKERS = {0x80: NO_SUCH_OBJECT, 0x81: NO_SUCH_INSTANCE, 0x82: END_OF_MIB_VIEW}
_UNSIGNED = frozenset({0x41, 0x42, 0x43, 0x46, 0x47})  # Counter32, Gauge32, TimeTicks, Counter64, UInt32


class Response(NamedTuple):
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[bytes, Any]]  # (OID content bytes, decoded value)


# Request ids: unique per process (puresnmp uses int(time()), the same id for a whole
# second). A random start keeps two processes polling one OLT from sharing ids.
_ids = itertools.count(random.randrange(1, 1 << 30))


def next_request_id() -> int:
    """A fresh request id in 1..2**31-1 (itertools.count is atomic under the GIL)."""
    return next(_ids) % 0x7FFFFFFF + 1


# --- OIDs -------------------------------------------------------------------------

def parse_oid(text: str | tuple[int, ...]) -> tuple[int, ...]:
    """``"1.3.6.1"`` (a leading dot is accepted) -> ``(1, 3, 6, 1)``; ValueError if invalid."""
    if isinstance(text, tuple):
        parts = text
    else:
        cleaned = text.strip().lstrip(".")
        try:
            parts = tuple(int(p) for p in cleaned.split("."))
        except ValueError:
            raise ValueError(f"OID inválido: {text!r}") from None
    if len(parts) < 2 or parts[0] > 2 or (parts[0] < 2 and parts[1] >= 40) or min(parts) < 0:
        raise ValueError(f"OID inválido: {text!r}")
    return parts


def oid_text(parts: tuple[int, ...]) -> str:
    return ".".join(map(str, parts))


def _base128(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def encode_oid(parts: tuple[int, ...]) -> bytes:
    """BER content bytes of an OID (as returned in ``Response.varbinds``)."""
    return _base128(parts[0] * 40 + parts[1]) + b"".join(_base128(p) for p in parts[2:])


def decode_subids(data: bytes) -> tuple[int, ...]:
    """Base-128 sub-identifiers, without the first-two-arcs folding (used for row indexes)."""
    if data.isascii():  # every sub-identifier below 128: one byte each, done in C
        return tuple(data)
    out = []
    n = 0
    for c in data:
        if c & 0x80:
            n = (n << 7) | (c & 0x7F)
        else:
            out.append((n << 7) | c)
            n = 0
    if data[-1] & 0x80:
        raise ValueError("OID truncado")
    return tuple(out)


def decode_oid(data: bytes) -> tuple[int, ...]:
    """OID content bytes -> full tuple of arcs."""
    if not data:
        raise ValueError("OID vacío")
    subids = decode_subids(data)
    first = subids[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return head + subids[1:]


# --- encoding -----------------------------------------------------------------------

def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def encode_request(version: int, community: bytes, pdu_type: int, request_id: int,
                   oids: list[bytes], non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
    """A whole v1/v2c message. For GETBULK the two error fields carry non-repeaters and
    max-repetitions (RFC 3416); for other PDUs they are zero."""
    varbinds = b"".join(_tlv(0x30, _tlv(0x06, oid) + b"\x05\x00") for oid in oids)
    pdu = (_integer(request_id) + _integer(non_repeaters) + _integer(max_repetitions)
           + _tlv(0x30, varbinds))
    return _tlv(0x30, _integer(version) + _tlv(0x04, community) + _tlv(pdu_type, pdu))


# --- decoding -------------------------------------------------------------------------

def _header(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``i``."""
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        width = n & 0x7F
        n = int.from_bytes(data[i:i + width], "big")
        i += width
    end = i + n
    if end > len(data):
        raise ValueError("longitud fuera del mensaje")
    return tag, i, end


def decode_value(tag: int, raw: bytes) -> Any:
    """One value's content bytes -> plain Python value (see module docstring)."""
    if tag == 0x02:
        return int.from_bytes(raw, "big", signed=True)
    if tag == 0x04 or tag == 0x44:
        return raw
    if tag in _UNSIGNED:
        return int.from_bytes(raw, "big")
    if tag == 0x05:
        return None
    if tag == 0x06:
        return oid_text(decode_oid(raw))
    if tag == 0x40:
        return ".".join(map(str, raw))
    marker = _MARKERS.get(tag)
    return marker if marker is not None else raw


def decode_message(data: bytes) -> tuple[int, bytes, int, Response]:
    """Decode a v1/v2c message once: (version, community, PDU type, Response).

    Raises ValueError/IndexError on malformed input (the caller turns it into SnmpBadData).
    """
    tag, i, end = _header(data, 0)
    if tag != 0x30:
        raise ValueError("el mensaje no es una secuencia BER")
    tag, s, i = _header(data, i)
    version = int.from_bytes(data[s:i], "big", signed=True)
    tag, s, i = _header(data, i)
    community = data[s:i]
    pdu_type, i, _ = _header(data, i)
    _, s, i = _header(data, i)
    request_id = int.from_bytes(data[s:i], "big", signed=True)
    _, s, i = _header(data, i)
    error_status = int.from_bytes(data[s:i], "big", signed=True)
    _, s, i = _header(data, i)
    error_index = int.from_bytes(data[s:i], "big", signed=True)
    tag, i, end = _header(data, i)
    if tag != 0x30:
        raise ValueError("lista de varbinds ausente")
    varbinds = []
    append = varbinds.append
    # The hot loop: inlined TLV headers, one slice per OID and per value.
    while i < end:
        if data[i] != 0x30:
            raise ValueError("varbind mal formado")
        n = data[i + 1]
        i += 2 + (n & 0x7F if n & 0x80 else 0)  # the varbind's own length is implied
        if data[i] != 0x06:
            raise ValueError("varbind sin OID")
        n = data[i + 1]
        i += 2
        if n & 0x80:
            w = n & 0x7F
            n = int.from_bytes(data[i:i + w], "big")
            i += w
        j = i + n
        oid = data[i:j]
        t = data[j]
        n = data[j + 1]
        i = j + 2
        if n & 0x80:
            w = n & 0x7F
            n = int.from_bytes(data[i:i + w], "big")
            i += w
        j = i + n
        if t == 0x02:
            value = int.from_bytes(data[i:j], "big", signed=True)
        elif t == 0x04:
            value = data[i:j]
        else:
            value = decode_value(t, data[i:j])
        append((oid, value))
        i = j
    if i != end:
        raise ValueError("varbinds exceden la longitud declarada")
    return version, community, pdu_type, Response(request_id, error_status, error_index, varbinds)
