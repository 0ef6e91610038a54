"""The outbox: a transition is queued once, a row is sent once (claimed by
compare-and-set, never again once sent), a refusing channel is retried with backoff, and
the channel's URL never appears in an error."""
from datetime import timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.models import NotificationOutbox, utcnow
from facho.monitoring import incidents, outbox
from tests.monitoring.receivers import HttpReceiver
from tests.monitoring.scenario import PUBLIC, T0, Network

SEC = timedelta(seconds=1)


def _open_one(app, url):
    net = Network(app, onus=2)
    net.rule("onu_desconectada", [net.channel(url)], minutos=0, espera_resolver_min=0)
    net.go_down(net.onu_ids[:1], T0)
    net.evaluate(T0 + SEC)
    return net


def test_a_transition_is_queued_once_however_often_it_is_attempted(any_app):
    with HttpReceiver() as http:
        net = _open_one(any_app, http.url)
        (incident,) = net.incidents()
        with any_app.app_context():
            assert incidents.queue_notifications(incident.id, "abierto", T0, PUBLIC) == 0
            db.session.commit()
        assert len(net.outbox()) == 1


def test_a_row_sent_is_never_sent_again_and_a_claimed_row_is_not_claimed_twice(any_app):
    with HttpReceiver() as http:
        net = _open_one(any_app, http.url)
        (row,) = net.outbox()
        with any_app.app_context():
            assert outbox.deliver_one(row.id) == "enviado"
            assert outbox.deliver_one(row.id) is None
            assert outbox.claim(row.id, utcnow()) is False
            assert outbox.deliver_due() == {}
        assert len(http.messages) == 1
        (row,) = net.outbox()
        assert (row.status, row.attempts) == ("enviado", 1) and row.sent_at is not None


def test_a_refusing_channel_is_retried_with_backoff_then_succeeds(any_app):
    with HttpReceiver() as http:
        net = _open_one(any_app, http.url)
        http.status = 500
        net.deliver()
        (row,) = net.outbox()
        assert (row.status, row.attempts) == ("pendiente", 1)
        assert row.next_attempt_at > utcnow()
        assert "El canal no aceptó" in row.last_error
        net.deliver()                                   # not due yet: nothing sent
        assert net.outbox()[0].attempts == 1
        http.status = 200
        net.deliver(row.next_attempt_at + SEC)
        assert net.outbox()[0].status == "enviado" and len(http.messages) == 1


def test_the_channel_url_never_appears_in_an_error(any_app):
    secret = "json://guardia:clave-ultra-secreta@127.0.0.1:9/token-privado-123"
    net = _open_one(any_app, secret)
    net.deliver()
    (row,) = net.outbox()
    assert row.status == "pendiente" and row.last_error
    for piece in ("clave-ultra-secreta", "token-privado-123", "guardia"):
        assert piece not in row.last_error


def test_a_claim_left_by_a_killed_worker_is_given_back_once_stale(any_app):
    with HttpReceiver() as http:
        net = _open_one(any_app, http.url)
        (row,) = net.outbox()
        with any_app.app_context():
            assert outbox.claim(row.id, utcnow())
            assert outbox.deliver_due() == {}             # still fresh: left alone
            later = utcnow() + outbox.CLAIM_STALE + SEC
            assert outbox.release_stale(later) == 1
            db.session.execute(sa.update(NotificationOutbox).values(next_attempt_at=utcnow()))
            db.session.commit()
            assert outbox.deliver_due() == {"enviado": 1}
        assert len(http.messages) == 1
