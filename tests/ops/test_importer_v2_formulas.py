"""`importer_v2.formulas`: an old index formula imported decodes the indexes the old system
read into the same slot, port and ONU number. ``old_components`` restates the old
``IndexFormula.calculate_components`` (its arithmetic, from the public model) so the
comparison is against what the old system computed, not against our own converter."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import decode_index
from facho.ops.importer_v2.formulas import Refused, convert, learned_base, plan_targets

HUAWEI = {"id": 1, "calculation_mode": "linear", "base_index": 4194304000, "step_slot": 8192,
          "step_port": 256, "shift_slot_bits": 0, "shift_port_bits": 0, "mask_slot": None,
          "mask_port": None, "onu_offset": 0, "has_dot_notation": True,
          "dot_is_onu_number": True}
ZTE = {**HUAWEI, "calculation_mode": "bitshift", "base_index": 0, "step_slot": 0,
       "step_port": 0, "shift_slot_bits": 16, "mask_slot": "0xFF", "shift_port_bits": 8,
       "mask_port": "0xFF"}
ZTE_PACKED = {**ZTE, "has_dot_notation": False, "dot_is_onu_number": False, "onu_offset": 1}


def old_components(f: dict, raw: str) -> tuple[int, int, int]:
    """(slot, port, logical) as Facho v2 computed them (IndexFormula.calculate_components)."""
    if f["has_dot_notation"] and "." in raw:
        head, tail = raw.split(".", 1)
        index, onu_number = int(head), int(tail)
    else:
        index, onu_number = int(raw.split(".")[0]), 0
    if f["calculation_mode"] == "linear":
        delta = index - f["base_index"]
        slot = delta // f["step_slot"] if f["step_slot"] > 0 else 0
        rest = delta % f["step_slot"] if f["step_slot"] > 0 else delta
        port = rest // f["step_port"] if f["step_port"] > 0 else 0
        onu_id = rest % f["step_port"] if f["step_port"] > 0 else 0
    else:
        slot = index >> f["shift_slot_bits"]
        if f["mask_slot"]:
            slot &= int(f["mask_slot"], 16)
        port = index >> f["shift_port_bits"]
        if f["mask_port"]:
            port &= int(f["mask_port"], 16)
        onu_id = index & 0xFF
    if f["onu_offset"]:
        onu_id += f["onu_offset"]
    return slot, port, (onu_number if f["dot_is_onu_number"] else onu_id)


def facho_components(params: dict, raw: str) -> tuple[int, int, int]:
    d = decode_index(raw, params)
    return d.slot, d.port, d.onu_id


@given(slot=st.integers(0, 15), port=st.integers(0, 15), onu=st.integers(0, 127))
def test_an_imported_huawei_formula_decodes_what_the_old_one_did(slot, port, onu):
    raw = f"{4194304000 + slot * 8192 + port * 256}.{onu}"
    params, _ = convert(HUAWEI, [])
    assert facho_components(params, raw) == old_components(HUAWEI, raw) == (slot, port, onu)


@given(slot=st.integers(0, 20), port=st.integers(0, 15), onu=st.integers(1, 128))
def test_an_imported_zte_formula_decodes_what_the_old_one_did(slot, port, onu):
    raw = f"{0x10000000 + (slot << 16) + (port << 8)}.{onu}"
    samples = [f"{0x10000000 + (1 << 16) + (2 << 8)}.1", f"{0x10000000 + (3 << 8)}.4"]
    params, notes = convert(ZTE, samples)
    assert params["base"] == 0x10000000
    assert any("base 0x10000000 deducida de 2 de 2" in n for n in notes)
    assert facho_components(params, raw) == old_components(ZTE, raw)


@given(slot=st.integers(0, 20), port=st.integers(0, 15), onu=st.integers(0, 254))
def test_a_packed_formula_keeps_the_old_onu_offset(slot, port, onu):
    raw = str(0x10000000 + (slot << 16) + (port << 8) + onu)
    params, _ = convert(ZTE_PACKED, [raw])
    assert facho_components(params, raw) == old_components(ZTE_PACKED, raw)


@pytest.mark.parametrize("change, reason", [
    ({"has_dot_notation": False}, "índice de un solo número"),
    ({"step_port": 16384}, "el sistema anterior daba siempre puerto 0"),
    ({"step_slot": 0}, "ambos deben ser positivos"),
    ({"dot_is_onu_number": False}, "sin equivalente"),
    ({"calculation_mode": "otro"}, "modo de cálculo desconocido"),
])
def test_a_linear_formula_without_an_equal_decoder_is_refused_with_why(change, reason):
    with pytest.raises(Refused, match=reason):
        convert({**HUAWEI, **change}, [])


def test_a_bitshift_formula_without_masks_or_with_overlapping_ones_is_refused():
    with pytest.raises(Refused, match="sin máscara"):
        convert({**ZTE, "mask_port": None}, [])
    with pytest.raises(Refused, match="Facho no la acepta: .*se solapan"):
        convert({**ZTE, "shift_port_bits": 12}, [])
    with pytest.raises(Refused, match="no es hexadecimal"):
        convert({**ZTE, "mask_slot": "FFx"}, [])


def test_the_base_is_the_commonest_value_of_the_fixed_bits():
    fields = 0xFFFF00
    assert learned_base(["268566784.1", "268566784.2", "16777472.1", "junk"], fields) == (
        0x10000000, 2)
    assert learned_base([], fields) == (0, 0)


def test_wildcards_resolve_as_the_old_lookup_did():
    brands = {1: "🌐 Genérico", 2: "Huawei", 3: "ZTE"}
    models = {1: "Genérico", 2: "C300"}
    rows = [{**HUAWEI, "id": 10, "marca_id": None, "modelo_id": None, "activo": True},
            {**HUAWEI, "id": 11, "marca_id": 1, "modelo_id": 1, "activo": True},
            {**HUAWEI, "id": 12, "marca_id": 2, "modelo_id": 1, "activo": True},
            {**HUAWEI, "id": 13, "marca_id": 2, "modelo_id": None, "activo": True},
            {**ZTE, "id": 14, "marca_id": 3, "modelo_id": 2, "activo": True},
            {**ZTE, "id": 15, "marca_id": 3, "modelo_id": None, "activo": False}]
    refused = {}
    targets = plan_targets(rows, brands.get, models.get, ["Huawei", "ZTE", "V-SOL"],
                           lambda row, why: refused.setdefault(row["id"], why))
    got = {(t.brand, t.modelo): (t.old["id"], t.via_universal) for t in targets}
    assert got == {("Huawei", ""): (13, False),          # NULL model wins "Genérico"
                   ("ZTE", "C300"): (14, False),
                   ("ZTE", ""): (10, True),              # the inactive default is not used
                   ("V-SOL", ""): (10, True)}            # the universal, NULL brand first
    assert sorted(refused) == [11, 12, 15]
    assert "otra fórmula universal (#10)" in refused[11]
    assert "la fórmula #13 ya cubre Huawei" in refused[12]
