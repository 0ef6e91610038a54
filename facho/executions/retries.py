"""How many attempts an execution has, and how long to wait before the next one.

An execution's attempts are `1 + job.max_retries` (a job without retries still runs once);
every place that asks "is an attempt left?" asks `attempts_allowed`.
"""
from __future__ import annotations

MAX_RETRY_DELAY_S = 15 * 60


def attempts_allowed(max_retries: int | None) -> int:
    """Attempts an execution of a job with `max_retries` may make (a missing job: one)."""
    return 1 + max(0, max_retries or 0)


def retry_delay_s(retry_delay_seconds: int, attempt: int) -> int:
    """Backoff before attempt `attempt + 1`: base * 2^(attempt-1), capped."""
    return int(min(max(0, retry_delay_seconds) * 2 ** max(0, attempt - 1), MAX_RETRY_DELAY_S))
