"""The daily summary: due after 08:00 local time, one per channel and day."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from facho.extensions import db
from facho.models import NotificationChannel
from facho.monitoring import summary
from tests import factories
from tests.monitoring.receivers import HttpReceiver
from tests.monitoring.scenario import PUBLIC, Network

LIMA = ZoneInfo("America/Lima")
UTC = timezone.utc


def test_due_only_from_eight_local_time():
    assert summary.due_date(datetime(2026, 12, 7, 12, 59, tzinfo=UTC), LIMA) is None
    assert str(summary.due_date(datetime(2026, 12, 7, 13, 0, tzinfo=UTC), LIMA)) == "2026-12-07"


def test_one_summary_per_channel_and_day_however_many_sweeps(any_app):
    with HttpReceiver() as http:
        net = Network(any_app, onus=1)
        factories.add(any_app, NotificationChannel(nombre="Diario", url=http.url,
                                                   resumen_diario=True))
        net.channel(http.url, "Sin resumen")
        with any_app.app_context():
            for minute in range(3):
                summary.queue_daily(datetime(2026, 12, 7, 13, minute, tzinfo=UTC), LIMA,
                                    PUBLIC)
                db.session.commit()
        net.deliver()
        assert len(http.messages) == 1
        assert http.messages[0]["title"].startswith("[Facho] Resumen diario")
