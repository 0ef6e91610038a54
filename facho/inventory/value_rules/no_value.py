"""Rule ``sin_valor``: raw values that mean "the device has no value", stored as empty (None),
never as 0.

Written as comma-separated text, e.g. ``0, -40, 65535, 2147483647``. A raw value (after the
regular expression, before any conversion) matches an item numerically when both are numbers
(``-40`` matches ``-40``, ``-40.00`` and ``b"-40"``), else as trimmed text (``N/A``).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from facho.inventory.values import text as as_text

MAX_LENGTH = 255  # Oid.sin_valor column


def parse(value: Any) -> tuple[str, ...]:
    """The items of ``sin_valor`` (text ``"0, 65535"`` or a list ``[0, "65535"]``; None or
    empty -> ``()``). ValueError (Spanish) on an empty item between commas."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        if any(item is None or isinstance(item, (dict, list, tuple)) for item in value):
            raise ValueError("sin valor debe ser una lista de valores separados por comas, "
                             "por ejemplo 0, -40, 65535")
        items = [str(item).strip() for item in value]
    else:
        joined = str(value).strip()
        if not joined:
            return ()
        if len(joined) > MAX_LENGTH:
            raise ValueError(f"sin valor es demasiado largo ({len(joined)} caracteres; "
                             f"máximo {MAX_LENGTH})")
        items = [item.strip() for item in joined.split(",")]
        if items and not items[-1]:
            items.pop()          # a trailing comma is harmless
    for position, item in enumerate(items, 1):
        if not item:
            raise ValueError(f"sin valor: el elemento {position} está vacío; separe los valores "
                             "con una coma, por ejemplo 0, -40, 65535")
    return tuple(items)


def joined(items: Iterable[str]) -> str:
    """The items as the text the ``Oid.sin_valor`` column stores: ``"0, 65535"``."""
    return ", ".join(items)


def _number(value: Any) -> Decimal | None:
    """``value`` as an exact number when it is one (int, float, or numeric text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    elif isinstance(value, (bytes, bytearray)):
        value = as_text(value)
    if not isinstance(value, str):
        return None
    cleaned = value.strip().replace("\u2212", "-")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        return as_text(value)
    return None if value is None else str(value).strip()


class NoValue:
    """The compiled ``sin_valor`` items: ``NoValue(("0", "65535")).matches(65535)``."""

    def __init__(self, items: Iterable[str]):
        self.items = tuple(items)
        self.numbers = frozenset(n for n in map(_number, self.items) if n is not None)
        self.texts = frozenset(item for item in self.items if _number(item) is None)

    def matches(self, value: Any) -> bool:
        if not self.items or value is None:
            return False
        number = _number(value)
        if number is not None:
            return number in self.numbers
        return _text(value) in self.texts
