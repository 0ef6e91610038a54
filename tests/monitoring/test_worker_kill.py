"""A worker process SIGKILLed after it opened an incident and before the notification got
through: after a restart, exactly one message per transition reaches the receiver."""
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from facho import messaging
from facho.extensions import db
from facho.models import NotificationOutbox, utcnow
from facho.monitoring import trigger
from tests.monitoring.receivers import HttpReceiver, wait_for
from tests.monitoring.scenario import Network
from tests.processes import start_process, stop_process

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"


def _worker(app, tmp_path, redis_url, name):
    env = dict(os.environ, FACHO_ENV="testing", REDIS_URL=redis_url, FACHO_VAR_DIR=str(tmp_path),
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], FACHO_LOG_LEVEL="INFO")
    log = tmp_path / f"{name}.log"
    proc = start_process([str(BIN / "dramatiq"), "actors", "--processes", "1", "--threads", "2",
                          "--queues", "alerts"], env, log, REPO)
    deadline = time.monotonic() + 90
    while "Worker process is ready for action" not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return proc, log


def _row(app):
    with app.app_context():
        row = db.session.execute(sa.select(NotificationOutbox)).scalars().first()
        db.session.expunge_all()
        return row


def test_a_worker_killed_before_the_message_got_through_sends_it_once_after_restart(
        app, tmp_path, redis_url, redis_client):
    with HttpReceiver() as http:
        http.status = 500                      # the channel is down when the incident opens
        net = Network(app, onus=4)
        net.rule("onu_desconectada", [net.channel(http.url)], minutos=0)
        net.go_down(net.onu_ids[:1], utcnow() - timedelta(minutes=2))
        first, _ = _worker(app, tmp_path, redis_url, "first")
        try:
            with app.app_context():
                trigger.after_execution(net.olt_id)
            wait_for(lambda: (_row(app) is not None and _row(app).attempts >= 1
                              and _row(app).status == "pendiente"), 60, "a refused attempt")
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        assert http.messages == [] and len(net.incidents()) == 1

        http.status = 200
        second, log = _worker(app, tmp_path, redis_url, "second")
        try:
            wait_for(lambda: _row(app).next_attempt_at <= utcnow(), 30, "the backoff")
            with app.app_context():
                trigger.after_execution(net.olt_id)     # the next walk of the OLT
            wait_for(lambda: _row(app).status == "enviado", 60, "the delivery")
            # and another walk: its evaluation finds nothing more to send
            sent = messaging.get_broker().enqueue(messaging.evaluate_message(net.olt_id))
            key = sent.options["redis_message_id"]
            wait_for(lambda: not redis_client.hexists("facho:alerts.msgs", key), 60,
                     "the last evaluation")
        finally:
            stop_process(second)
        assert len(http.messages) == 1, log.read_text()
        assert len(net.incidents()) == 1 and len(net.outbox()) == 1
