"""What every index decoder shares: the result type, the record a kind registers, reading a
row index and checking integer parameters. Pure functions.

A row index is the OID suffix after a column, a tuple of sub-ids (each an unsigned 32-bit
number, 0 to 4294967295). ``facho.snmp`` walks return it as a tuple of ints; dotted text
("4194345216.14") is accepted too. Messages are Spanish: operators read them in the panel
(formula form, preview) and in execution messages.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

# The numbers a formula can decode, in the order of a name "<frame>/<slot>/<port>:<onu>".
FIELDS = ("frame", "slot", "port", "onu")
# How messages name each field (operators say "puerto", the CLI says "port").
LABELS = {"frame": "frame", "slot": "slot", "port": "puerto", "onu": "ONU"}
THE = {"frame": "el frame", "slot": "el slot", "port": "el puerto", "onu": "la ONU"}
# Parameters every kind takes (see COMMON_AYUDA); each kind adds its own.
COMMON_PARAMS = ("kind", "frame", "max_trailing", "slot_offset", "port_offset", "onu_offset",
                 "from_columns")
SUBID_MAX = 2**32 - 1   # an OID sub-id is an unsigned 32-bit number
OID_MAX_SUBIDS = 128    # RFC 2578: an OID has at most 128 sub-ids
NAME_MAX = 40           # Onu.name is VARCHAR(40)
_DOTTED = re.compile(r"\d+(\.\d+)*")

COMMON_AYUDA = (
    "Parámetros comunes (opcionales): frame (entero ≥ 0, 0 por defecto: el primer número "
    "del nombre, 1 en ZTE); max_trailing (entero ≥ 0, 0 por defecto: cuántos números extra "
    "puede agregar una columna al final del índice, p. ej. 1 para la potencia rx de ZTE "
    "…<pon>.<onu>.1; se ignoran); slot_offset, port_offset, onu_offset (enteros, 0 por "
    "defecto: se suman al número leído del índice o de una columna, p. ej. port_offset 1 "
    "cuando el índice cuenta los puertos desde 0 y la CLI desde 1); from_columns (objeto: "
    "campo slot/port/onu/frame → {\"oid\": \"columna\", \"regex\": \"opcional, el grupo 1 es "
    "el número\"}: ese campo se lee del valor de esa columna en la misma fila, en lugar del "
    "índice).")


class DecodedIndex(NamedTuple):
    """One decoded row. ``raw`` is the inventory's unique key of the ONU within its OLT."""

    frame: int
    slot: int
    port: int
    onu_id: int | None   # None when the index is a text key and no column gives the id
    name: str            # "<frame>/<slot>/<port>:<onu>" or "<frame>/<slot>/<port>:<key>"
    raw: str             # the row index as dotted text, trailing sub-ids cut
    key: str | None = None  # the text key of a ``string`` index (e.g. an ONU serial)


class Row(NamedTuple):
    """What a kind reads from an index, before offsets, columns and constants apply."""

    row: tuple[int, ...]      # the index without trailing sub-ids
    fields: dict[str, int]    # field -> number found in the index
    key: str | None = None    # text key of a string index


@dataclass(frozen=True)
class Kind:
    """One decoder kind as the registry and the formula form see it."""

    nombre: str                  # label of the form's select, e.g. "lineal (Huawei)"
    ayuda: str                   # help under the form: index shape, parameters, example
    ejemplo: Mapping[str, Any]   # params that validate, shown as the example
    params: tuple[str, ...]      # its own parameter names, besides COMMON_PARAMS
    validate: Callable[[Mapping[str, Any]], None]
    fields: Callable[[Mapping[str, Any]], frozenset[str]]  # fields the index carries
    decode: Callable[[tuple[int, ...], Mapping[str, Any]], Row]
    # fields (offsets already removed) -> index; None when the index is a text key
    encode: Callable[[Mapping[str, int], Mapping[str, Any]], tuple[int, ...]] | None
    describe: Callable[[Mapping[str, Any]], str]


def dotted(index: tuple[int, ...]) -> str:
    return ".".join(map(str, index))


def parse_index(index: tuple[int, ...] | list[int] | str) -> tuple[int, ...]:
    """The index as a tuple of sub-ids; ValueError when it is not one."""
    if isinstance(index, str):
        text = index.strip().strip(".")
        if not _DOTTED.fullmatch(text):
            raise ValueError(f"índice inválido {index!r}: use números separados por puntos")
        parts = tuple(int(p) for p in text.split("."))
    else:
        parts = tuple(index)
        if not parts or not all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
            raise ValueError(f"índice inválido {index!r}: use números separados por puntos")
    if any(p < 0 or p > SUBID_MAX for p in parts):
        raise ValueError(f"índice inválido {dotted(parts)!r}: cada número va de 0 a {SUBID_MAX}")
    return parts


def cut_row(index: tuple[int, ...], parts: int, params: Mapping[str, Any]) -> tuple[int, ...]:
    """The first ``parts`` sub-ids; the index may carry up to ``max_trailing`` more."""
    trailing = params.get("max_trailing", 0)
    if not parts <= len(index) <= parts + trailing:
        expected = f"{parts}" if not trailing else f"{parts} a {parts + trailing}"
        raise ValueError(f"índice {dotted(index)!r}: se esperaban {expected} números, "
                         f"hay {len(index)}")
    return index[:parts]


def is_int(value: Any) -> bool:
    """A JSON integer: bools are ints in Python but never a number an operator meant."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(params: Mapping[str, Any], key: str, *, minimum: int | None = 0,
              maximum: int | None = None) -> None:
    """ValueError naming ``key`` when present and not an integer in [minimum, maximum]."""
    if key not in params:
        return
    value = params[key]
    if minimum is None:
        what = "un número entero (puede ser negativo)"
    elif minimum == 0:
        what = "un número entero no negativo"
    else:
        what = f"un número entero mayor o igual que {minimum}"
    if not is_int(value) or (minimum is not None and value < minimum):
        raise ValueError(f"parámetro {key!r}: debe ser {what}, no {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"parámetro {key!r}: {value} es demasiado grande (máximo {maximum})")


def require(params: Mapping[str, Any], keys: tuple[str, ...], kind: str,
            own: tuple[str, ...]) -> None:
    """ValueError listing the missing ``keys``, and the keys the kind does not know (``own``
    are its parameters): after switching the kind in the form, both are what to fix."""
    missing = [k for k in keys if k not in params]
    if missing:
        unknown = [repr(k) for k in params if k not in COMMON_PARAMS + own]
        extra = f"; sobran {', '.join(unknown)}, que no existen en ella" if unknown else ""
        raise ValueError(f"a la fórmula {kind} le faltan parámetros: {', '.join(missing)}"
                         f"{extra}")


def refuse_constant(params: Mapping[str, Any], field: str, source: str) -> None:
    """A constant ``slot``/``port`` that the index or a column already gives would be dead:
    refuse it so the operator does not believe it is used."""
    if field in params:
        raise ValueError(f"parámetro {field!r}: sobra, {THE[field]} sale {source}; "
                         "quítelo")


def bits(mask: int, shift: int) -> str:
    """'bits 16 a 23' for a contiguous field, else the mask in hex (for messages)."""
    placed = mask << shift
    low, high = (placed & -placed).bit_length() - 1, placed.bit_length() - 1
    if placed == ((1 << (high + 1)) - (1 << low)):
        return f"bits {low} a {high}"
    return f"máscara 0x{placed:x}"
