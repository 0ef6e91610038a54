"""The scheduler leader lease against a real Redis (our own db, see conftest)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis as redis_lib

from facho.config import REPO_ROOT
from facho.scheduling.lease import LeaderLease

ROOT = REPO_ROOT
SHORT_TTL_MS = 300
SLACK_S = 0.15  # scheduling noise on a loaded test machine


def wait_until(condition, timeout_s):
    """Poll every 5 ms; return seconds elapsed when condition held, None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.005)
    return None


def test_of_two_competing_owners_only_one_holds(redis_client):
    a = LeaderLease(redis_client, owner="a")
    b = LeaderLease(redis_client, owner="b")
    assert a.acquire() is True
    assert b.acquire() is False
    assert a.holder() == "a"
    assert a.acquire() is True, "the owner may acquire again (a restarted tick)"
    assert b.holder() == "a"


def test_a_non_owner_can_neither_renew_nor_release(redis_client):
    a = LeaderLease(redis_client, owner="a", ttl_ms=5_000)
    b = LeaderLease(redis_client, owner="b", ttl_ms=60_000)
    a.acquire()
    assert b.renew() is False
    assert b.release() is False
    assert a.holder() == "a"
    assert a.remaining_ms() <= 5_000, "b's renew must not have stretched a's lease"
    assert a.release() is True
    assert a.holder() is None and a.remaining_ms() is None
    assert b.acquire() is True


def test_an_unrenewed_lease_expires_and_the_other_takes_over_within_the_ttl(redis_client):
    a = LeaderLease(redis_client, owner="a", ttl_ms=SHORT_TTL_MS)
    b = LeaderLease(redis_client, owner="b", ttl_ms=SHORT_TTL_MS)
    assert a.acquire()
    taken_after = wait_until(b.acquire, timeout_s=2)
    assert taken_after is not None
    assert 0.2 <= taken_after <= SHORT_TTL_MS / 1000 + SLACK_S
    assert a.renew() is False, "the old leader learns it lost the lease"
    assert a.held_locally_ms() == 0
    assert b.holder() == "b"


def test_a_renewed_lease_outlives_its_ttl(redis_client):
    a = LeaderLease(redis_client, owner="a", ttl_ms=SHORT_TTL_MS)
    b = LeaderLease(redis_client, owner="b", ttl_ms=SHORT_TTL_MS)
    a.acquire()
    for _ in range(8):  # 0.8 s, well past the 0.3 s TTL
        time.sleep(SHORT_TTL_MS / 3000)
        assert a.renew() is True
        assert b.acquire() is False
    assert 0 < a.held_locally_ms() <= SHORT_TTL_MS


LEADER_SCRIPT = textwrap.dedent("""
    import sys, time, redis
    sys.path.insert(0, sys.argv[1])
    from facho.scheduling.lease import LeaderLease
    lease = LeaderLease(redis.Redis.from_url(sys.argv[2]), ttl_ms=int(sys.argv[3]))
    assert lease.acquire()
    print(lease.owner, flush=True)
    while True:  # a healthy leader renewing at ttl/3, until SIGKILL
        time.sleep(int(sys.argv[3]) / 3000)
        lease.renew()
""")


def test_a_leader_killed_with_sigkill_loses_the_lease_within_the_ttl(redis_client, redis_url):
    child = subprocess.Popen([sys.executable, "-c", LEADER_SCRIPT, str(ROOT), redis_url, str(SHORT_TTL_MS)],
                             stdout=subprocess.PIPE, text=True)
    try:
        owner = child.stdout.readline().strip()
        follower = LeaderLease(redis_client, owner="follower", ttl_ms=SHORT_TTL_MS)
        assert owner and follower.holder() == owner
        time.sleep(SHORT_TTL_MS * 2 / 1000)
        assert follower.acquire() is False, "a live leader keeps the lease past its TTL"

        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        taken_after = wait_until(follower.acquire, timeout_s=2)
        assert taken_after is not None and taken_after <= SHORT_TTL_MS / 1000 + SLACK_S
        assert follower.holder() == "follower"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)


def test_default_owner_names_host_and_pid_and_is_unique(redis_client):
    first, second = LeaderLease(redis_client), LeaderLease(redis_client)
    assert f":{os.getpid()}:" in first.owner
    assert first.owner != second.owner


def test_last_tick_round_trips_and_is_replaced_whole(redis_url):
    client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    lease = LeaderLease(client, owner="a")
    assert lease.last_tick() is None
    lease.record_tick({"jobs": 12, "claimed": 30, "missed": 0, "error": None, "duration_ms": 41.5})
    first = lease.last_tick()
    assert first["jobs"] == 12 and first["error"] is None and first["duration_ms"] == 41.5
    assert first["owner"] == "a" and abs(first["at_ms"] / 1000 - time.time()) < 60

    lease.record_tick({"jobs": 3})
    second = lease.last_tick()
    assert second["jobs"] == 3 and "claimed" not in second
    assert second["at_ms"] >= first["at_ms"]
    client.close()


def test_ttl_must_be_positive(redis_client):
    with pytest.raises(ValueError):
        LeaderLease(redis_client, ttl_ms=0)


# --- the wall clock seen by the scheduler (issue 9) ----------------------------------------

def test_the_clock_watch_reports_a_step_back_and_a_jump_forward_beyond_a_tick():
    from facho.scheduling.process import ClockWatch
    watch = ClockWatch(forward_limit_s=60)
    assert watch.observe(wall=1000.0, mono=50.0) is None          # first sight: nothing
    assert watch.observe(wall=1001.0, mono=51.0) is None          # in step
    assert watch.observe(wall=1001.6, mono=52.0) is None          # NTP slewing: noise
    assert watch.observe(wall=973.0, mono=53.0) == pytest.approx(-29.6)   # 30 s back
    assert watch.observe(wall=1034.0, mono=114.0) is None         # 60 s later, in step
    assert watch.observe(wall=1134.0 + 61, mono=115.0) == pytest.approx(160.0)
    assert watch.observe(wall=1196.0 + 30, mono=116.0) is None    # < one tick: not reported


def test_a_recorded_clock_jump_reads_back_with_a_spanish_sentence(redis_client):
    lease = LeaderLease(redis_client, owner="sched-a:1:x")
    assert ops_clock(redis_client) is None
    lease.record_clock_jump(-30.4)
    jump = ops_clock(redis_client)
    assert jump["direction"] == "atrás" and jump["step_s"] == -30.4
    assert "retrocedió 30 s" in jump["message"] and "sched-a:1:x" in jump["message"]
    lease.record_clock_jump(125.0)
    jump = ops_clock(redis_client)
    assert jump["direction"] == "adelante" and "adelantó 2 min 5 s" in jump["message"]


def ops_clock(client):
    from facho.ops import status as ops
    return ops.clock_jump_state(client)
