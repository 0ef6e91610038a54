"""A preview walk ("Probar" in the panel) reads only the first rows of each column, so it
costs one or two requests whatever the size of the OLT's tables."""
from facho.snmp import SnmpClient, run

HUAWEI_ONT = "1.3.6.1.4.1.2011.6.128.1.1.2"


def test_a_head_walk_stops_each_column_after_its_first_rows(olt_agents):
    serial, status = f"{HUAWEI_ONT}.43.1.3", f"{HUAWEI_ONT}.46.1.15"
    whole = SnmpClient(olt_agents.target("huawei_sim", bulk_size=25))
    everything = run(whole.walk_columns([serial, status]))

    head = SnmpClient(olt_agents.target("huawei_sim", bulk_size=25))
    first = run(head.walk_columns([serial, status], head_rows=20))

    assert first[serial] == everything[serial][:20]
    assert first[status] == everything[status][:20]
    assert head.stats["requests"] == 1
    assert whole.stats["requests"] > 80  # 2,048 rows at 25 per request


def test_a_head_walk_of_a_short_table_returns_all_of_it(olt_agents):
    ports = f"{HUAWEI_ONT}.23.1.4"
    client = SnmpClient(olt_agents.target("smartax"))
    assert len(run(client.walk_columns([ports], head_rows=100))[ports]) == 32
