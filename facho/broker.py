"""Dramatiq's Redis broker, made to live through a Redis outage without losing delayed
messages (Dramatiq 2.2).

Two things go wrong with the stock `RedisBroker` when Redis goes away for a few seconds,
and both leave an execution PENDING for ever while the worker looks healthy (it still
heartbeats) and the reconciler sees its message in Redis (`<queue>.DQ.msgs`) and leaves it
alone:

1. The delay-queue consumer thread dies. It moves due delayed messages to their queue with
   `broker.enqueue`, which lets `redis.ConnectionError` out unwrapped; the worker handles it
   as an unexpected error, whose clean-up (`close()`, re-queueing what it still holds) hits
   Redis again and raises out of the thread. From then on no delayed message of that queue
   (busy-OLT re-sends, retry backoffs, start-rate waits) is ever delivered by this worker.
   Here every broker and consumer call raises `BrokerConnectionLost` instead: a Dramatiq
   `ConnectionClosed`, so the worker takes its connection-error path (drop the delay queue
   held in memory, reconnect in a few seconds), and also a `redis.ConnectionError`, so
   every `except redis.RedisError` of the web and CLI processes still catches it. A
   `redis.TimeoutError` (a stalled socket) is treated the same way.
2. That connection-error path drops the delayed messages the consumer held in memory
   without giving them back: if Redis kept its data (a network cut, a failover), they stay
   in this worker's acks set, which Dramatiq only re-queues once the worker is dead. So a
   new consumer of a delay queue first puts back every message its broker still holds
   unacknowledged for that queue. Only delay queues: nothing else of this process can hold
   them (a ready queue's unacked messages are in the work queue or being processed).
"""
from __future__ import annotations

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed, DecodeError
from dramatiq.message import Message

_LOST = (redis.ConnectionError, redis.TimeoutError)


class BrokerConnectionLost(ConnectionClosed, redis.ConnectionError):
    """Redis did not answer a broker call: Dramatiq's connection-error path for the worker,
    a `redis.ConnectionError` for everyone else."""


def _lost(exc: BaseException) -> BrokerConnectionLost:
    return BrokerConnectionLost(f"{type(exc).__name__}: {exc}")


def acks_key(namespace: str, broker_id: str, queue_name: str) -> str:
    """The set of message ids one broker fetched from `queue_name` and has not acknowledged
    (layout of Dramatiq's `dispatch.lua`)."""
    return f"{namespace}:__acks__.{broker_id}.{queue_name}"


class OutageSafeRedisBroker(RedisBroker):
    """`RedisBroker` whose Redis errors are connection losses (see the module doc)."""

    @property
    def consumer_class(self):
        return OutageSafeConsumer

    def enqueue(self, message, *, delay=None):
        try:
            return super().enqueue(message, delay=delay)
        except _LOST as exc:
            raise _lost(exc) from exc


class OutageSafeConsumer(_RedisConsumer):
    """A consumer whose Redis errors are connection losses and that, for a delay queue, first
    gives back what a previous consumer of this broker dropped (see the module doc)."""

    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self._orphans_checked = not queue_name.endswith(".DQ")

    def requeue_orphans(self) -> int:
        """Put back on the delay queue every message this broker fetched from it and never
        acknowledged; returns how many (0 on a fresh worker)."""
        key = acks_key(self.broker.namespace, self.broker.broker_id, self.queue_name)
        ids = [i.decode() if isinstance(i, bytes) else i for i in self.broker.client.smembers(key)]
        if ids:
            self.logger.warning("Re-enqueueing %d delayed message(s) dropped from memory on "
                                "queue %r.", len(ids), self.queue_name)
            self.broker.do_requeue(self.queue_name, *ids)
        return len(ids)

    def __next__(self):
        try:
            if not self._orphans_checked:
                self.requeue_orphans()
                self._orphans_checked = True
            return super().__next__()
        except _LOST as exc:
            raise _lost(exc) from exc

    def ack(self, message):
        try:
            return super().ack(message)
        except redis.TimeoutError as exc:
            raise _lost(exc) from exc

    def nack(self, message):
        try:
            return super().nack(message)
        except redis.TimeoutError as exc:
            raise _lost(exc) from exc

    def requeue(self, messages):
        try:
            return super().requeue(messages)
        except _LOST as exc:
            raise _lost(exc) from exc

    def close(self):
        """Dramatiq's consumer keeps a batch it fetched (already in this worker's acks set) and
        has not handed on yet; a stopping worker would leave it there until Dramatiq's random
        maintenance noticed the dead worker, while the reconciler counts it as in flight.
        Give it back to its queue now (best effort: with Redis down there is nothing to do)."""
        cached = [data for data in self.message_cache if data is not None]
        self.message_cache = []
        if cached:
            try:
                ids = [Message.decode(data).options["redis_message_id"] for data in cached]
                self.broker.do_requeue(self.queue_name, *ids)
                self.logger.info("Re-enqueued %d prefetched message(s) of queue %r on close.",
                                 len(ids), self.queue_name)
            except (redis.RedisError, DecodeError, KeyError) as exc:
                self.logger.warning("Could not re-enqueue prefetched messages of queue %r: %s",
                                    self.queue_name, exc)
        return super().close()
