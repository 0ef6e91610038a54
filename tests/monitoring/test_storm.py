from datetime import timedelta

from facho.monitoring import storm
from facho.monitoring.facts import Finding
from tests.monitoring.rules.helpers import NOW


def finding(level, slot=1, port=1, key=None):
    return Finding(kind="x", key=key or f"{level}:{slot}/{port}", level=level, olt_id=1,
                   severity="aviso", title="t", slot=slot, port=port)


def test_onu_findings_under_a_pon_finding_are_held_by_that_pon():
    found = [finding("pon"), finding("onu", key="onu:1"), finding("onu", port=2, key="onu:2")]
    kept, held = storm.split(found, storm.covers(found, set(), False), False)
    assert [f.key for f in kept] == ["pon:1/1", "onu:2"]
    assert [f.key for f in held[storm.pon_cover(1, 1)]] == ["onu:1"]


def test_an_open_pon_incident_holds_its_onus_even_when_not_found_now():
    found = [finding("onu", key="onu:1")]
    kept, held = storm.split(found, storm.covers(found, {(1, 1)}, False), False)
    assert kept == [] and list(held) == [storm.pon_cover(1, 1)]


def test_an_unreachable_olt_holds_onu_and_pon_findings_but_not_itself():
    found = [finding("olt", key="olt"), finding("pon"), finding("onu", key="onu:1")]
    kept, held = storm.split(found, storm.covers(found, set(), False), False)
    assert [f.key for f in kept] == ["olt"]
    assert len(held[storm.OLT_COVER]) == 2


def test_the_settle_period_holds_findings_for_its_length_only():
    assert storm.settling(NOW - timedelta(minutes=9), NOW, 10)
    assert not storm.settling(NOW - timedelta(minutes=10), NOW, 10)
    assert not storm.settling(None, NOW, 10)
    kept, held = storm.split([finding("pon")], set(), True)
    assert kept == [] and list(held) == [storm.SETTLE_COVER]
