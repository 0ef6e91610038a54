"""Rules ``escala``, ``desplazamiento`` and ``decimales`` on a numeric value.

value × escala + desplazamiento (after the unit conversion), then rounded to ``decimales``
(half away from zero: 2.345 -> 2.35; ``decimales`` 0 gives a whole number). Huawei's
hundredths of dBm: raw -2153, escala 0.01 -> -21.53. Without ``decimales``, the arithmetic's
binary noise is dropped (12 significant digits), so -2153 × 0.01 is -21.53, not
-21.529999999999998.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from facho.inventory.values import numero
from facho.inventory.values import text as as_text

MAX_DECIMALES = 6


def as_number(value: Any, why: str) -> float | int:
    """A value the numeric rules can work on; ValueError (Spanish) naming the rule ``why``
    when it is text that is not a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        number = numero(value)
    except ValueError:
        number = None
    if number is None:
        shown = as_text(value) if isinstance(value, (bytes, bytearray)) else value
        raise ValueError(f"«{shown}» no es un número; {why} necesita un valor numérico")
    return number


def parse_number(value: Any, field: str) -> float | None:
    """``escala`` / ``desplazamiento`` as typed (``0,01`` or ``0.01``) or stored; empty -> None.
    ValueError (Spanish, naming the field) when it is not a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = numero(value)
    except ValueError:
        number = None
    if number is None:
        raise ValueError(f"{field} debe ser un número, por ejemplo 0.01 (se leyó «{value}»)")
    return number


def parse_escala(value: Any) -> float | None:
    number = parse_number(value, "escala")
    if number == 0:
        raise ValueError("escala no puede ser 0: todo valor × 0 daría 0; deje escala vacía "
                         "para no escalar")
    return number


def parse_decimales(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(str(value).strip()) if not isinstance(value, float) else int(value)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= MAX_DECIMALES:
        raise ValueError(f"decimales debe ser un número entero de 0 a {MAX_DECIMALES} "
                         f"(se leyó «{value}»)")
    return number


def clean(number: float) -> float:
    """``number`` without binary float noise (12 significant digits)."""
    return float(f"{number:.12g}") if math.isfinite(number) else number


def scale(value: float | int, escala: float | None, desplazamiento: float | None):
    """value × escala + desplazamiento (either may be None = not applied)."""
    if escala is not None:
        value = value * escala
    if desplazamiento is not None:
        value = value + desplazamiento
    return value


def round_to(value: float | int, decimales: int) -> float | int:
    """Rounded half away from zero; ``decimales`` 0 -> int."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimales), ROUND_HALF_UP)
    return int(exact) if decimales == 0 else float(exact)
