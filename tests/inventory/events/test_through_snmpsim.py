"""State events end to end: a real agent (snmpsim) answers two get executions; between
them one ONU lost power (Huawei run status 2, last down cause 13) and another's rx power
dropped 5 dB. Each change is one event, with the vendor's cause, on the ONU's PON."""
from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events import kinds
from facho.models import SUCCESS, Olt, Onu, OnuEvent
from facho.ops.olt_sim import HW, plan_onus, snmprec_text
from tests.execution_helpers import run_now
from tests.factories import make_job, make_olt, new_execution, seed_catalog

STATE_OIDS = ["Huawei ONT estado", "Huawei ONT causa de caída", "Huawei ONT potencia RX"]


def _recording(onus, causes: dict[int, int]) -> str:
    """The simulated OLT plus the last-down-cause column (…46.1.24), sorted by OID."""
    lines = snmprec_text("huawei", onus).splitlines()
    for n, onu in enumerate(onus):
        index = ".".join(map(str, onu.index))
        lines.append(f"{HW}.46.1.24.{index}|2|{causes.get(n, 9)}")
    lines.sort(key=lambda line: tuple(int(p) for p in line.split("|", 1)[0].split(".")))
    return "\n".join(lines) + "\n"


@pytest.fixture
def agent(snmpsim_factory, tmp_path):
    before = [dataclasses.replace(o, online=True, rx_dbm=-20.0, distance_m=1000,
                                  tx_dbm=2.0) for o in plan_onus("huawei", 8, seed=5)]
    after = list(before)
    after[2] = dataclasses.replace(before[2], online=False, rx_dbm=None, distance_m=None,
                                   tx_dbm=None)
    after[4] = dataclasses.replace(before[4], rx_dbm=-25.0)
    (tmp_path / "antes.snmprec").write_text(_recording(before, {}))
    (tmp_path / "despues.snmprec").write_text(_recording(after, {2: 13}))
    return snmpsim_factory(tmp_path, probe_community="antes"), before


def _run(app, job, olt_id):
    with app.app_context():
        execution = new_execution(job, olt_id)
    row = run_now(app, execution)
    assert row.status == SUCCESS, row.error_message
    return row


def test_a_power_cut_and_a_power_drop_seen_by_a_get_are_two_events(any_app, agent):
    sim, onus = agent
    app = any_app
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-EVENTOS", sim.port, "antes")
        discovery = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,))
        reading = make_job("Estado y potencia", STATE_OIDS, job_type="get", olt_ids=(olt_id,))
    _run(app, discovery, olt_id)
    first = _run(app, reading, olt_id)
    assert first.result_summary["events"] == 0          # first values: the baseline
    with app.app_context():
        db.session.execute(sa.update(Olt).where(Olt.id == olt_id).values(comunidad="despues"))
        db.session.commit()
    second = _run(app, reading, olt_id)
    assert second.result_summary["events"] == 2
    with app.app_context():
        events = db.session.execute(sa.select(OnuEvent, Onu.raw_index)
                                    .join(Onu, Onu.id == OnuEvent.onu_id)
                                    .order_by(OnuEvent.kind)).all()
        cut, drop = onus[2], onus[4]
        (state, state_raw), (power, power_raw) = sorted(
            events, key=lambda e: e[0].kind != kinds.ESTADO)
        assert state_raw == ".".join(map(str, cut.index))
        assert (state.old_value, state.new_value, state.cause) == (
            "en línea", "desconectada", "dying gasp (sin energía)")
        assert (state.slot, state.port, state.execution_id) == (cut.slot, cut.port, second.id)
        assert power_raw == ".".join(map(str, drop.index))
        assert (power.kind, power.old_value, power.new_value) == (kinds.POTENCIA, "-20.00",
                                                                  "-25.00")
        onu = db.session.execute(sa.select(Onu).filter_by(
            raw_index=state_raw)).scalar_one()
        assert (onu.status, onu.last_down_cause) == ("desconectada", "dying gasp (sin energía)")
