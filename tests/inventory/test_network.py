"""PON and OLT figures as the NOC reads them, and the worst PONs across OLTs, on SQLite
and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from facho.extensions import db
from facho.inventory import network
from facho.models import SUCCESS
from tests.factories import add_brand, add_execution, add_job, add_olt, add_onus

UTC = timezone.utc
pytestmark = pytest.mark.usefixtures("redis_url")


@pytest.fixture
def fleet(any_app):
    brand = add_brand(any_app)
    north = add_olt(any_app, brand, "OLT-NORTE")
    south = add_olt(any_app, brand, "OLT-SUR", ip_address="10.0.0.2")
    # OLT-NORTE 0/1/1: 3 online (-20, -22, -27), 2 offline (LOS, dying gasp), 1 absent
    for n, power in enumerate((-20.0, -22.0, -27.0), start=1):
        add_onus(any_app, north, 1, first=n, status="en línea", rx_power=power)
    add_onus(any_app, north, 1, first=4, status="LOS", rx_power=None)
    add_onus(any_app, north, 1, first=5, status="dying gasp (sin energía)", rx_power=-25.0)
    add_onus(any_app, north, 1, first=6, present=False, status="en línea", rx_power=-40.0)
    # OLT-NORTE 0/1/2: 2 online, weak (-29, -28)
    add_onus(any_app, north, 1, port=2, first=1, status="en línea", rx_power=-29.0)
    add_onus(any_app, north, 1, port=2, first=2, status="en línea", rx_power=-28.0)
    # OLT-SUR 0/2/1: 1 offline of 1, 1 with no state yet
    add_onus(any_app, south, 1, slot=2, first=1, status="desconectada", rx_power=-21.0)
    add_onus(any_app, south, 1, slot=2, first=2, status=None, rx_power=None)
    return north, south


def test_a_pon_counts_online_offline_absent_and_spreads_power_over_present_onus(any_app, fleet):
    north, _ = fleet
    with any_app.app_context():
        stats = network.pon(north, 1, 1)
        assert (stats.total, stats.online, stats.offline, stats.absent, stats.unknown) == (
            6, 3, 2, 1, 0)
        assert (stats.rx_min, stats.rx_avg, stats.rx_max) == (-27.0, -23.5, -20.0)
        assert stats.name == "0/1/1"


def test_an_olt_adds_up_its_pons(any_app, fleet):
    north, south = fleet
    with any_app.app_context():
        stats = network.olt(north)
        assert (stats.total, stats.online, stats.offline, stats.absent) == (8, 5, 2, 1)
        sur = network.olt(south)
        assert (sur.total, sur.online, sur.offline, sur.unknown) == (2, 0, 1, 1)
        assert [p.name for p in network.pons(north)] == ["0/1/1", "0/1/2"]


def test_olts_folded_from_the_pons_read_once_equal_the_olts_grouped_in_sql(any_app, fleet):
    north, south = fleet
    with any_app.app_context():
        every = network.pons()
        folded = network.olts_of(every)
        assert folded == network.olts()
        assert [(o.olt, o.rx_min, o.rx_avg, o.rx_max) for o in folded] == [
            ("OLT-NORTE", -29.0, -25.17, -20.0), ("OLT-SUR", -21.0, -21.0, -21.0)]
        assert network.olts_of(network.pons(south)) == [network.olt(south)]
        assert network.worst_pons("potencia", every=every) == network.worst_pons("potencia")
        assert network.olts_of([]) == []


def test_worst_pons_sort_by_offline_count_or_by_the_lowest_average_power(any_app, fleet):
    with any_app.app_context():
        by_offline = [(p.olt, p.name) for p in network.worst_pons("desconectadas")]
        assert by_offline == [("OLT-NORTE", "0/1/1"), ("OLT-SUR", "0/2/1")]
        by_power = [(p.olt, p.name, p.rx_avg) for p in network.worst_pons("potencia")]
        assert by_power == [("OLT-NORTE", "0/1/2", -28.5), ("OLT-NORTE", "0/1/1", -23.5),
                            ("OLT-SUR", "0/2/1", -21.0)]
        with pytest.raises(ValueError, match="orden desconocido"):
            network.worst_pons("alfabetico")


def test_the_worst_onus_of_a_pon_are_the_present_ones_with_the_lowest_power(any_app, fleet):
    north, _ = fleet
    with any_app.app_context():
        assert [o.name for o in network.worst_onus(north, 1, 1, limit=3)] == [
            "0/1/1:3", "0/1/1:5", "0/1/1:2"]


def test_the_last_walk_of_an_olt_is_its_latest_successful_discovery(any_app, fleet):
    north, south = fleet
    job = add_job(any_app, db_brand(any_app), olt_ids=(north,))
    at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    add_execution(any_app, job, north, status=SUCCESS, finished_at=at, duration_ms=900)
    latest = add_execution(any_app, job, north, status=SUCCESS,
                           finished_at=at.replace(hour=9), duration_ms=1200)
    add_execution(any_app, job, north, status="FAILED", finished_at=at.replace(hour=10))
    with any_app.app_context():
        walks = network.last_walks()
        assert set(walks) == {north}
        assert (walks[north].execution_id, walks[north].finished_at,
                walks[north].duration_ms) == (latest, at.replace(hour=9), 1200)


def db_brand(app) -> int:
    with app.app_context():
        from facho.models import Brand
        return db.session.query(Brand.id).scalar()
