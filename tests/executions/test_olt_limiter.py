"""Per-OLT concurrency leases and start-rate limits against a real Redis (our own db)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from facho.config import REPO_ROOT
from facho.executions.olt_limiter import OltBusy, OltLimiter

ROOT = REPO_ROOT
T0 = 1_700_000_000_000  # an injected "now", ms since the epoch
SLACK_S = 0.2


@pytest.fixture
def limiter(redis_client):
    return OltLimiter(redis_client)


def zset_tokens(redis_client, key):
    return {token.decode() for token in redis_client.zrange(key, 0, -1)}


@pytest.mark.parametrize("limit", [1, 3])
def test_ten_threads_never_exceed_the_limit_and_all_finish(limiter, limit):
    lock, running, peak, finished = threading.Lock(), [0], [0], []

    def worker(n):
        while True:
            try:
                with limiter.hold("olt-7", limit, ttl_ms=2_000):
                    with lock:
                        running[0] += 1
                        peak[0] = max(peak[0], running[0])
                    time.sleep(0.03)
                    with lock:
                        running[0] -= 1
                finished.append(n)
                return
            except OltBusy:
                time.sleep(0.002)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(finished) == list(range(10))
    assert peak[0] == limit
    assert limiter.holders("olt-7") == []


def test_a_busy_olt_refuses_at_once_in_spanish_and_a_failing_body_still_releases(limiter):
    with pytest.raises(RuntimeError):
        with limiter.hold(5, 1, ttl_ms=1_000):
            with pytest.raises(OltBusy, match="OLT 5 ocupada"):
                with limiter.hold(5, 1, ttl_ms=1_000):
                    pass
            raise RuntimeError("the SNMP walk blew up")
    assert limiter.holders(5) == []


def test_only_the_owner_renews_or_releases_its_own_slot(limiter, redis_client):
    assert limiter.acquire(1, "mine", limit=2, ttl_ms=1_000, now_ms=T0)
    assert limiter.acquire(1, "theirs", limit=2, ttl_ms=1_000, now_ms=T0)
    assert limiter.renew(1, "stranger", ttl_ms=5_000, now_ms=T0 + 500) is False
    assert limiter.release(1, "stranger") is False
    assert limiter.renew(1, "mine", ttl_ms=1_000, now_ms=T0 + 500) is True
    key = limiter.holders_key(1)
    assert redis_client.zscore(key, "mine") == T0 + 1_500
    assert redis_client.zscore(key, "theirs") == T0 + 1_000, "renewing one holder leaves the others alone"
    assert limiter.renew(1, "theirs", now_ms=T0 + 1_000) is False, "an expired holder has lost its slot"
    assert limiter.release(1, "mine") is True
    assert zset_tokens(redis_client, key) == {"theirs"}


def test_an_expired_holder_frees_its_slot_even_under_steady_traffic(limiter, redis_client):
    key = limiter.holders_key(9)
    assert limiter.acquire(9, "dead", limit=2, ttl_ms=1_000, now_ms=T0)
    for now in range(T0 + 100, T0 + 1_000, 100):  # another worker keeps coming and going
        assert limiter.acquire(9, f"busy-{now}", limit=2, ttl_ms=1_000, now_ms=now)
        assert limiter.acquire(9, "third", limit=2, ttl_ms=1_000, now_ms=now) is False
        assert limiter.release(9, f"busy-{now}")
    assert "dead" in zset_tokens(redis_client, key)
    assert limiter.acquire(9, "first", limit=2, ttl_ms=1_000, now_ms=T0 + 1_000)
    assert "dead" not in zset_tokens(redis_client, key)
    assert limiter.acquire(9, "second", limit=2, ttl_ms=1_000, now_ms=T0 + 1_000)


HOLDER_SCRIPT = textwrap.dedent("""
    import sys, time, redis
    sys.path.insert(0, sys.argv[1])
    from facho.executions.olt_limiter import OltLimiter
    limiter = OltLimiter(redis.Redis.from_url(sys.argv[2]))
    with limiter.hold("olt-kill", 2, ttl_ms=int(sys.argv[3])) as held:
        print(held.token, flush=True)
        time.sleep(600)  # a worker stuck mid-walk until SIGKILL
""")


def test_a_sigkilled_holder_frees_within_the_ttl_while_others_keep_acquiring(limiter, redis_client, redis_url):
    ttl_ms = 500
    key = limiter.holders_key("olt-kill")
    child = subprocess.Popen([sys.executable, "-c", HOLDER_SCRIPT, str(ROOT), redis_url, str(ttl_ms)],
                             stdout=subprocess.PIPE, text=True)
    stop, rounds = threading.Event(), [0]

    def traffic():
        while not stop.is_set():
            try:
                with limiter.hold("olt-kill", 2, ttl_ms=ttl_ms):
                    rounds[0] += 1
                    time.sleep(0.005)
            except OltBusy:
                pass
            time.sleep(0.005)

    traffic_thread = threading.Thread(target=traffic)
    try:
        dead_token = child.stdout.readline().strip()
        assert dead_token and dead_token in zset_tokens(redis_client, key)
        traffic_thread.start()
        time.sleep(3 * ttl_ms / 1000)
        assert dead_token in zset_tokens(redis_client, key), "a live, renewing holder keeps its slot"

        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        killed_at, before = time.monotonic(), rounds[0]
        while dead_token in zset_tokens(redis_client, key) and time.monotonic() - killed_at < 5:
            time.sleep(0.005)
        freed_after = time.monotonic() - killed_at
        assert dead_token not in zset_tokens(redis_client, key)
        assert freed_after <= ttl_ms / 1000 + SLACK_S
        assert rounds[0] > before, "traffic kept flowing while the dead slot expired"
    finally:
        stop.set()
        if traffic_thread.is_alive():
            traffic_thread.join(5)
        if child.poll() is None:
            child.kill()
            child.wait(5)
    assert limiter.acquire("olt-kill", "a", limit=2) and limiter.acquire("olt-kill", "b", limit=2)


def test_a_hold_is_renewed_past_its_ttl_and_notices_when_freed_by_an_operator(limiter):
    with limiter.hold(3, 1, ttl_ms=300) as held:
        time.sleep(0.9)
        assert limiter.acquire(3, "intruder", limit=1) is False
        assert not held.lost.is_set()
        assert limiter.free(3) == 1
        time.sleep(0.25)
        assert held.lost.is_set()
    assert limiter.holders(3) == []


def test_ops_can_list_holders_and_free_only_the_stale_ones(limiter, redis_client):
    assert limiter.acquire(1, "live-1", limit=3, ttl_ms=60_000)
    assert limiter.acquire(2, "live-2a", limit=3, ttl_ms=60_000)
    assert limiter.acquire(2, "live-2b", limit=3, ttl_ms=60_000)
    an_hour_ago_ms = int((time.time() - 3600) * 1000)
    redis_client.zadd(limiter.holders_key(1), {"dead": an_hour_ago_ms})  # left by a killed worker

    assert [h.token for h in limiter.holders(1)] == ["live-1"]
    assert [h.token for h in limiter.holders(1, include_expired=True)] == ["dead", "live-1"]
    expires = limiter.holders(1)[0].expires_at
    assert expires.tzinfo == timezone.utc
    assert abs(expires - datetime.now(timezone.utc) - timedelta(seconds=60)) < timedelta(seconds=5)
    assert {olt: [h.token for h in found] for olt, found in limiter.all_holders().items()} == {
        "1": ["dead", "live-1"], "2": ["live-2a", "live-2b"]}

    assert limiter.free_stale() == 1
    assert [h.token for h in limiter.all_holders()["1"]] == ["live-1"]
    assert limiter.free(2) == 2
    assert limiter.holders(2) == [] and list(limiter.all_holders()) == ["1"]


def test_the_start_window_caps_starts_per_minute_and_says_how_long_to_wait(limiter):
    assert [limiter.allow_start(4, 3, now_ms=T0 + s * 1000) for s in (0, 10, 20)] == [True] * 3
    assert limiter.start_wait_ms(4, 3, now_ms=T0 + 30_000) == 30_000
    assert limiter.allow_start(4, 3, now_ms=T0 + 59_999) is False
    assert limiter.allow_start(4, 3, now_ms=T0 + 60_000) is True, "the start at 0 s left the window"
    assert limiter.start_wait_ms(4, 3, now_ms=T0 + 61_000) == 9_000
    assert limiter.allow_start(5, 3, now_ms=T0 + 61_000) is True, "each OLT has its own window"


def test_the_sliding_window_never_admits_more_than_n_in_any_minute_nor_refuses_needlessly(limiter):
    rng, allowed = random.Random(11), []
    for now in sorted(T0 + rng.randrange(0, 600_000) for _ in range(400)):
        in_window = sum(1 for t in allowed if now - 60_000 < t <= now)
        if limiter.allow_start("olt-r", 5, now_ms=now):
            assert in_window < 5
            allowed.append(now)
        else:
            assert in_window == 5, "refused only when the window was full"
    assert len(allowed) >= 45  # about 5 per minute over ten minutes


def test_the_start_window_works_on_the_server_clock(limiter):
    assert limiter.allow_start(6, 2, window_ms=200) and limiter.allow_start(6, 2, window_ms=200)
    assert limiter.allow_start(6, 2, window_ms=200) is False
    time.sleep(0.25)
    assert limiter.allow_start(6, 2, window_ms=200) is True
