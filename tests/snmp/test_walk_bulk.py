"""GetBulk that an agent mishandles (ZTE C300s: an empty answer, silence, a table cut
short) is caught and the error names the OLT setting to change; "Solo GETNEXT" walks
without a single GetBulk. Against the fast agent, which records every PDU type."""
import pytest

from facho.ops.olt_sim import write_snmprec
from facho.snmp import SnmpClient, SnmpTimeout, run
from facho.snmp.codec import GETBULK, GETNEXT
from facho.snmp.errors import SnmpBulkUnreliable
from tests.snmp_agents import fast_agent, fast_target

ZTE = "1.3.6.1.4.1.3902.1012.3"
SERIAL, NAME = f"{ZTE}.28.1.1.5", f"{ZTE}.28.1.1.2"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("bulk") / "c300.snmprec"
    onus = write_snmprec(path, "zte", 256, seed=3)
    return path, sorted(onu.index for onu in onus)


def walk(agent, **options):
    client = SnmpClient(fast_target(agent, "c300", **options))
    return client, run(client.walk_columns([SERIAL, NAME]))


def test_a_healthy_agent_costs_one_getnext_to_confirm_the_end(recording):
    path, indexes = recording
    with fast_agent(path) as agent:
        client, rows = walk(agent, bulk_size=25)
    assert [i for i, _ in rows[SERIAL]] == indexes
    assert agent.stats.pdus[GETNEXT] == 1
    assert agent.stats.pdus[GETBULK] == client.stats["getbulk"] == 256 // 25 + 1


def test_an_empty_getbulk_answer_names_the_getnext_setting(recording):
    path, _ = recording
    with fast_agent(path, bulk="empty") as agent:
        with pytest.raises(SnmpBulkUnreliable) as caught:
            walk(agent, bulk_size=25)
    message = str(caught.value)
    assert "respondió vacío" in message and "«Solo GETNEXT»" in message
    assert "«Repeticiones por GetBulk»" in message and caught.value.transient is False


def test_a_table_cut_short_by_getbulk_is_caught_by_getnext(recording):
    path, indexes = recording
    cut = f"{SERIAL}." + ".".join(map(str, indexes[100]))
    with fast_agent(path, bulk_end_at=cut) as agent:
        with pytest.raises(SnmpBulkUnreliable) as caught:
            walk(agent, bulk_size=25)
    assert "devolvió la tabla incompleta" in str(caught.value)
    assert "pruebe 12" in str(caught.value)  # half the repetitions used


def test_a_table_getbulk_says_is_empty_is_caught_too(recording):
    path, _ = recording
    with fast_agent(path, bulk_end_at=SERIAL) as agent:
        with pytest.raises(SnmpBulkUnreliable) as caught:
            walk(agent, bulk_size=10)
    assert "devolvió la tabla vacía" in str(caught.value)


def test_silence_to_getbulk_says_which_setting_to_try(recording):
    path, _ = recording
    with fast_agent(path, bulk="silent") as agent:
        with pytest.raises(SnmpTimeout) as caught:
            walk(agent, timeout_s=0.2, retries=0)
    assert "Sin respuesta SNMP" in str(caught.value)
    assert "«Solo GETNEXT»" in str(caught.value)


@pytest.mark.parametrize("fault", [{"bulk": "empty"}, {"bulk": "silent"}, {}])
def test_getnext_only_walks_the_whole_table_without_a_single_getbulk(recording, fault):
    path, indexes = recording
    with fast_agent(path, **fault) as agent:
        client, rows = walk(agent, getnext_only=True, bulk_size=25)
    assert [i for i, _ in rows[SERIAL]] == [i for i, _ in rows[NAME]] == indexes
    assert agent.stats.pdus[GETBULK] == 0
    assert agent.stats.pdus[GETNEXT] == client.stats["getnext"] == len(indexes) + 1
