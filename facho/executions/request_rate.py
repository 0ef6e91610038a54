"""Requests per second to one OLT, across every worker process: one limiter in Redis.

An OLT's `max_requests_per_second` caps the SNMP datagrams all executions together send
it (walks of several jobs, retries, manual runs, any number of workers), because the
OLT's CPU is one. A per-process limiter would let N workers send N times the cap.

The algorithm is GCRA (a token bucket of depth one, stored as one number):
`facho:olt:<id>:rate` holds the theoretical arrival time (TAT, µs on the Redis server
clock) of the next request. Each request books the slot `max(TAT, now)` and moves TAT
one interval (1/rate s) later, in one Lua script; the caller sleeps until its slot and
sends. Bookings are spaced by the interval on one clock, so any one-second window holds
at most `rate` (+1 at its edges) booked slots, whichever process booked them. A booking
is never refused or retried: a busy OLT makes requests wait, in order of booking. The key
expires shortly after the last booked slot, so an idle OLT leaves nothing behind.

Why a booking and not "try, sleep, try again": retrying callers race each other (the
cap holds but the order is random and Redis sees a storm); a booking is one round trip.
A caller cancelled while waiting leaves its slot unused, which only errs on the gentle side.

`RedisRequestGate` is the `facho.snmp.pacing.RequestGate` the SNMP layer awaits before
each datagram. It calls Redis synchronously (about 0.1 ms on a local server) from the
event loop: a walk waits for its answer anyway.
"""
from __future__ import annotations

import asyncio

PREFIX = "facho:olt"

# KEYS[1] TAT; ARGV interval_us, now_us (optional, tests). Returns the µs to wait.
_BOOK = """
local now
if ARGV[2] ~= nil and ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
           math.floor((next_tat - now) / 1000) + 1000)
return math.floor(tat - now)
"""


def interval_us(per_second: int) -> int:
    """The spacing of booked requests, in µs, for a cap of `per_second` (>= 1)."""
    if per_second < 1:
        raise ValueError("per_second must be >= 1")
    return max(1, round(1_000_000 / per_second))


class RequestRate:
    """Bookings of request slots per OLT on one (synchronous) Redis client."""

    def __init__(self, redis_client, prefix: str = PREFIX):
        self.redis = redis_client
        self.prefix = prefix
        self._book = redis_client.register_script(_BOOK)

    def key(self, olt_id) -> str:
        return f"{self.prefix}:{olt_id}:rate"

    def book_us(self, olt_id, per_second: int, now_us: int | None = None) -> int:
        """Book the OLT's next request slot; return the µs to wait before sending."""
        return int(self._book(keys=[self.key(olt_id)],
                              args=[interval_us(per_second),
                                    "" if now_us is None else str(int(now_us))]))

    def gate(self, olt_id, per_second: int) -> "RedisRequestGate":
        return RedisRequestGate(self, olt_id, per_second)


class RedisRequestGate:
    """What the SNMP layer awaits before each datagram to the OLT (see module docstring)."""

    def __init__(self, rate: RequestRate, olt_id, per_second: int) -> None:
        self.rate, self.olt_id, self.per_second = rate, olt_id, int(per_second)
        self.booked = 0

    async def wait(self) -> None:
        wait_us = self.rate.book_us(self.olt_id, self.per_second)
        self.booked += 1
        if wait_us > 0:
            await asyncio.sleep(wait_us / 1_000_000)

    def __repr__(self) -> str:
        return f"RedisRequestGate(olt={self.olt_id}, per_second={self.per_second})"
