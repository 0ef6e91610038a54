"""``dotted``: the index already holds the numbers, one per sub-id. Pure functions.

``positions`` maps ``port`` and ``onu`` (and optionally ``slot`` and ``frame``) to their
position in the index, 0 = first sub-id. V-SOL V1600G/V1600D and C-Data FD11xx key ONU rows
``{pon}.{onu}`` (positions port 0, onu 1; no slot: the constant ``slot`` parameter, 0 by
default), so row 2.7 is 0/0/2:7. Sub-ids at positions no field names are part of the row
(``raw``) but not of the name.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders.base import (COMMON_AYUDA, FIELDS, LABELS, OID_MAX_SUBIDS, Kind,
                                           Row, check_int, cut_row, is_int, refuse_constant,
                                           require)

PARAMS = ("positions", "slot")
EJEMPLO: dict[str, Any] = {"kind": "dotted", "positions": {"port": 0, "onu": 1}, "frame": 0}
_SHAPE = '{"slot": 0, "port": 1, "onu": 2}'


def validate(params: Mapping[str, Any]) -> None:
    require(params, ("positions",), "dotted", PARAMS)
    positions = params["positions"]
    if not isinstance(positions, Mapping):
        raise ValueError(f"parámetro 'positions': use un objeto como {_SHAPE}")
    for field, position in positions.items():
        if field not in FIELDS:
            raise ValueError(f"parámetro 'positions': campo desconocido {field!r}; válidos: "
                             f"{', '.join(FIELDS)}")
        if not is_int(position) or not 0 <= position < OID_MAX_SUBIDS:
            raise ValueError(f"parámetro 'positions': la posición de {field} debe ser un "
                             f"entero de 0 a {OID_MAX_SUBIDS - 1} (0 = primer número), no "
                             f"{position!r}")
    missing = [f for f in ("port", "onu") if f not in positions]
    if missing:
        raise ValueError("positions debe indicar slot, port y onu; falta: "
                         f"{', '.join(missing)} (el slot puede omitirse: vale el parámetro "
                         "'slot', 0 por defecto)")
    seen: dict[int, str] = {}
    for field, position in positions.items():
        if position in seen:
            raise ValueError(f"parámetro 'positions': {seen[position]} y {field} usan la misma "
                             f"posición {position}")
        seen[position] = field
    if "slot" in positions:
        refuse_constant(params, "slot", "del índice (positions.slot)")
    else:
        check_int(params, "slot")


def fields(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(params["positions"])


def _length(params: Mapping[str, Any]) -> int:
    return max(params["positions"].values()) + 1


def decode(index: tuple[int, ...], params: Mapping[str, Any]) -> Row:
    row = cut_row(index, _length(params), params)
    return Row(row, {field: row[position] for field, position in params["positions"].items()})


def encode(numbers: Mapping[str, int], params: Mapping[str, Any]) -> tuple[int, ...]:
    out = [0] * _length(params)   # positions no field names are sent as 0
    for field, position in params["positions"].items():
        out[position] = numbers[field]
    return tuple(out)


def describe(params: Mapping[str, Any]) -> str:
    slots = ["?"] * _length(params)
    for field, position in params["positions"].items():
        slots[position] = f"<{LABELS[field]}>"
    slot = "" if "slot" in params["positions"] else f"; slot fijo {params.get('slot', 0)}"
    return f"con puntos: índice {'.'.join(slots)}{slot}"


KIND = Kind(
    nombre="con puntos (V-SOL, C-Data FD11xx)",
    ayuda=(
        "El índice ya trae los números, uno por posición: <puerto>.<onu>, "
        "<slot>.<puerto>.<onu>... Parámetros: positions (objeto campo → posición, 0 = primer "
        "número; port y onu obligatorios, slot y frame opcionales; dos campos no pueden "
        "compartir posición); slot (entero, 0 por defecto: el slot fijo cuando positions no "
        "lo indica). Ejemplo V-SOL V1600G: positions {\"port\": 0, \"onu\": 1}; la fila 2.7 "
        "es la ONU 7 del PON 2, nombre 0/0/2:7. " + COMMON_AYUDA),
    ejemplo=EJEMPLO,
    params=PARAMS,
    validate=validate,
    fields=fields,
    decode=decode,
    encode=encode,
    describe=describe,
)
