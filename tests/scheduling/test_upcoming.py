"""facho.scheduling.upcoming: a job's next slot that has not run yet."""
from datetime import datetime, timedelta, timezone

from facho.scheduling.upcoming import next_slot

T = datetime(2030, 1, 1, 15, 0, tzinfo=timezone.utc)


def test_a_claimed_pending_slot_comes_before_next_run_at():
    assert next_slot(T + timedelta(minutes=1), T) == T


def test_without_a_pending_slot_next_run_at_is_the_next_slot():
    assert next_slot(T, None) == T


def test_a_job_never_planned_has_no_next_slot():
    assert next_slot(None, None) is None
