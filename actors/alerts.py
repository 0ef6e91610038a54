"""Alert actors, queue `alerts` (issue 13; `facho.monitoring`).

- `evaluate_alerts(olt_id)`: one OLT's rules after one of its executions ended (sent by
  `facho.monitoring.trigger` from the execution's worker, so the walk never waits for it).
- `deliver_notifications()`: send the outbox's due rows (each row has its own attempts and
  backoff); when a row given back is due within a minute, a delayed copy of this message
  comes back for it.
- `alerts_sweep`: every minute, the time-based rules of every OLT and the hold times, the
  daily summary once it is due, then the delivery of anything due (rows whose wake-up
  message was lost included).
"""
from __future__ import annotations

import dramatiq
from flask import current_app
from periodiq import cron

from facho import messaging
from facho.monitoring import evaluate, outbox, trigger

TIME_LIMIT_MS = 55_000
RETRY_AHEAD_S = 60


def _public_url() -> str:
    return current_app.config["FACHO"].public_url


@dramatiq.actor(actor_name=messaging.EVALUATE_ACTOR, queue_name=messaging.ALERTS_QUEUE,
                max_retries=3, min_backoff=1000, max_backoff=30_000, time_limit=TIME_LIMIT_MS)
def evaluate_alerts(olt_id: int):
    evaluate.evaluate_olt(int(olt_id), public_url=_public_url())
    # what this evaluation queued, and anything else due (a row left by a killed worker)
    if outbox.next_due_in_s() == 0:
        trigger.wake_delivery()


@dramatiq.actor(actor_name=messaging.DELIVER_ACTOR, queue_name=messaging.ALERTS_QUEUE,
                max_retries=5, min_backoff=2000, max_backoff=60_000, time_limit=TIME_LIMIT_MS)
def deliver_notifications():
    outbox.deliver_due()
    # A row given back with a short backoff is retried by a delayed message, not only by
    # the next minute sweep (one successor per message: the chains never multiply).
    wait_s = outbox.next_due_in_s()
    if wait_s is not None and wait_s <= RETRY_AHEAD_S:
        messaging.get_broker().enqueue(messaging.deliver_message(),
                                       delay=int(wait_s * 1000) + 200)


@dramatiq.actor(actor_name=messaging.SWEEP_ACTOR, queue_name=messaging.ALERTS_QUEUE,
                max_retries=0, time_limit=TIME_LIMIT_MS, periodic=cron("* * * * *"))
def alerts_sweep():
    evaluate.sweep(public_url=_public_url(), tz=current_app.config["FACHO"].tz)
    outbox.deliver_due()
