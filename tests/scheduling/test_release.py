"""The fan-out (`release`): a tick arms one message per slot second, and each message sends
that second's executions once, through the real Redis broker.
"""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from facho.extensions import db
from facho.models import PENDING, Execution, SnmpJob
from facho.scheduling import claim, release, schedule
from tests.scheduling.simulation import seed

T = Execution.__table__


# --- messages: fan-out per slot second, through the real broker -------------------------------

def test_fanout_arms_one_message_per_slot_second_and_sends_each_execution_once(
        sqlite_app, redis_client):
    import actors  # noqa: F401 - the broker
    from facho.models import utcnow
    with sqlite_app.app_context():
        now = utcnow().replace(microsecond=0)
        ids = seed(3, [{"nombre": f"j{i}", "interval_raw": "30s"} for i in range(10)],
                   start=now)["jobs"]
        # half of the jobs a second later: two distinct slot seconds per 30 s
        later = [job_id for i, job_id in enumerate(ids.values()) if i % 2]
        db.session.execute(sa.update(SnmpJob.__table__).where(SnmpJob.__table__.c.id.in_(later))
                           .values(anchor_at=now + timedelta(seconds=1),
                                   next_run_at=now + timedelta(seconds=1)))
        db.session.commit()
        result = claim.tick(now, horizon_s=75)
        # due now: 5 jobs x 3 OLTs, sent at once; reservations armed per second, not per row
        assert result.sent == 15
        reserved = db.session.execute(sa.select(T.c.scheduled_for).where(
            T.c.message_id.is_(None), T.c.status == PENDING)).scalars().all()
        assert len(reserved) == 5 * 3 * 2 + 5 * 3 * 3
        armed = release.armed_slot_epochs(redis_client)
        assert armed == {schedule.slot_epoch_s(s) for s in reserved}
        assert result.armed == len(armed) == 5
        queued = _queued_execution_ids(redis_client, "discovery_main")
        sent_rows = db.session.execute(sa.select(T.c.id, T.c.message_id).where(
            T.c.message_id.is_not(None))).all()
        assert set(queued) == {(r.id, r.message_id) for r in sent_rows}

        second = now + timedelta(seconds=1)
        first = release.release_slot(schedule.slot_epoch_s(second), now=second)
        assert first.sent == 15 and first.skipped == 0
        again = release.release_slot(schedule.slot_epoch_s(second), now=second)
        assert again.sent == 0
        queued = _queued_execution_ids(redis_client, "discovery_main")
        assert len(queued) == 30 and len({i for i, _ in queued}) == 30
        # a fan-out message that arrives early re-arms itself instead of sending early
        early = release.release_slot(schedule.slot_epoch_s(now + timedelta(seconds=30)),
                                       now=now + timedelta(seconds=29))
        assert early is None


def _queued_execution_ids(client, queue):
    found = []
    for _, body in client.hscan_iter(f"facho:{queue}.msgs"):
        message = json.loads(body)
        found.append((message["args"][0], message["message_id"]))
    return found
