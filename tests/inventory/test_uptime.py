"""An OLT's uptime: read by each execution, and a reboot when it goes down (never when a
recording keeps it still)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.uptime import rebooted_at, seconds
from facho.models import SUCCESS, Olt
from facho.ops.olt_sim import plan_onus, snmprec_text
from tests.execution_helpers import run_now
from tests.factories import make_job, make_olt, new_execution, seed_catalog

UTC = timezone.utc
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_timeticks_are_hundredths_of_a_second():
    assert seconds(123456700) == 1234567
    assert seconds(timedelta(days=1, seconds=5)) == 86405
    assert seconds(b"x") is None and seconds(None) is None and seconds(-5) is None


def test_an_uptime_that_goes_down_is_a_reboot_that_long_ago():
    assert rebooted_at(86400, 300, NOW) == NOW - timedelta(seconds=300)


def test_an_uptime_that_grows_or_stays_is_no_reboot():
    assert rebooted_at(300, 900, NOW) is None
    assert rebooted_at(300, 300, NOW) is None          # a recording served as is
    assert rebooted_at(None, 300, NOW) is None         # the first reading


def _recording(uptime_ticks: int) -> str:
    text = snmprec_text("huawei", plan_onus("huawei", 4, seed=3))
    return "\n".join(f"1.3.6.1.2.1.1.3.0|67|{uptime_ticks}" if line.startswith(
        "1.3.6.1.2.1.1.3.0|") else line for line in text.splitlines()) + "\n"


@pytest.fixture
def agent(snmpsim_factory, tmp_path):
    (tmp_path / "arriba.snmprec").write_text(_recording(864_000_000))   # 100 days
    (tmp_path / "reinicio.snmprec").write_text(_recording(18_000))      # 3 minutes
    return snmpsim_factory(tmp_path, probe_community="arriba")


def test_a_discovery_after_a_reboot_says_so_and_stores_when(any_app, agent):
    app = any_app
    with app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-REINICIO", agent.port, "arriba")
        job = make_job("Descubrir", ["Huawei ONT descubrimiento"], olt_ids=(olt_id,))

    def discover():
        with app.app_context():
            execution = new_execution(job, olt_id)
        row = run_now(app, execution)
        assert row.status == SUCCESS, row.error_message
        return row.result_summary

    first = discover()
    assert first["uptime_s"] == 8_640_000 and "rebooted_at" not in first
    assert "rebooted_at" not in discover()                 # the same uptime: no reboot
    with app.app_context():
        db.session.execute(sa.update(Olt).where(Olt.id == olt_id).values(comunidad="reinicio"))
        db.session.commit()
    after = discover()
    assert after["uptime_s"] == 180 and "rebooted_at" in after
    with app.app_context():
        olt = db.session.get(Olt, olt_id)
        assert olt.uptime_s == 180
        assert abs((olt.uptime_at - olt.rebooted_at).total_seconds() - 180) < 1
        assert olt.rebooted_at.isoformat() == after["rebooted_at"]
