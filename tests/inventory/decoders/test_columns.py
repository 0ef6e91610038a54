"""from_columns: a field read from another column of the same row (int, bytes or text with a
regex) instead of the index; offsets apply to it as to an index number."""
from __future__ import annotations

import pytest

from facho.inventory.decoders import (HUAWEI_GPON, column_oids, decode_index, encode_index_key,
                                      validate_formula)
from tests.conftest import require
from tests.snmp_agents import RECORDINGS

PORT_OID = "1.3.6.1.4.1.41112.1.10.1.4.1.2"
ONU_OID = "1.3.6.1.4.1.41112.1.10.1.4.1.8"
SERIAL = {"kind": "string", "length": "prefixed", "chars": "ascii",
          "from_columns": {"port": {"oid": PORT_OID}, "onu": {"oid": ONU_OID}}}
WITH_REGEX = {"kind": "string", "length": "prefixed", "chars": "ascii",
              "from_columns": {"port": {"oid": PORT_OID, "regex": r"PON (\d+)"},
                               "onu": {"oid": ONU_OID, "regex": r":(\d+)$"}}}
KEY = encode_index_key("UBNT12345678", SERIAL)
PON_ONU = {"kind": "dotted", "positions": {"port": 0, "onu": 1}}


def test_int_column_values_give_port_and_onu_id_and_the_name_uses_the_onu_id():
    decoded = decode_index(KEY, SERIAL, {"port": 3, "onu": 17})
    assert (decoded.port, decoded.onu_id, decoded.key) == (3, 17, "UBNT12345678")
    assert decoded.name == "0/0/3:17"


def test_bytes_values_are_read_as_ascii_text_with_the_nul_padding_dropped():
    decoded = decode_index(KEY, SERIAL, {"port": b"3\x00\x00", "onu": b" 17 "})
    assert (decoded.port, decoded.onu_id) == (3, 17)


def test_text_values_give_group_1_of_the_regex_whether_str_or_bytes():
    decoded = decode_index(KEY, WITH_REGEX, {"port": "PON 3", "onu": b"gpon-onu_1/3:17"})
    assert (decoded.port, decoded.onu_id) == (3, 17)


def test_a_column_overrides_the_number_the_index_gives_and_offsets_apply_to_it():
    params = dict(PON_ONU, from_columns={"onu": {"oid": ONU_OID}}, onu_offset=1, port_offset=1)
    decoded = decode_index((2, 7), params, {"onu": 40, "port": 99})   # port: no column named
    assert (decoded.port, decoded.onu_id, decoded.raw) == (3, 41, "2.7")


def test_a_port_read_from_the_real_recordings_ifname_text_matches_the_port_of_the_index():
    path = RECORDINGS / "smartax.snmprec"
    require(path.is_file(), f"recording {path}")
    if_name = "1.3.6.1.2.1.31.1.1.1.1."
    params = dict(HUAWEI_GPON, from_columns={"port": {"oid": if_name.rstrip("."),
                                                      "regex": r"GPON \d+/\d+/(\d+)"}})
    checked = 0
    for line in path.read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        if oid.startswith(if_name + "41943") and "GPON" in rest:
            index = f"{oid[len(if_name):]}.0"
            value = rest.partition("|")[2].encode()   # an OCTET STRING arrives as bytes
            assert decode_index(index, params, {"port": value}) == decode_index(index,
                                                                                HUAWEI_GPON)
            checked += 1
    assert checked == 32


@pytest.mark.parametrize("columns, message", [
    (None, f"la columna de puerto \\({PORT_OID}\\) no tiene valor para el índice "
           f"'12.85.66.78"),
    ({"onu": 1}, "la columna de puerto .* no tiene valor"),
    ({"port": None, "onu": 1}, "la columna de puerto .* no tiene valor"),
    ({"port": "PON 3", "onu": 1}, "tiene 'PON 3' .*, que no es un número: indique una "
                                  "expresión en from_columns.port.regex"),
    ({"port": b"", "onu": 1}, "tiene '' .*, que no es un número"),
    ({"port": -1, "onu": 1}, "tiene -1 .*: no se admiten números negativos"),
    ({"port": 1, "onu": "1_000"}, r"la columna de ONU \(.*\) tiene '1_000'"),
])
def test_a_missing_or_unreadable_column_value_names_the_column_and_the_row(columns, message):
    with pytest.raises(ValueError, match=message):
        decode_index(KEY, SERIAL, columns)


@pytest.mark.parametrize("columns, message", [
    ({"port": "puerto 3", "onu": ":1"}, "tiene 'puerto 3' .*, que no coincide con la "
                                        "expresión «PON \\(\\\\d\\+\\)»"),
    ({"port": "PON 3", "onu": "1/3:x"}, "que no coincide"),
])
def test_a_text_value_the_regex_does_not_match_is_refused(columns, message):
    with pytest.raises(ValueError, match=message):
        decode_index(KEY, WITH_REGEX, columns)


def test_a_regex_whose_group_is_not_a_number_and_an_offset_below_zero_are_refused():
    words = dict(SERIAL, from_columns={"port": {"oid": PORT_OID, "regex": r"PON (\w+)"}})
    with pytest.raises(ValueError, match="el grupo 1 de .* dio 'x', que no es un número"):
        decode_index(KEY, words, {"port": "PON x"})
    minus = dict(SERIAL, port_offset=-1)
    with pytest.raises(ValueError, match="con port_offset -1 el puerto queda en -1; revise "
                                         "port_offset"):
        decode_index(KEY, minus, {"port": 0, "onu": 1})


def test_column_oids_lists_the_columns_to_walk_without_a_leading_dot():
    params = dict(SERIAL, from_columns={"port": {"oid": "." + PORT_OID}})
    assert column_oids(params) == {"port": PORT_OID}
    assert column_oids(SERIAL) == {"port": PORT_OID, "onu": ONU_OID}
    assert column_oids(HUAWEI_GPON) == {}


@pytest.mark.parametrize("from_columns, message", [
    ([PORT_OID], "parámetro 'from_columns': debe ser un objeto"),
    ({"serie": {"oid": PORT_OID}}, "'from_columns.serie': campo desconocido; válidos: frame, "
                                   "slot, port, onu"),
    ({"port": PORT_OID}, "'from_columns.port': debe ser un objeto con 'oid'"),
    ({"port": {"oid": PORT_OID, "regexp": "(\\d+)"}}, "'from_columns.port.regexp': no existe"),
    ({"port": {}}, "'from_columns.port.oid': OID inválido None"),
    ({"port": {"oid": "1.3.x"}}, "'from_columns.port.oid': OID inválido '1.3.x'"),
    ({"port": {"oid": PORT_OID, "regex": "(\\d+"}}, "'from_columns.port.regex': la expresión "
                                                    ".* no es válida"),
    ({"port": {"oid": PORT_OID, "regex": "\\d+"}}, "no tiene grupo; encierre el número entre "
                                                   "paréntesis"),
    ({"port": {"oid": PORT_OID, "regex": 3}}, "'from_columns.port.regex': debe ser un texto"),
])
def test_from_columns_that_cannot_work_are_refused_naming_the_key_to_fix(from_columns, message):
    with pytest.raises(ValueError, match=message):
        validate_formula(dict(SERIAL, from_columns=from_columns))


def test_a_constant_that_a_column_already_gives_is_refused_as_dead():
    with pytest.raises(ValueError, match="'port': sobra, el puerto sale de from_columns.port"):
        validate_formula(dict(SERIAL, port=1))
