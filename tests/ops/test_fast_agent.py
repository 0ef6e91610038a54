"""The fast simulated agent (facho.ops.fast_agent) serves what snmpsim serves for the same
recording, records what it receives, and models an OLT's RTT and CPU."""
import time

import pytest

from facho.ops.olt_sim import write_snmprec
from facho.snmp import SnmpClient, SnmpTarget, run
from facho.snmp.codec import GETBULK, GETNEXT
from tests.snmp_agents import RECORDINGS, fast_agent, fast_target

HW = "1.3.6.1.4.1.2011.6.128.1.1.2"
ZTE = "1.3.6.1.4.1.3902.1012.3"


def whole_mib(target) -> list:
    return run(SnmpClient(target).walk("1.3", max_rows=500_000))


def sorted_copy(source, folder):
    """snmpsim needs a recording sorted by OID (it answers GetNext in file order); the real
    zxa10_c320 recording has one block out of order and repeated OIDs (last one wins)."""
    records = {}
    for line in source.read_text(encoding="latin-1").splitlines():
        if line.strip():
            records[line.split("|", 1)[0]] = line
    ordered = sorted(records, key=lambda oid: tuple(map(int, oid.split("."))))
    path = folder / source.name
    path.write_text("".join(records[oid] + "\n" for oid in ordered), encoding="latin-1")
    return path


@pytest.mark.parametrize("community", ["zxa10_c320", "smartax"])
def test_a_real_recording_walks_the_same_as_on_snmpsim(snmpsim_factory, tmp_path, community):
    recording = sorted_copy(RECORDINGS / f"{community}.snmprec", tmp_path)
    write_snmprec(tmp_path / "probe.snmprec", "zte", 1)  # a system group snmpsim's probe reads whole
    sim = snmpsim_factory(tmp_path, probe_community="probe")
    with fast_agent(recording) as agent:
        ours = whole_mib(fast_target(agent, community))
    theirs = whole_mib(fast_target(sim, community))
    assert len(ours) > 1000
    assert ours == theirs


def test_generated_huawei_and_zte_olts_walk_the_same_as_on_snmpsim(olt_agents, tmp_path):
    # the same seeds as the olt_agents fixture: the same recordings
    write_snmprec(tmp_path / "huawei_sim.snmprec", "huawei", 2048, seed=1)
    write_snmprec(tmp_path / "zte_sim.snmprec", "zte", 256, seed=2)
    with fast_agent({"huawei_sim": tmp_path / "huawei_sim.snmprec",
                     "zte_sim": tmp_path / "zte_sim.snmprec"}) as agent:
        for community, root in (("huawei_sim", HW), ("zte_sim", ZTE)):
            columns = run(SnmpClient(fast_target(agent, community)).walk(root))
            assert columns == run(SnmpClient(olt_agents.target(community)).walk(root))
            assert len(columns) >= 256 * 3
        get = run(SnmpClient(fast_target(agent, "zte_sim")).get_many(
            ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.9.0"], strict=False))
    assert get == {"1.3.6.1.2.1.1.5.0": b"zte_sim", "1.3.6.1.2.1.1.9.0": None}


def test_the_agent_counts_requests_by_pdu_type_and_by_second(tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 256)
    with fast_agent(tmp_path / "olt.snmprec") as agent:
        client = SnmpClient(fast_target(agent, "olt", bulk_size=10))
        run(client.walk(f"{HW}.43.1.3"))
    assert agent.stats.pdus[GETBULK] == client.stats["getbulk"] == 26
    assert agent.stats.pdus[GETNEXT] == 1        # the walk's check of the table's end
    assert sum(agent.stats.per_second.values()) == agent.stats.requests == 27
    assert agent.stats.varbinds >= 256


def test_a_wrong_community_gets_no_answer(tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "zte", 16)
    with fast_agent(tmp_path / "olt.snmprec") as agent:
        with pytest.raises(Exception, match="Sin respuesta SNMP"):
            run(SnmpClient(fast_target(agent, "otra", timeout_s=0.2, retries=0)).get(
                "1.3.6.1.2.1.1.5.0"))


def test_rtt_and_the_cpu_cap_delay_answers_but_never_drop_them(tmp_path):
    # lower bounds only: an answer can be later than modelled on a busy machine, never earlier
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 256)
    with fast_agent(tmp_path / "olt.snmprec", rtt_ms=20) as agent:
        client = SnmpClient(fast_target(agent, "olt", bulk_size=25))
        started = time.monotonic()
        rows = run(client.walk(f"{HW}.43.1.3"))
        assert time.monotonic() - started >= client.stats["requests"] * 0.020
    assert len(rows) == 256
    with fast_agent(tmp_path / "olt.snmprec", max_rps=100) as agent:
        client = SnmpClient(fast_target(agent, "olt", bulk_size=5))
        started = time.monotonic()

        async def four_walks():
            import asyncio
            return await asyncio.gather(*(client.walk(f"{HW}.43.1.3") for _ in range(4)))

        walks = run(four_walks())
        elapsed = time.monotonic() - started
    assert all(len(w) == 256 for w in walks)
    assert agent.stats.requests == client.stats["requests"] >= 4 * 52
    assert elapsed >= (agent.stats.requests - 1) / 100


def test_each_community_is_an_olt_with_its_own_cpu_and_its_own_budget_count(tmp_path):
    write_snmprec(tmp_path / "olt.snmprec", "huawei", 64)
    recordings = {"a": tmp_path / "olt.snmprec", "b": tmp_path / "olt.snmprec"}
    with fast_agent(recordings, max_rps=50, budget_rps=5) as agent:
        clients = [SnmpClient(fast_target(agent, c, bulk_size=4)) for c in ("a", "b")]

        async def both():
            import asyncio
            return await asyncio.gather(*(c.walk(f"{HW}.43.1.3") for c in clients))

        started = time.monotonic()
        walks = run(both())
        elapsed = time.monotonic() - started
    requests = clients[0].stats["requests"]          # 17 for 64 rows by 4, each OLT
    assert [len(w) for w in walks] == [64, 64]
    assert elapsed < 2 * (requests - 1) / 50         # the two CPUs served side by side
    assert agent.stats.by_community == {b"a": requests, b"b": requests}
    assert min(agent.stats.community_peak_per_second.values()) > 5
    assert agent.stats.budget_violations >= 2        # each OLT had a second over 5


def test_the_agent_process_reports_what_it_received(tmp_path):
    from facho.ops.fast_agent import FastAgentProcess

    write_snmprec(tmp_path / "olt.snmprec", "zte", 16)
    with FastAgentProcess([tmp_path / "olt.snmprec"], alias=3) as agent:
        for community in ("olt-0", "olt-2"):
            run(SnmpClient(SnmpTarget("127.0.0.1", agent.port, community=community,
                                      timeout_s=2, retries=0)).get("1.3.6.1.2.1.1.5.0"))
        stats = agent.stats()
    assert stats["requests"] == 2 and stats["pdus"] == {"get": 2}
    assert stats["by_community"] == {"olt-0": 1, "olt-2": 1}
