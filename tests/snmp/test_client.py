"""The SNMP client against real agents on 127.0.0.1 (snmpsim) and small faulty ones."""
from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import replace

import pytest

from facho.inventory.decoders import HUAWEI_GPON, ZTE_C320, decode_index
from facho.snmp import (SnmpAgentLoop, SnmpAuthError, SnmpClient, SnmpTarget, SnmpTimeout, SnmpTooManyRows,
                        SnmpUnknownOid, SnmpUnreachable, SnmpWalkDeadline, run)
from facho.snmp.codec import GETBULK, GETNEXT
from facho.inventory.values import distance_km, gpon_serial, status_huawei
from facho.ops.olt_sim import HW as HUAWEI_ONT, ZTE as ZTE_GPON  # the ONU table roots
from tests.snmp_agents import (V3_AUTH_KEY, V3_USER, FakeAgent, endless_policy,
                               repeating_policy, table_policy, udp_free_port)

SECRET = "s3cr3t-community"
FAKE_ROOT = (1, 3, 6, 1, 4, 1, 99999, 1)
FAKE_ROOT_TEXT = ".".join(map(str, FAKE_ROOT))


def fake_client(agent: FakeAgent, **options) -> SnmpClient:
    options.setdefault("timeout_s", 1.0)
    options.setdefault("retries", 0)
    return SnmpClient(SnmpTarget("127.0.0.1", agent.port, community="public", **options))


def recorded(path, column: str) -> dict[tuple[int, ...], str]:
    """Rows of one column as the recording file states them (index -> value text)."""
    out = {}
    for line in path.read_text(errors="replace").splitlines():
        oid, _, value = line.partition("|")[0], None, line.rsplit("|", 1)[-1]
        if oid.startswith(column + "."):
            out[tuple(int(p) for p in oid[len(column) + 1:].split("."))] = value
    return out


# --- real agents -----------------------------------------------------------------------

def test_walks_a_simulated_huawei_olt_with_2048_onus_decoding_every_row(olt_agents):
    client = SnmpClient(olt_agents.target("huawei_sim"))
    rows = run(client.table({"serial": f"{HUAWEI_ONT}.43.1.3",
                             "status": f"{HUAWEI_ONT}.46.1.15"}))

    assert len(rows) == 2048
    truth = {onu.index: onu for onu in olt_agents.huawei}
    for row in rows:
        onu = truth[row.index]
        decoded = decode_index(row.index, HUAWEI_GPON)
        assert (decoded.slot, decoded.port, decoded.onu_id) == (onu.slot, onu.port, onu.onu_id)
        assert decoded.name == f"0/{onu.slot}/{onu.port}:{onu.onu_id}"
        assert gpon_serial(row.values["serial"]) == "HWTC" + onu.serial[4:].hex().upper()
        assert status_huawei(row.values["status"]) == ("online" if onu.online else "offline")
    assert {decode_index(r.index, HUAWEI_GPON).slot for r in rows} == {1, 2, 3, 4}
    assert client.stats["varbinds"] >= 2 * 2048


def test_reads_the_real_zte_c320_recording_125_onus_with_ports_and_distances_in_km(olt_agents):
    column = f"{ZTE_GPON}.11.4.1.2"
    rows = run(SnmpClient(olt_agents.target("zxa10_c320")).walk(column))

    assert len(rows) == 125
    expected = recorded(olt_agents.recordings / "zxa10_c320.snmprec", column)
    decoded = [decode_index(index, ZTE_C320) for index, _ in rows]
    assert {d.slot for d in decoded} == {1}
    assert sorted({d.port for d in decoded}) == [1, 3, 4, 5, 6, 7, 8]
    assert decoded[0].name == "1/1/1:1" and decoded[0].raw == "268501248.1"
    for (index, metres), d in zip(rows, decoded):
        assert distance_km(metres) == int(expected[index]) / 1000
        assert 0 <= distance_km(metres) < 60  # 3 ONUs of the recording were not ranged (0 m)


def test_multi_column_walk_returns_aligned_rows_in_shared_requests(olt_agents):
    distance, serial = f"{ZTE_GPON}.11.4.1.2", f"{ZTE_GPON}.28.1.1.5"
    client = SnmpClient(olt_agents.target("zte_sim", bulk_size=25))
    rows = run(client.table({"distance": distance, "serial": serial}))
    together = client.stats["requests"]

    alone = SnmpClient(olt_agents.target("zte_sim", bulk_size=25))
    run(alone.walk(distance))
    run(alone.walk(serial))

    truth = {onu.index: onu for onu in olt_agents.zte}
    assert [r.index for r in rows] == sorted(truth)
    for row in rows:
        onu = truth[row.index]
        assert row.values["serial"] == onu.serial
        assert row.values["distance"] == (onu.distance_m if onu.online else None)
    assert any(r.values["distance"] is None for r in rows)  # offline ONUs are not ranged
    assert together < alone.stats["requests"]


def test_get_many_batches_requests_and_decodes_plain_values(olt_agents):
    client = SnmpClient(olt_agents.target("zxa10_c320", get_batch=2))
    oids = [f"1.3.6.1.2.1.1.{n}.0" for n in (1, 2, 3, 5, 7)]
    values = run(client.get_many(oids))

    assert client.stats["requests"] == 3
    assert values["1.3.6.1.2.1.1.1.0"].startswith(b"C320 Version V2.1.0")
    assert values["1.3.6.1.2.1.1.2.0"] == "1.3.6.1.4.1.3902.1082.1001.320.2.1"
    assert values["1.3.6.1.2.1.1.3.0"] == 651080000
    assert values["1.3.6.1.2.1.1.7.0"] == 78


@pytest.mark.parametrize("version", ["v1", "v2c"])
def test_a_missing_object_is_an_unknown_oid_error_that_is_not_retried(olt_agents, version):
    client = SnmpClient(olt_agents.target("zxa10_c320", version=version))
    with pytest.raises(SnmpUnknownOid) as caught:
        run(client.get("1.3.6.1.2.1.1.99.0"))

    assert caught.value.transient is False
    assert "1.3.6.1.2.1.1.99.0" in str(caught.value)
    lenient = run(client.get_many(["1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.5.0"], strict=False))
    assert lenient == {"1.3.6.1.2.1.1.99.0": None, "1.3.6.1.2.1.1.5.0": b"private"}


def test_walking_a_subtree_the_agent_lacks_returns_no_rows(olt_agents):
    client = SnmpClient(olt_agents.target("smartax"))
    assert run(client.walk(f"{HUAWEI_ONT}.43.1.3")) == []  # this MA56xx has no ONT rows
    assert len(run(client.walk(f"{HUAWEI_ONT}.23.1.4"))) == 32  # but 32 GPON ports


def test_snmp_v1_walks_with_getnext_and_finds_the_same_rows(olt_agents):
    column = f"{ZTE_GPON}.11.4.1.2"
    v1 = SnmpClient(olt_agents.target("zxa10_c320", version="v1"))
    v2c = SnmpClient(olt_agents.target("zxa10_c320"))

    assert run(v1.walk(column)) == run(v2c.walk(column))
    assert v1.stats["requests"] == 126  # one GetNext per row, plus the one that ends it


def test_snmp_v3_with_sha_authentication_reads_the_same_data(olt_agents):
    column = f"{ZTE_GPON}.11.4.1.2"
    v3 = olt_agents.target("", version="v3", v3_user=V3_USER, v3_auth_proto="sha1",
                           v3_auth_key=V3_AUTH_KEY, v3_context="zxa10_c320")
    assert run(SnmpClient(v3).get("1.3.6.1.2.1.1.5.0")) == b"private"
    assert run(SnmpClient(v3).walk(column)) == run(SnmpClient(
        olt_agents.target("zxa10_c320")).walk(column))

    wrong = SnmpClient(replace(v3, v3_auth_key="not-the-key"))
    with pytest.raises(SnmpAuthError) as caught:
        run(wrong.get("1.3.6.1.2.1.1.5.0"))
    assert caught.value.transient is False
    assert "not-the-key" not in str(caught.value) and "Wrong message digest" in str(caught.value)


def test_one_client_can_walk_several_tables_at_once_with_or_without_a_held_socket(olt_agents):
    client = SnmpClient(olt_agents.target("zte_sim"))
    columns = [f"{ZTE_GPON}.28.1.1.5", f"{ZTE_GPON}.28.1.1.2", f"{ZTE_GPON}.11.4.1.2"]

    async def together(hold: bool):
        if hold:
            async with client:
                return await asyncio.gather(*(client.walk(c) for c in columns))
        return await asyncio.gather(*(client.walk(c) for c in columns))

    online = sum(onu.online for onu in olt_agents.zte)
    for hold in (False, True):
        assert [len(rows) for rows in run(together(hold))] == [256, 256, online]


def test_the_sync_wrapper_runs_walks_from_many_threads_at_once(olt_agents):
    results, errors = [], []

    def worker():
        try:
            results.append(len(run(SnmpClient(olt_agents.target("zxa10_c320"))
                                   .walk(f"{ZTE_GPON}.11.4.1.2"))))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and results == [125] * 4


# --- failures ------------------------------------------------------------------------

def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_closed_port_fails_clearly_without_leaking_sockets():
    client = SnmpClient(SnmpTarget("127.0.0.1", udp_free_port(), community=SECRET,
                                   timeout_s=1.0, retries=2))

    async def fail_many() -> tuple[int, int, list[Exception]]:
        before = _open_fds()
        errors = []
        for _ in range(200):
            try:
                await client.walk("1.3.6.1.2.1.1")
            except SnmpUnreachable as exc:
                errors.append(exc)
        return before, _open_fds(), errors

    started = time.monotonic()
    before, after, errors = run(fail_many())

    assert len(errors) == 200
    assert after == before
    assert time.monotonic() - started < 10  # refused at once, never waiting for timeouts
    assert errors[0].transient is True
    assert "rechazó" in str(errors[0]) and SECRET not in str(errors[0])


def test_wrong_community_times_out_retries_and_fails_with_the_timeout_error(olt_agents):
    client = SnmpClient(olt_agents.target(SECRET, timeout_s=0.3, retries=1))
    started = time.monotonic()
    with pytest.raises(SnmpTimeout) as caught:
        run(client.walk(f"{ZTE_GPON}.11.4.1.2"))
    elapsed = time.monotonic() - started

    # both attempts waited their whole timeout, and no third one was made (a loaded machine
    # may add seconds on top, so the upper bound only catches a client that waits forever)
    assert 0.55 < elapsed < 10
    assert client.stats["sends"] == 2
    assert caught.value.transient is True
    assert "Sin respuesta SNMP" in str(caught.value) and SECRET not in str(caught.value)


def test_an_agent_returning_non_increasing_oids_is_stopped_as_a_loop():
    with FakeAgent(repeating_policy(FAKE_ROOT)) as agent:
        with pytest.raises(SnmpAgentLoop) as caught:
            run(fake_client(agent).walk(FAKE_ROOT_TEXT))
    assert caught.value.transient is False
    assert len(agent.requests) == 2  # the first answer is fine, the repeat is caught at once


def test_an_endless_table_is_cut_by_the_row_limit():
    with FakeAgent(endless_policy(FAKE_ROOT)) as agent:
        with pytest.raises(SnmpTooManyRows) as caught:
            run(fake_client(agent).walk(FAKE_ROOT_TEXT, max_rows=1000))
    assert caught.value.max_rows == 1000
    assert len(agent.requests) == 1000 // 25 + 1


def test_an_endless_slow_table_is_cut_by_the_deadline():
    with FakeAgent(endless_policy(FAKE_ROOT), delay_s=0.02) as agent:
        started = time.monotonic()
        with pytest.raises(SnmpWalkDeadline) as caught:
            run(fake_client(agent).walk(FAKE_ROOT_TEXT, deadline_s=0.5))
    assert time.monotonic() - started < 1.0
    assert caught.value.rows > 0 and caught.value.transient is True


def test_the_deadline_also_cuts_a_request_still_waiting_for_its_answer():
    with FakeAgent(lambda kind, oids, reps: None) as agent:
        started = time.monotonic()
        with pytest.raises(SnmpWalkDeadline):
            run(fake_client(agent, timeout_s=5.0).walk(FAKE_ROOT_TEXT, deadline_s=0.3))
    assert time.monotonic() - started < 1.0


def test_stale_replies_are_skipped_and_every_request_id_is_unique():
    with FakeAgent(table_policy(FAKE_ROOT, rows=100), stale_first=True) as agent:
        rows = run(fake_client(agent).walk(FAKE_ROOT_TEXT, bulk_size=10))
    assert rows == [((n,), n) for n in range(1, 101)]
    ids = [request_id for request_id, _, _ in agent.requests]
    assert len(ids) == len(set(ids)) == 12  # 11 GetBulk + the GETNEXT confirming the end


def test_too_big_answers_halve_the_bulk_size_until_the_agent_copes():
    table = table_policy(FAKE_ROOT, rows=30)

    def small_agent(kind, oids, max_repetitions):
        return 1 if max_repetitions > 5 else table(kind, oids, max_repetitions)  # 1 = tooBig

    with FakeAgent(small_agent) as agent:
        rows = run(fake_client(agent).walk(FAKE_ROOT_TEXT, bulk_size=20))
    assert len(rows) == 30
    kinds = [kind for _, kind, _ in agent.requests]
    assert kinds == [GETBULK] * (len(kinds) - 1) + [GETNEXT]  # the end confirmed by GETNEXT


def test_v1_never_sends_getbulk():
    with FakeAgent(table_policy(FAKE_ROOT, rows=3)) as agent:
        rows = run(fake_client(agent, version="v1").walk(FAKE_ROOT_TEXT))
    assert len(rows) == 3
    assert {kind for _, kind, _ in agent.requests} == {GETNEXT}


def test_a_session_reuses_one_socket_for_several_operations(olt_agents):
    client = SnmpClient(olt_agents.target("zxa10_c320"))

    async def both():
        async with client:
            before = _open_fds()
            await client.get("1.3.6.1.2.1.1.5.0")
            rows = await client.walk(f"{ZTE_GPON}.11.4.1.2")
            return before, _open_fds(), len(rows)

    before, during, count = run(both())
    assert count == 125 and during == before
