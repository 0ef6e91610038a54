"""dotted: the index holds the numbers, one per sub-id, where ``positions`` says."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import decode_index, encode_index, validate_formula
from facho.inventory.decoders import dotted
from facho.inventory.decoders.base import Row

DOTTED = {"kind": "dotted", "positions": {"slot": 0, "port": 1, "onu": 2}, "frame": 0}
PON_ONU = {"kind": "dotted", "positions": {"port": 0, "onu": 1}}


def test_dotted_formulas_read_numbers_where_the_positions_say():
    assert decode_index((3, 7, 12), DOTTED).name == "0/3/7:12"
    framed = dict(DOTTED, positions={"frame": 0, "slot": 1, "port": 2, "onu": 3})
    assert decode_index((2, 3, 7, 12), framed).name == "2/3/7:12"
    reordered = dict(DOTTED, positions={"onu": 0, "port": 1, "slot": 2})
    assert decode_index((12, 7, 3), reordered).name == "0/3/7:12"


def test_without_a_slot_position_the_slot_is_the_constant_slot_parameter():
    assert decode_index("2.7", PON_ONU) == decode_index((2, 7), PON_ONU)
    assert decode_index((2, 7), PON_ONU).name == "0/0/2:7"
    assert decode_index((2, 7), dict(PON_ONU, slot=1)).name == "0/1/2:7"
    assert dotted.decode((2, 7), PON_ONU) == Row((2, 7), {"port": 2, "onu": 7})


def test_a_sub_id_no_field_names_is_part_of_the_row_but_not_of_the_name():
    skips_the_first = {"kind": "dotted", "positions": {"port": 1, "onu": 2}}
    one, other = decode_index((1, 2, 7), skips_the_first), decode_index((9, 2, 7), skips_the_first)
    assert one.name == other.name == "0/0/2:7"
    assert (one.raw, other.raw) == ("1.2.7", "9.2.7")   # two rows stay two ONUs


def test_trailing_sub_ids_are_cut_from_the_row_when_max_trailing_allows_them():
    params = dict(PON_ONU, max_trailing=2)
    assert decode_index((2, 7, 1, 1), params).raw == "2.7"
    with pytest.raises(ValueError, match="se esperaban 2 a 4 números, hay 5"):
        decode_index((2, 7, 1, 1, 1), params)


@given(slot=st.integers(0, 2**32 - 1), port=st.integers(0, 2**32 - 1),
       onu=st.integers(0, 2**32 - 1))
def test_encoding_then_decoding_gives_back_the_same_onu(slot, port, onu):
    decoded = decode_index(encode_index(slot, port, onu, DOTTED), DOTTED)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (slot, port, onu)


def test_encoding_puts_the_frame_where_positions_says_and_zero_in_unnamed_positions():
    framed = {"kind": "dotted", "positions": {"frame": 0, "port": 2, "onu": 3}}
    assert encode_index(0, 5, 9, framed, frame=1) == (1, 0, 5, 9)
    with pytest.raises(ValueError, match="el slot 3 no puede ir en el índice"):
        encode_index(3, 5, 9, framed)


@pytest.mark.parametrize("index, message", [
    ((1, 2), "se esperaban 3 números, hay 2"),
    ((1, 2, 3, 4), "se esperaban 3 números, hay 4"),
    ("1.x.3", "índice inválido"),
    ("", "índice inválido"),
])
def test_a_wrong_index_raises_a_clear_value_error(index, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, DOTTED)


@pytest.mark.parametrize("params, message", [
    ({"kind": "dotted"}, "faltan parámetros: positions"),
    ({"kind": "dotted", "positions": {"slot": 0}}, "positions debe indicar slot, port y onu; "
                                                   "falta: port, onu"),
    ({"kind": "dotted", "positions": [0, 1, 2]}, "parámetro 'positions': use un objeto"),
    ({"kind": "dotted", "positions": {"port": 0, "onu": 0}}, "port y onu usan la misma "
                                                             "posición 0"),
    ({"kind": "dotted", "positions": {"port": 0, "onu": 1, "serie": 2}},
     "campo desconocido 'serie'"),
    ({"kind": "dotted", "positions": {"port": True, "onu": 1}}, "la posición de port debe ser "
                                                                "un entero"),
    ({"kind": "dotted", "positions": {"port": 0, "onu": 128}}, "de 0 a 127"),
    (dict(DOTTED, slot=1), "'slot': sobra, el slot sale del índice"),
    (dict(PON_ONU, slot="1"), "'slot': debe ser un número entero no negativo"),
])
def test_dotted_params_that_cannot_work_are_refused_naming_what_to_fix(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)
