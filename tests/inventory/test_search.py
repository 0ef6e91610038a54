"""One box finds an ONU by serial (any case, partial), description, or name, across OLTs."""
from __future__ import annotations

import pytest

from facho.inventory.search import SearchError, find, parse
from tests.factories import add_brand, add_olt, add_onus

pytestmark = pytest.mark.usefixtures("redis_url")


def test_a_name_is_slot_port_and_onu_with_or_without_the_frame():
    assert (parse("0/1/3:5").slot, parse("0/1/3:5").port, parse("0/1/3:5").onu_id) == (1, 3, 5)
    assert parse(" 1/3:5 ").onu_id == 5
    assert parse("0/1/3").by_name and parse("0/1/3").onu_id is None
    assert not parse("HWTC1234").by_name


def test_empty_or_too_short_text_says_what_to_type():
    with pytest.raises(SearchError, match="0/1/3:5"):
        parse("   ")
    with pytest.raises(SearchError, match="al menos 2"):
        parse("x")


@pytest.fixture
def inventory(any_app):
    brand = add_brand(any_app)
    a = add_olt(any_app, brand, "OLT-A")
    b = add_olt(any_app, brand, "OLT-B", ip_address="10.0.0.2")
    add_onus(any_app, a, 1, slot=1, port=3, first=5, serial="HWTCAB120001",
             descripcion="Cliente Pérez 100%")
    add_onus(any_app, a, 1, slot=1, port=3, first=6, serial="HWTCAB120002",
             descripcion="Bodega_Norte")
    add_onus(any_app, b, 1, slot=1, port=3, first=5, serial="ZTEG00000009",
             descripcion="Colegio", present=False)
    add_onus(any_app, b, 1, slot=2, port=1, first=1, serial="HWTCAB12", descripcion="x")
    return a, b


def _names(found):
    return [(olt, onu.name) for onu, olt in found.onus]


def test_a_partial_serial_in_any_case_finds_across_olts_exact_match_first(any_app, inventory):
    with any_app.app_context():
        assert _names(find(parse("hwtcab12"))) == [
            ("OLT-B", "0/2/1:1"), ("OLT-A", "0/1/3:5"), ("OLT-A", "0/1/3:6")]


def test_description_matches_partially_and_wildcards_are_literal(any_app, inventory):
    with any_app.app_context():
        assert _names(find(parse("pérez"))) == [("OLT-A", "0/1/3:5")]
        assert _names(find(parse("100%"))) == [("OLT-A", "0/1/3:5")]
        assert _names(find(parse("a_n"))) == [("OLT-A", "0/1/3:6")]
        assert _names(find(parse("%%"))) == []


def test_a_name_finds_that_onu_on_every_olt_present_first(any_app, inventory):
    with any_app.app_context():
        assert _names(find(parse("0/1/3:5"))) == [("OLT-A", "0/1/3:5"), ("OLT-B", "0/1/3:5")]
        assert len(find(parse("1/3")).onus) == 3


def test_more_matches_than_the_limit_say_so(any_app, inventory):
    with any_app.app_context():
        found = find(parse("0/1/3"), limit=2)
        assert len(found.onus) == 2 and found.more
