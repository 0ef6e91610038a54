"""The "Red" pages: worst PONs, an OLT's grid, a PON, an ONU with its charts' data and
events, and the search box; staff only."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from facho.models import utcnow
from tests.factories import (add_brand, add_execution, add_job, add_olt, add_onu_event,
                             add_onus, add_readings)
from tests.panel import text


@pytest.fixture
def network(app):
    brand = add_brand(app)
    north = add_olt(app, brand, "OLT-NORTE")
    south = add_olt(app, brand, "OLT-SUR", ip_address="10.0.0.2")
    ids = {}
    ids["strong"] = add_onus(app, north, 1, first=1, status="en línea", rx_power=-19.0,
                             serial="HWTC00000001", descripcion="Cliente Pérez")[0]
    ids["weak"] = add_onus(app, north, 1, first=2, status="en línea", rx_power=-28.5,
                           serial="HWTC00000002")[0]
    ids["los"] = add_onus(app, north, 1, first=3, status="LOS", rx_power=None,
                          serial="HWTC00000003")[0]
    ids["other_pon"] = add_onus(app, north, 1, port=2, first=1, status="en línea",
                                rx_power=-30.5, serial="HWTC00000004")[0]
    ids["twin"] = add_onus(app, south, 1, slot=3, first=1, status="en línea",
                           rx_power=-20.0, serial="hwtc00000001")[0]
    now = utcnow()
    add_onu_event(app, ids["los"], now - timedelta(hours=2), old="en línea", new="LOS",
                  cause="LOS")
    add_onu_event(app, ids["los"], now - timedelta(hours=30), old="LOS", new="en línea")
    return dict(ids, north=north, south=south, brand=brand, now=now)


def chart_data(page: str) -> dict:
    raw = re.search(r'<script type="application/json" id="onu-chart-data">(.*?)</script>',
                    page, flags=re.S).group(1)
    return json.loads(raw)


def test_the_first_screen_ranks_pons_by_offline_onus_or_by_worst_power(app, staff_client,
                                                                        network):
    page = text(staff_client.get("/admin/red/"))
    worst = re.search(r'id="worst-pons".*?</table>', page, flags=re.S).group(0)
    assert re.findall(r'data-pon="([^"]+)"', worst) == ["OLT-NORTE 0/1/1"]
    page = text(staff_client.get("/admin/red/?orden=potencia"))
    worst = re.search(r'id="worst-pons".*?</table>', page, flags=re.S).group(0)
    assert re.findall(r'data-pon="([^"]+)"', worst) == [
        "OLT-NORTE 0/1/2", "OLT-NORTE 0/1/1", "OLT-SUR 0/3/1"]
    assert 'data-olt="OLT-NORTE"' in page and "nunca" in page


def test_an_olt_page_shows_its_slots_ports_and_last_walk(app, staff_client, network):
    job = add_job(app, network["brand"], olt_ids=(network["north"],))
    add_execution(app, job, network["north"], status="SUCCESS", duration_ms=4200,
                  finished_at=network["now"] - timedelta(minutes=5))
    with app.app_context():
        from facho.extensions import db
        from facho.models import Olt
        olt = db.session.get(Olt, network["north"])
        olt.uptime_s, olt.rebooted_at = 3 * 3600, network["now"] - timedelta(hours=3)
        db.session.commit()
    page = text(staff_client.get(f"/admin/red/olt/{network['north']}/"))
    assert re.search(r'id="olt-uptime">hace 3 h', page) and 'id="olt-reboot"' in page
    grid = re.search(r'id="pon-grid".*?</div>\s*</div>', page, flags=re.S).group(0)
    assert re.findall(r'data-pon="([^"]+)"', grid) == ["0/1/1", "0/1/2"]
    assert "duró 4.2 s" in page
    assert re.search(r'data-figure="offline">1<', page)
    assert staff_client.get("/admin/red/olt/9999/").status_code == 404


def test_a_pon_page_lists_its_worst_onus_and_the_last_24_hours_of_events(app, staff_client,
                                                                        network):
    page = text(staff_client.get(f"/admin/red/pon/{network['north']}/1/1/"))
    worst = re.search(r'id="worst-onus".*?</table>', page, flags=re.S).group(0)
    assert re.findall(r">(0/1/1:\d)<", worst) == ["0/1/1:2", "0/1/1:1"]
    events = re.search(r'id="pon-events".*?</table>', page, flags=re.S).group(0)
    assert "en línea → LOS (LOS)" in events
    assert "LOS → en línea" not in events        # 30 hours ago: outside the 24 h
    assert "pérdida de señal (LOS)" in events
    assert re.search(r'data-figure="total">3<', page)
    assert staff_client.get(f"/admin/red/pon/{network['north']}/9/9/").status_code == 404


def test_an_onu_page_carries_its_stored_readings_state_and_twin_serial(app, staff_client,
                                                                        network):
    now = network["now"]
    readings = [(now - timedelta(minutes=15 * i), -20.0 - i / 10) for i in range(8)]
    add_readings(app, network["los"], "rx_power", readings)
    add_readings(app, network["los"], "rx_power", [(now - timedelta(days=3), -25.0)])
    page = text(staff_client.get(f"/admin/red/onu/{network['los']}/"))
    data = chart_data(page)
    assert data["range"] == "24h" and data["resolution"] == "raw"
    assert [round(v, 2) for _, v in data["power"]["rx_power"]] == [
        round(v, 2) for _, v in sorted(readings)]
    # the state line: online until the LOS event two hours ago, LOS (0) since
    assert [level for _, level in data["state"]] == [1, 0, 0]
    assert "en línea → LOS (LOS)" in page and "LOS → en línea" in page
    assert 'id="onu-elsewhere"' not in page
    week = chart_data(text(staff_client.get(f"/admin/red/onu/{network['los']}/?rango=7d")))
    assert len(week["power"]["rx_power"]) == 9
    month = chart_data(text(staff_client.get(f"/admin/red/onu/{network['los']}/?rango=30d")))
    assert month["resolution"] == "hour" and all(len(row) == 4 for row in month["power"]["rx_power"])
    odd = chart_data(text(staff_client.get(f"/admin/red/onu/{network['los']}/?rango=mucho")))
    assert odd["range"] == "24h"
    twin = text(staff_client.get(f"/admin/red/onu/{network['strong']}/"))
    assert 'id="onu-elsewhere"' in twin and "OLT-SUR 0/3/1:1" in twin


def test_the_search_box_opens_a_single_match_and_lists_several(app, staff_client, network):
    one = staff_client.get("/admin/red/buscar/?q=P%C3%A9rez")
    assert one.status_code == 302 and one.location.endswith(f"/admin/red/onu/{network['strong']}/")
    several = text(staff_client.get("/admin/red/buscar/?q=hwtc0000000"))
    assert len(re.findall(r'<tr data-onu=', several)) == 5
    short = text(staff_client.get("/admin/red/buscar/?q=x"))
    assert "Escriba al menos 2 caracteres" in short
    assert 'id="onu-search"' in text(staff_client.get("/admin/red/"))


@pytest.mark.parametrize("path", ["/admin/red/", "/admin/red/buscar/?q=HWTC",
                                  "/admin/red/onu/1/", "/admin/red/pon/1/1/1/",
                                  "/admin/red/olt/1/"])
def test_every_network_page_needs_a_staff_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and "/login" in response.location
