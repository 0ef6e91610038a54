"""Removing ONUs by hand (facho.inventory.cleanup): the selected ones, or the absent ones of
one OLT; their readings go too, one audit row says who, when and how many, and a failure
half-way leaves everything as it was. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from facho import audit
from facho.extensions import db
from facho.inventory import cleanup
from facho.models import AuditEvent, Onu, OnuMetricDay, utcnow
from tests.factories import add_brand, add_olt, add_onus


@pytest.fixture
def inventory(any_app):
    """OLT-A: 3 present ONUs (slot 1) and 4 absent ones (slot 2), OLT-B: 2 absent ones;
    every ONU with 2 readings."""
    brand = add_brand(any_app)
    olt_a, olt_b = add_olt(any_app, brand, "OLT-A"), add_olt(any_app, brand, "OLT-B")
    return {
        "app": any_app, "olt_a": olt_a, "olt_b": olt_b,
        "a_present": add_onus(any_app, olt_a, 3, slot=1, readings=2),
        "a_absent": add_onus(any_app, olt_a, 4, slot=2, present=False, readings=2),
        "b_absent": add_onus(any_app, olt_b, 2, slot=1, present=False, readings=2),
    }


def onu_ids() -> set[int]:
    return set(db.session.scalars(sa.select(Onu.id)))


def readings_by_onu() -> dict[int, int]:
    return dict(db.session.execute(sa.select(OnuMetricDay.onu_id, sa.func.count())
                                   .group_by(OnuMetricDay.onu_id)).all())


def audit_rows() -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()


def everything(inv) -> set[int]:
    return set(inv["a_present"] + inv["a_absent"] + inv["b_absent"])


def test_deleting_selected_onus_removes_them_and_their_readings_with_one_audit_row(inventory):
    inv = inventory
    chosen = [inv["a_present"][0], inv["a_absent"][1], inv["b_absent"][0]]
    with inv["app"].app_context():
        before = utcnow()
        assert cleanup.delete_onus([str(i) for i in chosen], "operador") == 3
        assert onu_ids() == everything(inv) - set(chosen)
        readings = readings_by_onu()
        assert not set(readings) & set(chosen)
        assert readings == {i: 2 for i in everything(inv) - set(chosen)}
        [event] = audit_rows()
        assert (event.username, event.action, event.count) == ("operador", "onus_eliminadas", 3)
        assert event.target == "OLT-A, OLT-B"
        assert event.at >= before.replace(microsecond=0)
        assert event.detail == ("ONUs: OLT-A 0/1/1:1, OLT-A 0/2/1:2, OLT-B 0/1/1:1. "
                                "Filas de historial eliminadas: 6.")


def test_missing_ids_are_ignored_and_deleting_nothing_is_not_audited(inventory):
    inv = inventory
    with inv["app"].app_context():
        assert cleanup.delete_onus(["999999", "x", "", None], "operador") == 0
        assert cleanup.delete_onus([], "operador") == 0
        assert audit_rows() == []
        one = inv["a_present"][2]
        assert cleanup.delete_onus([one, one, str(one), 999999], "operador") == 1
        [event] = audit_rows()
        assert (event.target, event.count) == ("OLT-A", 1)
        assert event.detail == "ONUs: 0/1/1:3. Filas de historial eliminadas: 2."
        assert onu_ids() == everything(inv) - {one}


def test_purging_removes_only_the_absent_onus_of_that_olt(inventory):
    inv = inventory
    with inv["app"].app_context():
        assert cleanup.absent_count(inv["olt_a"]) == 4
        assert cleanup.purge_absent(inv["olt_a"], "supervisor") == 4
        kept = set(inv["a_present"] + inv["b_absent"])
        assert onu_ids() == kept                              # present ones, other OLT
        assert readings_by_onu() == {i: 2 for i in kept}
        [event] = audit_rows()
        assert (event.username, event.action, event.target, event.count) == (
            "supervisor", "ausentes_purgadas", "OLT-A", 4)
        assert event.detail == ("ONUs: 0/2/1:1, 0/2/1:2, 0/2/1:3, 0/2/1:4. "
                                "Filas de historial eliminadas: 8.")
        # again: nothing absent left, nothing audited
        assert cleanup.purge_absent(inv["olt_a"], "supervisor") == 0
        assert cleanup.purge_absent(999999, "supervisor") == 0
        assert len(audit_rows()) == 1


def test_the_audit_detail_lists_twenty_names_and_counts_the_rest(any_app):
    olt = add_olt(any_app, add_brand(any_app), "OLT-GRANDE")
    add_onus(any_app, olt, 25, present=False, slot=3, port=7)
    with any_app.app_context():
        assert cleanup.purge_absent(olt, "operador") == 25
        [event] = audit_rows()
        names = [f"0/3/7:{n}" for n in range(1, 21)]        # by position, not as text
        assert event.detail == f"ONUs: {', '.join(names)} y 5 más. Filas de historial eliminadas: 0."


def test_a_long_list_of_olts_fits_the_audit_target():
    names = [f"OLT-{n:03d}-CENTRO-NORTE" for n in range(30)]
    text = cleanup.target_text(names)
    assert len(text) <= audit.TARGET_MAX
    assert text.startswith("OLT-000-CENTRO-NORTE, OLT-001-CENTRO-NORTE")
    assert text.endswith(" más")
    assert cleanup.target_text(["B", "A", "B"]) == "A, B"


@pytest.mark.parametrize("breaks", ["audit row", "commit"])
@pytest.mark.parametrize("operation", ["delete_onus", "purge_absent"])
def test_a_failure_after_the_delete_leaves_nothing_half_done(inventory, monkeypatch,
                                                             operation, breaks):
    inv = inventory
    if breaks == "audit row":
        def broken(*args, **kwargs):
            raise RuntimeError("audit log unavailable")
        monkeypatch.setattr(audit, "record", broken)
    with inv["app"].app_context():
        if breaks == "commit":
            def broken_commit():
                raise RuntimeError("connection lost at commit")
            monkeypatch.setattr(db.session, "commit", broken_commit)
        before = readings_by_onu()
        with pytest.raises(RuntimeError):
            if operation == "delete_onus":
                cleanup.delete_onus(inv["a_present"] + inv["b_absent"], "operador")
            else:
                cleanup.purge_absent(inv["olt_a"], "operador")
        monkeypatch.undo()
        db.session.remove()
        assert onu_ids() == everything(inv)
        assert readings_by_onu() == before
        assert audit_rows() == []


def test_record_refuses_an_empty_action_and_clips_long_text(any_app):
    with any_app.app_context():
        with pytest.raises(ValueError):
            audit.record("operador", "", "OLT-A", 1)
        event = audit.record("u" * 200, "prueba", "t" * 500, 2, "detalle")
        db.session.commit()
        assert len(event.username) == 80 and len(event.target) == audit.TARGET_MAX
        assert event.target.endswith("…")
        assert audit.action_label("onus_eliminadas") == "ONUs eliminadas"
        assert audit.action_label("otra") == "otra"
