"""linear (Huawei): row ``<ponIndex>.<onu>``, ponIndex = base + slot·step_slot + port·step_port.
Checked against the real MA5600 recording, whose ifName says which GPON port each ifIndex is."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import HUAWEI_GPON, decode_index, encode_index, validate_formula
from facho.inventory.decoders import linear
from facho.inventory.decoders.base import Row
from tests.conftest import require
from tests.snmp_agents import RECORDINGS

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1."
GPON_PORTS = "1.3.6.1.4.1.2011.6.128.1.1.2.23.1.4."


def test_huawei_linear_index_decodes_to_frame_0_slot_port_and_ont_id():
    pon = 4194304000 + 2 * 8192 + 5 * 256
    decoded = decode_index((pon, 17), HUAWEI_GPON)
    assert (decoded.frame, decoded.slot, decoded.port, decoded.onu_id) == (0, 2, 5, 17)
    assert decoded.name == "0/2/5:17"
    assert decoded.raw == f"{pon}.17"
    assert decoded.key is None


def test_every_gpon_port_of_the_real_ma5600_recording_decodes_to_the_port_its_ifname_names():
    path = RECORDINGS / "smartax.snmprec"
    require(path.is_file(), f"recording {path}")
    names, ports = {}, []
    for line in path.read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        value = rest.partition("|")[2]
        if oid.startswith(IF_NAME):
            names[oid[len(IF_NAME):]] = value
        elif oid.startswith(GPON_PORTS):
            ports.append(oid[len(GPON_PORTS):])
    assert len(ports) == 32
    for if_index in ports:
        decoded = decode_index(f"{if_index}.0", HUAWEI_GPON)
        assert names[if_index] == f"GPON {decoded.frame}/{decoded.slot}/{decoded.port}"


def test_the_kind_function_alone_gives_the_row_and_the_numbers_the_index_holds():
    row = linear.decode((4194345216, 14), HUAWEI_GPON)
    assert row == Row((4194345216, 14), {"slot": 5, "port": 1, "onu": 14})
    assert linear.encode({"slot": 5, "port": 1, "onu": 14}, HUAWEI_GPON) == (4194345216, 14)


def test_dotted_text_with_a_leading_dot_decodes_like_the_tuple_a_walk_returns():
    assert decode_index(".4194345216.14", HUAWEI_GPON) == decode_index([4194345216, 14],
                                                                       HUAWEI_GPON)


def test_a_formula_whose_port_step_is_the_larger_one_divides_by_the_port_step_first():
    params = {"kind": "linear", "base": 1000, "step_slot": 16, "step_port": 4096}
    assert encode_index(3, 7, 9, params) == (1000 + 3 * 16 + 7 * 4096, 9)
    decoded = decode_index((1000 + 3 * 16 + 7 * 4096, 9), params)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (3, 7, 9)


def test_port_offset_turns_a_zero_based_index_port_into_the_cli_number_and_back():
    params = dict(HUAWEI_GPON, port_offset=1)
    assert decode_index((4194304000 + 5 * 8192, 3), params).name == "0/5/1:3"
    assert encode_index(5, 1, 3, params) == (4194304000 + 5 * 8192, 3)


@given(slot=st.integers(0, 500), port=st.integers(0, 31), onu=st.integers(1, 2**32 - 2),
       onu_offset=st.integers(-1, 1))
def test_encoding_then_decoding_gives_back_the_same_onu(slot, port, onu, onu_offset):
    params = dict(HUAWEI_GPON, onu_offset=onu_offset)
    decoded = decode_index(encode_index(slot, port, onu, params), params)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (slot, port, onu)


@pytest.mark.parametrize("index, message", [
    ((4194304000,), "se esperaban 2 números, hay 1"),
    ((4194304000, 1, 1), "se esperaban 2 números, hay 3"),
    ((4194304001, 1), "no corresponde a la fórmula lineal"),
    ((1000, 1), "no corresponde a la fórmula lineal"),   # below base: not a negative slot
    ("4194304000.x", "índice inválido"),
    ("4194304000.-1", "índice inválido"),
    ((4194304000, 2**32), "cada número va de 0 a 4294967295"),
    ((), "índice inválido"),
])
def test_a_wrong_index_raises_a_clear_value_error(index, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, HUAWEI_GPON)


@pytest.mark.parametrize("slot, port, params, message", [
    (1, 32, HUAWEI_GPON, "el puerto 32 no cabe en la fórmula lineal: con pasos 8192 y 256 va "
                         "de 0 a 31"),
    (1, 0, dict(HUAWEI_GPON, port_offset=1), "con port_offset 1 el índice tendría -1"),
    (30000, 0, HUAWEI_GPON, "mayor que 4294967295"),
])
def test_an_onu_the_formula_cannot_number_is_refused_when_encoding(slot, port, params, message):
    with pytest.raises(ValueError, match=message):
        encode_index(slot, port, 1, params)


@pytest.mark.parametrize("params, message", [
    ({"kind": "linear", "base": 0, "step_slot": 8192}, "faltan parámetros: step_port"),
    ({"kind": "linear", "base": 0, "step_slot": 0, "step_port": 1}, "deben ser positivos"),
    ({"kind": "linear", "base": 0, "step_slot": 8192, "step_port": -256},
     "parámetro 'step_port': debe ser un número entero positivo"),
    ({"kind": "linear", "base": 0, "step_slot": True, "step_port": 256},
     "parámetro 'step_slot': debe ser un número entero positivo, no True"),
    ({"kind": "linear", "base": "4194304000", "step_slot": 8192, "step_port": 256},
     "parámetro 'base': debe ser un número entero no negativo"),
    ({"kind": "linear", "base": 2**32, "step_slot": 8192, "step_port": 256},
     "parámetro 'base': 4294967296 es demasiado grande"),
    ({"kind": "linear", "base": 0, "step_slot": 256, "step_port": 256}, "no pueden ser iguales"),
    (dict(HUAWEI_GPON, slot=1), "parámetro 'slot': no existe en la fórmula linear"),
])
def test_linear_params_that_cannot_work_are_refused_naming_what_to_fix(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)
