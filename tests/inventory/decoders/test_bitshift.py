"""bitshift: slot, port (and ONU, frame) packed in the bits of one number; every other bit
must equal ``base``, so another table's index is refused instead of misread."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import ZTE_C320, decode_index, encode_index, validate_formula
from facho.inventory.decoders import bitshift
from facho.inventory.decoders.base import Row

PACKED = {"kind": "bitshift", "base": 0, "slot_shift": 24, "slot_mask": 0xFF,
          "port_shift": 16, "port_mask": 0xFF, "onu_shift": 0, "onu_mask": 0xFFFF}
NO_SLOT = {"kind": "bitshift", "base": 0x480000, "port_shift": 12, "port_mask": 0xF,
           "onu_shift": 0, "onu_mask": 0xFFF}


def test_zte_bitshift_index_of_gpon_1_1_1_decodes_to_shelf_1_name():
    decoded = decode_index("268501248.5", ZTE_C320)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (1, 1, 5)
    assert decoded.name == "1/1/1:5"


def test_zte_rx_power_rows_with_a_trailing_1_decode_to_the_same_onu_row():
    with_suffix = decode_index((268501248, 5, 1), ZTE_C320)
    assert with_suffix == decode_index((268501248, 5), ZTE_C320)
    assert with_suffix.raw == "268501248.5"


def test_a_formula_with_the_onu_inside_reads_a_one_part_index():
    assert decode_index(((3 << 24) + (7 << 16) + 12,), PACKED).name == "0/3/7:12"
    assert bitshift.decode(((3 << 24) + (7 << 16) + 12,), PACKED) == Row(
        ((3 << 24) + (7 << 16) + 12,), {"slot": 3, "port": 7, "onu": 12})


def test_without_slot_shift_the_slot_is_the_constant_slot_parameter():
    assert decode_index((0x480000 + 0x2000 + 7,), NO_SLOT).name == "0/0/2:7"
    assert decode_index((0x480000 + 0x2000 + 7,), dict(NO_SLOT, slot=4)).name == "0/4/2:7"
    assert encode_index(4, 2, 7, dict(NO_SLOT, slot=4)) == (0x480000 + 0x2000 + 7,)


def test_frame_shift_reads_the_frame_from_the_number_over_the_frame_parameter():
    params = dict(PACKED, frame=9, frame_shift=28, frame_mask=0xF, slot_mask=0xF)
    index = encode_index(3, 7, 12, params, frame=2)
    assert index == ((2 << 28) + (3 << 24) + (7 << 16) + 12,)
    assert decode_index(index, params).name == "2/3/7:12"


@pytest.mark.parametrize("params", [ZTE_C320, PACKED, NO_SLOT, dict(NO_SLOT, port_offset=1)])
@given(port=st.integers(1, 15), onu=st.integers(0, 255))
def test_encoding_then_decoding_gives_back_the_same_onu(params, port, onu):
    slot = 0 if "slot_shift" not in params else port + 1
    decoded = decode_index(encode_index(slot, port, onu, params), params)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (slot, port, onu)


@pytest.mark.parametrize("index, params, message", [
    ((268501248,), ZTE_C320, "se esperaban 2 a 3 números, hay 1"),
    ((268501248, 1, 1, 1), ZTE_C320, "se esperaban 2 a 3 números, hay 4"),
    ((268501249, 3), ZTE_C320, "no corresponde a la fórmula por bits"),
    ((4194304000, 3), ZTE_C320, "índice PON 4194304000 .* no corresponde a la fórmula por bits"),
    # ZTE's "index B" number is another tree's index: its fixed bits are not 0x10000000
    ((285278721, 3), ZTE_C320, "fuera de los campos vale 0x11000001 y debería ser la base "
                               "0x10000000"),
    ((0x480000 + 0x10000 + 7,), NO_SLOT, "fuera de los campos vale 0x490000"),
    ((0x480000, 1), NO_SLOT, "se esperaban 1 números, hay 2"),
])
def test_an_index_whose_fixed_bits_or_length_differ_is_refused(index, params, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, params)


@pytest.mark.parametrize("slot, port, onu, params, message", [
    (256, 1, 1, ZTE_C320, r"el slot 256 no cabe en la fórmula por bits \(slot_mask 0xff: "
                          "máximo 255"),
    (0, 16, 1, NO_SLOT, "el puerto 16 no cabe"),
    (0, 1, 4096, NO_SLOT, "la ONU 4096 no cabe"),
    (2, 1, 1, NO_SLOT, "el slot 2 no puede ir en el índice: la fórmula no lleva ese número y "
                       "vale siempre 0"),
])
def test_an_onu_the_formula_cannot_number_is_refused_when_encoding(slot, port, onu, params,
                                                                   message):
    with pytest.raises(ValueError, match=message):
        encode_index(slot, port, onu, params)


@pytest.mark.parametrize("params, message", [
    ({"kind": "bitshift", "base": 1}, "faltan parámetros: port_shift, port_mask"),
    (dict(PACKED, port_mask=0x1FF), "port_mask y slot_mask se solapan"),
    (dict(PACKED, onu_mask=0x1FFFF), "onu_mask y port_mask se solapan"),
    (dict(ZTE_C320, base=0x10010000), r"'base': 0x10010000 usa bits del campo slot \(bits 16 a "
                                      "23\\)"),
    ({k: v for k, v in ZTE_C320.items() if k != "slot_mask"},
     "'slot_mask': falta, 'slot_shift' lo necesita"),
    (dict(ZTE_C320, slot_shift=32), "'slot_shift': 32 es demasiado grande"),
    (dict(ZTE_C320, slot_shift=10**12), "'slot_shift'"),   # bounded before any shift
    (dict(ZTE_C320, slot_shift=28), "'slot_mask': el campo slot .* no cabe en 32 bits"),
    (dict(ZTE_C320, port_mask=0), "'port_mask': debe ser un número entero mayor o igual que 1"),
    (dict(ZTE_C320, port_mask=True), "'port_mask': debe ser un número entero"),
    (dict(ZTE_C320, port_shift="8"), "'port_shift': debe ser un número entero no negativo"),
    (dict(ZTE_C320, slot=1), "'slot': sobra, el slot sale del índice"),
    (dict(NO_SLOT, slot=-1), "'slot': debe ser un número entero no negativo"),
])
def test_bitshift_params_that_cannot_work_are_refused_naming_what_to_fix(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)
