"""The reconciler: the database is the source of truth, Redis only carries it."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from facho import messaging
from facho.scheduling import claim
from facho import reasons
from facho.scheduling import schedule
from tests.scheduling import simulation
from facho.executions import transitions as executions
from facho.scheduling import reconcile
from facho.extensions import db
from facho.models import (INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS, Brand, Execution,
                          Olt, SnmpJob, SnmpJobHost, utcnow)
from tests.execution_helpers import in_process_worker, wait_final
from tests.factories import make_job, make_olt, seed_catalog

T = Execution.__table__


def test_after_redis_is_flushed_the_reconciler_resends_and_each_execution_runs_once(
        sqlite_app, redis_client, olt_agents):
    app = sqlite_app
    with app.app_context():
        seed_catalog()
        olts = [make_olt(f"C320-{i}", olt_agents.port, "zte_sim", marca="ZTE", modelo="C320")
                for i in range(3)]
        make_job("Descubrir ZTE", ["ZTE ONU descubrimiento", "ZTE ONU nombre"], marca="ZTE",
                 olt_ids=tuple(olts), interval_raw="1h", max_retries=0)
        now = utcnow()
        ticked = claim.tick(now)              # never planned: due now, sent through Redis
        assert ticked.sent == 3
        ids = db.session.execute(sa.select(T.c.id).order_by(T.c.id)).scalars().all()
        assert len(ids) == 3
        assert reconcile.inflight_execution_ids(redis_client) == set(ids)

        redis_client.flushdb()                   # Redis restarted empty: every message gone
        assert reconcile.inflight_execution_ids(redis_client) == set()
        first = reconcile.reconcile(now + timedelta(seconds=61), redis_client=redis_client)
        assert first.resent == 3 and first.errors == 0
        assert reconcile.inflight_execution_ids(redis_client) == set(ids)
        # a second reconciler pass (or another process) finds the messages and sends nothing
        again = reconcile.reconcile(now + timedelta(seconds=62), redis_client=redis_client)
        assert again.resent == 0
        # and an extra copy of one message (at-least-once delivery) must not run it twice
        messaging.send_execution(ids[0], "descubrimiento")

    with in_process_worker(app, threads=3, queues=("discovery_main",)):
        rows = wait_final(app, ids, timeout_s=60)
    assert {r.status for r in rows.values()} == {SUCCESS}
    assert {r.attempt for r in rows.values()} == {1}       # started exactly once each
    with app.app_context():
        assert executions.start(ids[0], "late-copy") is None  # the guard refuses a rerun
        assert reconcile.reconcile(now + timedelta(minutes=5),
                                   redis_client=redis_client).resent == 0


def _world(app, max_retries=2):
    with app.app_context():
        brand = Brand(nombre="Huawei")
        olt = Olt(abreviatura="OLT-1", ip_address="127.0.0.1", comunidad="c", brand=brand)
        job = SnmpJob(nombre="descubrir", brand=brand, job_type="descubrimiento",
                      interval_raw="5m", max_retries=max_retries)
        host = SnmpJobHost(job=job, olt=olt)
        db.session.add_all([brand, olt, job, host])
        db.session.commit()
        return job.id, olt.id, host.id


def _execution(job_id, olt_id, host_id, **fields) -> int:
    row = Execution(job_id=job_id, olt_id=olt_id, job_host_id=host_id, **fields)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_running_rows_of_dead_workers_are_resumed_or_interrupted(any_app):
    job_id, olt_id, host_id = _world(any_app, max_retries=2)
    now = utcnow()
    dead = now - timedelta(seconds=executions.STALE_AFTER_S + 30)
    with any_app.app_context():
        def running(minutes, attempt, heartbeat, worker="w:1:1"):
            return _execution(job_id, olt_id, host_id, status=RUNNING, attempt=attempt,
                              worker=worker, started_at=heartbeat, heartbeat_at=heartbeat,
                              scheduled_for=now - timedelta(minutes=minutes))
        resumable = running(10, 1, dead)
        exhausted = running(20, 3, dead)
        alive = running(30, 1, now - timedelta(seconds=5))
        sender = simulation.RecordingSender()
        result = reconcile.reconcile(now, sender=sender, redis_client=_no_redis())
        assert (result.resumed, result.interrupted) == (1, 1)
        rows = {r.id: r for r in db.session.execute(sa.select(T)).all()}
        assert rows[resumable].status == PENDING and rows[resumable].worker is None
        assert "Reanudada: el worker w:1:1 dejó de responder" in rows[resumable].error_message
        assert [o.execution_id for o in sender.executions] == [resumable]
        assert sender.executions[0].message_id == rows[resumable].message_id
        assert rows[exhausted].status == INTERRUPTED
        assert rows[exhausted].error_message == (
            "Interrumpida: el worker w:1:1 dejó de responder y no quedan reintentos "
            "(3 de 3 intentos)")
        assert rows[alive].status == RUNNING
        # the resumed row runs again as a new attempt through the ordinary guard
        started = executions.start(resumable, "w:2:1")
        assert started is not None and started.attempt == 2
        # and a second reconciler pass changes nothing more
        again = reconcile.reconcile(now, sender=simulation.RecordingSender(),
                                    redis_client=_no_redis())
        assert (again.resumed, again.interrupted) == (0, 0)


def test_a_dead_workers_row_of_a_disabled_job_is_interrupted_not_resumed(sqlite_app):
    job_id, olt_id, host_id = _world(sqlite_app)
    now = utcnow()
    with sqlite_app.app_context():
        stale = now - timedelta(hours=1)
        row = _execution(job_id, olt_id, host_id, status=RUNNING, attempt=1, worker="w:1:1",
                         started_at=stale, heartbeat_at=stale)
        db.session.execute(sa.update(SnmpJob.__table__).values(enabled=False))
        db.session.commit()
        result = reconcile.reconcile(now, sender=simulation.RecordingSender(),
                                     redis_client=_no_redis())
        assert result.interrupted == 1 and result.resumed == 0
        assert db.session.get(Execution, row).error_message == reasons.REASON_JOB


def test_only_messages_really_gone_are_resent_and_old_slots_are_not_replayed(
        sqlite_app, redis_client):
    import actors  # noqa: F401 - the broker, on the test Redis
    job_id, olt_id, host_id = _world(sqlite_app)
    now = utcnow()
    with sqlite_app.app_context():
        def pending(age_s, scheduled=True, message_id="gone"):
            at = now - timedelta(seconds=age_s)
            return _execution(job_id, olt_id, host_id, status=PENDING, created_at=at,
                              scheduled_for=at if scheduled else None, message_id=message_id)
        too_old = pending(600)                          # lost, slot 10 min ago
        manual = pending(600, scheduled=False)          # lost, an operator asked for it
        queued = pending(120)                           # still in Redis: a backlog, not lost
        lost = pending(121)                             # lost, inside the catch-up window
        young = pending(10)                             # too young to judge
        messaging.send_execution(queued, "descubrimiento")
        sender = simulation.RecordingSender()
        result = reconcile.reconcile(now, sender=sender, redis_client=redis_client)
        assert sorted(o.execution_id for o in sender.executions) == sorted([manual, lost])
        assert (result.resent, result.lost_late) == (2, 1)
        rows = {r.id: r for r in db.session.execute(sa.select(T)).all()}
        assert rows[too_old].status == SKIPPED
        assert "su mensaje se perdió" in rows[too_old].error_message
        assert db.session.get(SnmpJob, job_id).missed_slots == 1
        for kept in (queued, young):
            assert rows[kept].status == PENDING and rows[kept].message_id == "gone"
        for resent in (manual, lost):
            assert rows[resent].message_id != "gone"


def test_a_delayed_message_long_past_its_due_time_counts_as_lost(sqlite_app, redis_client):
    """A worker moves a delayed message (busy-OLT re-send, retry backoff) to its queue
    within a second of its due time. One still waiting a grace period after it has nobody
    to deliver it (a delay-queue consumer that died, or dropped it from memory while Redis
    kept it): the reconciler used to see it in Redis and leave its execution PENDING for
    ever."""
    import actors  # noqa: F401 - the broker, on the test Redis
    job_id, olt_id, host_id = _world(sqlite_app)
    now = utcnow()
    with sqlite_app.app_context():
        def pending(due_s_ago, slot_s_ago):
            """A slot's execution, inside the catch-up window, whose only message was due
            `due_s_ago` seconds ago."""
            at = now - timedelta(seconds=slot_s_ago)
            row = _execution(job_id, olt_id, host_id, status=PENDING, created_at=at,
                             scheduled_for=at, message_id="delayed")
            messaging.get_broker().enqueue(messaging.execution_message(row, "descubrimiento"),
                                           delay=-due_s_ago * 1000)
            return row
        stuck = pending(reconcile.GRACE_S + 60, slot_s_ago=130)
        on_time = pending(reconcile.GRACE_S - 30, slot_s_ago=120)   # a busy worker's moment
        assert reconcile.inflight_execution_ids(redis_client) == {stuck, on_time}
        sender = simulation.RecordingSender()
        result = reconcile.reconcile(now, sender=sender, redis_client=redis_client)
        assert [o.execution_id for o in sender.executions] == [stuck]
        assert result.resent == 1
        assert db.session.get(Execution, on_time).message_id == "delayed"


def test_reservations_whose_fanout_message_is_gone_are_re_armed(sqlite_app, redis_client):
    import actors  # noqa: F401
    job_id, olt_id, host_id = _world(sqlite_app)
    now = utcnow().replace(microsecond=0)
    with sqlite_app.app_context():
        armed_slot, orphan_slot = now + timedelta(seconds=20), now + timedelta(seconds=40)
        _execution(job_id, olt_id, host_id, status=PENDING, scheduled_for=armed_slot)
        _execution(job_id, olt_id, host_id, status=PENDING, scheduled_for=orphan_slot)
        messaging.DramatiqSender().arm_slot(schedule.slot_epoch_s(armed_slot), 20_000)
        sender = simulation.RecordingSender()
        result = reconcile.reconcile(now, sender=sender, redis_client=redis_client)
        assert result.rearmed == 1
        assert sender.slots == [(schedule.slot_epoch_s(orphan_slot), 40_000)]


class _no_redis:
    """A Redis stand-in with nothing in it (for passes that find no lost candidates)."""

    def hscan_iter(self, *args, **kwargs):
        return iter(())
