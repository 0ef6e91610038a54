"""An execution's end asks for its OLT's evaluation on the `alerts` queue (only when some
rule is enabled), and a real worker on that queue evaluates and delivers: the message
reaches the local receiver."""
from datetime import timedelta

from facho.executions.outcome import JobSnapshot, finish
from facho.extensions import db
from facho.models import Execution, utcnow
from facho.monitoring import trigger
from tests.execution_helpers import in_process_worker
from tests.monitoring.receivers import HttpReceiver, wait_for
from tests.monitoring.scenario import Network

ALERTS_MSGS = "facho:alerts.msgs"


def _finish_one(app, net, status):
    execution_id = net.execution("RUNNING", utcnow())
    with app.app_context():
        row = db.session.get(Execution, execution_id)
        row.worker, row.finished_at = "w-1", None
        db.session.commit()
        finish(execution_id, "w-1", status, JobSnapshot(row), 1, summary={})
        return db.session.get(Execution, execution_id).status


def test_an_execution_end_sends_no_alert_message_without_rules(app, redis_client):
    net = Network(app, onus=1)
    assert _finish_one(app, net, "SUCCESS") == "SUCCESS"
    assert redis_client.hlen(ALERTS_MSGS) == 0


def test_a_successful_or_failed_execution_end_asks_for_its_olts_evaluation(app, redis_client):
    net = Network(app, onus=1)
    net.rule("olt_inalcanzable")
    assert _finish_one(app, net, "SUCCESS") == "SUCCESS"
    assert _finish_one(app, net, "FAILED") == "FAILED"
    assert redis_client.hlen(ALERTS_MSGS) == 2


def test_a_worker_on_the_alerts_queue_evaluates_and_delivers(app, redis_client):
    with HttpReceiver() as http:
        net = Network(app, onus=4)
        net.rule("onu_desconectada", [net.channel(http.url)], minutos=0)
        net.go_down(net.onu_ids[:1], utcnow() - timedelta(minutes=1))
        with in_process_worker(app, threads=2, queues=("alerts",)):
            with app.app_context():
                trigger.after_execution(net.olt_id)
            wait_for(lambda: len(http.messages) == 1, what="the opening message")
        assert len(net.incidents()) == 1
