"""Rule ``regex``: the value taken out of a text the device sends."""
from __future__ import annotations

import pytest

from facho.inventory.value_rules import ValueRule
from facho.inventory.value_rules import regex

VSOL_RX = "0.03 mW (-14.61 dBm)"
DBM = r"\(([-\d.]+) dBm\)"


def test_vsol_epon_text_gives_its_dbm_through_group_1():
    outcome = ValueRule(formato="numero", regex=DBM).apply(VSOL_RX)
    assert outcome == (-14.61, "value", None, "-14.61")


def test_the_same_text_sent_as_octets_gives_the_same_value():
    assert ValueRule(formato="numero", regex=DBM).apply(VSOL_RX.encode()).value == -14.61


def test_without_a_group_the_whole_match_is_the_value():
    outcome = ValueRule(formato="numero", regex=r"-?\d+\.\d+(?= dBm)").apply(VSOL_RX)
    assert outcome.value == -14.61 and outcome.matched == "-14.61"


def test_a_text_the_expression_does_not_find_is_invalid_with_a_reason():
    outcome = ValueRule(formato="numero", regex=DBM).apply("abc")
    assert outcome.value is None and outcome.state == "invalid"
    assert outcome.reason == "la expresión regular no encontró nada en «abc»"
    assert outcome.matched is None


def test_a_group_that_takes_nothing_is_invalid_not_an_empty_value():
    outcome = ValueRule(regex=r"RX=(\d*)").apply("RX= dBm")
    assert outcome.state == "invalid" and "no tomó ningún valor" in outcome.reason


def test_an_empty_text_from_the_device_is_missing_not_invalid():
    assert ValueRule(regex=DBM).apply(b"\x00\x00").state == "missing"
    assert ValueRule(regex=DBM).apply(None).state == "missing"


def test_a_number_from_the_device_is_searched_as_its_digits():
    assert ValueRule(formato="int", regex=r"(\d{2})$").apply(12345).value == 45


def test_a_regex_that_does_not_compile_refuses_the_value_instead_of_raising():
    outcome = ValueRule(regex="(a").apply("abc")
    assert outcome.state == "invalid" and "no compila" in outcome.reason


def test_check_reports_the_compile_error_with_its_position_and_extra_groups():
    assert regex.check(r"\(([-\d.]+ dBm\)") == (
        "la expresión regular no compila: missing ), unterminated subpattern en la posición 2")
    assert "2 grupos de captura" in regex.check(r"(\d+) mW \((\S+) dBm\)")
    assert regex.check(r"(?:RX|TX)=(\d+)") is None
    assert "demasiado larga" in regex.check("a" * 256)


def test_a_long_text_is_shortened_in_the_reason():
    outcome = ValueRule(regex="zzz").apply("x" * 500)
    assert outcome.state == "invalid" and len(outcome.reason) < 120 and "…" in outcome.reason


@pytest.mark.parametrize("raw", ["Peña".encode("latin-1"), "Peña".encode("utf-8")])
def test_octets_decode_like_the_text_format_before_the_expression(raw):
    assert ValueRule(regex=r"P(\w+)").apply(raw).value == "eña"
