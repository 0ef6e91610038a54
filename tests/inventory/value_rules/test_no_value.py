"""Rule ``sin_valor``: raw values that mean "no value" are stored empty, never as 0."""
from __future__ import annotations

import pytest

from facho.inventory.value_rules import ValueRule
from facho.inventory.value_rules.no_value import NoValue, joined, parse

SENTINELS = "0, -40, 65535, 2147483647"


@pytest.mark.parametrize("raw", [0, 65535, 2147483647, -40, "-40", b"-40", "-40.00", " 0 ",
                                 "0,0"])
def test_each_sentinel_is_missing_not_zero(raw):
    outcome = ValueRule(formato="numero", sin_valor=SENTINELS).apply(raw)
    assert outcome.value is None and outcome.state == "missing"
    assert "sin valor" in outcome.reason


def test_a_real_reading_next_to_the_sentinels_is_kept():
    rule = ValueRule(formato="numero", sin_valor=SENTINELS)
    assert rule.apply(-41).value == -41.0
    assert rule.apply("0.5").value == 0.5


def test_sentinels_compare_with_what_the_regex_took_before_any_conversion():
    rule = ValueRule(formato="numero", regex=r"\(([-\d.]+) dBm\)", unidad="",
                     sin_valor="-40")
    assert rule.apply("0.00 mW (-40.00 dBm)").state == "missing"
    assert rule.apply("0.03 mW (-14.61 dBm)").value == -14.61
    # the raw 0 of a mW reading is no value, not a refused "potencia no positiva"
    mw = ValueRule(formato="numero", regex=r"([\d.]+) mW", unidad="mw", sin_valor="0")
    assert mw.apply("0.00 mW (-inf dBm)").state == "missing"


def test_text_sentinels_compare_as_trimmed_text():
    rule = ValueRule(formato="text", sin_valor="N/A, --")
    assert rule.apply(b" N/A ").state == "missing"
    assert rule.apply("--").state == "missing"
    assert rule.apply("n/a").value == "n/a"


def test_a_sentinel_number_does_not_match_the_same_digits_inside_a_text():
    assert ValueRule(sin_valor="0").apply("0 dBm").value == "0 dBm"


def test_parse_reads_text_or_lists_and_refuses_an_empty_item():
    assert parse(SENTINELS) == ("0", "-40", "65535", "2147483647")
    assert parse([0, "65535"]) == ("0", "65535")
    assert parse("0, 65535,") == ("0", "65535")
    assert parse(None) == () and parse("  ") == ()
    with pytest.raises(ValueError, match="el elemento 2 está vacío"):
        parse("0,,65535")
    assert joined(parse([0, 65535])) == "0, 65535"


def test_a_rule_given_the_column_text_splits_it():
    assert ValueRule(sin_valor="0, 65535").sin_valor == ("0", "65535")
    assert NoValue(()).matches(0) is False
