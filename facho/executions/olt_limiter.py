"""Per-OLT limits that survive crashed workers (DESIGN 4).

Concurrency: `facho:olt:<olt_id>:holders` is a sorted set, member = holder token,
score = that holder's expiry (ms since the epoch, Redis server clock). Each holder has
its own expiry, so a slot leaked by a SIGKILLed worker frees within its TTL even while
other workers keep acquiring: Dramatiq's ConcurrentRateLimiter instead refreshes one
TTL for the whole key on every acquire, and under steady traffic the leak never ends.

A holder renews every TTL/3 (one thread per process renews them all: `LEASES`). If its
lease has vanished meanwhile (Redis restarted empty, or stalled past the TTL) it takes a slot again while one is free, since it is still
talking to the OLT; it stops renewing (`Hold.lost` set, `olt_lease_lost` logged) only when
the OLT is full or an operator freed it (`free()` remembers the tokens it removed,
`facho:olt:<olt_id>:freed`). The walk itself is not cut short: for the rest of that walk the
OLT may see one execution more than `limit` (a window that re-taking the slot narrows, not
closes; the walk's own deadline bounds it).

Start rate: `facho:olt:<olt_id>:starts` is a sliding log of start times; at most
`per_minute` starts fall in any window of `window_ms` (60 000 ms) ending now. Exact, and
small: it holds at most `per_minute` entries per OLT.

Times come from Redis `TIME` inside the scripts, so workers with skewed clocks agree.
Scripts accept an explicit `now_ms` so tests can drive the clock.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, NamedTuple

from facho.executions.keeper import Entry, Keeper, grouped

log = logging.getLogger(__name__)

PREFIX = "facho:olt"
DEFAULT_TTL_MS = 30_000
WINDOW_MS = 60_000
FREED_MEMORY_S = 3600     # freed tokens are remembered far longer than any renewal period

_NOW = """
local function now_ms(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The key itself lives as long as its longest-lived holder (plus a second), so an OLT
-- nobody touches again leaves nothing behind.
local function keep_until_last(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', key, math.max(1, math.floor(tonumber(last[2]) - now) + 1000)) end
end
"""

# KEYS[1] holders; ARGV token, limit, ttl_ms, now_ms. Re-acquiring our own token extends it.
_ACQUIRE_BODY = """
local now = now_ms(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
keep_until_last(KEYS[1], now)
return 1
"""
_ACQUIRE = _NOW + _ACQUIRE_BODY

# An expired holder may have been replaced already: it lost its slot and cannot renew.
_RENEW = _NOW + """
local now = now_ms(ARGV[3])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
keep_until_last(KEYS[1], now)
return 1
"""

# Our lease vanished (Redis restarted empty, or stalled past the TTL) while we still talk
# to the OLT: take a slot again with the same token, unless an operator freed us (KEYS[2]
# remembers the tokens `free()` removed). KEYS[1] holders; ARGV token, limit, ttl_ms, now_ms.
_REACQUIRE = _NOW + """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
""" + _ACQUIRE_BODY

# KEYS[1] holders, KEYS[2] freed tokens; ARGV how long to remember them (s).
_FREE = """
local tokens = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, token in ipairs(tokens) do redis.call('SADD', KEYS[2], token) end
if #tokens > 0 then redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1])) end
redis.call('DEL', KEYS[1])
return #tokens
"""

_FREE_STALE = _NOW + """
return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms(ARGV[1]))
"""

# KEYS[1] starts; ARGV member, max_starts, window_ms, now_ms. Returns 0 when the start is
# recorded, else the ms until the oldest start leaves the window.
_START = _NOW + """
local now = now_ms(ARGV[4])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class Holder(NamedTuple):
    token: str
    expires_at: datetime  # UTC


class OltBusy(Exception):
    """All `limit` slots of the OLT are held: re-send the message later, do not retry it."""

    def __init__(self, olt_id, limit: int):
        super().__init__(f"OLT {olt_id} ocupada: {limit} ejecución(es) en curso")
        self.olt_id, self.limit = olt_id, limit


class Hold(Entry):
    """A held slot, renewed every ttl_ms/3 by the process's lease keeper (`LEASES`, one
    thread for every slot held). `lost` is set if a renewal found the lease gone and could
    not take it back (e.g. Redis stalled past the TTL and the OLT filled up, or an operator
    freed it): another worker may then be talking to the OLT too."""

    def __init__(self, limiter: "OltLimiter", olt_id, token: str, limit: int, ttl_ms: int):
        super().__init__(ttl_ms / 3000)
        self.limiter, self.olt_id, self.token = limiter, olt_id, token
        self.limit, self.ttl_ms = limit, ttl_ms

    def lose(self) -> None:
        super().lose()
        log.warning("event=olt_lease_lost olt=%s token=%s", self.olt_id, self.token)


def new_token() -> str:
    """'host:pid:random', so an operator can tell which worker holds a slot."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _utc(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


class OltLimiter:
    """Concurrency leases and start-rate limits per OLT, on one Redis client."""

    def __init__(self, redis_client, prefix: str = PREFIX):
        self.redis = redis_client
        self.prefix = prefix
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._renew = redis_client.register_script(_RENEW)
        self._free_stale = redis_client.register_script(_FREE_STALE)
        self._reacquire = redis_client.register_script(_REACQUIRE)
        self._free = redis_client.register_script(_FREE)
        self._start = redis_client.register_script(_START)

    def holders_key(self, olt_id) -> str:
        return f"{self.prefix}:{olt_id}:holders"

    def freed_key(self, olt_id) -> str:
        return f"{self.prefix}:{olt_id}:freed"

    def starts_key(self, olt_id) -> str:
        return f"{self.prefix}:{olt_id}:starts"

    # -- concurrency leases -------------------------------------------------------------
    def acquire(self, olt_id, token: str, limit: int, ttl_ms: int = DEFAULT_TTL_MS,
                now_ms: int | None = None) -> bool:
        """Take one of `limit` slots for `ttl_ms` ms after purging expired holders."""
        if limit < 1 or ttl_ms < 1:
            raise ValueError("limit and ttl_ms must be >= 1")
        return bool(self._acquire(keys=[self.holders_key(olt_id)],
                                  args=[token, int(limit), int(ttl_ms), _arg(now_ms)]))

    def renew(self, olt_id, token: str, ttl_ms: int = DEFAULT_TTL_MS,
              now_ms: int | None = None) -> bool:
        """Push our own expiry to now + ttl_ms; False if we no longer hold a live slot."""
        return bool(self._renew(keys=[self.holders_key(olt_id)],
                                args=[token, int(ttl_ms), _arg(now_ms)]))

    def renew_each(self, holds: list["Hold"]) -> list[bool]:
        """`renew` for many held slots in one Redis pipeline, in order."""
        pipe = self.redis.pipeline(transaction=False)
        for held in holds:
            self._renew(keys=[self.holders_key(held.olt_id)],
                        args=[held.token, int(held.ttl_ms), _arg(None)], client=pipe)
        return [bool(ok) for ok in pipe.execute()]

    def reacquire(self, olt_id, token: str, limit: int, ttl_ms: int = DEFAULT_TTL_MS,
                  now_ms: int | None = None) -> bool:
        """A holder whose lease vanished takes a slot again, unless an operator freed it or
        the OLT is full (someone took the slot meanwhile)."""
        return bool(self._reacquire(keys=[self.holders_key(olt_id), self.freed_key(olt_id)],
                                    args=[token, int(limit), int(ttl_ms), _arg(now_ms)]))

    def release(self, olt_id, token: str) -> bool:
        """Give back our own slot; False if it had already gone (expired and purged, or freed)."""
        return bool(self.redis.zrem(self.holders_key(olt_id), token))

    @contextmanager
    def hold(self, olt_id, limit: int, ttl_ms: int = DEFAULT_TTL_MS) -> Iterator[Hold]:
        """Hold a slot for the duration of the block, renewed every ttl_ms/3 by the lease
        keeper. Raises OltBusy at once when no slot is free (it never waits)."""
        held = Hold(self, olt_id, new_token(), limit, ttl_ms)
        if not self.acquire(olt_id, held.token, limit, ttl_ms):
            raise OltBusy(olt_id, limit)
        LEASES.add(held)
        try:
            yield held
        finally:
            LEASES.remove(held, ttl_ms / 1000)
            self.release(olt_id, held.token)

    # -- operations ---------------------------------------------------------------------
    def server_now(self) -> datetime:
        """Redis server time (UTC), the clock every expiry here is measured on."""
        seconds, micros = self.redis.time()
        return _utc(seconds * 1000 + micros / 1000)

    def holders(self, olt_id, include_expired: bool = False) -> list[Holder]:
        """Holders of one OLT, soonest expiry first; expired-but-unpurged ones on request."""
        rows = self.redis.zrange(self.holders_key(olt_id), 0, -1, withscores=True)
        now = self.server_now()
        found = [Holder(_text(token), _utc(score)) for token, score in rows]
        return [h for h in found if include_expired or h.expires_at > now]

    def olt_ids(self) -> list[str]:
        """Ids (as written in the keys) of every OLT with a holders set; SCAN, never KEYS."""
        head, tail = f"{self.prefix}:", ":holders"
        keys = self.redis.scan_iter(match=f"{head}*{tail}", count=500)
        return sorted({_text(k)[len(head):-len(tail)] for k in keys})

    def all_holders(self, include_expired: bool = True) -> dict[str, list[Holder]]:
        """Every OLT's holders for `flask facho locks`; expired ones included by default so
        an operator sees what `free_stale()` would remove."""
        result = {olt: self.holders(olt, include_expired) for olt in self.olt_ids()}
        return {olt: found for olt, found in result.items() if found}

    def free_stale(self) -> int:
        """Remove expired holders of every OLT (only those); return how many went."""
        return sum(int(self._free_stale(keys=[self.holders_key(olt)], args=[""]))
                   for olt in self.olt_ids())

    def free(self, olt_id) -> int:
        """Remove every holder of one OLT, live or not (an operator's decision); return the count.
        Workers still running there notice at their next renewal (`Hold.lost`, logged) and
        finish their current walk."""
        return int(self._free(keys=[self.holders_key(olt_id), self.freed_key(olt_id)],
                              args=[FREED_MEMORY_S]))

    # -- start rate ---------------------------------------------------------------------
    def start_wait_ms(self, olt_id, per_minute: int, window_ms: int = WINDOW_MS,
                      now_ms: int | None = None) -> int:
        """Record a start if fewer than `per_minute` happened in the last `window_ms` ms and
        return 0; otherwise record nothing and return the ms until one is allowed."""
        if per_minute < 1 or window_ms < 1:
            raise ValueError("per_minute and window_ms must be >= 1")
        return int(self._start(keys=[self.starts_key(olt_id)],
                               args=[secrets.token_hex(8), int(per_minute), int(window_ms), _arg(now_ms)]))

    def allow_start(self, olt_id, per_minute: int, window_ms: int = WINDOW_MS,
                    now_ms: int | None = None) -> bool:
        """True (and the start is counted) when the OLT may start one more execution now."""
        return self.start_wait_ms(olt_id, per_minute, window_ms, now_ms) == 0


def _arg(now_ms: int | None) -> str:
    return "" if now_ms is None else str(int(now_ms))


def renew_holds(due: list[Hold]) -> list[Hold]:
    """Renew every due slot, one Redis pipeline per limiter; the slots found lost.

    A lease that vanished (Redis restarted empty, or stalled past the TTL) while we still
    talk to the OLT is taken back while a slot is free, or the next execution would join us
    on a device that allows `limit`. A Redis hiccup is logged and the next period tries
    again: the TTL is the bound."""
    lost: list[Hold] = []
    for group in grouped(due, "limiter"):
        limiter = group[0].limiter
        try:
            renewed = limiter.renew_each(group)
        except Exception as exc:
            for held in group:
                log.warning("event=olt_lease_renew_failed olt=%s error=%r", held.olt_id, str(exc))
            continue
        for held, ok in zip(group, renewed):
            try:
                if not ok and not limiter.reacquire(held.olt_id, held.token, held.limit,
                                                    held.ttl_ms):
                    lost.append(held)
            except Exception as exc:
                log.warning("event=olt_lease_renew_failed olt=%s error=%r", held.olt_id, str(exc))
    return lost


LEASES = Keeper("olt-leases", renew_holds)
