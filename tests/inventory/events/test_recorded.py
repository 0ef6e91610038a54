"""The inventory writes record what changed as events, in the execution's transaction, on
SQLite and PostgreSQL: presence (after the first discovery), moves by serial that keep the
ONU's id and history, state changes with their cause, rx power beyond the threshold."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory import cleanup
from facho.inventory.events import kinds
from facho.inventory.history import store as history
from facho.inventory.writes import Discovered, apply_discovery, apply_get, field_rule
from facho.models import Oid, Onu, OnuEvent
from tests.factories import HW, make_job, make_oid, make_olt, new_execution, seed_catalog

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("redis_url")


@pytest.fixture
def olt(any_app):
    with any_app.app_context():
        seed_catalog()
        make_oid("Descubre", f"{HW}.43.1.3", "descubrimiento", formato="int")
        make_oid("Serie", f"{HW}.43.1.3", "serial")
        make_oid("Estado", f"{HW}.46.1.15", "estado", formato="int",
                 etiquetas={"1": "en línea", "2": "desconectada"})
        make_oid("Causa", f"{HW}.46.1.24", "causa_caida", formato="int",
                 etiquetas={"1": "LOS", "13": "dying gasp (sin energía)"})
        make_oid("RX", f"{HW}.51.1.4", "rx_power", formato="int", escala=0.01)
        olt_id = make_olt("OLT-EV", 16161, "publica")
        job = make_job("Descubrir EV", ["Descubre", "Serie"], olt_ids=(olt_id,))
        execution = new_execution(job, olt_id)
        yield olt_id, execution


def _rules(*names, discovery=False):
    return [field_rule(db.session.execute(sa.select(Oid).filter_by(nombre=n)).scalar_one(),
                       discovery=discovery) for n in names]


def _discover(olt_id, execution, onus: dict[str, tuple[int, int, int, str]], at,
              absent_after=1):
    """onus: raw index -> (slot, port, onu id, serial)."""
    rules = _rules("Descubre", "Serie", discovery=True)
    found = {raw: Discovered(raw, s, p, o, f"0/{s}/{p}:{o}", {0: 1, 1: serial})
             for raw, (s, p, o, serial) in onus.items()}
    counts = apply_discovery(olt_id, execution, found, rules, absent_after, at)
    db.session.commit()
    return counts


def _events(**where):
    return db.session.execute(sa.select(OnuEvent).filter_by(**where)
                              .order_by(OnuEvent.id)).scalars().all()


def _onu(olt_id, raw):
    return db.session.execute(sa.select(Onu).filter_by(olt_id=olt_id, raw_index=raw)
                              ).scalar_one()


def test_the_first_discovery_is_the_baseline_and_records_no_event(any_app, olt):
    olt_id, execution = olt
    with any_app.app_context():
        counts = _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001"),
                                               "1.1.2": (1, 1, 2, "HWTC00000002")}, T0)
        assert counts["new"] == 2 and counts["events"] == 0
        assert _events() == []


def test_onus_that_appear_leave_and_come_back_are_events(any_app, olt):
    olt_id, execution = olt
    with any_app.app_context():
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001")}, T0)
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001"),
                                      "1.1.2": (1, 1, 2, "HWTC00000002")}, T0 + timedelta(hours=1))
        _discover(olt_id, execution, {"1.1.2": (1, 1, 2, "HWTC00000002")},
                  T0 + timedelta(hours=2))
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001"),
                                      "1.1.2": (1, 1, 2, "HWTC00000002")}, T0 + timedelta(hours=3))
        seen = [(e.onu_id, kinds.describe(e.kind, e.old_value, e.new_value), e.at.hour,
                 e.slot, e.port, e.execution_id) for e in _events(kind=kinds.PRESENCIA)]
        first, second = _onu(olt_id, "1.1.1").id, _onu(olt_id, "1.1.2").id
        assert seen == [(second, "apareció", 11, 1, 1, execution),
                        (first, "ya no aparece", 12, 1, 1, execution),
                        (first, "volvió a aparecer", 13, 1, 1, execution)]


def test_an_onu_on_another_port_keeps_its_id_and_history_and_says_where_it_moved(
        any_app, olt):
    olt_id, execution = olt
    with any_app.app_context():
        _discover(olt_id, execution, {"1.3.5": (1, 3, 5, "HWTC0000000A"),
                                      "1.3.6": (1, 3, 6, "HWTC0000000B")}, T0)
        moved = _onu(olt_id, "1.3.5").id
        history.append([(moved, "rx_power", T0, -21.5)])
        db.session.commit()
        counts = _discover(olt_id, execution, {"2.1.7": (2, 1, 7, "hwtc0000000a"),
                                               "1.3.6": (1, 3, 6, "HWTC0000000B")},
                           T0 + timedelta(hours=1))
        assert (counts["moved"], counts["new"], counts["gone"]) == (1, 0, 0)
        row = db.session.get(Onu, moved)
        assert (row.raw_index, row.name, row.slot, row.port, row.present) == (
            "2.1.7", "0/2/1:7", 2, 1, True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Onu)) == 2
        assert history.series(moved, "rx_power", T0, T0 + timedelta(days=1)) == [(T0, -21.5)]
        [event] = _events(kind=kinds.MOVIDA)
        assert (event.onu_id, event.slot, event.port) == (moved, 2, 1)
        assert kinds.describe(event.kind, event.old_value, event.new_value) == \
            "movida de 0/1/3:5 a 0/2/1:7"


def test_a_get_records_state_changes_with_the_cause_read_beside_them(any_app, olt):
    olt_id, execution = olt
    with any_app.app_context():
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001"),
                                      "1.1.2": (1, 1, 2, "HWTC00000002")}, T0)
        rules = _rules("Estado", "Causa", "RX")
        asked = ["1.1.1", "1.1.2"]
        apply_get(olt_id, execution, {"1.1.1": {0: 1, 2: -2000}, "1.1.2": {0: 1, 2: -2100}},
                  rules, T0, asked, power_event_db=3.0)
        db.session.commit()
        assert _events() == []     # first values: the baseline
        counts = apply_get(olt_id, execution,
                           {"1.1.1": {0: 2, 1: 13}, "1.1.2": {0: 1, 2: -2450}},
                           rules, T0 + timedelta(minutes=15), asked, power_event_db=3.0)
        db.session.commit()
        assert counts["events"] == 2
        [state] = _events(kind=kinds.ESTADO)
        assert (state.onu_id, state.old_value, state.new_value, state.cause) == (
            _onu(olt_id, "1.1.1").id, "en línea", "desconectada", "dying gasp (sin energía)")
        [power] = _events(kind=kinds.POTENCIA)
        assert (power.onu_id, power.old_value, power.new_value) == (
            _onu(olt_id, "1.1.2").id, "-21.00", "-24.50")
        apply_get(olt_id, execution, {"1.1.1": {0: 2}, "1.1.2": {0: 1, 2: -2200}},
                  rules, T0 + timedelta(minutes=30), asked, power_event_db=3.0)
        db.session.commit()
        assert len(_events()) == 2   # no new state, and 2.5 dB is below the threshold


def test_deleting_an_onu_deletes_its_events(any_app, olt):
    olt_id, execution = olt
    with any_app.app_context():
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001")}, T0)
        _discover(olt_id, execution, {"1.1.1": (1, 1, 1, "HWTC00000001"),
                                      "1.1.2": (1, 1, 2, "HWTC00000002")}, T0 + timedelta(hours=1))
        new = _onu(olt_id, "1.1.2").id
        assert len(_events(onu_id=new)) == 1
        assert cleanup.delete_onus([new], "auditora") == 1
        assert _events(onu_id=new) == []
