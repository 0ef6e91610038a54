"""Retention of absent ONUs (FACHO_ABSENT_ONU_DAYS): an ONU discovery has not found for that
long goes with its readings, in batches, counted in the run's result and log line; present
ONUs and recently absent ones stay; 0 keeps them forever. On SQLite and PostgreSQL."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from facho.config import ConfigError, load_config
from facho.extensions import db
from facho.models import Onu, OnuMetricDay, utcnow
from facho.ops import retention
from tests.conftest import make_test_app
from tests.factories import add_brand, add_olt, add_onus


@pytest.fixture
def onus(any_app):
    """Two OLTs' ONUs around the 30-day line, each with 2 readings from yesterday (newer
    than retention_days: only the ONU's own deletion removes them)."""
    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    yesterday = now - timedelta(days=1)
    brand = add_brand(any_app)
    olt_a, olt_b = add_olt(any_app, brand, "OLT-A"), add_olt(any_app, brand, "OLT-B")
    kw = dict(readings=2, read_at=yesterday)
    ids = {
        "old_absent": add_onus(any_app, olt_a, 5, slot=1, present=False, last_seen_at=old, **kw)
        + add_onus(any_app, olt_b, 2, slot=1, present=False, last_seen_at=old, **kw),
        # never seen (last_seen_at empty): its first record counts
        "never_seen": add_onus(any_app, olt_b, 1, slot=2, present=False,
                               first_seen_at=old, **kw),
        "recent_absent": add_onus(any_app, olt_a, 2, slot=3, present=False,
                                  last_seen_at=recent, **kw),
        # present but not seen for long (its OLT unreachable): not absent, kept
        "old_present": add_onus(any_app, olt_a, 2, slot=4, last_seen_at=old, **kw),
        "present": add_onus(any_app, olt_b, 3, slot=5, last_seen_at=now, **kw),
    }
    return any_app, now, ids


def state():
    onus = set(db.session.scalars(sa.select(Onu.id)))
    readings = dict(db.session.execute(sa.select(OnuMetricDay.onu_id, sa.func.count())
                                       .group_by(OnuMetricDay.onu_id)).all())
    return onus, readings


def test_old_absent_onus_go_with_their_readings_in_batches(onus, caplog):
    app, now, ids = onus
    gone = set(ids["old_absent"] + ids["never_seen"])
    kept = set(ids["recent_absent"] + ids["old_present"] + ids["present"])
    with app.app_context(), caplog.at_level(logging.INFO, logger="facho.ops.retention"):
        result = retention.purge(now, retention_days=30, absent_onu_days=30, batch_size=3)
        assert (result.absent_onus, result.absent_onu_readings) == (8, 16)
        assert result.absent_cutoff == now - timedelta(days=30)
        assert result.batches == 3                        # 8 ONUs in batches of 3
        assert (result.history["raw_rows"], result.executions) == (0, 0)
        left, readings = state()
        assert left == kept
        assert readings == {i: 2 for i in kept}           # nothing dangles on SQLite either
        assert not left & gone
        line = [r.getMessage() for r in caplog.records if "event=retention" in r.getMessage()]
        assert len(line) == 1 and "absent_onus=8" in line[0]
        assert "absent_onu_readings=16" in line[0]
        again = retention.purge(now, retention_days=30, absent_onu_days=30)
        assert again.absent_onus == 0 and state()[0] == kept


def test_a_shorter_age_takes_the_recently_absent_too_but_never_present_ones(onus):
    app, now, ids = onus
    with app.app_context():
        result = retention.purge(now, retention_days=30, absent_onu_days=1)
        assert result.absent_onus == 10
        assert state()[0] == set(ids["old_present"] + ids["present"])


def test_zero_days_keeps_absent_onus_forever(onus):
    app, now, ids = onus
    with app.app_context():
        before = state()
        result = retention.purge(now + timedelta(days=3000), retention_days=3650,
                                 absent_onu_days=0, history=False)
        assert (result.absent_onus, result.absent_cutoff) == (0, None)
        assert state() == before


def test_max_rows_bounds_one_run(onus):
    app, now, ids = onus
    with app.app_context():
        first = retention.purge(now, retention_days=30, absent_onu_days=30, batch_size=2,
                                max_rows=4)
        assert first.absent_onus == 4
        second = retention.purge(now, retention_days=30, absent_onu_days=30, batch_size=2)
        assert second.absent_onus == 4


def test_a_failure_in_a_batch_leaves_that_batch_whole(onus, monkeypatch):
    """The readings and the ONUs of a batch go in one transaction: an error before its
    commit leaves both (earlier batches stay done)."""
    app, now, ids = onus
    with app.app_context():
        before = state()
        real = db.session.execute
        calls = {"onu_deletes": 0}

        def execute(statement, *args, **kwargs):
            result = real(statement, *args, **kwargs)
            if getattr(statement, "is_delete", False) and statement.table.name == "onus":
                calls["onu_deletes"] += 1
                if calls["onu_deletes"] == 2:
                    raise RuntimeError("disk full")
            return result

        monkeypatch.setattr(db.session, "execute", execute)
        with pytest.raises(RuntimeError):
            retention.purge(now, retention_days=30, absent_onu_days=30, batch_size=3)
        monkeypatch.undo()
        db.session.rollback()
        left, readings = state()
        first_batch = set(sorted(ids["old_absent"] + ids["never_seen"])[:3])
        assert left == before[0] - first_batch             # only the committed batch went
        assert readings == {i: n for i, n in before[1].items() if i not in first_batch}


def test_the_age_comes_from_the_configuration(tmp_path, redis_url):
    assert load_config({"FACHO_ENV": "testing"}).absent_onu_days == 30
    assert load_config({"FACHO_ENV": "testing", "FACHO_ABSENT_ONU_DAYS": "0"}).absent_onu_days == 0
    assert load_config({"FACHO_ENV": "testing",
                        "FACHO_ABSENT_ONU_DAYS": " 90 "}).absent_onu_days == 90
    for bad in ("-1", "abc", "3651", "1.5"):
        with pytest.raises(ConfigError) as error:
            load_config({"FACHO_ENV": "testing", "FACHO_ABSENT_ONU_DAYS": bad})
        assert str(error.value).startswith("FACHO_ABSENT_ONU_DAYS inválida:")
    app = make_test_app(f"sqlite:///{tmp_path / 'cfg.db'}", tmp_path, FACHO_ABSENT_ONU_DAYS="0")
    with app.app_context():
        db.create_all()
        olt = add_olt(app, add_brand(app), "OLT-A")
        add_onus(app, olt, 2, present=False, last_seen_at=utcnow() - timedelta(days=400))
        result = retention.purge()
        assert (result.absent_onus, result.absent_cutoff) == (0, None)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Onu)) == 2
        db.engine.dispose()
    app = make_test_app(f"sqlite:///{tmp_path / 'cfg2.db'}", tmp_path)
    with app.app_context():
        db.create_all()
        olt = add_olt(app, add_brand(app), "OLT-A")
        add_onus(app, olt, 2, present=False, last_seen_at=utcnow() - timedelta(days=31))
        result = retention.purge()
        assert result.absent_onus == 2
        assert result.absent_cutoff < utcnow() - timedelta(days=29, hours=23)
        db.engine.dispose()
