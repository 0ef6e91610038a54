"""Sending execution messages to the workers. Messages carry ids, never objects.

Messages are built by actor name (`dramatiq.Message`), so the web process and the
scheduler can send without importing the actor modules.
"""
from __future__ import annotations

import dramatiq

from facho.models import QUEUE_BY_JOB_TYPE

ACTOR_BY_JOB_TYPE = {"descubrimiento": "run_discovery", "get": "run_get"}


BROKER_DOWN = ("No se pudo encolar la ejecución: el broker (Redis) no responde. "
               "Verifique REDIS_URL y que Redis esté activo.")


class BrokerUnavailable(Exception):
    """Redis (the broker) did not accept the message; str() is a Spanish message."""


def get_broker():
    """The process's Dramatiq broker, set up on first use (web and CLI processes)."""
    from facho.broker import NAMESPACE, setup_broker
    broker = dramatiq.get_broker()
    if getattr(broker, "namespace", None) != NAMESPACE:
        broker = setup_broker()
    return broker


def execution_message(execution_id: int, job_type: str) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=QUEUE_BY_JOB_TYPE[job_type], actor_name=ACTOR_BY_JOB_TYPE[job_type],
        args=(execution_id,), kwargs={}, options={})


def send_execution(execution_id: int, job_type: str, delay_ms: int | None = None) -> str:
    """Enqueue one execution; returns the Dramatiq message id."""
    message = execution_message(execution_id, job_type)
    try:
        get_broker().enqueue(message, delay=delay_ms if delay_ms and delay_ms > 0 else None)
    except Exception as exc:  # redis errors, connection refused, timeouts
        raise BrokerUnavailable(BROKER_DOWN) from exc
    return message.message_id
