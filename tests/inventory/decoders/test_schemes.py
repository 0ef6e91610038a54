"""The vendors' index schemes, each checked on its documented worked example both ways, on
round trips over its whole number ranges, and the ZTE one on the real C320 recording."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facho.inventory.decoders import (HUAWEI_GPON, SCHEMES, SHIPPED_FORMULAS, ZTE_C300,
                                      ZTE_C320, decode_index, encode_index, encode_index_key,
                                      validate_formula)
from tests.conftest import require
from tests.snmp_agents import RECORDINGS

# scheme, (frame, slot, port, onu) as the CLI shows it, row index, name
WORKED_EXAMPLES = [
    ("huawei_gpon", (0, 5, 1, 14), (4194345216, 14), "0/5/1:14"),
    ("zte_c300_c320", (1, 2, 5, 17), (268567808, 17), "1/2/5:17"),
    ("zte_c600_c300v2", (1, 2, 5, 4), (285278725, 4), "1/2/5:4"),
    ("zte_c600_c300v2", (1, 2, 1, 3), (285278721, 3), "1/2/1:3"),
    ("fiberhome_an5516", (0, 11, 1, 1), (369623296,), "0/11/1:1"),
    ("fiberhome_an5516", (0, 18, 4, 50), (606089728,), "0/18/4:50"),
    ("vsol_v1600", (0, 0, 2, 7), (2, 7), "0/0/2:7"),
    ("cdata_fd16xx_v3", (0, 0, 3, 7), (4726791,), "0/0/3:7"),
    ("cdata_fd16xx_v3", (0, 0, 1, 1), (4718593,), "0/0/1:1"),
    ("cdata_fd17xx_v3", (0, 1, 3, 7), (21504007,), "0/1/3:7"),
    ("cdata_nscrtv", (1, 0, 11, 1), (16780033,), "1/0/11:1"),
    ("cdata_fd11xx", (0, 0, 2, 7), (2, 7), "0/0/2:7"),
]
# scheme -> ranges of (frame, slot, port, onu) its index can carry
RANGES = {
    "huawei_gpon": ((0, 0), (0, 200), (0, 31), (0, 2**32 - 1)),
    "zte_c300_c320": ((1, 1), (0, 255), (0, 255), (0, 2**32 - 1)),
    "zte_c600_c300v2": ((1, 1), (0, 255), (0, 255), (0, 2**32 - 1)),
    "fiberhome_an5516": ((0, 0), (0, 63), (0, 63), (0, 2047)),
    "vsol_v1600": ((0, 0), (0, 0), (0, 2**32 - 1), (0, 2**32 - 1)),
    "cdata_fd16xx_v3": ((0, 0), (0, 0), (1, 16), (0, 4095)),
    "cdata_fd17xx_v3": ((0, 0), (0, 255), (1, 16), (0, 4095)),
    "cdata_nscrtv": ((0, 255), (0, 255), (0, 255), (0, 255)),
    "cdata_fd11xx": ((0, 0), (0, 0), (0, 2**32 - 1), (0, 2**32 - 1)),
}


def test_the_shipped_huawei_and_zte_formulas_keep_the_values_the_recordings_decode_with():
    assert HUAWEI_GPON == {"kind": "linear", "base": 4194304000, "step_slot": 8192,
                           "step_port": 256, "frame": 0}
    assert ZTE_C320 == {"kind": "bitshift", "base": 0x10000000, "slot_shift": 16,
                        "slot_mask": 0xFF, "port_shift": 8, "port_mask": 0xFF, "frame": 1,
                        "max_trailing": 1}
    assert ZTE_C300 is ZTE_C320
    assert SCHEMES["huawei_gpon"] is HUAWEI_GPON and SCHEMES["zte_c300_c320"] is ZTE_C320


def test_every_scheme_is_valid_and_each_numeric_one_has_ranges_to_round_trip():
    for params in SCHEMES.values():
        validate_formula(params)
    assert set(RANGES) == {name for name, p in SCHEMES.items() if p["kind"] != "string"}


@pytest.mark.parametrize("scheme, numbers, index, name", WORKED_EXAMPLES)
def test_each_schemes_worked_example_encodes_and_decodes_to_the_documented_numbers(
        scheme, numbers, index, name):
    frame, slot, port, onu = numbers
    params = SCHEMES[scheme]
    assert encode_index(slot, port, onu, params, frame=frame) == index
    decoded = decode_index(index, params)
    assert (decoded.frame, decoded.slot, decoded.port, decoded.onu_id) == numbers
    assert decoded.name == name
    assert decoded.raw == ".".join(map(str, index))


def test_the_ubiquiti_like_scheme_keys_rows_by_serial_and_reads_the_port_from_its_column():
    params = SCHEMES["ubiquiti_serial"]
    index = encode_index_key("UBNT12345678", params)
    assert index == (12, 85, 66, 78, 84, 49, 50, 51, 52, 53, 54, 55, 56)
    decoded = decode_index(index, params, {"port": 3})
    assert (decoded.port, decoded.onu_id, decoded.key) == (3, None, "UBNT12345678")
    assert decoded.name == "0/0/3:UBNT12345678"


@pytest.mark.parametrize("scheme", sorted(RANGES))
@given(data=st.data())
def test_every_onu_a_scheme_can_number_round_trips(scheme, data):
    numbers = [data.draw(st.integers(low, high)) for low, high in RANGES[scheme]]
    frame, slot, port, onu = numbers
    decoded = decode_index(encode_index(slot, port, onu, SCHEMES[scheme], frame=frame),
                           SCHEMES[scheme])
    assert [decoded.frame, decoded.slot, decoded.port, decoded.onu_id] == numbers


@pytest.mark.parametrize("index, scheme, message", [
    ((285278721, 3), "zte_c300_c320", "no corresponde a la fórmula por bits"),   # index B
    ((268567808, 17), "zte_c600_c300v2", "no corresponde a la fórmula por bits"),  # index A
    ((606089733,), "fiberhome_an5516", "fuera de los campos vale 0x5"),   # the ONU's UNI port 5
    ((0x01000B01,), "cdata_fd16xx_v3", "no corresponde a la fórmula por bits"),  # NSCRTV
    ((4726791, 0, 0, 0), "cdata_fd16xx_v3", "se esperaban 1 a 3 números, hay 4"),
])
def test_an_index_of_another_scheme_or_table_is_refused_not_misread(index, scheme, message):
    with pytest.raises(ValueError, match=message):
        decode_index(index, SCHEMES[scheme])


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


SYNTHETIC = RECORDINGS / "synthetic"
RECORDING_SCHEMES = {
    "zte_c600": "zte_c600_c300v2", "fiberhome_an5516": "fiberhome_an5516",
    "vsol_v1600g": "vsol_v1600", "vsol_v1600d": "vsol_v1600", "cdata_fd16xx": "cdata_fd16xx_v3",
    "cdata_fd11xx": "cdata_fd11xx", "ubnt_string": "ubiquiti_serial",
}


def _rows(recording: str, column: str) -> list[tuple[str, str]]:
    """(index, value) of one column in a .snmprec file."""
    out = []
    for line in (SYNTHETIC / f"{recording}.snmprec").read_text().splitlines():
        oid, _, rest = line.partition("|")
        if oid.startswith(column + "."):
            out.append((oid[len(column) + 1:], rest.partition("|")[2]))
    return out


@pytest.mark.parametrize("recording", sorted(RECORDING_SCHEMES))
def test_every_row_of_each_synthetic_vendor_recording_decodes_to_its_ground_truth(recording):
    """Every column's rows (trailing sub-ids included) land on the ONUs the generator's own
    arithmetic lists, with the same name, slot, port and ONU id."""
    require((SYNTHETIC / f"{recording}.snmprec").is_file(), f"recording {recording}")
    expected = json.loads((SYNTHETIC / f"{recording}.expected.json").read_text())
    truth = {o["raw_index"]: (o["name"], o["slot"], o["port"], o["onu_id"])
             for o in expected["onus"]}
    params = SCHEMES[RECORDING_SCHEMES[recording]]
    ports = {}   # the string scheme's port column (INTEGER), by row index
    for column in params.get("from_columns", {}).values():
        ports = {index: int(value) for index, value in _rows(recording, column["oid"])}
    seen = set()
    for column in expected["columns"].values():
        rows = _rows(recording, column)
        assert rows, column
        for index, _ in rows:
            decoded = decode_index(index, params, {"port": ports.get(index)})
            assert truth[decoded.raw] == (decoded.name, decoded.slot, decoded.port,
                                          decoded.onu_id)
            seen.add(decoded.raw)
    assert seen == set(truth)


def test_shipped_formulas_are_valid_and_name_their_brand():
    assert {f["marca"] for f in SHIPPED_FORMULAS} == {"Huawei", "ZTE"}
    for spec in SHIPPED_FORMULAS:
        validate_formula(spec["params"])
