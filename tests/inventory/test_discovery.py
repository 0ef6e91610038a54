"""Discovery executions against real snmpsim agents on 127.0.0.1: a simulated Huawei OLT
(2,048 ONUs), the real ZTE C320 recording, ONUs leaving and coming back, empty walks and
configuration errors. The actor's body runs in the test thread (Dramatiq is exercised in
tests/executions/test_run.py)."""
from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from facho.extensions import db
from facho.inventory.decoders import ZTE_C320
from facho.models import FAILED, SUCCESS, IndexFormula
from facho.ops.olt_sim import write_snmprec
from facho.inventory.values import gpon_serial
from tests.conftest import make_test_app, _fresh_schema
from tests.execution_helpers import onus, run_now
from tests.factories import brand, make_job, make_olt, new_execution, seed_catalog
from tests.snmp_agents import RECORDINGS

HUAWEI_DISCOVERY = ["Huawei ONT descubrimiento", "Huawei ONT estado", "Huawei ONT descripción"]


def _setup_huawei(app, port, community, job_oids=HUAWEI_DISCOVERY):
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-HW", port, community)
        job_id = make_job("Descubrir Huawei", job_oids, olt_ids=(olt_id,))
    return olt_id, job_id


def _run(app, job_id, olt_id):
    with app.app_context():
        execution_id = new_execution(job_id, olt_id)
    return run_now(app, execution_id)


def test_discovers_every_onu_of_a_2048_onu_huawei_olt(any_app, olt_agents):
    olt_id, job_id = _setup_huawei(any_app, olt_agents.port, "huawei_sim")
    row = _run(any_app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    summary = row.result_summary
    assert (summary["found"], summary["new"], summary["gone"]) == (2048, 2048, 0)
    assert summary["varbinds"] >= 3 * 2048 and summary["duration_ms"] > 0
    stored = onus(any_app, olt_id)
    assert len(stored) == 2048
    for sim in olt_agents.huawei:
        onu = stored[".".join(map(str, sim.index))]
        assert (onu.slot, onu.port, onu.onu_id) == (sim.slot, sim.port, sim.onu_id)
        assert onu.name == f"0/{sim.slot}/{sim.port}:{sim.onu_id}"
        assert onu.serial == gpon_serial(sim.serial) and onu.serial.startswith("HWTC")
        # the shipped Huawei state OID labels the run status in Spanish (etiquetas)
        assert onu.status == ("en línea" if sim.online else "desconectada")
        assert onu.descripcion == sim.description
        assert onu.present and onu.consecutive_misses == 0
        assert onu.last_execution_id == row.id and onu.last_seen_at is not None

    again = _run(any_app, job_id, olt_id)
    assert again.status == SUCCESS, again.error_message
    s = again.result_summary
    assert (s["found"], s["new"], s["returned"], s["updated"], s["unchanged"], s["gone"]) == (
        2048, 0, 0, 0, 2048, 0)
    after = onus(any_app, olt_id)
    assert len(after) == 2048
    # unchanged rows keep the execution that last changed them, but were seen again
    some = next(iter(after.values()))
    assert some.last_execution_id == row.id and some.last_seen_at >= stored[some.raw_index].last_seen_at


_last_mtime = [0.0]


def _touch_newer(path):
    """snmpsim re-indexes a data file whose mtime (in whole seconds) changed and is newer
    than its index: move it forward by whole seconds every time."""
    future = float(int(max(time.time(), _last_mtime[0])) + 2)
    _last_mtime[0] = future
    os.utime(path, (future, future))


def test_missing_onus_become_absent_only_after_the_configured_misses(
        tmp_path, redis_url, snmpsim_factory):
    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path,
                        FACHO_ABSENT_AFTER_MISSES="2")
    _fresh_schema(app)
    data = tmp_path / "agent"
    data.mkdir()
    full = write_snmprec(data / "olt_bajas.snmprec", "huawei", 256, seed=7)
    saved = tmp_path / "full.snmprec"
    shutil.copy(data / "olt_bajas.snmprec", saved)
    sim = snmpsim_factory(data, probe_community="olt_bajas")
    olt_id, job_id = _setup_huawei(app, sim.port, "olt_bajas")
    assert _run(app, job_id, olt_id).result_summary["new"] == 256

    # 10 ONUs leave the OLT (the agent re-reads the changed recording)
    removed = {".".join(map(str, o.index)) for o in full[100:110]}
    lines = [line for line in saved.read_text().splitlines(keepends=True)
             if not any(line.split("|")[0].endswith("." + raw) for raw in removed)]
    (data / "olt_bajas.snmprec").write_text("".join(lines))
    _touch_newer(data / "olt_bajas.snmprec")

    first = _run(app, job_id, olt_id)
    assert first.status == SUCCESS, first.error_message
    s = first.result_summary
    assert (s["found"], s["gone"], s["missing_pending"], s["unchanged"]) == (246, 0, 10, 246)
    stored = onus(app, olt_id)
    assert all(stored[raw].present and stored[raw].consecutive_misses == 1 for raw in removed)
    assert sum(o.present for o in stored.values()) == 256

    second = _run(app, job_id, olt_id)
    s = second.result_summary
    assert (s["found"], s["gone"], s["missing_pending"]) == (246, 10, 0)
    stored = onus(app, olt_id)
    assert {raw for raw, o in stored.items() if not o.present} == removed
    assert all(stored[raw].consecutive_misses == 2 for raw in removed)

    # they come back
    shutil.copy(saved, data / "olt_bajas.snmprec")
    _touch_newer(data / "olt_bajas.snmprec")
    back = _run(app, job_id, olt_id)
    s = back.result_summary
    assert (s["found"], s["returned"], s["new"], s["gone"]) == (256, 10, 0, 0)
    stored = onus(app, olt_id)
    assert all(o.present and o.consecutive_misses == 0 for o in stored.values())
    assert all(stored[raw].last_execution_id == back.id for raw in removed)

    # an answering agent with an empty ONU table changes no presence and says so
    (data / "olt_bajas.snmprec").write_text(
        "".join(line for line in saved.read_text().splitlines(keepends=True)
                if line.startswith("1.3.6.1.2.1.1.")))
    _touch_newer(data / "olt_bajas.snmprec")
    empty = _run(app, job_id, olt_id)
    assert empty.status == SUCCESS
    assert empty.result_summary["empty_walk"] is True and empty.result_summary["found"] == 0
    assert "no devolvió filas" in empty.error_message
    assert "no se cambió la presencia" in empty.result_summary["note"]
    stored = onus(app, olt_id)
    assert all(o.present and o.consecutive_misses == 0 for o in stored.values())
    with app.app_context():
        db.engine.dispose()


def _zte_recording_distances() -> dict[str, int]:
    table = "1.3.6.1.4.1.3902.1012.3.11.4.1.2."
    out = {}
    for line in (RECORDINGS / "zxa10_c320.snmprec").read_text().splitlines():
        if line.startswith(table):
            oid, _, value = line.split("|", 2)
            out[oid[len(table):]] = int(value)
    return out


def test_the_real_zte_c320_recording_decodes_with_the_zte_formula(sqlite_app, olt_agents):
    with sqlite_app.app_context():
        seed_catalog()
        from facho.models import Oid
        db.session.add(Oid(nombre="ZTE ONU rango (descubrimiento)",
                           oid="1.3.6.1.4.1.3902.1012.3.11.4.1.2", brand=brand("ZTE"),
                           espacio="descubrimiento", formato="distance_km"))
        db.session.commit()
        olt_id = make_olt("C320-LAB", olt_agents.port, "zxa10_c320", marca="ZTE", modelo="C320")
        job_id = make_job("Descubrir ZTE", ["ZTE ONU rango (descubrimiento)"], marca="ZTE",
                          olt_ids=(olt_id,))
    row = _run(sqlite_app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    assert row.result_summary["found"] == 125 and row.result_summary["new"] == 125
    assert row.result_summary["formula"] == "ZTE GPON (C300/C320)"
    expected = _zte_recording_distances()
    stored = onus(sqlite_app, olt_id)
    assert set(stored) == set(expected) and len(stored) == 125
    # PON indexes 0x10010100, 0x10010300 … 0x10010800: gpon 1/1/1 and 1/1/3 to 1/1/8
    per_port = {}
    for o in stored.values():
        per_port[(o.slot, o.port)] = per_port.get((o.slot, o.port), 0) + 1
    assert per_port == {(1, 1): 5, (1, 3): 18, (1, 4): 39, (1, 5): 19, (1, 6): 9,
                        (1, 7): 25, (1, 8): 10}
    first = stored["268501248.1"]
    assert (first.slot, first.port, first.onu_id, first.name) == (1, 1, 1, "1/1/1:1")
    for raw, onu in stored.items():
        pon, onu_id = map(int, raw.split("."))
        assert pon == ZTE_C320["base"] + (onu.slot << 16) + (onu.port << 8)
        assert onu.onu_id == onu_id and re.fullmatch(r"1/1/\d+:\d+", onu.name)
        assert onu.distance_km == pytest.approx(expected[raw] / 1000)


def test_an_olt_whose_brand_has_no_index_formula_fails_with_a_clear_message(
        sqlite_app, olt_agents):
    with sqlite_app.app_context():
        seed_catalog()
        from facho.models import Oid
        # a brand no shipped profile has a formula for (the seed loads them all)
        db.session.add(Oid(nombre="Nokia descubrimiento", oid="1.3.6.1.4.1.637.61.1.35.10.1.1.2",
                           brand=brand("Nokia"), espacio="descubrimiento", formato="text"))
        db.session.commit()
        olt_id = make_olt("NK-1", olt_agents.port, "huawei_sim", marca="Nokia",
                          modelo="ISAM FX")
        job_id = make_job("Descubrir NK", ["Nokia descubrimiento"], marca="Nokia",
                          olt_ids=(olt_id,), max_retries=3)
    row = _run(sqlite_app, job_id, olt_id)
    assert row.status == FAILED and row.attempt == 1  # configuration: no retry
    assert "No hay fórmula de índice para la marca Nokia modelo «ISAM FX»" in row.error_message
    assert onus(sqlite_app, olt_id) == {}


def test_a_formula_that_matches_no_row_fails_instead_of_storing_garbage(
        sqlite_app, olt_agents):
    olt_id, job_id = _setup_huawei(sqlite_app, olt_agents.port, "huawei_sim",
                                   ["Huawei ONT descubrimiento"])
    with sqlite_app.app_context():
        formula = db.session.execute(db.select(IndexFormula).filter_by(
            brand_id=brand("Huawei").id)).scalar_one()
        formula.kind, formula.params = "bitshift", dict(ZTE_C320)  # the wrong vendor's
        db.session.commit()
    row = _run(sqlite_app, job_id, olt_id)
    assert row.status == FAILED
    assert "Ninguna de las 2048 filas" in row.error_message
    assert "Huawei GPON" in row.error_message
    assert onus(sqlite_app, olt_id) == {}


def test_the_formula_of_the_olt_model_wins_over_the_brand_default(sqlite_app):
    from facho.inventory.discovery import find_formula
    from facho.models import Olt
    with sqlite_app.app_context():
        seed_catalog()
        db.session.add(IndexFormula(nombre="Huawei especial", brand=brand("Huawei"),
                                    modelo="MA5800-X17", kind="linear",
                                    params={"kind": "linear", "base": 1, "step_slot": 2,
                                            "step_port": 1}))
        db.session.commit()
        special = Olt(abreviatura="A", ip_address="127.0.0.1", comunidad="x",
                      brand=brand("Huawei"), modelo=" ma5800-x17 ")
        other = Olt(abreviatura="B", ip_address="127.0.0.1", comunidad="x",
                    brand=brand("Huawei"), modelo="MA5608T")
        db.session.add_all([special, other])
        db.session.commit()
        assert find_formula(special).nombre == "Huawei especial"
        assert find_formula(other).nombre == "Huawei GPON (MA56xx/MA5800)"


def test_a_discovery_job_without_a_discovery_oid_fails_at_once(sqlite_app, olt_agents):
    olt_id, job_id = _setup_huawei(sqlite_app, olt_agents.port, "huawei_sim",
                                   ["Huawei ONT descripción"])
    row = _run(sqlite_app, job_id, olt_id)
    assert row.status == FAILED and row.attempt == 1
    assert "no tiene un OID de espacio «descubrimiento»" in row.error_message


def test_no_query_per_onu(sqlite_app, olt_agents):
    """The inventory write is a handful of statements whatever the ONU count."""
    import sqlalchemy as sa
    olt_id, job_id = _setup_huawei(sqlite_app, olt_agents.port, "huawei_sim")
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE")):
            statements.append(statement.split()[0].upper())

    with sqlite_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        row = _run(sqlite_app, job_id, olt_id)
        first = len(statements)
        statements.clear()
        again = _run(sqlite_app, job_id, olt_id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert row.result_summary["new"] == 2048 and again.result_summary["unchanged"] == 2048
    # SQLite's insertmanyvalues batches 2,048 rows into a few INSERTs; everything else is a
    # fixed number of statements (execution state, job host, job, OLT, formula, OIDs…)
    assert first < 60, statements
    assert len(statements) < 45, statements
