"""`get` executions against the simulated Huawei OLT (snmpsim, 2,048 ONUs): values land on
present ONUs only, value rules (formats, keep_previous_value, default_value) apply, and
the read method (walk or batched GET) is the one with fewer requests."""
from __future__ import annotations

import pytest

from facho.extensions import db
from facho.inventory.get_values import choose_method
from facho.models import SUCCESS, Onu, OnuMetricDay
from tests.execution_helpers import onus, run_now
from tests.factories import make_job, make_olt, new_execution, oid, seed_catalog


@pytest.fixture
def discovered(sqlite_app, olt_agents):
    """The simulated Huawei OLT discovered (serial only), so descriptions and powers are
    empty until a get job reads them."""
    app = sqlite_app
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-HW", olt_agents.port, "huawei_sim")
        job_id = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,))
        execution_id = new_execution(job_id, olt_id)
    assert run_now(app, execution_id).status == SUCCESS
    truth = {".".join(map(str, o.index)): o for o in olt_agents.huawei}
    return app, olt_id, truth


def _get_job(app, olt_id, oid_names, nombre="Leer"):
    with app.app_context():
        job_id = make_job(nombre, oid_names, job_type="get", olt_ids=(olt_id,))
    return job_id


def _run(app, job_id, olt_id):
    with app.app_context():
        execution_id = new_execution(job_id, olt_id)
    return run_now(app, execution_id)


def _mark_absent(app, olt_id, raws, **fields):
    with app.app_context():
        t = Onu.__table__
        db.session.execute(t.update().where(t.c.olt_id == olt_id, t.c.raw_index.in_(raws))
                           .values(present=False, **fields))
        db.session.commit()


def test_a_get_job_writes_descriptions_and_rx_power_of_present_onus_only(discovered):
    app, olt_id, truth = discovered
    absent = sorted(truth)[::20]                     # 103 ONUs gone from the inventory
    _mark_absent(app, olt_id, absent, descripcion="antigua", rx_power=-99.0)
    job_id = _get_job(app, olt_id, ["Huawei ONT descripción", "Huawei ONT potencia RX"])
    row = _run(app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    s = row.result_summary
    present = len(truth) - len(absent)
    offline = sum(1 for raw, o in truth.items() if raw not in absent and not o.online)
    assert s["method"] == "walk"                     # 2 columns for 95 % of the rows
    assert s["onus"] == present and s["onus_updated"] == present
    assert s["missing"] == offline                   # offline ONUs report no rx power
    assert s["updated"] == 2 * present - offline and s["unchanged"] == 0
    assert s["readings"] == present - offline      # rx power only: descriptions are text
    stored = onus(app, olt_id)
    for raw, sim in truth.items():
        onu = stored[raw]
        if raw in absent:
            assert (onu.descripcion, onu.rx_power, onu.present) == ("antigua", -99.0, False)
            continue
        assert onu.descripcion == sim.description
        if sim.online:
            assert onu.rx_power == pytest.approx(sim.rx_dbm, abs=0.006)
        else:
            assert onu.rx_power is None
        assert onu.last_execution_id == row.id
    with app.app_context():
        days = db.session.execute(db.select(OnuMetricDay)).scalars().all()
        assert len(days) == s["readings"]           # one day row per ONU with a reading
        absent_ids = {o.id for raw, o in stored.items() if raw in absent}
        assert not any(r.onu_id in absent_ids for r in days)
        assert {r.metric for r in days} == {"rx_power"}

    again = _run(app, job_id, olt_id)
    s = again.result_summary
    assert (s["updated"], s["unchanged"], s["onus_updated"]) == (0, 2 * present - offline, 0)


def test_a_few_present_onus_are_read_with_batched_gets(discovered):
    app, olt_id, truth = discovered
    keep = sorted(truth)[:40]
    _mark_absent(app, olt_id, [raw for raw in truth if raw not in keep])
    job_id = _get_job(app, olt_id, ["Huawei ONT descripción", "Huawei ONT estado"])
    row = _run(app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    s = row.result_summary
    assert s["method"] == "get" and s["onus"] == 40
    assert s["requests"] == 3                        # 80 instances, 32 per GET
    assert s["varbinds"] == 80
    stored = onus(app, olt_id)
    for raw in keep:
        assert stored[raw].descripcion == truth[raw].description
        # the shipped Huawei state OID labels the run status in Spanish (etiquetas)
        assert stored[raw].status == ("en línea" if truth[raw].online else "desconectada")
    assert all(stored[raw].descripcion is None for raw in truth if raw not in keep)


def test_value_rules_keep_previous_value_and_default_value(discovered):
    app, olt_id, truth = discovered
    offline = [raw for raw, o in truth.items() if not o.online][:2]
    with app.app_context():
        rx = oid("Huawei ONT potencia RX")
        rx.keep_previous_value = True
        distance = oid("Huawei ONT distancia")
        distance.default_value = "0"
        t = Onu.__table__
        db.session.execute(t.update().where(t.c.raw_index.in_(offline))
                           .values(rx_power=-21.5, distance_km=3.2))
        db.session.commit()
    job_id = _get_job(app, olt_id, ["Huawei ONT potencia RX", "Huawei ONT distancia"])
    row = _run(app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    stored = onus(app, olt_id)
    for raw in offline:
        # no reading (2147483647 / -1): rx keeps the last value, distance takes the default
        assert stored[raw].rx_power == -21.5
        assert stored[raw].distance_km == 0.0
    online = next(raw for raw, o in truth.items() if o.online)
    assert stored[online].distance_km == pytest.approx(truth[online].distance_m / 1000)


def test_a_get_job_on_an_olt_without_present_onus_says_so(sqlite_app, olt_agents):
    with sqlite_app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-VACIA", olt_agents.port, "huawei_sim")
    job_id = _get_job(sqlite_app, olt_id, ["Huawei ONT descripción"])
    row = _run(sqlite_app, job_id, olt_id)
    assert row.status == SUCCESS and row.result_summary["onus"] == 0
    assert "ejecute primero una tarea de descubrimiento" in row.error_message


def test_the_read_method_is_the_one_with_fewer_requests():
    # one column for every ONU: 2048/32 = 64 GETs beat 2048/25 + 1 = 83 bulk requests
    assert choose_method(2048, 2048, 1, 25, 32, trailing=False) == "get"
    # two columns: 128 GETs against the same 83 bulk requests
    assert choose_method(2048, 2048, 2, 25, 32, trailing=False) == "walk"
    # a few ONUs of a big table
    assert choose_method(40, 2048, 3, 25, 32, trailing=False) == "get"
    # ZTE rx power rows carry a trailing sub-id: instances cannot be built, walk
    assert choose_method(40, 2048, 1, 25, 32, trailing=True) == "walk"
    # larger GetBulk pages tilt it towards walking
    assert choose_method(2048, 2048, 1, 50, 32, trailing=False) == "walk"
