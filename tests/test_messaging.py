"""facho.messaging: every message, queue, actor name and Redis key, written once; the
pipelined send lands messages exactly where Dramatiq's own enqueue would."""
import pytest
from dramatiq.brokers.redis import RedisBroker

from facho import messaging

NAMESPACE = "facho-messaging-test"


def test_an_execution_message_goes_to_its_job_types_queue_and_actor():
    discovery = messaging.execution_message(7, "descubrimiento", "id-7")
    read = messaging.execution_message(8, "get")
    assert (discovery.queue_name, discovery.actor_name, discovery.args) == (
        messaging.DISCOVERY_QUEUE, "run_discovery", (7,))
    assert discovery.message_id == "id-7"
    assert (read.queue_name, read.actor_name, read.args) == (messaging.GET_QUEUE, "run_get", (8,))
    assert set(messaging.QUEUE_BY_JOB_TYPE.values()) <= set(messaging.QUEUES)


def test_the_actors_declare_themselves_with_these_names_and_queues():
    import dramatiq

    from actors import executions, scheduler
    declared = {a.actor_name: a.queue_name for a in (executions.run_discovery, executions.run_get,
                                                      scheduler.dispatch_slot)}
    assert declared == {"run_discovery": messaging.DISCOVERY_QUEUE,
                        "run_get": messaging.GET_QUEUE,
                        messaging.SLOT_ACTOR: messaging.SCHEDULER_QUEUE}
    assert isinstance(executions.run_get, dramatiq.Actor)


def test_the_key_layout_names_ready_delayed_and_dead_messages():
    assert messaging.ready_key("get_main") == "facho:get_main"
    assert messaging.delayed_key("get_main") == "facho:get_main.DQ"
    assert messaging.dead_key("get_main") == "facho:get_main.XQ"
    assert messaging.message_body_keys("get_main", "x") == ("x:get_main.msgs", "x:get_main.DQ.msgs")


def test_a_worker_key_reads_back_as_host_and_pid():
    key = messaging.worker_key("olt-host", 4242)
    assert key == "facho:worker:olt-host:4242"
    assert messaging.worker_id(key) == messaging.worker_id(key.encode()) == "olt-host:4242"


def test_held_first_args_reads_ready_and_delayed_bodies_of_those_actors_only(redis_client):
    ready, delayed = messaging.message_body_keys(messaging.GET_QUEUE, NAMESPACE)
    redis_client.hset(ready, "a", messaging.execution_message(5, "get").encode())
    redis_client.hset(delayed, "b", messaging.execution_message(6, "get").encode())
    redis_client.hset(ready, "c", messaging.slot_message(1_700_000_000).encode())   # other actor
    redis_client.hset(ready, "d", b"{not json")
    assert messaging.held_first_args(redis_client, messaging.GET_QUEUE,
                                     messaging.EXECUTION_ACTORS, NAMESPACE) == {5, 6}


def test_the_pipelined_send_lands_where_dramatiqs_enqueue_would(redis_client, monkeypatch):
    """Enough messages for one pipeline: none may go through the one-by-one fallback (the
    pipeline reads Dramatiq's private attributes; a Dramatiq upgrade that drops one would
    fall back silently and slowly), and each is held ready or delayed as enqueue holds it."""
    broker = RedisBroker(client=redis_client, namespace=NAMESPACE)
    broker.declare_queue(messaging.GET_QUEUE)

    def one_by_one(*args, **kwargs):
        pytest.fail("the pipelined send fell back to enqueue one by one")

    monkeypatch.setattr(broker, "enqueue", one_by_one)
    now = [messaging.Outgoing(i, "get", messaging.new_message_id())
           for i in range(messaging.PIPELINE_MIN)]
    later = [messaging.Outgoing(100 + i, "get", messaging.new_message_id(), delay_ms=60_000)
             for i in range(messaging.PIPELINE_MIN)]
    messaging.DramatiqSender(broker).send_executions(now + later)

    ready, delayed = messaging.message_body_keys(messaging.GET_QUEUE, NAMESPACE)
    assert redis_client.hlen(ready) == redis_client.hlen(delayed) == messaging.PIPELINE_MIN
    assert messaging.held_first_args(redis_client, messaging.GET_QUEUE,
                                     messaging.EXECUTION_ACTORS, NAMESPACE) == {
        o.execution_id for o in now + later}
    assert redis_client.llen(messaging.ready_key(messaging.GET_QUEUE, NAMESPACE)) == len(now)
