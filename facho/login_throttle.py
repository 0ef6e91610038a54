"""Login attempt throttling: after too many failures for a user or an address, wait.

Counts live in Redis (shared by all web processes) with a fixed window; when Redis is
down the login still works (throttling is a defence, not a dependency).
"""
from __future__ import annotations

import redis
from facho.redis_conn import get_redis

MAX_FAILURES = 10
WINDOW_S = 300


def _keys(username: str, address: str | None) -> list[str]:
    return [f"facho:login:user:{username.lower()}", f"facho:login:addr:{address or '-'}"]


def _client():
    return get_redis()


def blocked(username: str, address: str | None) -> bool:
    try:
        counts = _client().mget(_keys(username, address))
    except (redis.RedisError, OSError):
        return False
    return any(int(c or 0) >= MAX_FAILURES for c in counts)


def failed(username: str, address: str | None) -> None:
    try:
        pipe = _client().pipeline()
        for key in _keys(username, address):
            pipe.incr(key)
            pipe.expire(key, WINDOW_S)
        pipe.execute()
    except (redis.RedisError, OSError):
        pass


def reset(username: str, address: str | None) -> None:
    try:
        _client().delete(_keys(username, address)[0])
    except (redis.RedisError, OSError):
        pass
