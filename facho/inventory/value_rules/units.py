"""Rule ``unidad``: the unit the device gives an optical power in, converted to dBm.

* ``""``: no conversion.
* ``mw``: milliwatts, dBm = 10·log10(mW) (0.03 mW -> -15.23 dBm).
* ``uw``: microwatts, dBm = 10·log10(µW) - 30 (30 µW -> -15.23 dBm).
* ``decimas_uw``: tenths of a microwatt, dBm = 10·log10(raw) - 40 (C-Data FD11xx: raw 50 ->
  -23.01 dBm).

A power of 0 or less has no dBm: the value is refused with a reason, never stored as 0.
The unit needs the raw number, so only the formats ``numero`` and ``int`` take one.
"""
from __future__ import annotations

import math

from facho.inventory.values import RAW_NUMBER_FORMATS
from facho.models import VALUE_UNITS

# unit -> (its name for the operator, dBm offset after 10·log10)
UNITS = {
    "mw": ("mW", 0.0),
    "uw": ("µW", -30.0),
    "decimas_uw": ("décimas de µW", -40.0),
}
assert set(UNITS) == set(VALUE_UNITS) - {""}


def shown(number: float) -> str:
    """A number as the operator reads it: ``0``, ``-3``, ``0.25``."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return str(number)


def check(unidad: str, formato: str) -> str | None:
    """The Spanish error for the form, or None."""
    if unidad not in VALUE_UNITS:
        valid = ", ".join(u or "(ninguna)" for u in VALUE_UNITS)
        return f"unidad desconocida «{unidad}»; válidas: {valid}"
    if unidad and formato not in RAW_NUMBER_FORMATS:
        return (f"la unidad «{unidad}» convierte el número crudo de la OLT: elija el formato "
                f"{' o '.join(RAW_NUMBER_FORMATS)} (el formato «{formato}» no da ese número)")
    return None


def to_dbm(value: float, unidad: str) -> float:
    """The power in dBm; ValueError (Spanish) for a power of 0 or less or an unknown unit."""
    if not unidad:
        return value
    try:
        name, offset = UNITS[unidad]
    except KeyError:
        raise ValueError(f"unidad desconocida «{unidad}»") from None
    if value <= 0:
        raise ValueError(f"potencia no positiva {shown(value)} {name}")
    return 10 * math.log10(value) + offset
