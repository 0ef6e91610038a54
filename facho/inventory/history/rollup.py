"""Hourly roll-ups of raw samples (pure functions).

An hour's roll-up is (min, max, sum, count) of the samples whose second of the day falls in
that hour; the average is sum / count. Roll-ups are computed from the raw samples with
`hours_of` and nothing else, so they equal the raw data they summarise by construction, and
`merge` combines two roll-ups of one hour exactly (min of mins, max of maxes, sums, counts).

A day's roll-ups are one row per (ONU, metric, day) whose `hours` column packs the hours
that have samples, 18 bytes each: hour (1 byte), count (uint32), min, max (float32) and
sum (float32 would lose precision over many samples: it is stored as the average, float32,
and the sum recomputed as avg * count). One row per day keeps a year of hourly roll-ups at
365 rows per series instead of 8,760. The row also keeps the day folded into one
(min, avg, max, count) (`day_summary`), so a year's chart reads 365 numbers per series
instead of decoding 8,760 hours.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from facho.inventory.history.samples import instant, readback

_HOUR = struct.Struct(">BIfff")   # hour, count, min, max, avg
HOUR_RECORD = _HOUR.size
_HOURS = [timedelta(hours=h) for h in range(24)]


@dataclass(frozen=True)
class HourStats:
    hour: int
    count: int
    min: float
    max: float
    sum: float

    @property
    def avg(self) -> float:
        return self.sum / self.count


def merge(a: HourStats, b: HourStats) -> HourStats:
    """The roll-up of the union of the samples two roll-ups of the same hour summarise."""
    if a.hour != b.hour:
        raise ValueError("roll-ups of different hours")
    return HourStats(a.hour, a.count + b.count, min(a.min, b.min), max(a.max, b.max),
                     a.sum + b.sum)


def hours_of(samples: Iterable[tuple[int, float]]) -> list[HourStats]:
    """Roll-ups of (second of day, value) samples, one per hour with samples, in order.
    The same as `merge`-ing one sample at a time (sums in sample order), without building
    an object per sample."""
    by_hour: dict[int, list] = {}
    for second, value in samples:
        hour = second // 3600
        acc = by_hour.get(hour)
        if acc is None:
            by_hour[hour] = [1, value, value, value]
        else:
            acc[0] += 1
            if value < acc[1]:
                acc[1] = value
            if value > acc[2]:
                acc[2] = value
            acc[3] += value
    return [HourStats(h, *by_hour[h]) for h in sorted(by_hour)]


def pack_hours(hours: Iterable[HourStats]) -> bytes:
    return b"".join(_HOUR.pack(h.hour, h.count, h.min, h.max, h.avg) for h in hours)


def unpack_hours(blob: bytes | None) -> list[HourStats]:
    if not blob:
        return []
    data = bytes(blob)
    whole = len(data) - len(data) % HOUR_RECORD
    return [HourStats(hour, count, readback(low), readback(high), readback(avg) * count)
            for hour, count, low, high, avg in _HOUR.iter_unpack(data[:whole])]


def hour_rows(day: date, hours: Iterable[HourStats]
              ) -> list[tuple[datetime, float, float, float, int]]:
    """(UTC hour, min, avg, max, count) rows, the read API's hourly shape."""
    midnight = instant(day, 0)
    return [(midnight + _HOURS[h.hour], h.min, readback(h.avg), h.max, h.count)
            for h in hours]


def fold_days(hours: Iterable[tuple]) -> list[tuple]:
    """Hourly (UTC hour, min, avg, max, count) rows → daily rows of the same shape (the
    UTC midnight); the day's average weighs each hour by its count, so it equals the raw
    average."""
    days: dict = {}
    for at, low, avg, high, count in hours:
        key = at.replace(hour=0)
        if key not in days:
            days[key] = [low, avg * count, high, count]
        else:
            day = days[key]
            day[0], day[2] = min(day[0], low), max(day[2], high)
            day[1] += avg * count
            day[3] += count
    return [(at, low, total / count, high, count)
            for at, (low, total, high, count) in sorted(days.items())]


def day_summary(packed_hours: bytes) -> tuple[float, float, float, int] | None:
    """(min, avg, max, count) of a day's packed roll-ups, exactly as `fold_days` gives
    them from the hours read back: what `onu_metric_hours.day_*` store."""
    folded = fold_days(hour_rows(date(2000, 1, 1), unpack_hours(packed_hours)))
    if not folded:
        return None
    _, low, avg, high, count = folded[0]
    return low, avg, high, count
