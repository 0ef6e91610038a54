"""Rule ``unidad``: optical power in mW, µW or tenths of µW, converted to dBm."""
from __future__ import annotations

import math

import pytest

from facho.inventory.value_rules import ValueRule
from facho.inventory.value_rules.units import check, to_dbm


def test_milliwatts_from_the_vsol_text_become_dbm():
    rule = ValueRule(formato="numero", regex=r"([\d.]+) mW", unidad="mw", decimales=2)
    outcome = rule.apply("0.03 mW (-14.61 dBm)")
    assert outcome == (-15.23, "value", None, "0.03")


def test_microwatts_are_milliwatts_minus_30_db():
    assert ValueRule(formato="numero", unidad="uw", decimales=2).apply(30).value == -15.23
    assert to_dbm(1000.0, "uw") == pytest.approx(0.0)


def test_cdata_fd11xx_tenths_of_microwatt_50_is_minus_23_01_dbm():
    assert ValueRule(formato="int", unidad="decimas_uw", decimales=2).apply(50).value == -23.01
    unrounded = ValueRule(formato="int", unidad="decimas_uw").apply(50).value
    assert unrounded == pytest.approx(10 * math.log10(50) - 40)


@pytest.mark.parametrize("unidad, raw, reason", [
    ("mw", 0, "potencia no positiva 0 mW"),
    ("mw", -0.5, "potencia no positiva -0.5 mW"),
    ("uw", "-3", "potencia no positiva -3 µW"),
    ("decimas_uw", 0, "potencia no positiva 0 décimas de µW"),
])
def test_a_power_of_zero_or_less_is_invalid_with_its_reason(unidad, raw, reason):
    outcome = ValueRule(formato="numero", unidad=unidad).apply(raw)
    assert outcome == (None, "invalid", reason, None)


def test_a_text_that_is_not_a_number_is_refused_by_the_format_first():
    outcome = ValueRule(formato="numero", unidad="mw").apply("abc")
    assert outcome.state == "invalid" and outcome.reason == "el formato «numero» no acepta «abc»"


def test_the_unit_needs_a_raw_number_format_and_a_known_name():
    assert check("mw", "numero") is None and check("", "text") is None
    assert "elija el formato int o numero" in check("mw", "text")
    assert "elija el formato" in check("uw", "dbm_huawei")
    assert check("dbm", "numero") == ("unidad desconocida «dbm»; válidas: (ninguna), mw, uw, "
                                      "decimas_uw")
