"""Per-OLT ONU counts for `/api/v1/olts`, shared by every web process through Redis.

The counts are one GROUP BY over the whole inventory: at 1M ONUs about half a second of
PostgreSQL (a parallel sequential scan; a covering index does not save it, since the
polling rewrites every ONU row and leaves few pages all-visible for an index-only scan).
An integration that lists OLTs every few seconds would pay that on every call, so the
figures are kept in Redis (`facho:api:olt_counts`) and recounted when older than
`MAX_AGE_S`: the answer says when they were counted (`contadas_en`). While one process
recounts (a `SET NX` lock), the others keep answering the previous figures instead of
piling the same scan on the database.
"""
from __future__ import annotations

import json
import time

from facho.api import queries

KEY = "facho:api:olt_counts"
LOCK = "facho:api:olt_counts:lock"
MAX_AGE_S = 30          # the figures an answer may give are at most this old (seconds)
LOCK_S = 60             # a recount that died leaves the lock this long (seconds)


def is_fresh(counted_at: float, now: float, max_age_s: float = MAX_AGE_S) -> bool:
    """Pure: may figures counted at `counted_at` (Unix seconds) still be served at `now`?"""
    return 0 <= now - counted_at < max_age_s


def decode(raw: bytes | None) -> tuple[float, dict[int, dict]] | None:
    """(counted at, {OLT id: counts}) from the stored JSON, or None (missing, unreadable)."""
    if not raw:
        return None
    try:
        doc = json.loads(raw)
        return float(doc["at"]), {int(k): v for k, v in doc["counts"].items()}
    except (ValueError, KeyError, TypeError):
        return None


def current(redis) -> tuple[float, dict[int, dict]]:
    """(counted at, counts): the stored figures if fresh; else recounted by this process,
    unless another one is recounting and there are figures to answer meanwhile."""
    stored = decode(redis.get(KEY))
    now = time.time()
    if stored and is_fresh(stored[0], now):
        return stored
    locked = bool(redis.set(LOCK, "1", nx=True, ex=LOCK_S))
    if not locked and stored:
        return stored
    try:
        counted_at = time.time()
        counts = queries.olt_counts()
        redis.set(KEY, json.dumps({"at": counted_at, "counts": counts}))
        return counted_at, counts
    finally:
        if locked:
            redis.delete(LOCK)
