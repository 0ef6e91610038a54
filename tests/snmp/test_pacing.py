"""The polling budget at the wire (facho.snmp.pacing): every datagram, retransmissions
included, passes the OLT's gate; a walk keeps its pause between answer and request."""
import pytest

from facho.ops.olt_sim import write_snmprec
from facho.snmp import SnmpClient, SnmpTimeout, run
from facho.snmp.pacing import Pacer, pacer_for
from tests.snmp_agents import fast_agent, fast_target

HW_SERIAL = "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3"


class CountingGate:
    def __init__(self):
        self.calls = 0

    async def wait(self):
        self.calls += 1


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("pacing") / "olt.snmprec"
    write_snmprec(path, "huawei", 128)
    return path


def test_every_request_of_a_walk_passes_the_gate(recording):
    gate = CountingGate()
    with fast_agent(recording) as agent:
        client = SnmpClient(fast_target(agent, "olt", bulk_size=10, gate=gate))
        assert len(run(client.walk(HW_SERIAL))) == 128
    assert gate.calls == client.stats["sends"] == agent.stats.requests


def test_retransmissions_pass_the_gate_too(recording):
    gate = CountingGate()
    with fast_agent(recording, bulk="silent") as agent:
        client = SnmpClient(fast_target(agent, "olt", gate=gate, timeout_s=0.1, retries=2))
        with pytest.raises(SnmpTimeout):
            run(client.walk(HW_SERIAL))
    assert gate.calls == agent.stats.requests == 3


def test_a_walk_waits_its_pause_after_every_answer(recording, monkeypatch):
    import facho.snmp.client as client_module
    pacers = []

    def recording_pacer(target):
        pacers.append(Pacer(target.pause_ms / 1000, target.gate))
        return pacers[-1]

    monkeypatch.setattr(client_module, "pacer_for", recording_pacer)
    with fast_agent(recording) as agent:
        client = SnmpClient(fast_target(agent, "olt", bulk_size=10, pause_ms=30))
        run(client.walk(HW_SERIAL))
    requests = client.stats["requests"]
    assert requests == agent.stats.requests > 10
    # sleeping never ends early: the pauses alone add up to (requests - 1) x 30 ms
    assert pacers[0].waited_s >= (requests - 1) * 0.030 * 0.99


def test_a_target_without_budget_has_no_pacer():
    from facho.snmp import SnmpTarget
    assert pacer_for(SnmpTarget("127.0.0.1")) is None
    assert pacer_for(SnmpTarget("127.0.0.1", pause_ms=5)).pause_s == 0.005
