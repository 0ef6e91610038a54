"""The registry and what every kind shares: the kinds the database accepts, the form's label,
help and example, parameter checks common to all kinds, raw keys, and no error other than a
Spanish ValueError whatever an operator types."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import facho.inventory.decoders as decoders
from facho.inventory.decoders import (HUAWEI_GPON, KINDS, SCHEMES, ZTE_C320, DecodedIndex,
                                      decode_index, describe, encode_index, validate_formula)
from facho.models import FORMULA_KINDS
from facho.validation import validate_formula_params

OLD_NAMES = ("DecodedIndex", "decode_index", "encode_index", "validate_formula", "HUAWEI_GPON",
             "ZTE_C320", "ZTE_C300", "SHIPPED_FORMULAS")


def test_the_registry_has_exactly_the_kinds_the_database_accepts_in_the_same_order():
    assert tuple(KINDS) == FORMULA_KINDS


def test_the_package_exports_every_name_the_old_index_formulas_module_had():
    for name in OLD_NAMES + ("KINDS", "SCHEMES", "column_oids", "describe", "encode_index_key"):
        assert name in decoders.__all__ and hasattr(decoders, name)
    assert DecodedIndex._fields == ("frame", "slot", "port", "onu_id", "name", "raw", "key")
    assert DecodedIndex(0, 1, 2, 3, "0/1/2:3", "9.3").key is None


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_has_a_label_a_help_naming_every_parameter_and_an_example_that_validates(name):
    kind = KINDS[name]
    assert kind.nombre and kind.ejemplo["kind"] == name
    validate_formula(kind.ejemplo)
    for param in kind.params + ("frame", "max_trailing", "port_offset", "from_columns"):
        assert param in kind.ayuda, f"{name}: la ayuda no explica {param}"
    assert "Ejemplo" in kind.ayuda and any(ch.isdigit() for ch in kind.ayuda)
    assert len({k.nombre for k in KINDS.values()}) == len(KINDS)


def test_describe_gives_one_spanish_line_with_the_numbers_of_the_formula():
    assert describe(HUAWEI_GPON) == ("lineal: índice <ponIndex>.<onu> con ponIndex = "
                                     "4194304000 + slot × 8192 + puerto × 256; frame 0")
    zte = describe(ZTE_C320)
    assert "0x10000000" in zte and "slot en bits 16 a 23" in zte and "max_trailing" in zte
    assert "puerto = leído +1 (port_offset)" in describe(SCHEMES["cdata_fd16xx_v3"])
    assert "puerto desde la columna 1.3.6.1.4.1.41112" in describe(SCHEMES["ubiquiti_serial"])
    for params in SCHEMES.values():
        assert "\n" not in describe(params)
    with pytest.raises(ValueError, match="faltan parámetros: step_port"):
        describe({"kind": "linear", "base": 0, "step_slot": 1})


@pytest.mark.parametrize("params, message", [
    ({"kind": "spiral"}, "tipo de fórmula desconocido 'spiral'; válidos: linear, bitshift, "
                         "dotted, string"),
    ({"base": 0}, "tipo de fórmula desconocido None"),
    ({"kind": ["linear"]}, "tipo de fórmula desconocido"),   # unhashable: still a ValueError
    ([("kind", "linear")], "deben ser un objeto JSON"),
    (dict(HUAWEI_GPON, step_slott=8192), "parámetro 'step_slott': no existe en la fórmula "
                                         "linear; válidos: frame, max_trailing"),
    (dict(HUAWEI_GPON, frame=True), "parámetro 'frame': debe ser un número entero no negativo, "
                                    "no True"),
    (dict(HUAWEI_GPON, frame=-1), "parámetro 'frame'"),
    (dict(HUAWEI_GPON, max_trailing=-1), "parámetro 'max_trailing'"),
    (dict(HUAWEI_GPON, max_trailing=128), "'max_trailing': 128 es demasiado grande"),
    (dict(HUAWEI_GPON, max_trailing="1"), "parámetro 'max_trailing'"),
    (dict(HUAWEI_GPON, port_offset=1.0), "parámetro 'port_offset': debe ser un número entero "
                                         r"\(puede ser negativo\)"),
    (dict(HUAWEI_GPON, onu_offset=False), "parámetro 'onu_offset'"),
])
def test_params_common_to_every_kind_are_checked_naming_what_to_fix(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)


def test_a_negative_offset_is_valid_and_subtracts():
    decoded = decode_index((4194304000 + 8192 + 2 * 256, 5), dict(HUAWEI_GPON, slot_offset=-1,
                                                                  onu_offset=-1))
    assert decoded.name == "0/0/2:4"


# Index tuples each numeric scheme produces, with or without the trailing sub-ids it allows.
ROWS = st.sampled_from([n for n, p in SCHEMES.items() if p["kind"] != "string"]).flatmap(
    lambda name: st.tuples(st.just(name), st.integers(0, 15), st.integers(1, 15),
                           st.integers(0, 255), st.booleans()))


def _index(name, slot, port, onu, trailing):
    params = SCHEMES[name]
    slot = slot if "slot_shift" in params or params["kind"] == "linear" else 0
    index = encode_index(slot, port, onu, params, frame=params.get("frame", 0))
    return index + ((1,) if trailing and params.get("max_trailing") else ())


@given(one=ROWS, other=ROWS)
def test_two_different_rows_never_decode_to_the_same_raw_and_trailing_ids_never_matter(one,
                                                                                        other):
    params = SCHEMES[one[0]]
    first, second = _index(*one), _index(one[0], *other[1:])
    a, b = decode_index(first, params), decode_index(second, params)
    same_onu = (a.slot, a.port, a.onu_id) == (b.slot, b.port, b.onu_id)
    assert (a.raw == b.raw) == same_onu
    assert a.raw == ".".join(map(str, first[:len(a.raw.split("."))]))


JSON = st.recursive(
    st.one_of(st.integers(-5, 2**40), st.booleans(), st.none(), st.text(max_size=5),
              st.floats(allow_nan=False)),
    lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4) | st.lists(inner,
                                                                                     max_size=3),
    max_leaves=8)
KEYS = st.sampled_from(["kind", "base", "step_slot", "step_port", "frame", "slot_shift",
                        "slot_mask", "port_shift", "port_mask", "onu_shift", "onu_mask",
                        "positions", "length", "chars", "max_trailing", "port_offset",
                        "from_columns", "slot", "x"])
PARAMS = st.dictionaries(KEYS, st.one_of(st.sampled_from(list(KINDS)), JSON), max_size=8)


@given(params=PARAMS, index=st.one_of(st.lists(st.integers(-1, 2**33), max_size=6),
                                      st.text(max_size=12)),
       kind=st.sampled_from(list(KINDS)))
def test_whatever_an_operator_types_the_only_error_is_a_value_error(params, index, kind):
    params = dict(params, kind=kind)
    for call in (lambda: validate_formula(params), lambda: describe(params),
                 lambda: decode_index(index, params, {"port": 1}),
                 lambda: encode_index(1, 1, 1, params)):
        try:
            call()
        except ValueError as exc:
            assert str(exc)


@pytest.mark.parametrize("kind, text, message", [
    ("linear", '{"base": "x", "step_slot": 2, "step_port": 1}',
     "^Parámetro 'base': debe ser un número entero no negativo, no 'x'.$"),
    ("linear", '{"base": 1, "step_slot": 2}',
     "^Parámetros inválidos: a la fórmula linear le faltan parámetros: step_port.$"),
    ("dotted", "{no es json", '^Parámetros inválidos: no es JSON válido \\(ejemplo: '
                              + json.dumps({"positions": {"port": 0, "onu": 1}, "frame": 0})
                              .replace("{", "\\{").replace("}", "\\}") + "\\).$"),
])
def test_the_formula_form_shows_a_parameters_message_as_parametro_and_others_as_invalidos(
        kind, text, message):
    with pytest.raises(ValueError, match=message):
        validate_formula_params(kind, text)
    assert validate_formula_params("string", json.dumps(SCHEMES["ubiquiti_serial"])) == \
        SCHEMES["ubiquiti_serial"]


def test_after_switching_the_kind_the_message_lists_what_is_missing_and_what_is_left_over():
    with pytest.raises(ValueError, match="a la fórmula bitshift le faltan parámetros: "
                                         "port_shift, port_mask; sobran 'step_slot', "
                                         "'step_port', que no existen en ella"):
        validate_formula(dict(HUAWEI_GPON, kind="bitshift"))


def test_a_columns_index_belongs_to_its_row_or_to_it_without_trailing_sub_ids():
    from facho.inventory.decoders import row_key
    rows = {"268501248.5": object()}
    assert row_key((268501248, 5), rows, 0) == "268501248.5"
    assert row_key((268501248, 5, 1), rows, 1) == "268501248.5"     # ZTE rx: …<onu>.1
    assert row_key((268501248, 5, 1), rows, 0) is None
    assert row_key((268501248, 5, 1, 0), rows, 1) is None
    assert row_key((268501248, 6), rows, 2) is None
