"""Raw readings: which values are stored, and their packed format (pure functions).

A numeric reading is a value a `get` job read that its OID's rule turned into a number
(state "value") for a numeric ONU field (`rx_power`, `tx_power`, `distance_km`), or any
value of an OID of espacio `metrica` (a number kept only in the history: temperature,
voltage, bias current…). Its metric is the OID's `espacio` (rx_power, tx_power,
distancia_onu), or for `metrica` the OID's `nombre` (cut to `METRIC_MAX` characters). A refused value is counted by
the writer (`notes.RefusedValues`) and never reaches this module, so nothing is stored as 0.

One row holds a day (UTC) of one ONU's metric. Its `samples` column is a byte string of
7-byte records, appended in time order by the writers: 3 bytes big-endian second of the day
(0-86399) and 4 bytes IEEE float32 value. float32 keeps 6 significant digits exactly
(`FLT_DIG`): -23.45 dBm, 12.345 km, 45.5 °C; values are read back rounded to 6 significant
digits so what was written is what is read. NaN and infinities are not readings.

Appending is a plain byte concatenation in SQL (`samples || excluded.samples`), the same on
PostgreSQL and SQLite, so one execution's readings are one set-based upsert.
"""
from __future__ import annotations

import math
import struct
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Iterable, Iterator

from facho.inventory.history import compact

RECORD = 7
_VALUE = struct.Struct(">f")
_RAW = struct.Struct(">BHf")     # one record: the second's high byte, its low 16 bits, value
FLOAT32_MAX = 3.4028234663852886e38

# espacio -> metric name, for the numeric ONU fields
NUMERIC_ESPACIOS = {"rx_power": "rx_power", "tx_power": "tx_power",
                    "distancia_onu": "distancia_onu"}
NUMERIC_FIELDS = frozenset({"rx_power", "tx_power", "distance_km"})
HISTORY_ONLY = "metrica"
METRIC_MAX = 64     # onu_metric_days.metric


def metric_of(espacio: str, field: str | None, nombre: str = "") -> str | None:
    """The metric a rule's values are stored under, or None: not a numeric reading."""
    if espacio == HISTORY_ONLY:
        return nombre.strip()[:METRIC_MAX] or None
    if field not in NUMERIC_FIELDS:
        return None
    return NUMERIC_ESPACIOS.get(espacio)


def storable(value) -> bool:
    """A finite number that fits a float32 (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and abs(value) <= FLOAT32_MAX


def to_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def bucket(at: datetime) -> tuple[date, int]:
    """(UTC day, second of that day) of an instant; naive datetimes are taken as UTC."""
    at = to_utc(at)
    return at.date(), at.hour * 3600 + at.minute * 60 + at.second


def instant(day: date, second: int) -> datetime:
    """The aware UTC instant of `second` of `day`."""
    return datetime.combine(day, time(), UTC) + timedelta(seconds=second)


def pack(second: int, value: float) -> bytes:
    if not 0 <= second < 86400:
        raise ValueError(f"second of day out of range: {second}")
    return second.to_bytes(3, "big") + _VALUE.pack(value)


def pack_many(records: Iterable[tuple[int, float]]) -> bytes:
    return b"".join(pack(s, v) for s, v in records)


@lru_cache(maxsize=1 << 16)
def readback(value: float) -> float:
    """A float32 as the number that was written (6 significant digits). Cached: a series
    repeats its values, and decoding a year of roll-ups calls this ~26,000 times."""
    return float(f"{value:.6g}")


def unpack(blob: bytes | None) -> Iterator[tuple[int, float]]:
    """(second of day, value) records of a `samples` column, raw or re-encoded once the day
    was closed (`compact`); a truncated tail is ignored."""
    if not blob:
        return
    data = bytes(blob)
    if compact.is_compact(data):
        records, data = compact.decode(data)
        yield from records
    whole = len(data) - len(data) % RECORD
    for high, low, value in _RAW.iter_unpack(data[:whole]):
        yield (high << 16) | low, readback(value)


def day_series(day: date, blob: bytes | None) -> list[tuple[datetime, float]]:
    """A day row's samples as (UTC instant, value), in time order."""
    return sorted((instant(day, s), v) for s, v in unpack(blob))
