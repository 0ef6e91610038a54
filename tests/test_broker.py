"""The Redis broker through a Redis outage: the worker keeps delivering delayed messages
(busy-OLT re-sends, retry backoffs), and none it dropped from memory stays stuck."""
from __future__ import annotations

import logging
import threading
import time
import uuid

import dramatiq
import dramatiq.worker
import pytest
import redis as redis_lib
from dramatiq.errors import BrokerConnectionError as DramatiqConnectionError

from facho.broker import OutageSafeRedisBroker, acks_key
from tests.conftest import free_port, require
from tests.execution_helpers import wait_for
from tests.reliability._servers import PrivateRedis, redis_binary


def _broker(url: str, namespace: str | None = None) -> OutageSafeRedisBroker:
    namespace = namespace or f"t-{uuid.uuid4().hex[:8]}"
    # named connections, so CLIENT LIST tells this broker's from other processes' on the
    # server; a socket timeout above the 30 s idle waits of the wake tests
    client = redis_lib.Redis.from_url(url, client_name=namespace, socket_timeout=60)
    return OutageSafeRedisBroker(client=client, namespace=namespace, middleware=[])


def test_a_refused_enqueue_is_a_connection_loss_for_dramatiq_and_a_redis_error_for_the_rest():
    broker = _broker(f"redis://127.0.0.1:{free_port()}/0")
    broker.declare_queue("q")
    message = dramatiq.Message(queue_name="q", actor_name="a", args=(1,), kwargs={}, options={})
    with pytest.raises(DramatiqConnectionError) as raised:
        broker.enqueue(message, delay=10)
    assert isinstance(raised.value, redis_lib.ConnectionError)   # the web's error handler
    consumer = broker.consume("q.DQ", prefetch=1, timeout=10)
    with pytest.raises(DramatiqConnectionError):
        consumer.requeue([message.copy(options={"redis_message_id": "x"})])


def test_a_new_delay_queue_consumer_gets_back_what_the_previous_one_dropped(redis_url,
                                                                           redis_client):
    """The worker drops the delayed messages it holds in memory when Redis stops answering;
    if Redis kept them they sit in this worker's acks set, which Dramatiq would only re-queue
    once the worker is dead. The next consumer of the delay queue puts them back."""
    broker = _broker(redis_url)
    broker.declare_queue("q")
    sent = broker.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(7,),
                                           kwargs={}, options={}), delay=60_000)
    first = broker.consume("q.DQ", prefetch=10, timeout=10)
    assert next(first).message_id == sent.message_id     # held in memory now
    key = acks_key(broker.namespace, broker.broker_id, "q.DQ")
    assert redis_client.scard(key) == 1
    # the connection-error path forgets `first` and its delay queue; a new consumer comes
    second = broker.consume("q.DQ", prefetch=10, timeout=10)
    again = next(second)
    assert again is not None and again.message_id == sent.message_id
    assert again.options["eta"] == sent.options["eta"]     # still delayed as asked


def test_a_new_ready_queue_consumer_leaves_messages_still_being_processed_alone(redis_url):
    """A ready queue's unacknowledged messages are in the worker's work queue or being
    processed: giving them back would deliver them twice."""
    broker = _broker(redis_url)
    broker.declare_queue("q")
    broker.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(7,), kwargs={},
                                    options={}))
    assert next(broker.consume("q", prefetch=10, timeout=10)) is not None
    assert next(broker.consume("q", prefetch=10, timeout=10)) is None


def test_a_closing_consumer_gives_back_the_prefetched_messages_it_did_not_hand_on(redis_url):
    """A stopping worker's consumer holds a fetched batch (already in its acks set): on close
    it goes back to the queue, for another worker now, not after Dramatiq's maintenance
    notices the dead worker."""
    broker = _broker(redis_url)
    broker.declare_queue("q")
    sent = [broker.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(n,),
                                            kwargs={}, options={})) for n in range(3)]
    stopping = broker.consume("q", prefetch=10, timeout=10)
    handed = next(stopping)                  # one handed on, two left in its cache
    stopping.close()
    other = broker.consume("q", prefetch=10, timeout=10)
    got = {next(other).message_id for _ in range(2)}
    assert got == {m.message_id for m in sent} - {handed.message_id}
    assert next(other) is None               # the handed-on one is not delivered twice


def _idle_consumer(broker, queue_name: str, backoff_ms: int):
    """A consumer whose next idle wait is `backoff_ms` (Dramatiq's backoff at its cap)."""
    consumer = broker.consume(queue_name, prefetch=10, timeout=backoff_ms)
    consumer.misses = 64
    consumer.idle_wait_max_ms = backoff_ms
    return consumer


def _blocked_consumer(redis_url, redis_client, queue_name: str):
    """(broker, consumer, its next() on a thread) once that call waits on the wake list,
    with 30 s of backoff before it would poll again."""
    broker = _broker(redis_url)
    broker.declare_queue(queue_name)
    consumer = _idle_consumer(broker, queue_name, backoff_ms=30_000)
    idle = _next_in_thread(consumer)
    wait_for(lambda: any(c.get("cmd") == "blpop" and c.get("name") == broker.namespace
                         for c in redis_client.client_list()), 10,
             "the consumer idle on its wake list")
    return broker, consumer, idle


def _next_in_thread(consumer) -> dict:
    """next(consumer) on a thread; the dict gets the result and when it came (monotonic)."""
    out: dict = {}

    def call():
        out["result"] = next(consumer)
        out["at"] = time.monotonic()

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    out["thread"] = thread
    return out


def test_an_idle_consumer_fetches_a_new_message_at_once_instead_of_finishing_its_backoff(
        redis_url, redis_client):
    """Idle, Dramatiq's consumer sleeps up to the worker timeout between polls (a slot's
    execution started up to a second late); here the enqueue wakes it."""
    broker, consumer, idle = _blocked_consumer(redis_url, redis_client, "q")
    sent_at = time.monotonic()
    sent = broker.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(1,),
                                           kwargs={}, options={}))
    idle["thread"].join(20)
    assert idle["result"] is None and idle["at"] - sent_at < 10   # woken, not 30 s later
    assert next(consumer).message_id == sent.message_id


def test_an_idle_delay_queue_consumer_returns_when_the_delayed_message_it_holds_is_due(
        redis_url):
    """The worker moves a due delayed message only between two polls of its delay queue:
    the consumer's idle wait ends at the earliest due time it handed out, not its backoff."""
    broker = _broker(redis_url)
    broker.declare_queue("q")
    consumer = _idle_consumer(broker, "q.DQ", backoff_ms=30_000)
    sent = broker.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(1,),
                                           kwargs={}, options={}), delay=500)
    held = next(consumer)
    assert held.message_id == sent.message_id
    eta_s = held.options["eta"] / 1000
    while time.time() < eta_s:       # a wake token of the enqueue may end the first wait
        consumer.misses = 64
        idle = _next_in_thread(consumer)
        idle["thread"].join(40)
        assert idle["result"] is None
    assert time.time() - eta_s < 10     # due: returned, not 30 s of backoff later


def test_a_pipelined_send_wakes_the_idle_consumers_of_its_queue(redis_url, redis_client):
    from facho import messaging
    broker, consumer, idle = _blocked_consumer(redis_url, redis_client, "discovery_main")
    sent_at = time.monotonic()
    messages = [(dramatiq.Message(queue_name="discovery_main", actor_name="a", args=(n,),
                                  kwargs={}, options={}), None)
                for n in range(messaging.PIPELINE_MIN)]
    assert messaging._pipelined_enqueue(broker, messages)
    idle["thread"].join(20)
    assert idle["result"] is None and idle["at"] - sent_at < 10
    assert next(consumer) is not None


def _noticed_by(caplog, logger_name: str, since: int) -> bool:
    """A warning or worse from that logger since the `since`-th record: Dramatiq's
    consumer threads say so whichever way an outage reaches them (a failed fetch, a failed
    acknowledgement retried, an unexpected error)."""
    return any(r.name == logger_name and r.levelno >= logging.WARNING
               for r in caplog.records[since:])


def test_a_worker_keeps_delivering_delayed_messages_after_redis_restarts_empty(monkeypatch,
                                                                               caplog):
    """Redis goes away while the worker moves due delayed messages to their queue. With
    Dramatiq's own broker the delay-queue consumer thread dies there and no delayed message
    is delivered again until the worker restarts."""
    require(redis_binary() is not None, "a redis-server binary for a private Redis")
    # Dramatiq's pauses after a connection error (3 s and 5 s): shorter, the logic is the same
    monkeypatch.setattr(dramatiq.worker, "CONSUMER_RESTART_DELAY_SECS", 0.2)
    monkeypatch.setattr(dramatiq.worker, "POST_PROCESS_MESSAGE_RETRY_DELAY_SECS", 0.2)
    private = PrivateRedis()
    private.start()
    broker = OutageSafeRedisBroker(url=private.url, namespace="facho-test")
    ran = []
    note = dramatiq.actor(ran.append, broker=broker, actor_name="note", queue_name="q")
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        # due one after another every 20 ms, across the outage: the delay-queue consumer
        # has one to move whenever it wakes up while Redis is away
        for i in range(300):
            note.send_with_options(args=(i,), delay=300 + 20 * i)
        delay_consumer = worker.consumers["q.DQ"]
        wait_for(lambda: len(ran) >= 3, 10, "the delayed messages did not start running")
        since = len(caplog.records)
        private.stop()
        wait_for(lambda: _noticed_by(caplog, "dramatiq.worker.ConsumerThread(q.DQ)", since),
                 10, "the delay-queue consumer did not meet the outage")
        private.start()
        note.send_with_options(args=(-1,), delay=50)
        assert delay_consumer.is_alive()
        wait_for(lambda: -1 in ran, 10, "a delayed message sent after the restart never ran")
    finally:
        worker.stop(timeout=5000)
        broker.close()
        private.cleanup()
