"""Dashboard figures are aggregated correctly on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from facho.ops import dashboard
from facho.extensions import db
from facho.models import FAILED, PENDING, SUCCESS, Execution, Onu
from tests import factories as f

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)


def _execution(job, olt, status, hours_ago):
    db.session.add(Execution(job=job, olt=olt, status=status,
                             created_at=NOW - timedelta(hours=hours_ago, minutes=1)))


def test_executions_are_counted_per_hour_and_status_in_local_time(any_app):
    with any_app.app_context():
        olt = f.olt("OLT-1")
        job = f.job("j", olts=[olt])
        _execution(job, olt, SUCCESS, 0)
        _execution(job, olt, SUCCESS, 0)
        _execution(job, olt, FAILED, 2)
        _execution(job, olt, SUCCESS, 30)   # outside the 24 h window
        db.session.commit()
        data = dashboard.executions_per_hour(ZoneInfo("America/Lima"), now=NOW)
        assert len(data["labels"]) == 24
        assert data["labels"][-1] == "10:00"   # 15:00 UTC is 10:00 in Lima
        assert data["series"][SUCCESS][-1] == 2
        assert data["series"][FAILED][-3] == 1
        assert sum(data["series"][SUCCESS]) == 2


def test_success_rate_per_olt_counts_only_finished_runs(any_app):
    with any_app.app_context():
        a, b = f.olt("OLT-A"), f.olt("OLT-B")
        job = f.job("j", olts=[a, b])
        for status in (SUCCESS, SUCCESS, SUCCESS, FAILED):
            _execution(job, a, status, 1)
        _execution(job, b, PENDING, 1)
        db.session.commit()
        rates = {r["olt"]: r for r in dashboard.success_rate_per_olt(now=NOW)}
        assert rates["OLT-A"]["rate"] == 75.0
        assert rates["OLT-B"]["rate"] is None


def test_onus_per_olt_split_present_and_absent(any_app):
    with any_app.app_context():
        olt = f.olt("OLT-1")
        db.session.add_all([Onu(olt=olt, raw_index=str(i), present=i < 3) for i in range(5)])
        db.session.commit()
        assert dashboard.onus_per_olt() == [
            {"olt": "OLT-1", "total": 5, "present": 3, "absent": 2}]
