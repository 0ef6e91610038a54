"""Closed days re-encoded small (pure functions).

A day row is written as 7-byte records (`samples`), appended by every execution. Once the
day is closed and rolled up, `store.roll_up` rewrites its `samples` in this format, which
reads back exactly the same records (second of day, value) in the same order:

* times as deltas of deltas: executions run on a fixed interval, so nearly every delta of
  delta is 0 (one byte);
* values as decimals: every stored value reads back with at most 6 significant digits
  (`samples.readback`), so it is an integer mantissa times a power of ten; the day's values
  share the smallest exponent and are written as deltas of their mantissas (a power level
  moving by 0.01 dB costs one byte);
* both as zigzag varints, then raw DEFLATE when that is smaller.

Layout: one marker byte (`PLAIN` or `DEFLATED`; a raw row starts with the high byte of a
second of day, 0 or 1, so the two never mix), the payload length as a varint, the payload,
then any raw 7-byte records appended after the rewrite (none is expected: a day is closed
`ROLLUP_GRACE` after its end, but a late one would still be read, not lost).

Decoding gives `m / 10**k` (or `m * 10**-k`), which Python rounds correctly to the nearest
double, the same double `readback` gives for the same decimal: `decode(encode(x)) == x`
for every list of read-back records. The one difference: -0.0 reads back as 0.0 (equal).
"""
from __future__ import annotations

import zlib
from decimal import Decimal
from functools import lru_cache
from typing import Iterable

PLAIN = 0x80
DEFLATED = 0x81


def is_compact(blob: bytes | None) -> bool:
    return bool(blob) and blob[0] & 0x80 == 0x80


def _put(out: bytearray, n: int) -> None:
    """Unsigned LEB128 varint."""
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _get(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, pos
        shift += 7


def _zig(n: int) -> int:
    return n << 1 if n >= 0 else ((-n) << 1) - 1


def _unzig(z: int) -> int:
    return z >> 1 if not z & 1 else -((z + 1) >> 1)


@lru_cache(maxsize=65536)
def _decimal(value: float) -> tuple[int, int]:
    """(mantissa, exponent) of the shortest decimal that reads back as `value`."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    return (-mantissa if sign else mantissa), exponent


def _float(mantissa: int, exponent: int) -> float:
    if exponent >= 0:
        return float(mantissa * 10 ** exponent)
    return mantissa / 10 ** -exponent        # int / int: correctly rounded


def encode(records: Iterable[tuple[int, float]]) -> bytes:
    """Records (second of day, read-back value) in their order, compacted."""
    records = list(records)
    decimals = [_decimal(v) for _, v in records]
    exponent = min((e for _, e in decimals), default=0)
    body = bytearray()
    _put(body, len(records))
    _put(body, _zig(exponent))
    previous_second = previous_delta = 0
    for second, _ in records:
        delta = second - previous_second
        _put(body, _zig(delta - previous_delta))
        previous_second, previous_delta = second, delta
    previous = 0
    for mantissa, e in decimals:
        scaled = mantissa * 10 ** (e - exponent)
        _put(body, _zig(scaled - previous))
        previous = scaled
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(bytes(body)) + packer.flush()
    marker, payload = (DEFLATED, deflated) if len(deflated) < len(body) else (PLAIN, body)
    head = bytearray([marker])
    _put(head, len(payload))
    return bytes(head) + bytes(payload)


def decode(blob: bytes) -> tuple[list[tuple[int, float]], bytes]:
    """(records, the raw 7-byte records appended after the compact part)."""
    data = bytes(blob)
    length, pos = _get(data, 1)
    payload, tail = data[pos:pos + length], data[pos + length:]
    if data[0] == DEFLATED:
        payload = zlib.decompress(payload, -15)
    count, pos = _get(payload, 0)
    z, pos = _get(payload, pos)
    exponent = _unzig(z)
    seconds = []
    previous_second = previous_delta = 0
    for _ in range(count):
        z, pos = _get(payload, pos)
        previous_delta += _unzig(z)
        previous_second += previous_delta
        seconds.append(previous_second)
    values = []
    mantissa = 0
    for _ in range(count):
        z, pos = _get(payload, pos)
        mantissa += _unzig(z)
        values.append(_float(mantissa, exponent))
    return list(zip(seconds, values)), tail
