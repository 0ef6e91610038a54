"""``bitshift`` (ZTE, FiberHome, C-Data...): fields packed in the bits of one number. Pure.

``ponIndex = base + (slot << slot_shift) + (port << port_shift)``, each field cut with its
``*_mask`` (the mask is applied after shifting down, so ``port_mask 0xFF`` is 8 bits). The
index is ``<ponIndex>.<onuId>``; with ``onu_shift``/``onu_mask`` the ONU id is packed in the
same number and the index has one part. ``frame_shift``/``frame_mask`` read the frame too
(NSCRTV's device byte). Without ``slot_shift``/``slot_mask`` the slot is the constant
parameter ``slot`` (0 by default), for schemes that number only ports (C-Data FD16xx).

Every bit outside the fields must equal ``base`` exactly: a number with other fixed bits is
another table's index (a PON port row, another card type), not an ONU of this formula.
ZTE C320: 0x10000000 + (2 << 16) + (5 << 8) = 268567808, row 268567808.17 = 1/2/5:17.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders.base import (COMMON_AYUDA, LABELS, SUBID_MAX, THE, Kind, Row,
                                           bits, check_int, cut_row, refuse_constant, require)

REQUIRED = ("base", "port_shift", "port_mask")
OPTIONAL_FIELDS = ("frame", "slot", "onu")   # each with its *_shift and *_mask, or neither
PARAMS = REQUIRED + ("slot_shift", "slot_mask", "onu_shift", "onu_mask", "frame_shift",
                     "frame_mask", "slot")
EJEMPLO: dict[str, Any] = {"kind": "bitshift", "base": 0x10000000, "slot_shift": 16,
                           "slot_mask": 0xFF, "port_shift": 8, "port_mask": 0xFF, "frame": 1,
                           "max_trailing": 1}


def packed(params: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(field, shift, mask) of every field packed in the number."""
    out = [(f, params[f"{f}_shift"], params[f"{f}_mask"]) for f in ("frame", "slot")
           if f"{f}_shift" in params]
    out.append(("port", params["port_shift"], params["port_mask"]))
    if "onu_shift" in params:
        out.append(("onu", params["onu_shift"], params["onu_mask"]))
    return out


def validate(params: Mapping[str, Any]) -> None:
    require(params, REQUIRED, "bitshift", PARAMS)
    check_int(params, "base", maximum=SUBID_MAX)
    for field in OPTIONAL_FIELDS:
        shift, mask = f"{field}_shift", f"{field}_mask"
        if (shift in params) != (mask in params):
            given, absent = (shift, mask) if shift in params else (mask, shift)
            raise ValueError(f"parámetro {absent!r}: falta, {given!r} lo necesita (indique "
                             f"{shift} y {mask}, o ninguno de los dos)")
    taken: list[tuple[str, int]] = []
    for field, _, _ in packed(params):
        # Bounded before shifting: 1 << 10**12 would eat the worker's memory.
        check_int(params, f"{field}_shift", maximum=31)
        check_int(params, f"{field}_mask", minimum=1, maximum=SUBID_MAX)
        shift, mask = params[f"{field}_shift"], params[f"{field}_mask"]
        placed = mask << shift
        if placed > SUBID_MAX:
            raise ValueError(f"parámetro '{field}_mask': el campo {LABELS[field]} "
                             f"({bits(mask, shift)}) no cabe en 32 bits")
        for other, other_bits in taken:
            if placed & other_bits:
                raise ValueError(f"parámetro '{field}_mask': {field}_mask y {other}_mask se "
                                 f"solapan (0x{placed & other_bits:x}); cada campo necesita "
                                 "sus propios bits")
        if params["base"] & placed:
            raise ValueError(f"parámetro 'base': 0x{params['base']:x} usa bits del campo "
                             f"{LABELS[field]} ({bits(mask, shift)}); esos bits deben ser 0 "
                             "en base")
        taken.append((field, placed))
    if "slot_shift" in params:
        refuse_constant(params, "slot", "del índice (slot_shift)")
    else:
        check_int(params, "slot")


def fields(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(f for f, _, _ in packed(params)) | {"onu"}


def decode(index: tuple[int, ...], params: Mapping[str, Any]) -> Row:
    with_onu = "onu_shift" in params
    row = cut_row(index, 1 if with_onu else 2, params)
    value = row[0]
    found: dict[str, int] = {}
    field_bits = 0
    for field, shift, mask in packed(params):
        found[field] = (value >> shift) & mask
        field_bits |= mask << shift
    if value & ~field_bits != params["base"]:
        what = f"índice {value}" if with_onu else f"índice PON {value}"
        raise ValueError(f"{what} (0x{value:x}) no corresponde a la fórmula por bits: fuera de "
                         f"los campos vale 0x{value & ~field_bits:x} y debería ser la base "
                         f"0x{params['base']:x}")
    if not with_onu:
        found["onu"] = row[1]
    return Row(row, found)


def encode(numbers: Mapping[str, int], params: Mapping[str, Any]) -> tuple[int, ...]:
    value = params["base"]
    for field, shift, mask in packed(params):
        if numbers[field] & ~mask:
            raise ValueError(f"{THE[field]} {numbers[field]} no cabe en la fórmula por "
                             f"bits ({field}_mask 0x{mask:x}: máximo {mask})")
        value |= numbers[field] << shift
    return (value,) if "onu_shift" in params else (value, numbers["onu"])


def describe(params: Mapping[str, Any]) -> str:
    parts = [f"({LABELS[f]} en {bits(mask, shift)})" for f, shift, mask in packed(params)]
    shape = "<número>" if "onu_shift" in params else "<ponIndex>.<onu>"
    slot = "" if "slot_shift" in params else f"; slot fijo {params.get('slot', 0)}"
    base = f"0x{params['base']:x}" if params["base"] else "0"
    return (f"por bits: índice {shape}, número = base {base} + "
            f"{' + '.join(parts)}{slot}")


KIND = Kind(
    nombre="por bits (ZTE, FiberHome, C-Data)",
    ayuda=(
        "El índice es <ponIndex>.<onu>, o un solo número si la ONU va dentro: los campos "
        "están en bits del número, número = base + (slot << slot_shift) + (puerto << "
        "port_shift) [+ (onu << onu_shift)] [+ (frame << frame_shift)]. Parámetros: base "
        "(entero ≥ 0: los bits fijos, que deben coincidir); port_shift y port_mask "
        "(obligatorios; la máscara se aplica tras desplazar, 0xFF = 8 bits); slot_shift y "
        "slot_mask, onu_shift y onu_mask, frame_shift y frame_mask (opcionales, en pares; "
        "los campos no pueden solaparse ni usar bits de base); slot (entero, 0 por defecto: "
        "el slot fijo cuando el índice no lo trae). Ejemplo ZTE C300/C320: base 0x10000000 "
        "(268435456), slot_shift 16, slot_mask 0xFF, port_shift 8, port_mask 0xFF, frame 1; "
        "la fila 268567808.17 es 1/2/5:17, porque 268567808 = 0x10020500: slot 0x02, "
        "puerto 0x05. " + COMMON_AYUDA),
    ejemplo=EJEMPLO,
    params=PARAMS,
    validate=validate,
    fields=fields,
    decode=decode,
    encode=encode,
    describe=describe,
)
