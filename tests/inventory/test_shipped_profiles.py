"""Every shipped vendor profile against a recording with that vendor's real scheme (issue 11).

For each profile in ``facho/inventory/profiles/shipped``: import it into an empty database
through the profile importer, create an OLT of its brand pointing at snmpsim, run a discovery
job (the profile's discovery OIDs plus its serial / description / state / MAC columns) and a
get job (powers, distance), and compare EVERY ONU of the inventory with an independent
decoding of the recording: name, slot/port/ONU, serial, MAC, description, Spanish state, rx
(and tx) in dBm, distance in km, and None wherever the device has no value. On SQLite and on PostgreSQL.

Recordings: the synthetic ones of ``tests/data/snmprec/synthetic`` (ground truth in their
``.expected.json``, computed by ``tests.recordings.generate``'s own arithmetic), a simulated
Huawei OLT (``facho.ops.olt_sim``, ground truth its ``SimOnu`` list) and the real ZTE C320
recording (``tests/data/snmprec/zxa10_c320.snmprec``, decoded here from the file).

Two more tests configure a vendor by hand, rows only (formula and OIDs with value rules), as
the browser test does through the panel: the "UBNT" OLT keyed by a length-prefixed serial
with the PON port in a column, and the V-SOL EPON OLT whose powers are text with units.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from facho.inventory.profiles.apply import apply_profile
from facho.inventory.profiles.format import parse
from facho.inventory.profiles.shipped import SHIPPED_DIR, shipped_paths
from facho.models import SUCCESS
from facho.ops.olt_sim import write_snmprec
from tests.execution_helpers import onus, run_now
from tests.factories import make_formula, make_job, make_oid, make_olt, new_execution
from tests.recordings import generate
from tests import snmp_agents
from tests.snmp_agents import RECORDINGS

SYNTHETIC = RECORDINGS / "synthetic"
DISCOVERY_SPACES = ("descubrimiento", "serial", "descripcion", "estado", "mac")
HUAWEI_SIM = dict(onus=96, seed=11, per_port=16)
ZTE_RANGING = "1.3.6.1.4.1.3902.1012.3.11.4.1.2."
snmpsim_factory = snmp_agents.snmpsim_factory   # the session fixture `agent` uses


# --- ground truth --------------------------------------------------------------------------

def synthetic_expected(name: str) -> list[dict]:
    return json.loads((SYNTHETIC / f"{name}.expected.json").read_text(encoding="utf-8"))["onus"]


def huawei_expected(plan) -> list[dict]:
    """The simulated Huawei OLT's ONUs as the inventory must hold them."""
    return [{
        "raw_index": ".".join(map(str, o.index)), "name": f"0/{o.slot}/{o.port}:{o.onu_id}",
        "slot": o.slot, "port": o.port, "onu_id": o.onu_id,
        "serial": o.serial[:4].decode("ascii") + o.serial[4:].hex().upper(), "mac": None,
        "description": o.description, "state": "en línea" if o.online else "desconectada",
        "rx_dbm": o.rx_dbm, "tx_dbm": o.tx_dbm,
        "distance_km": o.distance_m / 1000 if o.distance_m is not None else None,
    } for o in plan]


def zte_c320_expected() -> list[dict]:
    """The real C320 recording decoded here: only its ranging table (distance in metres)
    exists, rows {A}.{onu} with A = 0x10000000 + slot<<16 + port<<8; every other column the
    profile reads is absent, so those fields must stay empty."""
    out = []
    for line in (RECORDINGS / "zxa10_c320.snmprec").read_text().splitlines():
        if not line.startswith(ZTE_RANGING):
            continue
        oid, _, value = line.split("|", 2)
        pon, onu_id = map(int, oid[len(ZTE_RANGING):].split("."))
        assert pon >> 24 == 0x10 and pon & 0xFF == 0, pon
        slot, port = (pon >> 16) & 0xFF, (pon >> 8) & 0xFF
        out.append({"raw_index": f"{pon}.{onu_id}", "name": f"1/{slot}/{port}:{onu_id}",
                    "slot": slot, "port": port, "onu_id": onu_id, "serial": None,
                    "mac": None, "description": None, "state": None, "rx_dbm": None,
                    "distance_km": int(value) / 1000})
    return out


@dataclass(frozen=True)
class Case:
    profile: str                      # shipped file name without .json
    community: str                    # the recording snmpsim answers for
    expected: Callable[["Agent"], list[dict]]


CASES = [
    Case("huawei-ma5600t-ma5800", "huawei_sim", lambda agent: huawei_expected(agent.huawei)),
    Case("zte-c300-c320", "zxa10_c320", lambda agent: zte_c320_expected()),
    Case("zte-c600", "zte_c600", lambda agent: synthetic_expected("zte_c600")),
    Case("fiberhome-an5516", "fiberhome_an5516",
         lambda agent: synthetic_expected("fiberhome_an5516")),
    Case("vsol-v1600g", "vsol_v1600g", lambda agent: synthetic_expected("vsol_v1600g")),
    Case("vsol-v1600d", "vsol_v1600d", lambda agent: synthetic_expected("vsol_v1600d")),
    Case("cdata-fd16xx", "cdata_fd16xx", lambda agent: synthetic_expected("cdata_fd16xx")),
    Case("cdata-fd11xx", "cdata_fd11xx", lambda agent: synthetic_expected("cdata_fd11xx")),
]


@dataclass
class Agent:
    port: int
    huawei: list


@pytest.fixture(scope="module")
def agent(snmpsim_factory, tmp_path_factory) -> Agent:
    """One snmpsim serving every recording of the cases (community = file name)."""
    data = tmp_path_factory.mktemp("profile-recordings")
    for path in SYNTHETIC.glob("*.snmprec"):
        shutil.copy(path, data / path.name)
    shutil.copy(RECORDINGS / "zxa10_c320.snmprec", data / "zxa10_c320.snmprec")
    huawei = write_snmprec(data / "huawei_sim.snmprec", "huawei", **HUAWEI_SIM)
    sim = snmpsim_factory(data, probe_community="huawei_sim")
    return Agent(sim.port, huawei)


# --- running the jobs ----------------------------------------------------------------------

def _run(app, job_id: int, olt_id: int):
    with app.app_context():
        execution_id = new_execution(job_id, olt_id)
    return run_now(app, execution_id)


def _assert_clean(row, what: str) -> None:
    assert row.status == SUCCESS, f"{what}: {row.status} {row.error_message}"
    summary = row.result_summary
    assert not summary.get("warnings"), f"{what}: {summary.get('warnings')}"
    assert not summary.get("invalid_values"), f"{what}: {summary.get('invalid_examples')}"


def run_jobs(app, olt_id: int, marca: str, discovery: list[str], get: list[str]):
    """Run a discovery job with the OIDs `discovery`, then a get job with `get`."""
    with app.app_context():
        discovery_job = make_job(f"Descubrir {marca}", discovery, marca=marca,
                                 olt_ids=(olt_id,))
        get_job = make_job(f"Leer {marca}", get, marca=marca, job_type="get",
                           olt_ids=(olt_id,)) if get else None
    found = _run(app, discovery_job, olt_id)
    _assert_clean(found, "descubrimiento")
    read = _run(app, get_job, olt_id) if get_job else None
    if read is not None:
        _assert_clean(read, "get")
    return found, read


def assert_inventory(app, olt_id: int, expected: list[dict]) -> None:
    """Every ONU of the inventory is one of `expected`, with exactly its values."""
    stored = onus(app, olt_id)
    assert sorted(stored) == sorted(e["raw_index"] for e in expected)
    problems = []
    for e in expected:
        onu = stored[e["raw_index"]]
        got = {"name": onu.name, "slot": onu.slot, "port": onu.port, "onu_id": onu.onu_id,
               "serial": onu.serial, "mac": onu.mac, "description": onu.descripcion,
               "state": onu.status}
        want = {k: e[k] for k in got}
        if got != want or not onu.present:
            problems.append(f"{e['raw_index']}: {got} != {want}")
        for field, column, tolerance in (("rx_dbm", "rx_power", 0.005),
                                         ("tx_dbm", "tx_power", 0.005),
                                         ("distance_km", "distance_km", 0.0005)):
            value, wanted = getattr(onu, column), e.get(field)
            if wanted is None or value is None:
                if value is not wanted:
                    problems.append(f"{e['raw_index']} {e['name']}: {column} {value!r} != "
                                    f"{wanted!r}")
            elif abs(value - wanted) > tolerance + 1e-9:
                problems.append(f"{e['raw_index']} {e['name']}: {column} {value} != {wanted}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:20])


# --- the acceptance test: each shipped profile -----------------------------------------------

def test_every_shipped_profile_has_a_case():
    assert sorted(p.stem for p in shipped_paths()) == sorted(c.profile for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.profile for c in CASES])
def test_shipped_profile_reads_its_recording(any_app, agent, case):
    profile = parse((SHIPPED_DIR / f"{case.profile}.json").read_bytes())
    assert profile.valid, profile.problems
    with any_app.app_context():
        result = apply_profile(profile, username="prueba")
        assert result.marca_creada and not result.omitidos
        modelo = next((f.values["modelo"] for f in profile.formulas if f.values["modelo"]), "")
        olt_id = make_olt(f"OLT-{case.profile}", agent.port, case.community,
                          marca=profile.marca, modelo=modelo)
    names = [(o.values["nombre"], o.values["espacio"]) for o in profile.oids]
    discovery = [n for n, espacio in names if espacio in DISCOVERY_SPACES]
    get = [n for n, espacio in names if espacio not in DISCOVERY_SPACES]
    expected = case.expected(agent)

    found, read = run_jobs(any_app, olt_id, profile.marca, discovery, get)

    assert (found.result_summary["found"], found.result_summary["new"]) == (
        len(expected), len(expected))
    assert read.result_summary["onus"] == len(expected)
    assert_inventory(any_app, olt_id, expected)


def test_all_shipped_profiles_import_into_one_installation(sqlite_app):
    """`flask facho seed` and operators import them side by side: no file conflicts with
    another (shared formulas, such as V-SOL's {pon}.{onu}, are the same row)."""
    with sqlite_app.app_context():
        for path in shipped_paths():
            apply_profile(parse(path.read_bytes()), username="prueba")
        again = [apply_profile(parse(p.read_bytes()), username="prueba")
                 for p in shipped_paths()]
    assert all(r.written == 0 for r in again)


# --- onboarding by hand: the browser test's two vendors --------------------------------------

UBNT = "1.3.6.1.4.1.41112.1.10.1.4.1"


def test_ubnt_like_olt_keyed_by_a_length_prefixed_serial_onboarded_by_hand(sqlite_app, agent):
    """The serial is the index (12.85.66.78.84.… = "UBNT…"), the PON port a column; offline
    ONUs report 0 for power and distance, which must be stored as no value."""
    marca = "Ubiquiti"
    with sqlite_app.app_context():
        make_formula("UFiber serie en el índice", {
            "kind": "string", "length": "prefixed", "chars": "ascii",
            "from_columns": {"port": {"oid": f"{UBNT}.2"}}}, marca=marca)
        make_oid("UFiber ONU nombre (descubrimiento)", f"{UBNT}.3", "descubrimiento", marca)
        make_oid("UFiber ONU nombre", f"{UBNT}.3", "descripcion", marca)
        make_oid("UFiber ONU estado", f"{UBNT}.4", "estado", marca, "int",
                 etiquetas={"1": "en línea", "2": "desconectada"})
        make_oid("UFiber ONU potencia RX", f"{UBNT}.5", "rx_power", marca, "int",
                 sin_valor="0", escala=0.01, decimales=2)
        make_oid("UFiber ONU distancia", f"{UBNT}.6", "distancia_onu", marca, "distance_km",
                 sin_valor="0")
        olt_id = make_olt("OLT-UFIBER", agent.port, "ubnt_string", marca=marca)
    expected = synthetic_expected("ubnt_string")

    found, read = run_jobs(
        sqlite_app, olt_id, marca,
        ["UFiber ONU nombre (descubrimiento)", "UFiber ONU nombre", "UFiber ONU estado"],
        ["UFiber ONU potencia RX", "UFiber ONU distancia"])

    assert found.result_summary["found"] == 30
    assert len({e["name"] for e in expected}) == 30
    # The key is the serial (no column repeats it): the end of every name, and the serial.
    assert all(e["name"].endswith(":" + e["serial"]) for e in expected)
    assert_inventory(sqlite_app, olt_id, expected)


VSOL_D = "1.3.6.1.4.1.37950.1.1.5.12"


def test_vsol_epon_olt_with_powers_as_text_onboarded_by_hand(sqlite_app, agent):
    """Optical columns are text like "0.03 mW (-14.61 dBm)"; "0.00 mW (0.00 dBm)" and an
    empty text mean no value."""
    marca = "V-SOL"
    dbm = r"\(([-\d.]+) dBm\)"
    with sqlite_app.app_context():
        make_formula("EPON pon.onu", {"kind": "dotted", "positions": {"port": 0, "onu": 1}},
                     marca=marca)
        make_oid("EPON MAC", f"{VSOL_D}.1.25.1.5", "descubrimiento", marca, "mac")
        make_oid("EPON descripción", f"{VSOL_D}.1.25.1.9", "descripcion", marca)
        make_oid("EPON estado", f"{VSOL_D}.1.25.1.4", "estado", marca, "int",
                 etiquetas={"0": "desconectada", "1": "en línea"})
        make_oid("EPON RX", f"{VSOL_D}.2.1.8.1.7", "rx_power", marca, "numero", regex=dbm,
                 sin_valor="0")
        make_oid("EPON distancia", f"{VSOL_D}.1.25.1.17", "distancia_onu", marca,
                 "distance_km", sin_valor="0")
        olt_id = make_olt("OLT-EPON", agent.port, "vsol_v1600d", marca=marca)
    expected = synthetic_expected("vsol_v1600d")

    found, read = run_jobs(sqlite_app, olt_id, marca,
                           ["EPON MAC", "EPON descripción", "EPON estado"],
                           ["EPON RX", "EPON distancia"])

    assert found.result_summary["found"] == len(expected)
    assert sum(e["rx_dbm"] is not None for e in expected) == read.result_summary["per_oid"][
        "EPON RX"]["updated"]
    assert_inventory(sqlite_app, olt_id, expected)


# --- the recordings themselves ---------------------------------------------------------------

def test_committed_recordings_are_what_the_generator_writes():
    assert generate.stale(SYNTHETIC) == [], (
        "run `python -m tests.recordings.generate` and commit tests/data/snmprec/synthetic")


@pytest.mark.parametrize("name", sorted(generate.SCHEMES))
def test_each_recording_models_the_hard_cases(name):
    document = json.loads((SYNTHETIC / f"{name}.expected.json").read_text(encoding="utf-8"))
    onus_ = document["onus"]
    assert 20 <= len(onus_) <= 40
    assert document["counts"]["ports"] >= 2
    assert len({o["name"] for o in onus_}) == len(onus_)
    assert any(o["description"] == "Señora Peña" for o in onus_)
    offline = [o for o in onus_ if o["rx_dbm"] is None]
    assert offline and all(o["distance_km"] is None for o in offline)
    ids = [o["onu_id"] for o in onus_ if o["onu_id"] is not None]
    if ids:   # gaps: not every port's ONU ids are consecutive
        by_port: dict = {}
        for o in onus_:
            by_port.setdefault((o["slot"], o["port"]), []).append(o["onu_id"])
        assert any(max(v) - min(v) + 1 > len(v) for v in by_port.values())
    text = (SYNTHETIC / f"{name}.snmprec").read_text(encoding="utf-8")
    assert "Señora Peña".encode().hex() in text     # UTF-8, sent as hex
    assert document["community"] == name and Path(SYNTHETIC / f"{name}.snmprec").is_file()
