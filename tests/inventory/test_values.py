"""Formatting raw SNMP values into inventory fields (facho.inventory.values) and the shipped OID list."""
from __future__ import annotations

import pytest

from facho.inventory.values import (FORMATTERS, NUMERIC_FORMATS, RAW_NUMBER_FORMATS, apply_format,
                                   dbm_huawei, dbm_zte, distance_km, gpon_serial, integer, mac,
                                   numero, status_huawei, text)
from facho.inventory.profiles.format import full_oid_values, parse
from facho.inventory.profiles.shipped import shipped_paths


def vendor_oids() -> list[dict]:
    """Every OID of every shipped vendor profile (facho/inventory/profiles/shipped), with its
    brand under ``marca``."""
    return [dict(full_oid_values(entry), marca=profile.marca)
            for profile in (parse(path.read_bytes()) for path in shipped_paths())
            for entry in profile.oids]


def oids_for(marca: str, espacio: str) -> list[dict]:
    """The shipped OIDs of one brand feeding one space."""
    return [e for e in vendor_oids() if e["marca"] == marca and e["espacio"] == espacio]


def test_a_gpon_serial_from_8_octets_is_vendor_letters_plus_uppercase_hex():
    assert gpon_serial(b"HWTC\xa3\xb1\x79\x9d") == "HWTCA3B1799D"
    assert gpon_serial(b"ZTEG\x00\x01\xc8\x2f") == "ZTEG0001C82F"


@pytest.mark.parametrize("given", [
    "HWTCA3B1799D", "hwtca3b1799d", "HWTC-A3B1799D", " HWTCA3B1799D ", b"HWTCA3B1799D",
    "48575443A3B1799D", "0x48575443a3b1799d", "48:57:54:43:A3:B1:79:9D", b"48575443A3B1799D",
])
def test_a_gpon_serial_given_as_text_or_hex_comes_out_the_same(given):
    assert gpon_serial(given) == "HWTCA3B1799D"


def test_a_serial_whose_vendor_part_is_not_letters_is_kept_as_16_hex_digits():
    assert gpon_serial(b"\x01\x02\x03\x04\xa3\xb1\x79\x9d") == "01020304A3B1799D"


@pytest.mark.parametrize("empty", [None, b"", "", b"\x00" * 8, "  "])
def test_an_empty_or_zero_serial_means_no_value(empty):
    assert gpon_serial(empty) is None


@pytest.mark.parametrize("bad", ["HWTC12", "not a serial at all", b"\xff\xfe\x00"])
def test_a_malformed_serial_is_refused_with_a_clear_error(bad):
    with pytest.raises(ValueError, match="serial GPON inválido"):
        gpon_serial(bad)


@pytest.mark.parametrize("given", [
    b"\x00\x1a\x2b\x3c\x4d\x5e", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e",
    "001A2B3C4D5E", b"00:1a:2b:3c:4d:5e", "0x001a2b3c4d5e",
])
def test_a_mac_in_any_usual_form_normalises_to_colon_separated_uppercase(given):
    assert mac(given) == "00:1A:2B:3C:4D:5E"


def test_a_zero_or_empty_mac_means_no_value_and_a_wrong_one_is_refused():
    assert mac(b"\x00" * 6) is None and mac("") is None and mac(None) is None
    with pytest.raises(ValueError, match="MAC inválida"):
        mac("00:1a:2b:3c:4d")
    with pytest.raises(ValueError, match="MAC inválida"):
        mac("zz:1a:2b:3c:4d:5e")


def test_huawei_optical_power_is_hundredths_of_dbm_and_int32_extremes_are_no_value():
    assert dbm_huawei(-2186) == -21.86
    assert dbm_huawei(231) == 2.31
    assert dbm_huawei(2147483647) is None
    assert dbm_huawei(-2147483648) is None
    assert dbm_huawei(None) is None


def test_zte_optical_power_is_raw_times_0_002_minus_30_and_65535_is_no_value():
    assert dbm_zte(5000) == -20.0
    assert dbm_zte(6500) == -17.0
    assert dbm_zte(0) == -30.0
    assert dbm_zte(65535) is None
    assert dbm_zte(2147483647) is None


def test_distance_is_metres_to_kilometres_and_offline_markers_are_no_value():
    assert distance_km(1235) == 1.235
    assert distance_km(20000) == 20.0
    assert distance_km(0) == 0.0
    for marker in (-1, 65535, 2147483647, -2147483648, None):
        assert distance_km(marker) is None


def test_huawei_run_status_maps_to_online_and_offline():
    assert status_huawei(1) == "online"
    assert status_huawei(2) == "offline"
    assert status_huawei(-1) is None


@pytest.mark.parametrize("given, expected", [
    (-2153, -2153.0), ("-14.61", -14.61), ("-14,61", -14.61), ("\u221214,61", -14.61),
    (b" 3.5 ", 3.5), (b"-40", -40.0), ("1e3", 1000.0), (".5", 0.5), (2147483647, 2147483647.0),
])
def test_numero_reads_a_float_from_ints_octets_and_text_with_a_decimal_comma(given, expected):
    assert numero(given) == expected and isinstance(numero(given), float)
    assert apply_format("numero", given) == expected


@pytest.mark.parametrize("bad", ["-14.61 dBm", "1.234,5", "1,2,3", "nan", "inf", "abc", True,
                                 10 ** 400])
def test_numero_refuses_what_is_not_just_a_finite_number(bad):
    with pytest.raises(ValueError, match="número"):
        numero(bad)


def test_numero_has_no_sentinels_of_its_own_and_empty_is_no_value():
    assert numero(None) is None and numero("") is None and numero(b"\x00 ") is None
    assert set(RAW_NUMBER_FORMATS) <= set(NUMERIC_FORMATS) <= set(FORMATTERS)


def test_text_decodes_bytes_and_drops_nuls_and_blanks():
    assert text(b"cliente-00001\x00\x00 ") == "cliente-00001"
    assert text("Peña".encode("latin-1")) == "Peña"  # older firmware sends Latin-1
    assert text("Peña".encode("utf-8")) == "Peña"
    assert text(b"\x00") is None
    assert integer(b"") is None and integer(42) == 42 and integer(2147483647) is None


def test_apply_format_uses_the_named_rule_and_refuses_unknown_names():
    assert apply_format("gpon_serial", b"HWTC\xa3\xb1\x79\x9d") == "HWTCA3B1799D"
    assert apply_format("dbm_zte", 5000) == -20.0
    with pytest.raises(ValueError, match="formato desconocido 'dbm_marte'"):
        apply_format("dbm_marte", 1)


def test_every_shipped_vendor_oid_names_a_known_format_and_space():
    from facho.models import ESPACIOS

    shipped = vendor_oids()
    assert len({e["nombre"] for e in shipped}) == len(shipped)
    for entry in shipped:
        assert entry["formato"] in FORMATTERS, entry
        assert entry["espacio"] in ESPACIOS, entry
        assert all(part.isdigit() for part in entry["oid"].split(".")), entry
    assert oids_for("Huawei", "rx_power")[0]["oid"] == "1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4"
    assert oids_for("ZTE", "distancia_onu")[0]["oid"] == "1.3.6.1.4.1.3902.1012.3.11.4.1.2"
