"""string: the row index is the key itself (an ONU serial), one character or byte per sub-id;
slot, port and ONU id come from columns or constants."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import (decode_index, encode_index, encode_index_key,
                                      validate_formula)
from facho.inventory.decoders import string
from facho.inventory.decoders.base import Row

PREFIXED = {"kind": "string", "length": "prefixed", "chars": "ascii"}
GPON_SN = {"kind": "string", "length": 8, "chars": "hex"}
UBNT = (12, 85, 66, 78, 84, 49, 50, 51, 52, 53, 54, 55, 56)


def test_a_length_prefixed_ascii_index_decodes_to_its_text_key():
    decoded = decode_index(UBNT, PREFIXED)
    assert decoded.key == "UBNT12345678"
    assert decoded.raw == "12.85.66.78.84.49.50.51.52.53.54.55.56"
    assert (decoded.frame, decoded.slot, decoded.port, decoded.onu_id) == (0, 0, 0, None)
    assert decoded.name == "0/0/0:UBNT12345678"
    assert string.decode(UBNT, PREFIXED) == Row(UBNT, {}, "UBNT12345678")


def test_a_fixed_length_hex_index_decodes_to_the_serial_bytes_in_uppercase_hex():
    index = (0x48, 0x57, 0x54, 0x43, 0xA1, 0xB2, 0xC3, 0xD4)   # "HWTC" + 4 bytes
    decoded = decode_index(index, dict(GPON_SN, slot=2, port=5))
    assert decoded.key == "48575443A1B2C3D4"
    assert decoded.name == "0/2/5:48575443A1B2C3D4"
    assert encode_index_key("48575443a1b2c3d4", GPON_SN) == index


def test_trailing_sub_ids_after_the_key_are_cut_from_the_row():
    params = dict(PREFIXED, max_trailing=1)
    with_suffix = decode_index(UBNT + (1,), params)
    assert with_suffix == decode_index(UBNT, params)
    assert with_suffix.raw == "12.85.66.78.84.49.50.51.52.53.54.55.56"
    assert decode_index((0x48,) * 8 + (3,), dict(GPON_SN, max_trailing=1)).key == "48" * 8


def test_a_name_with_a_long_key_is_cut_to_the_40_characters_the_inventory_stores():
    decoded = decode_index(encode_index_key("X" * 60, PREFIXED), PREFIXED)
    assert decoded.key == "X" * 60
    assert decoded.name == ("0/0/0:" + "X" * 60)[:40]


@given(key=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
                   max_size=40),
       other=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
                     max_size=40))
def test_keys_round_trip_and_two_different_keys_never_share_a_row(key, other):
    one = decode_index(encode_index_key(key, PREFIXED), PREFIXED)
    assert one.key == key
    if key != other:
        assert decode_index(encode_index_key(other, PREFIXED), PREFIXED).raw != one.raw


@given(serial=st.binary(min_size=8, max_size=8))
def test_hex_serials_round_trip(serial):
    assert decode_index(encode_index_key(serial.hex(), GPON_SN), GPON_SN).key == \
        serial.hex().upper()


@pytest.mark.parametrize("index, params, message", [
    (UBNT[:6], PREFIXED, "el primer número dice 12 caracteres pero le siguen 5 números"),
    (UBNT + (1,), PREFIXED, "el primer número dice 12 caracteres pero le siguen 13 números"),
    (UBNT + (1, 1), dict(PREFIXED, max_trailing=1),
     r"dice 12 caracteres \(más hasta 1 de max_trailing\) pero le siguen 14"),
    ((0,), PREFIXED, r"el primer número \(la cantidad de caracteres\) es 0"),
    ((3, 85, 10, 78), PREFIXED, r"el número 10 \(carácter 2\) no es un carácter ASCII "
                                r"imprimible \(32 a 126\)"),
    ((2, 85, 200), PREFIXED, r"el número 200 \(carácter 2\) no es un carácter ASCII"),
    ((1, 2, 3, 4, 5, 6, 7), GPON_SN, "se esperaban 8 números, hay 7"),
    ((1, 2, 3, 4, 5, 6, 7, 256), GPON_SN, r"el número 256 \(byte 8\) no es un byte \(0 a 255\)"),
])
def test_an_index_that_is_not_a_key_says_exactly_why(index, params, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, params)


@pytest.mark.parametrize("key, params, message", [
    ("HWTC", GPON_SN, "'HWTC': no es hexadecimal"),
    ("A1B2", GPON_SN, "tiene 2 números y la fórmula pide 8"),
    ("ñandú", PREFIXED, "'ñ' no es un carácter ASCII imprimible"),
    ("", PREFIXED, "clave vacía"),
])
def test_a_key_the_formula_cannot_carry_is_refused_when_encoding(key, params, message):
    with pytest.raises(ValueError, match=message):
        encode_index_key(key, params)


def test_numbers_and_keys_are_encoded_by_their_own_function():
    with pytest.raises(ValueError, match="lleva una clave de texto en el índice: use "
                                         "encode_index_key"):
        encode_index(0, 1, 1, PREFIXED)
    with pytest.raises(ValueError, match="no lleva una clave de texto: use encode_index"):
        encode_index_key("UBNT", {"kind": "dotted", "positions": {"port": 0, "onu": 1}})


@pytest.mark.parametrize("params, message", [
    ({"kind": "string", "chars": "ascii"}, "faltan parámetros: length"),
    (dict(PREFIXED, length="variable"), "parámetro 'length': use \"prefixed\""),
    (dict(PREFIXED, length=0), "parámetro 'length'.* un entero de 1 a 127"),
    (dict(PREFIXED, length=True), "parámetro 'length'"),
    (dict(PREFIXED, chars="utf8"), "parámetro 'chars': use \"ascii\""),
    (dict(PREFIXED, port=-1), "'port': debe ser un número entero no negativo"),
    (dict(PREFIXED, positions={"port": 0}), "'positions': no existe en la fórmula string"),
])
def test_string_params_that_cannot_work_are_refused_naming_what_to_fix(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)
