"""A get execution against the simulated Huawei OLT (snmpsim) stores every numeric value it
read as a number with its time, in the ONU's series (an OID of espacio "metrica" under its
nombre); a value its rule refuses is counted with its example and never stored; a default
value is not a reading."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.history import store
from facho.models import SUCCESS, OnuMetricDay, utcnow
from tests.execution_helpers import onus
from tests.factories import make_oid, oid
from tests.inventory.test_get_values import _get_job, _run, discovered  # noqa: F401

RX, DISTANCE = "Huawei ONT potencia RX", "Huawei ONT distancia"


def test_every_numeric_value_is_stored_with_its_time_and_two_runs_share_the_day_row(
        discovered):
    app, olt_id, truth = discovered
    job_id = _get_job(app, olt_id, [RX, DISTANCE, "Huawei ONT descripción"])
    before = utcnow().replace(microsecond=0)
    first = _run(app, job_id, olt_id)
    second = _run(app, job_id, olt_id)
    after = utcnow()
    assert first.status == second.status == SUCCESS, first.error_message
    online = sum(1 for o in truth.values() if o.online)
    with_distance = sum(1 for o in truth.values() if o.distance_m is not None)
    assert first.result_summary["readings"] == online + with_distance
    stored = onus(app, olt_id)
    with app.app_context():
        day_rows = db.session.scalar(sa.select(sa.func.count()).select_from(OnuMetricDay))
        # one row per ONU and metric, whatever the number of executions (same UTC day,
        # unless the test ran across midnight)
        assert day_rows in (online + with_distance, 2 * (online + with_distance))
        assert {m for m in db.session.scalars(sa.select(OnuMetricDay.metric))} == {
            "rx_power", "distancia_onu"}
        for raw, sim in list(truth.items())[:200]:
            onu_id = stored[raw].id
            rx = store.series(onu_id, "rx_power", before, after + timedelta(seconds=1))
            if not sim.online:
                assert rx == []            # no reading: nothing stored, certainly not 0
                continue
            assert len(rx) == 2
            assert all(before <= t <= after for t, _ in rx) and rx[0][0] <= rx[1][0]
            for _, value in rx:
                assert isinstance(value, float)
                assert value == pytest.approx(sim.rx_dbm, abs=0.006)
            assert value == stored[raw].rx_power
            km = store.series(onu_id, "distancia_onu", before, after + timedelta(seconds=1))
            if sim.distance_m is not None:
                assert [v for _, v in km] == [pytest.approx(sim.distance_m / 1000)] * 2


def test_a_refused_value_is_counted_with_its_example_and_a_default_is_not_a_reading(
        discovered):
    app, olt_id, truth = discovered
    with app.app_context():
        # rx power read from the description column: text, never a number
        make_oid("RX de texto", oid("Huawei ONT descripción").oid, "rx_power")
        oid(DISTANCE).default_value = "0"        # written to the ONU when there is no value
        db.session.commit()
    job_id = _get_job(app, olt_id, ["RX de texto", DISTANCE])
    row = _run(app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    s = row.result_summary
    described = sum(1 for o in truth.values() if o.description)
    assert s["invalid_values"] == described
    example = s["invalid_examples"]["RX de texto"]
    assert example["count"] == described and example["value"]
    assert "RX de texto" in s["note"] and "rechazados" in s["note"]
    with_distance = sum(1 for o in truth.values() if o.distance_m is not None)
    assert s["readings"] == with_distance
    with app.app_context():
        assert set(db.session.scalars(sa.select(OnuMetricDay.metric))) == {"distancia_onu"}
        stored = onus(app, olt_id)
        start, end = utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1)
        for raw, sim in truth.items():
            if sim.distance_m is None:
                assert stored[raw].distance_km == 0.0          # the default, on the ONU
                assert store.series(stored[raw].id, "distancia_onu", start, end) == []


def test_a_history_only_oid_is_stored_under_its_name_and_text_is_refused(discovered):
    app, olt_id, truth = discovered
    with app.app_context():
        distance = oid(DISTANCE)
        make_oid("Distancia en metros", distance.oid, "metrica", formato=distance.formato,
                 sin_valor=distance.sin_valor)
        make_oid("Texto como métrica", oid("Huawei ONT descripción").oid, "metrica")
    job_id = _get_job(app, olt_id, ["Distancia en metros", "Texto como métrica"])
    row = _run(app, job_id, olt_id)
    assert row.status == SUCCESS, row.error_message
    s = row.result_summary
    with_distance = sum(1 for o in truth.values() if o.distance_m is not None)
    described = sum(1 for o in truth.values() if o.description)
    assert s["readings"] == with_distance
    assert s["per_oid"]["Distancia en metros"]["read"] == with_distance
    assert s["invalid_values"] == described
    assert s["invalid_examples"]["Texto como métrica"]["count"] == described
    stored = onus(app, olt_id)
    with app.app_context():
        assert set(db.session.scalars(sa.select(OnuMetricDay.metric))) == {
            "Distancia en metros"}
        start, end = utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1)
        raw, sim = next((r, o) for r, o in truth.items() if o.distance_m is not None)
        (point,) = store.series(stored[raw].id, "Distancia en metros", start, end)
        assert point[1] == pytest.approx(sim.distance_m / 1000)
        assert stored[raw].distance_km is None          # history only: no ONU field
