"""Leader lease in Redis: one active scheduler among many (DESIGN 3.2).

The lease is a plain string key holding the owner's token, with a TTL in milliseconds.
Every check-and-act is a Lua script, so "am I still the owner?" and the write that
follows cannot be split by another process. The lease is an optimisation (idle
followers), never a correctness guarantee: the tick's compare-and-set on `next_run_at`
and the executions' unique constraint keep slots exactly-once even with two leaders.

Redis errors propagate: a scheduler that cannot reach Redis cannot dispatch either.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time

DEFAULT_NAME = "facho:scheduler:leader"
DEFAULT_TTL_MS = 3_000      # same default as FACHO_LEASE_TTL_MS (facho.config)
CLOCK_JUMP_MEMORY_S = 24 * 3600   # how long status and /healthz keep telling about a jump

# Take the key if free; if we already own it, extend it (a restarted tick re-acquires).
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def default_owner() -> str:
    """'host:pid:random' — readable by an operator, unique even across pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def _text(value) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class LeaderLease:
    """A named lease owned by `owner` for `ttl_ms` milliseconds after each acquire/renew.

    Renew well inside the TTL (every ttl/3 is a good rhythm). `renew()` returning False
    means leadership was lost: stop acting as leader and go back to `acquire()`.
    """

    def __init__(self, redis_client, name: str = DEFAULT_NAME, ttl_ms: int = DEFAULT_TTL_MS,
                 owner: str | None = None):
        if int(ttl_ms) <= 0:
            raise ValueError("ttl_ms must be a positive number of milliseconds")
        self.redis = redis_client
        self.name = name
        self.ttl_ms = int(ttl_ms)
        self.owner = owner or default_owner()
        self.tick_key = f"{name}:last_tick"
        self.clock_key = f"{name}:clock_jump"
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._renew = redis_client.register_script(_RENEW)
        self._release = redis_client.register_script(_RELEASE)
        # time.monotonic() before the last successful acquire/renew call was sent: the
        # lease is certainly ours until that moment + TTL, whatever the network did.
        self._confirmed_at: float | None = None

    def _call(self, script) -> bool:
        sent = time.monotonic()
        ok = bool(script(keys=[self.name], args=[self.owner, self.ttl_ms]))
        self._confirmed_at = sent if ok else None
        return ok

    def acquire(self) -> bool:
        """Take the lease if free or already ours (extending it); False if someone else holds it."""
        return self._call(self._acquire)

    def renew(self) -> bool:
        """Extend the lease to a full TTL, only if we still own it."""
        return self._call(self._renew)

    def release(self) -> bool:
        """Delete the lease, only if we own it; a follower's release is a no-op returning False."""
        self._confirmed_at = None
        return bool(self._release(keys=[self.name], args=[self.owner]))

    def holder(self) -> str | None:
        """Owner token of the current holder, or None when nobody holds the lease."""
        return _text(self.redis.get(self.name))

    def remaining_ms(self) -> int | None:
        """Server-side milliseconds left on the lease, None when nobody holds it."""
        ttl = self.redis.pttl(self.name)
        return ttl if ttl >= 0 else None

    def held_locally_ms(self) -> int:
        """Milliseconds for which this process is sure to hold the lease (0 when not sure),
        measured on the local monotonic clock from before the last successful call."""
        if self._confirmed_at is None:
            return 0
        left = self._confirmed_at + self.ttl_ms / 1000 - time.monotonic()
        return max(0, int(left * 1000))

    def record_tick(self, info: dict) -> None:
        """Store what the last tick did (for `flask facho status`), replacing the previous one.

        Values are stored JSON-encoded, so numbers and None come back as such. `owner` and
        `at_ms` (server clock, ms since the epoch, UTC) are added unless given.
        """
        seconds, micros = self.redis.time()
        fields = {"owner": self.owner, "at_ms": seconds * 1000 + micros // 1000, **info}
        encoded = {str(key): json.dumps(value, default=str) for key, value in fields.items()}
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.tick_key)  # no stale field of an older tick may survive
        pipe.hset(self.tick_key, mapping=encoded)
        pipe.execute()

    def last_tick(self) -> dict | None:
        """The info of the last `record_tick`, decoded; None if no tick was ever recorded."""
        raw = self.redis.hgetall(self.tick_key)
        if not raw:
            return None
        return {_text(key): json.loads(_text(value)) for key, value in raw.items()}

    def record_clock_jump(self, step_s: float) -> None:
        """Remember that this scheduler saw the wall clock step by `step_s` seconds
        (negative: backwards) for CLOCK_JUMP_MEMORY_S, replacing an older record. Slots are
        wall-clock instants, so a step back pauses polling for its size and a jump forward
        coalesces what it skipped: operators must be told (`flask facho status`, /healthz,
        the dashboard read it through facho.ops.status.clock_jump_state)."""
        seconds, micros = self.redis.time()
        fields = {"owner": self.owner, "at_ms": seconds * 1000 + micros // 1000,
                  "step_s": round(float(step_s), 1)}
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.clock_key)
        pipe.hset(self.clock_key, mapping={k: json.dumps(v) for k, v in fields.items()})
        pipe.expire(self.clock_key, CLOCK_JUMP_MEMORY_S)
        pipe.execute()

    def last_clock_jump(self) -> dict | None:
        raw = self.redis.hgetall(self.clock_key)
        if not raw:
            return None
        return {_text(key): json.loads(_text(value)) for key, value in raw.items()}


_process_lease = None
_process_lease_lock = threading.Lock()


def process_lease() -> "LeaderLease":
    """The LeaderLease of this process (one owner token per process), built on first use
    from the current app's configuration (`lease_ttl_ms`)."""
    global _process_lease
    with _process_lease_lock:
        if _process_lease is None:
            from flask import current_app
            from facho.redis_conn import get_redis
            config = current_app.config["FACHO"]
            _process_lease = LeaderLease(get_redis(config), ttl_ms=config.lease_ttl_ms)
        return _process_lease
