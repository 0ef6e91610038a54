"""The NOC's views in Chromium: an ONU that moved to another port keeps its chart (drawn
from the stored readings) and shows where it moved; the PON view; the search box of every
page."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.history import store as history
from facho.inventory.writes import Discovered, apply_discovery, field_rule
from facho.models import Oid, Onu, utcnow
from tests.browser import browser, live_app, live_server, log_in, page  # noqa: F401
from tests.factories import HW, make_job, make_oid, make_olt, new_execution, seed_catalog

READINGS = 12


def _discover(olt_id, execution, onus, at):
    rules = [field_rule(db.session.execute(sa.select(Oid).filter_by(nombre=n)).scalar_one(),
                        discovery=True) for n in ("Descubre", "Serie")]
    found = {raw: Discovered(raw, s, p, o, f"0/{s}/{p}:{o}", {0: 1, 1: serial})
             for raw, (s, p, o, serial) in onus.items()}
    apply_discovery(olt_id, execution, found, rules, 1, at)
    db.session.commit()


@pytest.fixture
def moved_onu(live_app):
    """OLT-CENTRO: two ONUs on 0/1/3; HWTC0000000A had 12 rx readings, then moved to 0/2/1."""
    with live_app.app_context():
        seed_catalog()
        make_oid("Descubre", f"{HW}.43.1.3", "descubrimiento", formato="int")
        make_oid("Serie", f"{HW}.43.1.3", "serial")
        olt_id = make_olt("OLT-CENTRO", 16161, "publica")
        execution = new_execution(make_job("Descubrir", ["Descubre", "Serie"],
                                           olt_ids=(olt_id,)), olt_id)
        now = utcnow()
        _discover(olt_id, execution, {"1.3.5": (1, 3, 5, "HWTC0000000A"),
                                      "1.3.6": (1, 3, 6, "HWTC0000000B")},
                  now - timedelta(hours=4))
        onu_id = db.session.execute(sa.select(Onu.id).filter_by(raw_index="1.3.5")).scalar_one()
        history.append([(onu_id, "rx_power", now - timedelta(hours=3, minutes=15 * i),
                         -21.0 - i / 4) for i in range(READINGS)])
        db.session.execute(sa.update(Onu).where(Onu.id == onu_id)
                           .values(status="en línea", rx_power=-21.0))
        db.session.commit()
        _discover(olt_id, execution, {"2.1.7": (2, 1, 7, "HWTC0000000A"),
                                      "1.3.6": (1, 3, 6, "HWTC0000000B")},
                  now - timedelta(hours=1))
        return onu_id, olt_id


def test_a_moved_onu_keeps_its_chart_and_shows_where_it_moved(page, moved_onu):
    onu_id, olt_id = moved_onu
    log_in(page)
    page.goto(f"/admin/red/onu/{onu_id}/")
    page.wait_for_function("window.fachoCharts && window.fachoCharts['chart-power']")
    assert "OLT-CENTRO 0/2/1:7" in page.locator("#onu-header").inner_text()
    points = page.evaluate(
        "window.fachoCharts['chart-power'].data.datasets[0].data.map(p => p.y)")
    assert len(points) == READINGS and min(points) == pytest.approx(-23.75)
    labels = page.evaluate(
        "window.fachoCharts['chart-power'].data.datasets.map(d => d.label)")
    assert "aviso (B+) -27 dBm" in labels
    assert page.locator("#chart-power").bounding_box()["height"] > 100
    assert "movida de 0/1/3:5 a 0/2/1:7" in page.locator("#onu-events").inner_text()
    page.screenshot(path="/tmp/facho_onu_page.png", full_page=True)

    # the PON it left still has its other ONU; the new PON lists the moved one
    page.goto(f"/admin/red/pon/{olt_id}/2/1/")
    assert page.locator("#pon-onus tbody tr").count() == 1
    assert "HWTC0000000A" in page.locator("#pon-onus").inner_text()
    assert "movida de 0/1/3:5 a 0/2/1:7" in page.locator("#pon-events").inner_text()
    page.screenshot(path="/tmp/facho_pon_view.png", full_page=True)


def test_the_search_box_on_every_page_finds_an_onu_by_partial_serial(page, moved_onu):
    onu_id, _ = moved_onu
    log_in(page)
    page.goto("/admin/red/")
    page.fill("#onu-search input[name=q]", "hwtc0000000")
    page.press("#onu-search input[name=q]", "Enter")
    page.wait_for_url("**/admin/red/buscar/**")
    assert page.locator("#search-results tbody tr").count() == 2
    page.fill("#onu-search input[name=q]", "0000000a")
    page.press("#onu-search input[name=q]", "Enter")
    page.wait_for_url(f"**/admin/red/onu/{onu_id}/")
    page.goto("/admin/red/")
    page.screenshot(path="/tmp/facho_worst_pons.png", full_page=True)
