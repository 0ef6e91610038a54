"""Evaluation end to end on real rows (SQLite and PostgreSQL) with a local HTTP receiver
and a local SMTP server standing in for the channels: each incident kind opens once,
notifies once per transition and resolves; no storms."""
from datetime import timedelta
from email import message_from_string
from email.header import decode_header, make_header

import pytest

from tests.monitoring.receivers import HttpReceiver, SmtpReceiver
from tests.monitoring.scenario import PUBLIC, T0, Network

MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


@pytest.fixture
def http():
    with HttpReceiver() as receiver:
        yield receiver


def test_twenty_of_thirty_two_onus_los_in_one_walk_is_one_incident_and_one_message(
        any_app, http):
    net = Network(any_app, onus=32)
    channel = net.channel(http.url)
    net.rule("pon_caida", [channel], min_onus=4, espera_resolver_min=0)
    net.rule("onu_desconectada", [channel], minutos=0, espera_resolver_min=0)
    net.execution("SUCCESS", T0)
    net.evaluate(T0)
    down = net.onu_ids[:20]
    net.go_down(down, T0 + MIN, cause="los")
    net.execution("SUCCESS", T0 + MIN)
    counts = net.evaluate(T0 + MIN + SEC)
    net.deliver()

    (incident,) = net.incidents()
    assert (incident.kind, incident.cause, incident.onus_included) == (
        "pon_caida", "corte de fibra", 20)
    assert incident.onus_suppressed == 20 and counts["suppressed"] == 20
    assert len(http.messages) == 1
    message = http.messages[0]["message"]
    for text in ("OLT: OLT-NORTE", "PON: 0/1/1", "Causa: corte de fibra",
                 "ONUs afectadas: 20", "20 alertas de onu incluidas",
                 f"{PUBLIC}/admin/incidentes/{incident.id}"):
        assert text.lower() in message.lower()

    # ten minutes later they are still down: still one incident, no new message
    net.evaluate(T0 + 11 * MIN)
    net.evaluate(T0 + 11 * MIN, time_based_only=True)
    net.deliver()
    assert len(net.incidents()) == 1 and len(http.messages) == 1

    net.come_back(down, T0 + 12 * MIN)
    net.evaluate(T0 + 12 * MIN)
    net.deliver()
    (incident,) = net.incidents()
    assert incident.state == "resuelto" and incident.resolved_by is None
    assert [m["title"].split("]")[0] for m in http.messages] == [
        "[Facho ABIERTO", "[Facho RESUELTO"]


def test_an_onu_down_incident_opens_once_after_n_minutes_and_resolves_after_the_hold_time(
        any_app, http):
    net = Network(any_app, onus=8)
    net.rule("onu_desconectada", [net.channel(http.url)], minutos=10, espera_resolver_min=5,
             causa="dying_gasp")
    net.go_down(net.onu_ids[:1], T0, cause="dying_gasp")
    net.evaluate(T0 + 5 * MIN, time_based_only=True)
    assert net.incidents() == []
    for minute in (11, 12, 13):
        net.evaluate(T0 + minute * MIN, time_based_only=True)
    net.deliver()
    (incident,) = net.incidents()
    assert incident.onu_id == net.onu_ids[0] and incident.cause.startswith("corte de energía")
    net.come_back(net.onu_ids[:1], T0 + 20 * MIN)
    net.evaluate(T0 + 20 * MIN, time_based_only=True)
    assert net.incidents()[0].state == "abierto"       # clear, holding
    net.evaluate(T0 + 26 * MIN, time_based_only=True)
    net.deliver()
    assert net.incidents()[0].state == "resuelto"
    assert len(http.messages) == 2


def test_rx_below_threshold_opens_with_its_level_and_notifies_from_the_minimum_severity(
        any_app, http):
    from facho.extensions import db
    from facho.models import AlertRule, Onu

    net = Network(any_app, onus=3)
    rule_id = net.rule("rx_baja", [net.channel(http.url)], espera_resolver_min=0)
    with any_app.app_context():
        db.session.get(AlertRule, rule_id).min_severity = "critico"
        db.session.get(Onu, net.onu_ids[0]).rx_power = -28.0
        db.session.get(Onu, net.onu_ids[1]).rx_power = -31.0
        db.session.commit()
    net.evaluate(T0)
    net.deliver()
    assert sorted(i.severity for i in net.incidents()) == ["aviso", "critico"]
    assert len(http.messages) == 1 and "critico" not in http.messages[0]["title"]
    assert "Severidad: crítico" in http.messages[0]["message"]


def test_an_unreachable_olt_opens_once_and_its_comeback_gives_no_onu_storm(any_app, http):
    net = Network(any_app, onus=32)
    channel = net.channel(http.url)
    net.rule("olt_inalcanzable", [channel], fallos=3, asentamiento_min=10,
             espera_resolver_min=0)
    net.rule("onu_desconectada", [channel], minutos=0, espera_resolver_min=0)
    net.rule("pon_caida", [channel], min_onus=4, espera_resolver_min=0)
    net.execution("SUCCESS", T0)
    for minute in (5, 10, 15):
        net.execution("FAILED", T0 + minute * MIN)
        net.evaluate(T0 + minute * MIN)
    net.evaluate(T0 + 16 * MIN, time_based_only=True)
    assert [i.kind for i in net.incidents()] == ["olt_inalcanzable"]

    # the OLT rebooted: back, with every ONU still registering (down) for a few minutes
    net.go_down(net.onu_ids, T0 + 19 * MIN, cause="dying_gasp")
    net.execution("SUCCESS", T0 + 20 * MIN)
    net.evaluate(T0 + 20 * MIN)
    net.evaluate(T0 + 21 * MIN, time_based_only=True)
    net.come_back(net.onu_ids, T0 + 24 * MIN)
    net.execution("SUCCESS", T0 + 25 * MIN)
    net.evaluate(T0 + 25 * MIN)
    net.evaluate(T0 + 31 * MIN, time_based_only=True)
    net.deliver()

    (incident,) = net.incidents()
    assert incident.state == "resuelto" and incident.onus_suppressed == 32
    assert len(http.messages) == 2


def test_a_reboot_seen_in_the_uptime_holds_onu_alerts_for_the_settle_period(any_app, http):
    """No failed poll: the OLT answered before and after, but its uptime went down."""
    from facho.extensions import db
    from facho.inventory import uptime

    net = Network(any_app, onus=8)
    channel = net.channel(http.url)
    net.rule("olt_inalcanzable", [channel], fallos=3, asentamiento_min=10,
             espera_resolver_min=0)
    net.rule("onu_desconectada", [channel], minutos=0, espera_resolver_min=0)
    with any_app.app_context():
        uptime.record(net.olt_id, 90 * 86400, T0)
        assert uptime.record(net.olt_id, 120, T0 + 10 * MIN) == T0 + 8 * MIN
        db.session.commit()
    net.go_down(net.onu_ids[:3], T0 + 10 * MIN)
    net.evaluate(T0 + 10 * MIN)
    net.evaluate(T0 + 15 * MIN, time_based_only=True)
    assert net.incidents() == []                      # within 10 min of the boot at +8
    net.evaluate(T0 + 19 * MIN, time_based_only=True)
    net.deliver()
    assert len(net.incidents()) == 3 and len(http.messages) == 3   # settled: they are real


def test_flapping_within_the_cooldown_reopens_without_notifying_again(any_app, http):
    net = Network(any_app, onus=4)
    net.rule("onu_desconectada", [net.channel(http.url)], minutos=0, espera_resolver_min=0,
             enfriamiento_min=30)
    onu = net.onu_ids[:1]
    for minute in range(0, 20, 4):                 # down, up, down, up, down
        (net.go_down if minute % 8 == 0 else net.come_back)(onu, T0 + minute * MIN)
        net.evaluate(T0 + minute * MIN + SEC)
        net.deliver()
    (incident,) = net.incidents()
    assert incident.state == "abierto" and incident.flapping_count == 2
    assert [m["title"].split("]")[0] for m in http.messages] == [
        "[Facho ABIERTO", "[Facho RESUELTO"]


def test_after_the_cooldown_a_new_incident_opens_and_notifies(any_app, http):
    net = Network(any_app, onus=4)
    net.rule("onu_desconectada", [net.channel(http.url)], minutos=0, espera_resolver_min=0,
             enfriamiento_min=5)
    onu = net.onu_ids[:1]
    net.go_down(onu, T0)
    net.evaluate(T0 + SEC)
    net.come_back(onu, T0 + MIN)
    net.evaluate(T0 + MIN)
    net.go_down(onu, T0 + 10 * MIN)
    net.evaluate(T0 + 10 * MIN + SEC)
    net.deliver()
    assert [i.state for i in net.incidents()] == ["resuelto", "abierto"]
    assert len(http.messages) == 3


def test_pon_degradation_opens_one_incident_for_the_pon(any_app, http):
    from facho.extensions import db
    from facho.models import Onu
    from tests import factories

    net = Network(any_app, onus=6)
    net.rule("pon_degradada", [net.channel(http.url)], min_onus=3, min_muestras=5,
             espera_resolver_min=0)
    net.rule("degradacion", [net.channel(http.url, "Otro")], min_muestras=5)
    for onu_id in net.onu_ids:
        factories.add_readings(any_app, onu_id, "rx_power",
                               [(T0 - timedelta(hours=2 + h), -20.0) for h in range(12)])
    with any_app.app_context():
        for onu_id in net.onu_ids[:3]:
            db.session.get(Onu, onu_id).rx_power = -22.0
        db.session.commit()
    net.evaluate(T0)
    net.deliver()
    (incident,) = net.incidents()
    assert (incident.kind, incident.onus_included, incident.onus_suppressed) == (
        "pon_degradada", 3, 3)
    assert len(http.messages) == 1


def test_smtp_channel_receives_one_mail_per_transition(any_app):
    with SmtpReceiver() as smtp:
        net = Network(any_app, onus=4)
        net.rule("onu_desconectada", [net.channel(smtp.url)], minutos=0,
                 espera_resolver_min=0)
        net.go_down(net.onu_ids[:1], T0)
        net.evaluate(T0 + SEC)
        net.evaluate(T0 + MIN)
        net.deliver()
        net.come_back(net.onu_ids[:1], T0 + 2 * MIN)
        net.evaluate(T0 + 2 * MIN)
        net.deliver()
        net.deliver()
        assert len(smtp.messages) == 2
        subjects = [str(make_header(decode_header(message_from_string(m)["Subject"])))
                    for m in smtp.messages]
        assert [s.split("]")[0] for s in subjects] == ["[Facho ABIERTO", "[Facho RESUELTO"]


def test_the_sweep_evaluates_time_based_rules_and_keeps_pon_cover(any_app, http):
    from facho.monitoring import evaluate
    net = Network(any_app, onus=8)
    channel = net.channel(http.url)
    net.rule("pon_caida", [channel], min_onus=4, espera_resolver_min=0)
    net.rule("onu_desconectada", [channel], minutos=10, espera_resolver_min=0)
    net.go_down(net.onu_ids[:5], T0)
    net.evaluate(T0 + SEC)                         # the walk's evaluation: the PON incident
    with any_app.app_context():
        counts = evaluate.sweep(T0 + 20 * MIN, PUBLIC)
    assert counts["suppressed"] == 5 and counts["opened"] == 0
    assert [i.kind for i in net.incidents()] == ["pon_caida"]
