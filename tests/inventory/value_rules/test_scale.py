"""Rules ``escala``, ``desplazamiento`` and ``decimales``."""
from __future__ import annotations

import pytest

from facho.inventory.value_rules import ValueRule
from facho.inventory.value_rules.scale import parse_decimales, parse_escala, round_to


def test_huawei_hundredths_of_dbm_with_escala_0_01():
    assert ValueRule(formato="int", escala=0.01).apply(-2153).value == -21.53


def test_the_zte_formula_as_escala_and_desplazamiento_matches_its_format():
    by_rule = ValueRule(formato="int", escala=0.002, desplazamiento=-30).apply(5500)
    by_format = ValueRule(formato="dbm_zte").apply(5500)
    assert by_rule.value == by_format.value == -19.0


def test_desplazamiento_alone_adds():
    assert ValueRule(formato="int", desplazamiento=-40).apply(25).value == -15


def test_escala_comes_after_the_unit():
    rule = ValueRule(formato="numero", unidad="mw", escala=2, decimales=2)
    assert rule.apply(1).value == 0.0
    assert rule.apply(10).value == 20.0


def test_decimales_round_half_away_from_zero_and_0_gives_a_whole_number():
    assert round_to(2.345, 2) == 2.35 and round_to(-2.345, 2) == -2.35
    assert ValueRule(formato="numero", decimales=0).apply("2.5").value == 3
    assert isinstance(ValueRule(formato="numero", decimales=0).apply("2.5").value, int)
    assert ValueRule(formato="numero", decimales=1).apply(7).value == 7.0


def test_a_decimal_comma_from_the_device_is_a_number():
    assert ValueRule(formato="numero").apply("-14,61").value == -14.61
    assert ValueRule(formato="numero").apply("\u221214,61").value == -14.61
    assert ValueRule(formato="text", escala=1).apply(b"-14,61").value == -14.61


def test_a_text_that_is_not_a_number_cannot_be_scaled():
    outcome = ValueRule(formato="text", escala=0.01).apply("abc")
    assert outcome.state == "invalid"
    assert outcome.reason == "«abc» no es un número; escala/desplazamiento necesita un valor numérico"


def test_escala_and_decimales_parse_as_typed_and_refuse_nonsense():
    assert parse_escala("0,01") == 0.01 and parse_escala("") is None
    with pytest.raises(ValueError, match="escala no puede ser 0"):
        parse_escala("0")
    with pytest.raises(ValueError, match="escala debe ser un número"):
        parse_escala("x")
    assert parse_decimales("2") == 2 and parse_decimales(None) is None
    for bad in ("7", "-1", "1.5", "dos", True):
        with pytest.raises(ValueError, match="decimales debe ser un número entero de 0 a 6"):
            parse_decimales(bad)
