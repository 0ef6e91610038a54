"""Every Dramatiq message Facho sends, and every name and Redis key it sends them by.

Queues, actor names and the Redis key layout are written here once; the actors declare
themselves with these names, and the web process, the CLI and the scheduler build messages by
actor name (`dramatiq.Message`), so they never import the actor modules. Messages carry ids,
never objects.

Redis layout (Dramatiq's Redis broker under our namespace): `facho:<queue>` ready message
ids, `facho:<queue>.msgs` their bodies, `facho:<queue>.DQ` / `.DQ.msgs` delayed ones,
`facho:<queue>.XQ` dead letters; `facho:worker:<host>:<pid>` live workers
(`facho.middleware.presence`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Sequence

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from periodiq import PeriodiqMiddleware

from facho.broker import OutageSafeRedisBroker
from facho.middleware.app_context import AppContextMiddleware
from facho.middleware.presence import WorkerPresence
from facho.config import load_config
from facho.redis_conn import redis_url_for

NAMESPACE = "facho"

DISCOVERY_QUEUE = "discovery_main"
GET_QUEUE = "get_main"
SCHEDULER_QUEUE = "scheduler"
MAINTENANCE_QUEUE = "maintenance"
ALERTS_QUEUE = "alerts"       # alert evaluation and notification delivery (issue 13)
QUEUES = (SCHEDULER_QUEUE, DISCOVERY_QUEUE, GET_QUEUE, MAINTENANCE_QUEUE, ALERTS_QUEUE)
QUEUE_BY_JOB_TYPE = {"descubrimiento": DISCOVERY_QUEUE, "get": GET_QUEUE}

ACTOR_BY_JOB_TYPE = {"descubrimiento": "run_discovery", "get": "run_get"}
EXECUTION_ACTORS = frozenset(ACTOR_BY_JOB_TYPE.values())
SLOT_ACTOR = "dispatch_slot"
TICK_ACTOR = "scheduler_tick"
PURGE_ACTOR = "purge_executions"
EVALUATE_ACTOR = "evaluate_alerts"          # (olt_id): one OLT after an execution
DELIVER_ACTOR = "deliver_notifications"     # (): send the outbox's due rows
SWEEP_ACTOR = "alerts_sweep"                # periodic: time-based rules, hold times

BROKER_DOWN = ("No se pudo encolar la ejecución: el broker (Redis) no responde. "
               "Verifique REDIS_URL y que Redis esté activo.")


# --- Redis keys ------------------------------------------------------------------------

def ready_key(queue: str, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:{queue}"


def delayed_key(queue: str, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:{dq_name(queue)}"


def dead_key(queue: str, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:{queue}.XQ"


def message_body_keys(queue: str, namespace: str = NAMESPACE) -> tuple[str, str]:
    """The hashes holding the bodies of a queue's ready and delayed messages: a message
    stays in one of them from enqueue until a worker acknowledges it."""
    return f"{ready_key(queue, namespace)}.msgs", f"{delayed_key(queue, namespace)}.msgs"


def worker_key(host: str | None = None, pid: int | None = None) -> str:
    return f"{NAMESPACE}:worker:{host or socket.gethostname()}:{pid or os.getpid()}"


def held_first_args(client, queue: str, actors, namespace: str = NAMESPACE,
                    due_before_ms: int | None = None) -> set[int]:
    """The first argument (an id) of every message of `actors` Redis holds for `queue`:
    ready, delayed, or fetched by a worker and not acknowledged yet (dead letters do not
    count). Bodies that do not parse are passed over.

    `due_before_ms` (epoch ms): a delayed message due before then does not count. A live
    worker moves a delayed message to its queue within about a second of its due time;
    one still waiting long after it has no consumer left (a worker's delay-queue consumer
    died, or dropped it from memory while Redis kept it) and would never be delivered."""
    found: set[int] = set()
    ready, delayed = message_body_keys(queue, namespace)
    for key in (ready, delayed):
        for _, body in client.hscan_iter(key, count=1000):
            try:
                message = json.loads(body)
                if message.get("actor_name") not in actors or not message.get("args"):
                    continue
                eta = (message.get("options") or {}).get("eta")
                if key == delayed and due_before_ms is not None and eta is not None \
                        and int(eta) < due_before_ms:
                    continue
                found.add(int(message["args"][0]))
            except (ValueError, TypeError, AttributeError):
                continue
    return found


WORKER_KEY_PATTERN = f"{NAMESPACE}:worker:*"


def worker_id(key: str | bytes) -> str:
    """`host:pid` of a presence key."""
    key = key.decode() if isinstance(key, bytes) else key
    return key.split(":", 2)[2]


# --- the broker ------------------------------------------------------------------------

def setup_broker(redis_url: str | None = None) -> RedisBroker:
    """Create the Redis broker and make it Dramatiq's global broker (once per process, when
    `actors` is imported or the web/CLI process first sends). `facho.broker`: Dramatiq's
    Redis broker, made to keep delivering delayed messages through a Redis outage."""
    if redis_url is None:
        redis_url = redis_url_for(load_config())
    broker = OutageSafeRedisBroker(url=redis_url, namespace=NAMESPACE, heartbeat_timeout=60_000)
    broker.add_middleware(PeriodiqMiddleware(skip_delay=30))
    broker.add_middleware(AppContextMiddleware())
    broker.add_middleware(WorkerPresence(worker_key()))
    dramatiq.set_broker(broker)
    return broker


def get_broker():
    """The process's Dramatiq broker, set up on first use (web and CLI processes)."""
    broker = dramatiq.get_broker()
    if getattr(broker, "namespace", None) != NAMESPACE:
        broker = setup_broker()
    return broker


# --- messages --------------------------------------------------------------------------

def actor_message(queue: str, actor: str, args: tuple, message_id: str | None = None
                  ) -> dramatiq.Message:
    extra = {"message_id": message_id} if message_id else {}
    return dramatiq.Message(queue_name=queue, actor_name=actor, args=tuple(args), kwargs={},
                            options={}, **extra)


def execution_message(execution_id: int, job_type: str, message_id: str | None = None
                      ) -> dramatiq.Message:
    return actor_message(QUEUE_BY_JOB_TYPE[job_type], ACTOR_BY_JOB_TYPE[job_type],
                         (execution_id,), message_id)


def slot_message(slot_epoch_s: int) -> dramatiq.Message:
    return actor_message(SCHEDULER_QUEUE, SLOT_ACTOR, (int(slot_epoch_s),))


def purge_message(days: int) -> dramatiq.Message:
    return actor_message(MAINTENANCE_QUEUE, PURGE_ACTOR, (int(days),))


def evaluate_message(olt_id: int) -> dramatiq.Message:
    return actor_message(ALERTS_QUEUE, EVALUATE_ACTOR, (int(olt_id),))


def deliver_message() -> dramatiq.Message:
    return actor_message(ALERTS_QUEUE, DELIVER_ACTOR, ())


def new_message_id() -> str:
    return str(uuid.uuid4())


# --- sending ---------------------------------------------------------------------------

class BrokerUnavailable(Exception):
    """Redis (the broker) did not accept the message; str() is a Spanish message."""


def send_execution(execution_id: int, job_type: str, delay_ms: int | None = None) -> str:
    """Enqueue one execution; returns the Dramatiq message id."""
    message = execution_message(execution_id, job_type)
    try:
        get_broker().enqueue(message, delay=delay_ms if delay_ms and delay_ms > 0 else None)
    except Exception as exc:  # redis errors, connection refused, timeouts
        raise BrokerUnavailable(BROKER_DOWN) from exc
    return message.message_id


@dataclass(frozen=True)
class Outgoing:
    """One execution message to enqueue (`delay_ms` 0 = now)."""
    execution_id: int
    job_type: str
    message_id: str
    delay_ms: int = 0


class Sender:
    """Where dispatch puts its messages. The default sends through Dramatiq; tests and
    benchmarks record instead. Implementations raise on a broker failure."""
    def send_executions(self, items: Sequence[Outgoing]) -> None:
        raise NotImplementedError

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        """Make `dispatch_slot(slot_epoch_s)` run in `delay_ms` ms."""
        raise NotImplementedError


class DramatiqSender(Sender):
    """Sends through the process's broker; many messages go in one Redis pipeline."""
    def __init__(self, broker=None):
        self._broker = broker

    @property
    def broker(self):
        if self._broker is None:
            self._broker = get_broker()
        return self._broker

    def send_executions(self, items: Sequence[Outgoing]) -> None:
        messages = [(execution_message(item.execution_id, item.job_type, item.message_id),
                     item.delay_ms if item.delay_ms > 0 else None) for item in items]
        if len(messages) >= PIPELINE_MIN and _pipelined_enqueue(self.broker, messages):
            return
        for message, delay in messages:
            self.broker.enqueue(message, delay=delay)

    def arm_slot(self, slot_epoch_s: int, delay_ms: int) -> None:
        self.broker.enqueue(slot_message(slot_epoch_s), delay=delay_ms if delay_ms > 0 else None)


def default_sender() -> Sender:
    return DramatiqSender()


PIPELINE_MIN = 20          # from this many messages on, enqueue them in one Redis pipeline


def _pipelined_enqueue(broker, messages) -> bool:
    """Enqueue many messages in one Redis round trip, exactly as RedisBroker.enqueue does
    one by one (same Lua script, same arguments, same middleware hooks). Returns False,
    having sent nothing, when the broker is not the Redis broker this was written for
    (Dramatiq 2.2): the caller then enqueues one by one.

    Why not the public API: Dramatiq's `RedisBroker.enqueue` runs one Lua call, one round
    trip, per message and has no batch form; "Ejecutar" on a job with 4,000 OLTs took
    seconds that way. This repeats that call for each message in one pipeline, and only
    when every private attribute it needs is there."""
    needed = ("scripts", "client", "namespace", "broker_id", "heartbeat_timeout",
              "dead_message_ttl", "_should_do_maintenance", "_max_unpack_size")
    if not isinstance(broker, RedisBroker) or not all(hasattr(broker, a) for a in needed):
        return False
    script = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    # What `script(client=pipe)` does, once for the batch: execute() loads it if Redis
    # lacks it.
    pipe.scripts.add(script)
    # Hooks only some processes' middleware has (the worker's restart, after_enqueue):
    # where no middleware overrides one, emitting it per message is skipped.
    emit_before, emit_after = (_overridden(broker, "before_enqueue"),
                               _overridden(broker, "after_enqueue"))
    fixed = (broker.broker_id, broker.heartbeat_timeout, broker.dead_message_ttl)
    max_unpack = broker._max_unpack_size()
    sent = []
    for message, delay in messages:
        queue_name = message.queue_name
        options = {"redis_message_id": str(uuid.uuid4())}
        if delay is not None:
            queue_name = dq_name(queue_name)
            options["eta"] = current_millis() + delay
        # RedisBroker.enqueue's two copies in one: same fields, same merged options.
        message = dataclasses.replace(message, queue_name=queue_name,
                                      options={**message.options, **options})
        if emit_before:
            broker.emit_before("enqueue", message, delay)
        pipe.evalsha(script.sha, 1, broker.namespace, "enqueue", current_millis(), queue_name,
                     *fixed, broker._should_do_maintenance("enqueue"), max_unpack,
                     options["redis_message_id"], message.encode())
        sent.append((message, delay))
    if hasattr(broker, "wake"):     # facho.broker: idle consumers fetch at once
        broker.wake([message.queue_name for message, _ in sent], pipe=pipe)
    pipe.execute()
    if emit_after:
        for message, delay in sent:
            broker.emit_after("enqueue", message, delay)
    return True


def _overridden(broker, hook: str) -> bool:
    """Whether any of the broker's middleware does something on `hook` (the base class's
    hooks do nothing)."""
    base = getattr(dramatiq.Middleware, hook)
    return any(getattr(type(m), hook, base) is not base for m in broker.middleware)
