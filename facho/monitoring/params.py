"""Rule parameters: what each kind takes, its range, its default; validation with Spanish
messages per field (panel and any later API call the same function). Pure."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    name: str
    label: str           # Spanish, shown in the form
    default: float | int | str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()  # a text parameter: one of these
    integer: bool = True
    unit: str = ""

    def help(self) -> str:
        if self.choices:
            return "valores: " + ", ".join(str(c) for c in self.choices)
        return f"entre {self.low:g} y {self.high:g}{' ' + self.unit if self.unit else ''}"


# Every kind takes these: how long a condition must stay clear before its incident resolves
# by itself, and how soon a re-opening counts as flapping (re-opened, not notified again).
COMMON = (
    Param("espera_resolver_min", "Espera para resolver (min)", 5, 0, 1440, unit="min"),
    Param("enfriamiento_min", "Enfriamiento contra oscilación (min)", 30, 0, 1440,
          unit="min"),
)


def validate(specs, raw: dict) -> tuple[dict, dict]:
    """(clean values, {param name: Spanish message}) for `raw` (form strings or numbers);
    a missing value takes its default."""
    clean, errors = {}, {}
    for spec in tuple(specs) + COMMON:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            clean[spec.name] = spec.default
            continue
        if spec.choices:
            text = str(value).strip()
            if text not in [str(c) for c in spec.choices]:
                errors[spec.name] = f"{spec.label}: valor no válido ({spec.help()})."
            else:
                clean[spec.name] = type(spec.default)(text)
            continue
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            errors[spec.name] = f"{spec.label}: '{value}' no es un número."
            continue
        if spec.integer and number != int(number):
            errors[spec.name] = f"{spec.label}: debe ser un número entero."
            continue
        if not spec.low <= number <= spec.high:
            errors[spec.name] = f"{spec.label}: {number:g} fuera de rango ({spec.help()})."
            continue
        clean[spec.name] = int(number) if spec.integer else number
    return clean, errors


def with_defaults(specs, stored: dict | None) -> dict:
    """A stored rule's parameters with defaults for anything missing (a rule saved before
    a parameter existed keeps working)."""
    values = {spec.name: spec.default for spec in tuple(specs) + COMMON}
    values.update(stored or {})
    return values
