"""Row index -> slot / port / ONU (facho.inventory.index_formulas), checked on the real C320 recording."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.index_formulas import (HUAWEI_GPON, SHIPPED_FORMULAS, ZTE_C320, decode_index,
                                  encode_index, validate_formula)
from tests.snmp_agents import RECORDINGS
from tests.conftest import require

DOTTED = {"kind": "dotted", "positions": {"slot": 0, "port": 1, "onu": 2}, "frame": 0}
PACKED = {"kind": "bitshift", "base": 0, "slot_shift": 24, "slot_mask": 0xFF,
          "port_shift": 16, "port_mask": 0xFF, "onu_shift": 0, "onu_mask": 0xFFFF}


def test_huawei_linear_index_decodes_to_frame_0_slot_port_and_ont_id():
    pon = 4194304000 + 2 * 8192 + 5 * 256
    decoded = decode_index((pon, 17), HUAWEI_GPON)
    assert (decoded.frame, decoded.slot, decoded.port, decoded.onu_id) == (0, 2, 5, 17)
    assert decoded.name == "0/2/5:17"
    assert decoded.raw == f"{pon}.17"


def test_zte_bitshift_index_of_gpon_1_1_1_decodes_to_shelf_1_name():
    decoded = decode_index("268501248.5", ZTE_C320)
    assert (decoded.slot, decoded.port, decoded.onu_id) == (1, 1, 5)
    assert decoded.name == "1/1/1:5"


def test_zte_rx_power_rows_with_a_trailing_1_decode_to_the_same_onu_row():
    with_suffix = decode_index((268501248, 5, 1), ZTE_C320)
    assert with_suffix == decode_index((268501248, 5), ZTE_C320)
    assert with_suffix.raw == "268501248.5"


def test_every_onu_of_the_real_c320_recording_decodes_on_slot_1_with_the_zte_formula():
    path = RECORDINGS / "zxa10_c320.snmprec"
    require(path.is_file(), f"recording {path}")
    ranging = "1.3.6.1.4.1.3902.1012.3.11.4.1.2."
    ports_table = "1.3.6.1.4.1.3902.1012.3.13.1.1.1."
    onus, pon_ports = [], []
    for line in path.read_text(errors="replace").splitlines():
        oid = line.split("|", 1)[0]
        if oid.startswith(ranging):
            onus.append(decode_index(oid[len(ranging):], ZTE_C320))
        elif oid.startswith(ports_table):
            pon_ports.append(decode_index(oid[len(ports_table):] + ".0", ZTE_C320))

    assert len(onus) == 125
    assert {o.slot for o in onus} == {1}
    assert sorted({o.port for o in onus}) == [1, 3, 4, 5, 6, 7, 8]
    assert len({o.name for o in onus}) == 125
    assert [(p.slot, p.port) for p in pon_ports] == [(1, n) for n in range(1, 9)]


@given(slot=st.integers(0, 31), port=st.integers(0, 31), onu=st.integers(0, 255))
def test_encoding_then_decoding_gives_back_the_same_onu_for_every_formula(slot, port, onu):
    for formula in (HUAWEI_GPON, ZTE_C320, DOTTED, PACKED):
        decoded = decode_index(encode_index(slot, port, onu, formula), formula)
        assert (decoded.slot, decoded.port, decoded.onu_id) == (slot, port, onu)


@pytest.mark.parametrize("index, formula, message", [
    ((4194304000,), HUAWEI_GPON, "se esperaban 2 números, hay 1"),
    ((4194304000, 1, 1), HUAWEI_GPON, "se esperaban 2 números, hay 3"),
    ((4194304001, 1), HUAWEI_GPON, "no corresponde a la fórmula lineal"),
    ((1000, 1), HUAWEI_GPON, "no corresponde a la fórmula lineal"),
    ((268501248,), ZTE_C320, "se esperaban 2 a 3 números, hay 1"),
    ((268501249, 3), ZTE_C320, "no corresponde a la fórmula por bits"),
    ((4194304000, 3), ZTE_C320, "no corresponde a la fórmula por bits"),
    ((1, 2), DOTTED, "se esperaban 3 números, hay 2"),
    ("1.x.3", DOTTED, "índice inválido"),
])
def test_a_wrong_index_raises_a_clear_value_error(index, formula, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, formula)


def test_dotted_and_packed_formulas_read_numbers_where_the_params_say():
    assert decode_index((3, 7, 12), DOTTED).name == "0/3/7:12"
    framed = dict(DOTTED, positions={"frame": 0, "slot": 1, "port": 2, "onu": 3})
    assert decode_index((2, 3, 7, 12), framed).name == "2/3/7:12"
    assert decode_index(((3 << 24) + (7 << 16) + 12,), PACKED).name == "0/3/7:12"


@pytest.mark.parametrize("params, message", [
    ({"kind": "spiral"}, "tipo de fórmula desconocido"),
    ({"kind": "linear", "base": 0, "step_slot": 8192}, "faltan parámetros: step_port"),
    ({"kind": "linear", "base": 0, "step_slot": 0, "step_port": 1}, "deben ser positivos"),
    ({"kind": "dotted", "positions": {"slot": 0}}, "slot, port y onu"),
])
def test_formulas_that_cannot_work_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(params)


def test_shipped_formulas_are_valid_and_name_their_brand():
    assert {f["marca"] for f in SHIPPED_FORMULAS} == {"Huawei", "ZTE"}
    for spec in SHIPPED_FORMULAS:
        validate_formula(spec["params"])
