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

And one thing that is slow: an idle Dramatiq consumer polls its queue with a growing sleep,
up to the worker timeout (1 s by default), and the worker moves a due delayed message only
between two polls; a slot's message goes through three such hops (the slot's delayed
`dispatch_slot`, the scheduler's queue, the execution's queue), so a job started 0.3-1 s
after its slot. Here every enqueue also pushes a token on the queue's wake list and an idle
consumer waits on that list (BLPOP) instead of sleeping, and no longer than until the
earliest delayed message it handed to the worker is due.
"""
from __future__ import annotations

import heapq
import time

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis
from dramatiq.errors import ConnectionClosed, DecodeError
from dramatiq.message import Message

_LOST = (redis.ConnectionError, redis.TimeoutError)
WAKE_TOKENS_KEPT = 16      # enough to wake every idle consumer of a queue after a burst
WAKE_TTL_MS = 60_000       # a wake list nobody reads goes away
# A blocking read longer than the client's socket timeout (5 s in redis-py 8) would end as a
# connection loss: an idle consumer waits at most this long, then polls again.
IDLE_WAIT_MAX_MS = 1_000
# Redis ends a blocking wait on its own timer (10 Hz by default): up to 100 ms late. The last
# stretch before a delayed message is due is slept here instead, to the millisecond.
PRECISE_LAST_MS = 200


class BrokerConnectionLost(ConnectionClosed, redis.ConnectionError):
    """Redis did not answer a broker call: Dramatiq's connection-error path for the worker,
    a `redis.ConnectionError` for everyone else."""


def _lost(exc: BaseException) -> BrokerConnectionLost:
    return BrokerConnectionLost(f"{type(exc).__name__}: {exc}")


def acks_key(namespace: str, broker_id: str, queue_name: str) -> str:
    """The set of message ids one broker fetched from `queue_name` and has not acknowledged
    (layout of Dramatiq's `dispatch.lua`)."""
    return f"{namespace}:__acks__.{broker_id}.{queue_name}"


def wake_key(namespace: str, queue_name: str) -> str:
    """The list an idle consumer of `queue_name` blocks on (see the module doc)."""
    return f"{namespace}:__wake__.{queue_name}"


class OutageSafeRedisBroker(RedisBroker):
    """`RedisBroker` whose Redis errors are connection losses (see the module doc)."""

    @property
    def consumer_class(self):
        return OutageSafeConsumer

    def enqueue(self, message, *, delay=None):
        try:
            sent = super().enqueue(message, delay=delay)
            self.wake([sent.queue_name])
            return sent
        except _LOST as exc:
            raise _lost(exc) from exc

    def wake(self, queue_names, pipe=None) -> None:
        """Wake idle consumers of `queue_names` (ready or delay queues) now; on `pipe` when
        given (the caller executes it), else in one round trip of its own."""
        own = pipe is None
        pipe = self.client.pipeline(transaction=False) if own else pipe
        for name in dict.fromkeys(queue_names):
            key = wake_key(self.namespace, name)
            pipe.lpush(key, 1)
            pipe.ltrim(key, 0, WAKE_TOKENS_KEPT - 1)
            pipe.pexpire(key, WAKE_TTL_MS)
        if own:
            pipe.execute()


class OutageSafeConsumer(_RedisConsumer):
    """A consumer whose Redis errors are connection losses and that, for a delay queue, first
    gives back what a previous consumer of this broker dropped (see the module doc)."""

    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self._orphans_checked = not queue_name.endswith(".DQ")
        self._wake_key = wake_key(broker.namespace, queue_name)
        self._etas: list[int] = []   # ms; delayed messages handed to the worker, soonest first
        self.idle_wait_max_ms = IDLE_WAIT_MAX_MS

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
            return self._next()
        except _LOST as exc:
            raise _lost(exc) from exc

    def _next(self):
        # Dramatiq 2.2's `_RedisConsumer.__next__`, with its idle sleep replaced by `_idle`.
        while True:
            try:
                data = self.message_cache.pop(0)
            except IndexError:
                messages = []
                if self.outstanding_message_count < self.prefetch:
                    self.message_cache = messages = self.broker.do_fetch(
                        self.queue_name, self.prefetch - self.outstanding_message_count)
                if not messages:
                    self.misses, backoff_ms = compute_backoff(self.misses,
                                                              max_backoff=self.timeout)
                    self._idle(backoff_ms)
                    return None
                continue
            if data is None:
                continue
            self.misses = 0
            message = Message.decode(data)
            self.queued_message_ids.add(message.message_id)
            eta = message.options.get("eta")
            if eta is not None and self.queue_name.endswith(".DQ"):
                heapq.heappush(self._etas, int(eta))
            return MessageProxy(message)

    def _idle(self, backoff_ms: int) -> None:
        """Wait up to `backoff_ms` for a wake token, and never past the earliest due time
        of a delayed message the worker holds: the worker moves it only when we return."""
        now = current_millis()
        while self._etas and self._etas[0] <= now:
            heapq.heappop(self._etas)
        wait_ms = min(backoff_ms, self.idle_wait_max_ms)
        if self._etas and self._etas[0] - now <= wait_ms:
            until_due = self._etas[0] - now
            if until_due <= PRECISE_LAST_MS:
                time.sleep(until_due / 1000)
                return
            wait_ms = until_due - PRECISE_LAST_MS
        self.broker.client.blpop([self._wake_key], timeout=max(wait_ms, 1) / 1000)

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
