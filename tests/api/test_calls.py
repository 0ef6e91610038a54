"""The API call log (facho.api.calls): one row per call, and the hourly retention deletes
rows older than FACHO_RETENTION_DAYS with the executions."""
from __future__ import annotations

from datetime import timedelta

from facho.api import calls
from facho.extensions import db
from facho.models import ApiCall, utcnow
from facho.ops import retention


def test_retention_deletes_only_calls_older_than_the_cutoff(app_ctx):
    now = utcnow()
    for days in (40, 31, 29, 0):
        db.session.add(ApiCall(at=now - timedelta(days=days), method="GET",
                               route="/api/v1/olts", status=200))
    db.session.commit()
    result = retention.purge(now, retention_days=30, history=False)
    assert result.api_calls == 2
    left = sorted((now - c.at).days for c in db.session.query(ApiCall))
    assert left == [0, 29]


def test_purging_in_small_batches_deletes_them_all(app_ctx):
    old = utcnow() - timedelta(days=100)
    db.session.add_all([ApiCall(at=old, method="GET", route="/x", status=401)
                        for _ in range(7)])
    db.session.commit()
    assert calls.purge(utcnow() - timedelta(days=1), batch_size=3) == 7
    assert db.session.query(ApiCall).count() == 0


def test_a_call_that_cannot_be_logged_does_not_raise(app_ctx):
    db.drop_all()
    calls.record(None, "GET", "/api/v1/olts", 200, 5)     # no table: logged, not raised
    db.create_all()                                       # the session is usable again
    assert db.session.query(ApiCall).count() == 0


def test_a_call_is_logged_on_sqlite_and_postgresql(any_app):
    with any_app.app_context():
        calls.record(None, "GET", "/api/v1/olts", 401, 3)
        assert [(c.route, c.status) for c in db.session.query(ApiCall)] == [
            ("/api/v1/olts", 401)]
