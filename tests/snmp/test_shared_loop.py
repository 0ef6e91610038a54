"""Many slow OLTs in flight in one worker process: every walk a task of one shared event
loop, with one extra thread and one socket per walk, counted while they run against the
fast agent with a long injected RTT."""
import asyncio
import os
import threading

from facho.ops.olt_sim import write_snmprec
from facho.snmp import SnmpClient
from facho.snmp.shared_loop import shared_loop
from tests.snmp_agents import fast_agent, fast_target

HW_SERIAL = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"
WALKS = 300


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_hundreds_of_walks_in_flight_cost_one_thread_and_one_socket_each(tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 64)
    shared_loop().run(asyncio.sleep(0))          # the loop's own thread and fds exist now
    with fast_agent(tmp_path / "olt.snmprec", rtt_ms=300) as agent:
        threads_before, fds_before = threading.active_count(), open_fds()
        peaks = {"threads": 0, "fds": 0}

        async def walk():
            client = SnmpClient(fast_target(agent, "olt", bulk_size=16))
            rows = await client.walk(HW_SERIAL)
            peaks["threads"] = max(peaks["threads"], threading.active_count())
            peaks["fds"] = max(peaks["fds"], open_fds())
            return len(rows)

        async def all_walks():
            return await asyncio.gather(*(walk() for _ in range(WALKS)))

        rows = shared_loop().run(all_walks())
    assert rows == [64] * WALKS
    assert agent.stats.peak_outstanding >= WALKS * 2 // 3   # really in flight together
    assert peaks["threads"] == threads_before               # no thread per walk
    assert peaks["fds"] <= fds_before + WALKS + 10           # one UDP socket per walk
    assert open_fds() <= fds_before + 2                      # and every one closed


def test_worker_threads_share_the_loop_and_get_their_own_results_and_errors(tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "zte", 32)
    results, errors = {}, {}
    with fast_agent(tmp_path / "olt.snmprec", rtt_ms=50) as agent:
        def worker(n):
            community = "olt" if n % 2 == 0 else "otra"   # odd threads: wrong community
            client = SnmpClient(fast_target(agent, community, timeout_s=0.3, retries=0))
            try:
                results[n] = shared_loop().run(client.get("1.3.6.1.2.1.1.5.0"))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors[n] = exc

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == {n: b"olt" for n in range(0, 20, 2)}
    assert sorted(errors) == list(range(1, 20, 2))
    assert all("Sin respuesta SNMP" in str(e) for e in errors.values())
