"""Per-token rate limit in Redis: a fixed one-minute window counter.

`facho:api:rate:<token id>:<minute>` is INCR'd and given a TTL in one pipeline; over the
limit, the answer is refused with Retry-After = seconds until the window ends (Redis
server time, so several web processes agree). A fixed window may let through up to twice
the limit across a window edge; for a generous limit that protects the database from a
runaway client this is enough, and it costs one round trip.
"""
from __future__ import annotations

from dataclasses import dataclass

KEY = "facho:api:rate:{token_id}:{window}"
WINDOW_S = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    used: int
    limit: int
    retry_after_s: int       # seconds until the window resets (>= 1)


def decide(used: int, limit: int, now_s: float) -> Verdict:
    """Pure: the verdict for the `used`-th call of the window at `now_s`."""
    remaining_s = WINDOW_S - int(now_s) % WINDOW_S
    return Verdict(used <= limit, used, limit, max(1, remaining_s))


def check(redis, token_id: int, limit: int) -> Verdict:
    """Count one call of `token_id` and decide it (0 = no limit)."""
    seconds, micros = redis.time()
    now_s = seconds + micros / 1e6
    if limit <= 0:
        return Verdict(True, 0, 0, 1)
    key = KEY.format(token_id=token_id, window=int(now_s) // WINDOW_S)
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_S + 5)
    used, _ = pipe.execute()
    return decide(int(used), limit, now_s)
