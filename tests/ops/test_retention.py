"""Retention: old finished executions go, in batches, and nothing is left pointing at a
deleted execution (the time series' windows: tests/inventory/history/test_store.py)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from facho.ops import retention
from facho.extensions import db
from facho.models import (FAILED, PENDING, RUNNING, SKIPPED, SUCCESS, Brand, Execution, Olt,
                          Onu, SnmpJob, SnmpJobHost, utcnow)


def test_old_data_is_purged_in_batches_without_dangling_references(any_app):
    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    with any_app.app_context():
        brand = Brand(nombre="Huawei")
        olt = Olt(abreviatura="OLT-1", ip_address="127.0.0.1", comunidad="c", brand=brand)
        job = SnmpJob(nombre="descubrir", brand=brand, job_type="descubrimiento",
                      interval_raw="5m")
        host = SnmpJobHost(job=job, olt=olt)
        db.session.add_all([brand, olt, job, host])
        db.session.flush()

        def execution(created, status, minutes=0):
            row = Execution(job=job, olt=olt, job_host=host, status=status,
                            created_at=created, scheduled_for=created + timedelta(minutes=minutes))
            db.session.add(row)
            db.session.flush()
            return row.id

        old_done = [execution(old, s, i) for i, s in enumerate([SUCCESS, FAILED, SKIPPED] * 3)]
        old_pending = execution(old, PENDING, 100)      # never deleted while not finished
        old_running = execution(old, RUNNING, 101)
        kept = execution(recent, SUCCESS)
        onu_old = Onu(olt=olt, raw_index="1.1", last_execution_id=old_done[0])
        onu_kept = Onu(olt=olt, raw_index="1.2", last_execution_id=kept)
        db.session.add_all([onu_old, onu_kept])
        db.session.commit()
        onu_old_id, onu_kept_id = onu_old.id, onu_kept.id

        result = retention.purge(now, retention_days=30, batch_size=4)
        assert result.executions == 9
        assert result.batches >= 3                       # 9 rows in batches of 4
        left = set(db.session.execute(sa.select(Execution.id)).scalars())
        assert left == {old_pending, old_running, kept}
        assert db.session.get(Onu, onu_old_id).last_execution_id is None
        assert db.session.get(Onu, onu_kept_id).last_execution_id == kept
        # nothing anywhere points at a deleted execution
        for column in (Onu.last_execution_id,):
            dangling = db.session.execute(
                sa.select(sa.func.count()).where(column.is_not(None), column.not_in(left))
            ).scalar_one()
            assert dangling == 0
        # a second run finds nothing
        again = retention.purge(now, retention_days=30)
        assert again.executions == 0


def test_retention_days_come_from_the_configuration(sqlite_app):
    with sqlite_app.app_context():
        assert sqlite_app.config["FACHO"].retention_days == 30
        result = retention.purge()
        assert result.cutoff < utcnow() - timedelta(days=29, hours=23)
