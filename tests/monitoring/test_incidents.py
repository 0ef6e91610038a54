"""Acknowledging and resolving by hand: compare-and-set, one notification each."""
from datetime import timedelta

from facho.extensions import db
from facho.monitoring import incidents
from tests.monitoring.receivers import HttpReceiver
from tests.monitoring.scenario import PUBLIC, T0, Network

SEC = timedelta(seconds=1)


def test_acknowledge_then_resolve_by_hand_records_who_and_when_and_notifies_each(any_app):
    with HttpReceiver() as http:
        net = Network(any_app, onus=2)
        net.rule("onu_desconectada", [net.channel(http.url)], minutos=0)
        net.go_down(net.onu_ids[:1], T0)
        net.evaluate(T0 + SEC)
        (incident,) = net.incidents()
        with any_app.app_context():
            assert incidents.acknowledge(incident.id, "operador", "cuadrilla en camino",
                                         T0 + 60 * SEC, PUBLIC)
            assert not incidents.acknowledge(incident.id, "otro", None, T0 + 61 * SEC,
                                             PUBLIC)
            assert incidents.resolve(incident.id, T0 + 120 * SEC, PUBLIC, by="operador")
            assert not incidents.resolve(incident.id, T0 + 121 * SEC, PUBLIC, by="otro")
            db.session.commit()
        net.deliver()
        (incident,) = net.incidents()
        assert (incident.state, incident.acknowledged_by, incident.resolved_by) == (
            "resuelto", "operador", "operador")
        assert incident.acknowledged_at - incident.opened_at == timedelta(seconds=59)
        assert [m["title"].split("]")[0] for m in http.messages] == [
            "[Facho ABIERTO", "[Facho RECONOCIDO", "[Facho RESUELTO"]
        assert "Reconocido por operador: cuadrilla en camino" in http.messages[1]["message"]


def test_two_evaluations_of_the_same_walk_open_one_incident(any_app):
    with HttpReceiver() as http:
        net = Network(any_app, onus=2)
        net.rule("onu_desconectada", [net.channel(http.url)], minutos=0)
        net.go_down(net.onu_ids[:1], T0)
        with any_app.app_context():
            from facho.models import AlertRule
            from facho.monitoring.facts import Finding
            rule = db.session.get(AlertRule, 1)
            finding = Finding(kind="onu_desconectada", key="onu:1", level="onu", olt_id=net.olt_id,
                              severity="aviso", title="t", onu_ids=(1,))
            first = incidents.open_incident(rule, finding, T0, 30, PUBLIC)
            second = incidents.open_incident(rule, finding, T0, 30, PUBLIC)
            db.session.commit()
        assert first[0] == "abierto" and second == (None, None)
        assert len(net.incidents()) == 1 and len(net.outbox()) == 1
