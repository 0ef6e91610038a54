"""``string``: the row index IS the key, a text encoded one character (or byte) per sub-id.
Pure functions.

Tables keyed by the ONU serial (Ubiquiti UFiber-like firmware, some EPON MIBs keyed by MAC)
carry no slot/port/ONU numbers in the index: those come from other columns of the row
(``from_columns``) or from the constant ``slot``/``port`` parameters (0 by default); the
ONU id is None unless a column gives it, and the name ends in the key instead.

``length``: ``"prefixed"`` (the first sub-id is the number of characters, as SNMP encodes a
variable-length OCTET STRING index: "UBNT12345678" is ``12.85.66.78.84.49.…``) or an int
(a fixed number of sub-ids, no count: an 8-byte GPON serial). ``chars``: ``"ascii"`` (each
sub-id a printable ASCII code, 32 to 126) or ``"hex"`` (each sub-id a byte, 0 to 255; the
key is the bytes in uppercase hex, e.g. "48575443A1B2C3D4").
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders.base import (COMMON_AYUDA, OID_MAX_SUBIDS, Kind, Row, check_int,
                                           cut_row, dotted, is_int, require)

PARAMS = ("length", "chars", "slot", "port")
LENGTHS = "prefixed"
CHARS = ("ascii", "hex")
PRINTABLE = range(32, 127)
EJEMPLO: dict[str, Any] = {
    "kind": "string", "length": "prefixed", "chars": "ascii", "frame": 0,
    "from_columns": {"port": {"oid": "1.3.6.1.4.1.41112.1.10.1.4.1.2"}},
}


def validate(params: Mapping[str, Any]) -> None:
    require(params, ("length", "chars"), "string", PARAMS)
    length = params["length"]
    if length != LENGTHS and not (is_int(length) and 1 <= length < OID_MAX_SUBIDS):
        raise ValueError(f"parámetro 'length': use \"prefixed\" (el primer número es la "
                         f"cantidad de caracteres) o un entero de 1 a {OID_MAX_SUBIDS - 1}, "
                         f"no {length!r}")
    if params["chars"] not in CHARS:
        raise ValueError(f"parámetro 'chars': use \"ascii\" (un carácter por número) o "
                         f"\"hex\" (un byte por número), no {params['chars']!r}")
    check_int(params, "slot")
    check_int(params, "port")


def fields(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset()


def decode(index: tuple[int, ...], params: Mapping[str, Any]) -> Row:
    length = params["length"]
    if length == LENGTHS:
        count, trailing = index[0], params.get("max_trailing", 0)
        if count == 0:
            raise ValueError(f"índice {dotted(index)!r}: el primer número (la cantidad de "
                             "caracteres) es 0, no hay clave")
        after = len(index) - 1
        if not count <= after <= count + trailing:
            extra = f" (más hasta {trailing} de max_trailing)" if trailing else ""
            raise ValueError(f"índice {dotted(index)!r}: el primer número dice {count} "
                             f"caracteres{extra} pero le siguen {after} números")
        row, chars = index[:count + 1], index[1:count + 1]
    else:
        row = chars = cut_row(index, length, params)
    return Row(row, {}, _key(chars, params["chars"], index))


def _key(chars: tuple[int, ...], kind: str, index: tuple[int, ...]) -> str:
    if kind == "hex":
        for position, byte in enumerate(chars, 1):
            if byte > 255:
                raise ValueError(f"índice {dotted(index)!r}: el número {byte} (byte "
                                 f"{position}) no es un byte (0 a 255)")
        return bytes(chars).hex().upper()
    for position, code in enumerate(chars, 1):
        if code not in PRINTABLE:
            raise ValueError(f"índice {dotted(index)!r}: el número {code} (carácter "
                             f"{position}) no es un carácter ASCII imprimible (32 a 126)")
    return "".join(map(chr, chars))


def encode_key(key: str, params: Mapping[str, Any]) -> tuple[int, ...]:
    """The row index of the text ``key`` (inverse of decode, for simulators and tests)."""
    if params["chars"] == "hex":
        try:
            codes = tuple(bytes.fromhex(key))
        except ValueError:
            raise ValueError(f"clave {key!r}: no es hexadecimal (dos cifras 0-9A-F por "
                             "byte)") from None
    else:
        codes = tuple(map(ord, key))
        bad = [c for c in key if ord(c) not in PRINTABLE]
        if bad:
            raise ValueError(f"clave {key!r}: {bad[0]!r} no es un carácter ASCII imprimible")
    if not codes:
        raise ValueError("clave vacía: una fila necesita al menos un carácter")
    if params["length"] == LENGTHS:
        return (len(codes),) + codes
    if len(codes) != params["length"]:
        raise ValueError(f"clave {key!r}: tiene {len(codes)} números y la fórmula pide "
                         f"{params['length']} (length)")
    return codes


def describe(params: Mapping[str, Any]) -> str:
    length = ("con la cantidad de caracteres como primer número" if params["length"] == LENGTHS
              else f"de {params['length']} números")
    chars = "un carácter ASCII por número" if params["chars"] == "ascii" else \
        "un byte por número, clave en hexadecimal"
    return f"texto: el índice es la clave, {length}, {chars}"


KIND = Kind(
    nombre="texto (serie o MAC en el índice)",
    ayuda=(
        "El índice es la clave misma (p. ej. el número de serie de la ONU), un carácter o "
        "byte por número; slot, puerto y número de ONU salen de otras columnas de la fila "
        "(from_columns) o de constantes. Parámetros: length (\"prefixed\": el primer número "
        "es la cantidad de caracteres; o un entero: cantidad fija de números); chars "
        "(\"ascii\": cada número es un carácter imprimible, 32 a 126; \"hex\": cada número es "
        "un byte y la clave se muestra en hexadecimal); slot y port (enteros, 0 por defecto, "
        "cuando ninguna columna los da). Ejemplo: length \"prefixed\", chars \"ascii\" y el "
        "puerto desde la columna 1.3.6.1.4.1.41112.1.10.1.4.1.2 (from_columns); la fila "
        "12.85.66.78.84.49.50.51.52.53.54.55.56 es la clave UBNT12345678 (12 caracteres: "
        "85 = U, 66 = B, 78 = N, 84 = T...), y si esa columna vale 3 en la fila el nombre es "
        "0/0/3:UBNT12345678 (si la columna trae texto como \"PON 3\", agregue \"regex\": "
        "\"(\\d+)\"). " + COMMON_AYUDA),
    ejemplo=EJEMPLO,
    params=PARAMS,
    validate=validate,
    fields=fields,
    decode=decode,
    encode=None,
    describe=describe,
)
