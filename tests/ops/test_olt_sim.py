"""The simulated OLT: deterministic recordings with real index schemes, served by snmpsim."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from facho.inventory.decoders import HUAWEI_GPON, ZTE_C320, decode_index
from facho.ops.olt_sim import REPO_ROOT, SnmpSim, plan_onus, snmprec_text, snmpsim_binary, write_snmprec
from facho.snmp import SnmpClient, SnmpError, SnmpTarget, run
from facho.inventory.values import dbm_huawei, dbm_zte
from tests.conftest import require
from tests.snmp_agents import snmpsim_installed, udp_free_port

HW = "1.3.6.1.4.1.2011.6.128.1.1.2"
ZTE = "1.3.6.1.4.1.3902.1012.3"


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(p) for p in line.split("|", 1)[0].split("."))


def test_the_same_seed_writes_the_same_olt_and_another_seed_a_different_one(tmp_path):
    first = write_snmprec(tmp_path / "a.snmprec", "huawei", 300, seed=7)
    again = write_snmprec(tmp_path / "b.snmprec", "huawei", 300, seed=7)
    other = write_snmprec(tmp_path / "c.snmprec", "huawei", 300, seed=8)
    assert first == again and first != other
    assert (tmp_path / "a.snmprec").read_text().replace("|a\n", "|b\n") == \
        (tmp_path / "b.snmprec").read_text()


def test_a_recording_is_sorted_by_oid_and_has_every_column_for_every_onu():
    onus = plan_onus("huawei", 100, seed=3)
    lines = snmprec_text("huawei", onus).splitlines()
    assert lines == sorted(lines, key=_oid_key)
    for column in ("43.1.3", "43.1.9", "46.1.15", "46.1.20", "46.1.24", "51.1.3", "51.1.4"):
        assert sum(line.startswith(f"{HW}.{column}.") for line in lines) == 100


@pytest.mark.parametrize("vendor, formula, first_name", [
    ("huawei", HUAWEI_GPON, "0/1/0:"), ("zte", ZTE_C320, "1/1/1:"),
])
def test_onus_spread_over_ports_with_the_vendors_real_index_scheme(vendor, formula, first_name):
    onus = plan_onus(vendor, 2048, seed=1)
    assert len(onus) == 2048 and len({o.index for o in onus}) == 2048
    names = [decode_index(o.index, formula).name for o in onus]
    assert names[0].startswith(first_name)
    assert len({(o.slot, o.port) for o in onus}) == 2048 // 32
    assert all(decode_index(o.index, formula)[1:4] == (o.slot, o.port, o.onu_id) for o in onus)
    offline = sum(not o.online for o in onus)
    assert 100 < offline < 320  # about one in ten


def test_zte_onu_1_1_1_uses_the_pon_index_of_the_real_c320():
    onus = plan_onus("zte", 5, seed=0)
    assert {o.index[0] for o in onus} == {268501248}


def test_optical_readings_are_written_in_each_vendors_raw_units():
    onus = plan_onus("zte", 40, seed=5)
    online = next(o for o in onus if o.online)
    offline = next(o for o in onus if not o.online)
    zte = dict(line.rsplit("|", 2)[0::2] for line in snmprec_text("zte", onus).splitlines())
    rx = f"{ZTE}.50.12.1.1.10.{online.index[0]}.{online.index[1]}.1"
    assert dbm_zte(int(zte[rx])) == pytest.approx(online.rx_dbm, abs=0.002)
    assert zte[f"{ZTE}.50.12.1.1.10.{offline.index[0]}.{offline.index[1]}.1"] == "65535"

    hw_onus = plan_onus("huawei", 40, seed=5)
    hw_on = next(o for o in hw_onus if o.online)
    hw = dict(line.rsplit("|", 2)[0::2] for line in snmprec_text("huawei", hw_onus).splitlines())
    assert dbm_huawei(int(hw[f"{HW}.51.1.4.{hw_on.index[0]}.{hw_on.index[1]}"])) == hw_on.rx_dbm


def test_an_unknown_vendor_is_refused(tmp_path):
    with pytest.raises(ValueError, match="marca simulada desconocida 'nokia'"):
        write_snmprec(tmp_path / "x.snmprec", "nokia", 10)


def test_a_missing_snmpsim_is_reported_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("FACHO_SNMPSIM", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="scripts/install-snmpsim.sh"):
        snmpsim_binary()


def test_snmpsim_serves_a_generated_olt_and_stops_cleanly(tmp_path):
    require(snmpsim_installed(), "snmpsim (run scripts/install-snmpsim.sh)")
    truth = write_snmprec(tmp_path / "olt.snmprec", "zte", 64, seed=4)
    port = udp_free_port()
    with SnmpSim(tmp_path, port) as sim:
        client = SnmpClient(SnmpTarget("127.0.0.1", port, community="olt"))
        serials = run(client.walk(f"{ZTE}.28.1.1.5"))
        descr = run(client.get("1.3.6.1.2.1.1.1.0"))
        process = sim.process
    assert [(i, v) for i, v in serials] == [(o.index, o.serial) for o in truth]
    assert descr.startswith(b"C320")
    assert process.poll() is not None
    with pytest.raises(SnmpError):
        run(SnmpClient(SnmpTarget("127.0.0.1", port, community="olt", timeout_s=0.2,
                                  retries=0)).get("1.3.6.1.2.1.1.1.0"))


def test_the_simulate_olt_command_serves_until_interrupted(tmp_path):
    require(snmpsim_installed(), "snmpsim (run scripts/install-snmpsim.sh)")
    port = udp_free_port()
    command = subprocess.Popen(
        [sys.executable, "-c", "from facho.ops.olt_sim import simulate_olt; simulate_olt()",
         "--vendor", "huawei", "--onus", "50", "--port", str(port), "--community", "sim",
         "--data-dir", str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = SnmpClient(SnmpTarget("127.0.0.1", port, community="sim", timeout_s=0.2,
                                       retries=0))
        deadline = time.monotonic() + 30
        rows = None
        while rows is None and time.monotonic() < deadline and command.poll() is None:
            try:
                rows = run(client.walk(f"{HW}.43.1.3"))
            except SnmpError:
                time.sleep(0.2)
        assert rows is not None and len(rows) == 50
        # the agent answers a moment before the command prints that it serves
        first_line = command.stdout.readline()
        command.send_signal(signal.SIGINT)
        output, _ = command.communicate(timeout=15)
        output = first_line + output
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 0
    assert "OLT huawei simulada con 50 ONUs" in output
    assert (tmp_path / "sim.snmprec").is_file()
    with pytest.raises(SnmpError):  # its snmpsim went away with it
        run(client.get("1.3.6.1.2.1.1.1.0"))
