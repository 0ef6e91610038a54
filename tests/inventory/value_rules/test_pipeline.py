"""The chain of value rules: order, outcomes, building from an Oid row or a profile entry, and
the promise that a rule with only ``formato`` set is exactly ``apply_format``."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facho.inventory.value_rules import (AYUDA, ORDEN, RULE_FIELDS, Outcome, RuleError,
                                         ValueRule)
from facho.inventory.values import FORMATTERS, apply_format


def test_with_no_rule_fields_set_the_existing_formats_give_what_they_gave():
    assert ValueRule(formato="dbm_zte").apply(5500) == Outcome(-19.0, "value", None, None)
    assert ValueRule(formato="dbm_huawei").apply(-2153).value == -21.53
    assert ValueRule(formato="gpon_serial").apply(b"HWTC\xa3\xb1\x79\x9d").value == "HWTCA3B1799D"
    assert ValueRule().apply(b"cliente\x00").value == "cliente"
    assert ValueRule(formato="int").apply(2147483647).state == "missing"
    assert ValueRule(formato="status_huawei").apply(1).value == "online"
    assert ValueRule().plain and not ValueRule(decimales=2).plain


def _expected(formato, raw):
    try:
        value = apply_format(formato, raw)
    except Exception:
        return "invalid", None
    return ("missing" if value is None else "value"), value


@settings(max_examples=300, deadline=None)
@given(formato=st.sampled_from(sorted(FORMATTERS)),
       raw=st.one_of(st.integers(), st.integers(min_value=-2**31, max_value=2**31),
                     st.binary(max_size=20), st.sampled_from([b"", b"12", b"-40", b"\x00" * 8])))
def test_property_only_formato_set_means_apply_format(formato, raw):
    outcome = ValueRule(formato=formato).apply(raw)
    state, value = _expected(formato, raw)
    assert outcome.state == state
    assert outcome.value == value and type(outcome.value) is type(value)
    assert outcome.matched is None


def test_sentinels_are_checked_before_the_format_and_labels_last():
    rule = ValueRule(formato="int", regex=r"estado=(-?\d+)", sin_valor="-1",
                     etiquetas={"1": "en línea"})
    assert rule.apply("estado=-1").state == "missing"
    assert rule.apply("estado=1") == ("en línea", "value", None, "1")


def test_the_format_refusing_what_the_regex_took_keeps_matched_for_the_preview():
    outcome = ValueRule(formato="int", regex=r"RX=(\S+)").apply("RX=-14.61")
    assert outcome == (None, "invalid", "el formato «int» no acepta «-14.61»", "-14.61")


def test_a_binary_value_a_format_refuses_is_shown_as_hex_in_the_reason():
    outcome = ValueRule(formato="mac").apply(b"\x01\x02\x03")
    assert outcome.reason == "el formato «mac» no acepta «0x010203»"


def test_an_unknown_format_in_a_hand_built_rule_is_invalid_not_an_exception():
    outcome = ValueRule(formato="dbm_marte").apply(1)
    assert outcome.state == "invalid" and "formato desconocido" in outcome.reason


def test_from_oid_reads_an_oid_row_and_tolerates_none():
    row = SimpleNamespace(formato="numero", regex=r"\(([-\d.]+) dBm\)", sin_valor="0, -40",
                          unidad="", escala=None, desplazamiento=None, decimales=2,
                          etiquetas=None, nombre="V-SOL EPON potencia RX")
    rule = ValueRule.from_oid(row)
    assert rule == ValueRule(formato="numero", regex=r"\(([-\d.]+) dBm\)",
                             sin_valor=("0", "-40"), decimales=2)
    assert rule.apply("0.03 mW (-14.61 dBm)").value == -14.61
    empty = SimpleNamespace(formato=None, regex=None, sin_valor=None, unidad=None, escala=None,
                            desplazamiento=None, decimales=None, etiquetas=None)
    assert ValueRule.from_oid(empty) == ValueRule() and ValueRule.from_oid(object()).plain


def test_from_oid_works_on_a_real_oid_model():
    from facho.models import Oid

    oid = Oid(nombre="x", oid="1.3.6", espacio="estado", formato="int", sin_valor="",
              unidad="", etiquetas={"1": "en línea"})
    assert ValueRule.from_oid(oid).apply(1).value == "en línea"


def test_from_dict_reads_a_profile_entry_as_typed_and_refuses_a_bad_one():
    rule = ValueRule.from_dict({"formato": "int", "escala": "0,01", "decimales": "2",
                                "etiquetas": None, "sin_valor": [2147483647],
                                "nombre": "ignored", "oid": "1.3.6"})
    assert rule.escala == 0.01 and rule.decimales == 2 and rule.sin_valor == ("2147483647",)
    assert rule.apply(-2153).value == -21.53
    with pytest.raises(RuleError) as error:
        ValueRule.from_dict({"formato": "int", "escala": 0, "regex": "(a"})
    assert set(error.value.errors) == {"escala", "regex"}
    assert isinstance(error.value, ValueError) and "escala no puede ser 0" in str(error.value)


def test_rules_are_hashable_and_comparable_even_with_labels():
    a = ValueRule(formato="int", etiquetas={"1": "en línea"})
    b = ValueRule(formato="int", etiquetas={"1": "en línea"})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_the_panel_help_covers_every_rule_field_with_an_example_and_states_the_order():
    assert set(AYUDA) == set(RULE_FIELDS)
    assert all("Ejemplo" in text for text in AYUDA.values())
    assert ORDEN.index("expresión regular") < ORDEN.index("sin valor") < ORDEN.index(
        "formato") < ORDEN.index("unidad") < ORDEN.index("escala") < ORDEN.index(
        "decimales") < ORDEN.index("etiquetas")
