"""Slot math for job schedules: pure functions, the clock is always an argument.

Every datetime taken or returned here is timezone-aware; returned ones are in UTC.
A schedule is either an interval grid (`anchor + k * interval`, k any integer: the
anchor only fixes the phase, `first_run_at` decides where a job starts) or a 5-field
cron expression read in a time zone. Never `now + interval`: that drifts by the
dispatcher's own lateness on every run and, with a polling dispatcher, loses slots.

Cron and daylight saving time. A cron slot is a wall-clock time that matches the
expression, turned into one instant:
- a wall time that does not exist (spring forward) runs at the instant the clock
  jumps, i.e. the first real instant after the gap; several such times collapse into
  that one run, so a daily 02:00 job in Europe/Madrid still runs once that day;
- a wall time that happens twice (fall back) runs once, at its first occurrence.
So a job runs at most once per matching wall time: during a repeated hour a sub-hourly
cron pauses for that hour. Jobs that must tick in absolute time should use an interval
(`5m`), which DST never touches (and `1d` is 86 400 s, not a calendar day).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from croniter import croniter

UTC = timezone.utc
DEFAULT_TZ = "America/Lima"
MAX_INTERVAL = timedelta(days=365)
# Counting missed cron slots walks them one by one (~50 us each); past this many the
# count is reported as a lower bound rather than stalling a tick on a week-long outage.
MISSED_COUNT_LIMIT = 10_000

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL_RE = re.compile(r"([0-9]{1,9})([smhd])")
_INTERVAL_HELP = ("Intervalo inválido: use un número seguido de s, m, h o d "
                  "(por ejemplo 30s, 5m, 2h, 1d)")
_NAMES = {"s": ("segundo", "segundos"), "m": ("minuto", "minutos"),
          "h": ("hora", "horas"), "d": ("día", "días")}


def parse_interval(raw: str) -> timedelta:
    """`'30s'`, `'5m'`, `'2h'`, `'1d'` -> timedelta. Zero, garbage and more than 365 d
    raise ValueError with a Spanish message fit for the panel."""
    match = _INTERVAL_RE.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise ValueError(_INTERVAL_HELP)
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds == 0:
        raise ValueError("Intervalo inválido: debe ser mayor que cero")
    if seconds > MAX_INTERVAL.total_seconds():
        raise ValueError("Intervalo demasiado largo: el máximo es 365d")
    return timedelta(seconds=seconds)


def format_interval(interval: timedelta) -> str:
    """Canonical raw form, largest exact unit: 3600 s -> '1h', 90 s -> '90s'."""
    seconds = int(interval.total_seconds())
    for unit in "dhm":
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def validate_cron(expr: str, tz: str = DEFAULT_TZ) -> str:
    """Check a 5-field cron expression and an IANA zone; return the expression with its
    whitespace normalised. Anything wrong raises ValueError with a Spanish message."""
    if not isinstance(tz, str) or not tz.strip():
        raise ValueError("Zona horaria vacía: use por ejemplo America/Lima")
    try:
        _zone(tz)
    except Exception:  # ZoneInfo raises KeyError, ValueError or OSError depending on the name
        raise ValueError(f"Zona horaria desconocida: {tz!r} (use por ejemplo America/Lima)") from None
    fields = expr.split() if isinstance(expr, str) else []
    if len(fields) != 5:
        raise ValueError("Expresión cron inválida: debe tener 5 campos "
                         "(minuto hora día-del-mes mes día-de-la-semana), por ejemplo '0 2 * * *'")
    normalised = " ".join(fields)
    try:
        # croniter accepts some expressions it can never satisfy (31 February): ask for one instant.
        croniter(normalised, datetime(2000, 1, 1)).get_next(datetime)
    except Exception:  # croniter's parser lets IndexError/TypeError through on odd input
        raise ValueError(f"Expresión cron inválida o que nunca se cumple: {normalised!r}") from None
    return normalised


def _aware(t: datetime, what: str = "datetime") -> datetime:
    if t.tzinfo is UTC:
        return t     # the usual case (rows and clocks are UTC): ~10 calls per job per tick
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {t!r}")
    return t.astimezone(UTC)


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time -> its UTC instant under the DST rules in the module doc."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is the first occurrence when it is ambiguous
    # In a gap: fold=1 reads it with the offset after the jump (an instant before the
    # gap), fold=0 with the offset before (after the gap). Bisect to the jump itself.
    lo, hi = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    after = first.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


@dataclass(frozen=True)
class Schedule:
    """Exactly one of `interval` (with `anchor`, UTC) or `cron_expr` (read in `cron_tz`)."""

    interval: timedelta | None = None
    anchor: datetime | None = None
    cron_expr: str | None = None
    cron_tz: str = DEFAULT_TZ

    @classmethod
    def build(cls, interval_raw: str | None = None, cron_expr: str | None = None,
              cron_tz: str | None = DEFAULT_TZ, anchor: datetime | None = None) -> "Schedule":
        """From a job's columns; ValueError (Spanish) unless exactly one kind is given."""
        if bool(interval_raw) == bool(cron_expr):
            raise ValueError("Indique un intervalo o una expresión cron (exactamente uno de los dos)")
        if interval_raw:
            if anchor is None:
                raise ValueError("Un trabajo por intervalo necesita una fecha de anclaje")
            return cls(interval=parse_interval(interval_raw), anchor=_aware(anchor, "anchor"))
        tz = cron_tz or DEFAULT_TZ
        return cls(cron_expr=validate_cron(cron_expr, tz), cron_tz=tz)

    def __post_init__(self):
        if (self.interval is None) == (self.cron_expr is None):
            raise ValueError("Schedule needs exactly one of interval or cron_expr")
        if self.interval is not None:
            if self.interval <= timedelta(0) or self.anchor is None:
                raise ValueError("interval schedules need a positive interval and an anchor")
            object.__setattr__(self, "anchor", _aware(self.anchor, "anchor"))
        else:
            object.__setattr__(self, "cron_expr", validate_cron(self.cron_expr, self.cron_tz))

    @property
    def is_cron(self) -> bool:
        return self.cron_expr is not None

    def _cron_from(self, t: datetime) -> Iterator[datetime]:
        """Cron instants strictly after t, ascending, deduplicated (gap runs collapse)."""
        zone = _zone(self.cron_tz)
        # Walls map to instants monotonically and wall(t) read with fold=0 is <= t, so
        # no wall before it can produce an instant after t: start the walk there.
        walls = croniter(self.cron_expr, t.astimezone(zone).replace(tzinfo=None))
        last = t
        while True:
            instant = _wall_to_utc(walls.get_next(datetime), zone)
            if instant > last:
                last = instant
                yield instant

    def next_slot_after(self, t: datetime) -> datetime:
        """The first slot strictly after t (aware) as UTC."""
        t = _aware(t)
        if self.interval is not None:
            return self.anchor + ((t - self.anchor) // self.interval + 1) * self.interval
        return next(self._cron_from(t))

    def slot_at_or_before(self, t: datetime) -> datetime:
        """The last slot at or before t (aware) as UTC."""
        t = _aware(t)
        if self.interval is not None:
            return self.anchor + ((t - self.anchor) // self.interval) * self.interval
        zone = _zone(self.cron_tz)
        # Walk back from 3 h ahead: every wall from there maps after t even when an offset
        # change (at most 2 h anywhere) pulls it back.
        walls = croniter(self.cron_expr, (t + timedelta(hours=3)).astimezone(zone).replace(tzinfo=None))
        while True:
            instant = _wall_to_utc(walls.get_prev(datetime), zone)
            if instant <= t:
                return instant

    def first_slot_at_or_after(self, t: datetime) -> datetime:
        return self.next_slot_after(_aware(t) - timedelta(microseconds=1))

    def slots_between(self, a: datetime, b: datetime) -> Iterator[datetime]:
        """Slots s with a <= s < b (half-open), ascending, as UTC."""
        a, b = _aware(a), _aware(b)
        if self.interval is not None:
            slot = self.first_slot_at_or_after(a)
            while slot < b:
                yield slot
                slot += self.interval
            return
        for slot in self._cron_from(a - timedelta(microseconds=1)):
            if slot >= b:
                return
            yield slot

    def count_between(self, a: datetime, b: datetime, limit: int = MISSED_COUNT_LIMIT) -> tuple[int, bool]:
        """How many slots in [a, b); (count, capped). Exact for intervals; cron stops at limit."""
        a, b = _aware(a), _aware(b)
        if self.interval is not None:
            first = self.first_slot_at_or_after(a)
            return (max(0, -((first - b) // self.interval)), False)
        count = 0
        for _ in self.slots_between(a, b):
            count += 1
            if count >= limit:
                return count, True
        return count, False


@dataclass(frozen=True)
class Plan:
    """What one dispatcher pass claims for one job (all instants UTC).

    `slots`: ascending slots to create executions for, each with `scheduled_for = slot`;
    a slot <= `now` is sent at once, a later one with `delay_ms(slot)`.
    `missed`: slots that will never run because they coalesced into the first entry of
    `slots` (`coalesced` is then True); `missed_capped` means the count is a lower bound.
    `next_run_at`: the first slot not claimed; store it with compare-and-set.
    """

    now: datetime
    slots: tuple[datetime, ...]
    next_run_at: datetime
    missed: int = 0
    coalesced: bool = False
    missed_capped: bool = False

    def delay_ms(self, slot: datetime) -> int:
        """Milliseconds from `now` until `slot`, 0 when it is already due."""
        return max(0, (slot - self.now) // timedelta(milliseconds=1))


def plan_due(schedule: Schedule, next_run_at: datetime, now: datetime,
             horizon: timedelta, catchup_window: timedelta) -> Plan:
    """Slots to claim now for a job whose first unclaimed slot is `next_run_at`.

    Claims every slot in [next_run_at, now + horizon). If the oldest of them is older
    than `now - catchup_window` (a backlog: scheduler or Redis was down), all slots
    <= now coalesce into ONE run, the most recent slot <= now, and the others are
    counted in `missed`; slots in (now, now + horizon) are claimed as usual. Late slots
    inside the window (a short failover) all run, one by one.

    The returned `next_run_at` is the slot after the last one claimed (or the first slot
    >= the given one when nothing is due), so passes that each start from the previous
    result claim every slot exactly once, however irregular the ticks. With a 60 s tick,
    use horizon = 60 s + margin and a catch-up window well above tick + lease TTL.
    """
    now, next_run_at = _aware(now, "now"), _aware(next_run_at, "next_run_at")
    if horizon < timedelta(0) or catchup_window < timedelta(0):
        raise ValueError("horizon and catchup_window must be >= 0")
    start = schedule.first_slot_at_or_after(next_run_at)
    end = now + horizon
    missed, capped, coalesced = 0, False, False
    if start < now - catchup_window:
        latest = schedule.slot_at_or_before(now)  # >= start, since start < now
        missed, capped = schedule.count_between(start, latest)
        slots = [latest] + list(schedule.slots_between(latest + timedelta(microseconds=1), end))
        coalesced = True
    else:
        slots = list(schedule.slots_between(start, end))
    following = schedule.next_slot_after(slots[-1]) if slots else start
    return Plan(now=now, slots=tuple(slots), next_run_at=following, missed=missed,
                coalesced=coalesced, missed_capped=capped)


def first_run_at(schedule: Schedule, now: datetime) -> datetime:
    """`next_run_at` for a new job: the first slot >= now, and never before an interval's anchor."""
    now = _aware(now, "now")
    if schedule.interval is not None:
        now = max(now, schedule.anchor)
    return schedule.first_slot_at_or_after(now)


def on_grid(schedule: Schedule, t: datetime) -> bool:
    """True when t is one of the schedule's slots."""
    t = _aware(t)
    return schedule.first_slot_at_or_after(t) == t


def replan(schedule: Schedule, now: datetime, taken: Iterable[datetime] = ()) -> datetime:
    """`next_run_at` after an edit (new interval, cron or anchor): the first slot of the new
    grid at or after `now` (never before an interval's anchor), except that it must come
    after every instant in `taken` that is also a new-grid slot. `taken` holds the slots of
    rows the edit cannot remove (already sent, running or finished; see
    facho.scheduling.edits.replan_job): claiming such a slot again would hit the executions'
    unique key (job, OLT, slot). Nothing else is skipped: a new grid whose slots meet no
    such row starts at the edit. A backlog under the old grid is dropped, not coalesced."""
    first = first_run_at(schedule, now)
    clashes = [t for t in taken if _aware(t) >= first and on_grid(schedule, t)]
    return schedule.next_slot_after(max(clashes)) if clashes else first


def describe(schedule: Schedule) -> str:
    """Spanish text for the panel: 'cada 30 segundos', 'cada día', 'cron 0 2 * * * (America/Lima)'."""
    if schedule.is_cron:
        return f"cron {schedule.cron_expr} ({schedule.cron_tz})"
    raw = format_interval(schedule.interval)
    count, (one, many) = int(raw[:-1]), _NAMES[raw[-1]]
    return f"cada {one}" if count == 1 else f"cada {count} {many}"


def humanize_remaining(delta: timedelta) -> str:
    """Time until the next run in Spanish: 'en 4 min 30 s', 'vencida hace 10 s', 'ahora'.
    Two largest units, seconds truncated toward zero."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "ahora"
    rest = abs(seconds)
    parts = []
    for name, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        value, rest = divmod(rest, size)
        if value or parts:
            parts.append((value, name))
    text = " ".join(f"{value} {name}" for value, name in parts[:2] if value)
    return f"en {text}" if seconds > 0 else f"vencida hace {text}"


def slot_epoch_s(slot: datetime) -> int:
    """The whole second at or after `slot` (fan-out messages are per second)."""
    return math.ceil(slot.timestamp())


def schedule_of(job) -> Schedule:
    """The Schedule of a job row (ORM object or Core row)."""
    return Schedule.build(interval_raw=job.interval_raw, cron_expr=job.cron_expr,
                                cron_tz=job.cron_tz, anchor=job.anchor_at)
