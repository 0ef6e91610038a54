"""/api/v1/eventos: the ONU events, newest first, filtered by OLT, PON, ONU, kind and time,
on SQLite and PostgreSQL, with keyset pages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import add_brand, add_olt, add_onu_event, add_onus

UTC = timezone.utc
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def events(any_app):
    brand = add_brand(any_app)
    north = add_olt(any_app, brand, "OLT-NORTE")
    south = add_olt(any_app, brand, "OLT-SUR", ip_address="10.0.0.2")
    a, b = add_onus(any_app, north, 2)
    (c,) = add_onus(any_app, south, 1, slot=2, port=4)
    ids = {
        "cut": add_onu_event(any_app, a, T0, old="en línea", new="desconectada",
                             cause="dying gasp (sin energía)"),
        "back": add_onu_event(any_app, a, T0 + timedelta(hours=1), old="desconectada",
                              new="en línea"),
        "power": add_onu_event(any_app, b, T0 + timedelta(hours=2), kind="potencia",
                               old="-20.00", new="-24.00"),
        "moved": add_onu_event(any_app, c, T0 + timedelta(hours=3), kind="movida",
                               old="0/2/3:1", new="0/2/4:1"),
    }
    return dict(ids, north=north, south=south, a=a)


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [e["id"] for e in response.get_json()["items"]]


def test_events_come_newest_first_with_their_text_and_cause(any_reader, events):
    body = any_reader.get("/api/v1/eventos").get_json()
    assert [e["id"] for e in body["items"]] == [events[k] for k in ("moved", "power", "back",
                                                                     "cut")]
    cut = body["items"][-1]
    assert (cut["tipo"], cut["anterior"], cut["nuevo"], cut["causa"]) == (
        "estado", "en línea", "desconectada", "dying gasp (sin energía)")
    assert cut["texto"] == "en línea → desconectada (dying gasp (sin energía))"
    assert cut["onu"] == {"id": events["a"], "nombre": "0/1/1:1"}
    assert cut["olt"]["abreviatura"] == "OLT-NORTE" and cut["pon"] == "0/1/1"
    assert cut["t"] == "2026-12-06T12:00:00Z"


@pytest.mark.parametrize("query, expected", [
    ("olt={south}", ["moved"]),
    ("slot=1&puerto=1", ["power", "back", "cut"]),
    ("onu={a}", ["back", "cut"]),
    ("tipo=estado", ["back", "cut"]),
    ("desde=2026-12-06T13:30:00Z", ["moved", "power"]),
])
def test_events_are_filtered_by_olt_pon_onu_kind_and_time(any_reader, events, query,
                                                          expected):
    url = "/api/v1/eventos?" + query.format(**events)
    assert _ids(any_reader.get(url)) == [events[k] for k in expected]


def test_event_pages_follow_the_cursor_without_repeating(any_reader, events):
    first = any_reader.get("/api/v1/eventos?limite=3").get_json()
    rest = any_reader.get(f"/api/v1/eventos?limite=3&despues_de={first['siguiente']}").get_json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [
        events[k] for k in ("moved", "power", "back", "cut")]
    assert rest["siguiente"] is None


def test_an_unknown_kind_is_refused_naming_the_field(any_reader, events):
    response = any_reader.get("/api/v1/eventos?tipo=inundacion")
    assert response.status_code == 422
    assert [e["campo"] for e in response.get_json()["errores"]] == ["tipo"]
