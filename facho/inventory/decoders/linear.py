"""``linear`` (Huawei): index ``<ponIndex>.<onuId>`` with
``ponIndex = base + slot * step_slot + port * step_port``. Pure functions.

Huawei MA5600T/MA5800 number a GPON port's ifIndex 4194304000 + slot * 8192 + port * 256
and key ONT rows ``{ifIndex}.{ontId}``: 0/5/1 ONT 14 is row 4194345216.14. The larger step
is the major field: decoding divides by it first, so a vendor with the port as the major
field (step_port > step_slot) decodes too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders.base import (COMMON_AYUDA, SUBID_MAX, Kind, Row, check_int,
                                           cut_row, is_int, require)

PARAMS = ("base", "step_slot", "step_port")
EJEMPLO: dict[str, Any] = {"kind": "linear", "base": 4194304000, "step_slot": 8192,
                           "step_port": 256, "frame": 0}


def validate(params: Mapping[str, Any]) -> None:
    require(params, PARAMS, "linear", PARAMS)
    check_int(params, "base", maximum=SUBID_MAX)
    for key in ("step_slot", "step_port"):
        value = params[key]
        if not is_int(value) or value <= 0:
            raise ValueError(f"parámetro {key!r}: debe ser un número entero positivo, no "
                             f"{value!r} (step_slot y step_port deben ser positivos)")
        check_int(params, key, maximum=SUBID_MAX)
    if params["step_slot"] == params["step_port"]:
        raise ValueError("step_slot y step_port no pueden ser iguales: slot y puerto se "
                         "confundirían (Huawei: step_slot 8192, step_port 256)")


def fields(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset({"slot", "port", "onu"})


def _order(params: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(field, step), the major field (largest step) first."""
    steps = [("slot", params["step_slot"]), ("port", params["step_port"])]
    return sorted(steps, key=lambda item: -item[1])


def decode(index: tuple[int, ...], params: Mapping[str, Any]) -> Row:
    pon, onu = row = cut_row(index, 2, params)
    rest = pon - params["base"]
    found: dict[str, int] = {"onu": onu}
    leftover = rest
    for field, step in _order(params):
        found[field], leftover = divmod(leftover, step)
    if rest < 0 or leftover:
        raise ValueError(f"índice PON {pon} no corresponde a la fórmula lineal "
                         f"(base {params['base']}, paso slot {params['step_slot']}, "
                         f"paso puerto {params['step_port']})")
    return Row(row, found)


def encode(numbers: Mapping[str, int], params: Mapping[str, Any]) -> tuple[int, ...]:
    (major, big), (minor, small) = _order(params)
    # The minor field must stay below one step of the major one, else it would carry into it.
    if numbers[minor] * small >= big:
        top = (big - 1) // small
        raise ValueError(f"el {'puerto' if minor == 'port' else 'slot'} {numbers[minor]} no "
                         f"cabe en la fórmula lineal: con pasos {big} y {small} va de 0 a {top}")
    pon = params["base"] + numbers["slot"] * params["step_slot"] \
        + numbers["port"] * params["step_port"]
    if pon > SUBID_MAX:
        raise ValueError(f"slot {numbers['slot']} y puerto {numbers['port']} dan el índice "
                         f"PON {pon}, mayor que {SUBID_MAX}")
    return (pon, numbers["onu"])


def describe(params: Mapping[str, Any]) -> str:
    return (f"lineal: índice <ponIndex>.<onu> con ponIndex = {params['base']} + slot × "
            f"{params['step_slot']} + puerto × {params['step_port']}")


KIND = Kind(
    nombre="lineal (Huawei)",
    ayuda=(
        "El índice de la fila es <ponIndex>.<onu>, con ponIndex = base + slot × step_slot + "
        "puerto × step_port. Parámetros: base (entero ≥ 0), step_slot y step_port (enteros "
        "> 0 y distintos; el mayor es el campo principal). Ejemplo Huawei MA5600T/MA5800: "
        "base 4194304000, step_slot 8192, step_port 256; la fila 4194345216.14 es la ONT 14 "
        "de 0/5/1, porque 4194345216 − 4194304000 = 41216 = 5 × 8192 + 1 × 256. "
        + COMMON_AYUDA),
    ejemplo=EJEMPLO,
    params=PARAMS,
    validate=validate,
    fields=fields,
    decode=decode,
    encode=encode,
    describe=describe,
)
