"""The requests-per-second cap of an OLT is one limiter in Redis: bookings spaced on the
Redis clock, shared by every process; verified where it matters, at an agent that counts
what it receives per second."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from facho.config import REPO_ROOT
from facho.executions.request_rate import RedisRequestGate, RequestRate, interval_us
from facho.executions.targets import snmp_target
from facho.models import Olt
from facho.ops.olt_sim import write_snmprec
from facho.snmp.codec import GETBULK
from tests.snmp_agents import fast_agent

T0 = 1_700_000_000_000_000  # an injected "now", µs since the epoch


@pytest.fixture
def rate(redis_client):
    return RequestRate(redis_client)


def test_bookings_at_the_same_instant_are_spaced_by_one_interval(rate):
    waits = [rate.book_us("olt-1", 50, now_us=T0) for _ in range(5)]
    assert waits == [0, 20_000, 40_000, 60_000, 80_000]
    assert rate.book_us("olt-2", 50, now_us=T0) == 0  # another OLT has its own budget


def test_an_olt_left_idle_books_at_once_and_its_key_expires(rate, redis_client):
    rate.book_us("olt-1", 10, now_us=T0)
    assert rate.book_us("olt-1", 10, now_us=T0 + 5_000_000) == 0   # no debt carried over
    assert 0 < redis_client.pttl(rate.key("olt-1")) <= 1_100


def test_a_cap_below_one_is_refused():
    with pytest.raises(ValueError):
        interval_us(0)


def test_an_olt_row_with_a_cap_gives_its_target_the_shared_gate(app):
    config = app.config["FACHO"]
    olt = Olt(id=7, ip_address="127.0.0.1", comunidad="c", max_repetitions=10,
              max_requests_per_second=30, request_pause_ms=15, getnext_only=False)
    target = snmp_target(olt, config)
    assert isinstance(target.gate, RedisRequestGate)
    assert (target.gate.olt_id, target.gate.per_second) == (7, 30)
    assert (target.bulk_size, target.pause_ms, target.getnext_only) == (10, 15, False)
    assert "gate" not in repr(target)
    uncapped = snmp_target(Olt(id=8, ip_address="127.0.0.1", comunidad="c", max_repetitions=10,
                               max_requests_per_second=0, request_pause_ms=0,
                               getnext_only=True), config)
    assert uncapped.gate is None and uncapped.bulk_size == 1 and uncapped.getnext_only


WALKER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import redis
    from facho.executions.request_rate import RequestRate
    from facho.snmp import SnmpClient, SnmpTarget, run
    gate = RequestRate(redis.Redis.from_url(sys.argv[2])).gate("olt-shared", int(sys.argv[4]))
    client = SnmpClient(SnmpTarget("127.0.0.1", int(sys.argv[3]), community="olt",
                                   bulk_size=3, timeout_s=5, retries=0, gate=gate))
    rows = run(client.walk("1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"))
    print(json.dumps({"rows": len(rows), "requests": client.stats["requests"],
                      "booked": gate.booked}))
""")
CAP = 40


def test_two_processes_together_stay_under_the_olt_cap_at_the_agent(redis_url, tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 256)
    with fast_agent(tmp_path / "olt.snmprec") as agent:
        walkers = [subprocess.Popen([sys.executable, "-c", WALKER, str(REPO_ROOT), redis_url,
                                     str(agent.port), str(CAP)], stdout=subprocess.PIPE,
                                    text=True) for _ in range(2)]
        results = [json.loads(w.communicate(timeout=120)[0]) for w in walkers]
    assert [r["rows"] for r in results] == [256, 256]
    assert all(r["booked"] == r["requests"] for r in results)  # every request passed the gate
    assert agent.stats.requests == sum(r["requests"] for r in results) > 3 * CAP
    assert agent.stats.pdus[GETBULK] > 0
    # every wall-clock second at the agent: at most the cap (+10 % for scheduling jitter:
    # a booking sent late can share a second with the next one sent on time)
    assert agent.stats.peak_per_second <= CAP * 1.1, dict(agent.stats.per_second)
    assert len(agent.stats.per_second) >= 3
