"""A value rule per OID: how the raw SNMP value becomes what the inventory stores.

Operators configure it in the panel (or a vendor profile file), without Python. The steps
always run in this order; each one is optional except the format:

1. **raw**: nothing from the device (no row) -> *missing*.
2. **text form**, only when a regular expression is set: bytes decode as in
   ``facho.inventory.values.text`` (UTF-8, else Latin-1; NULs and blanks dropped), numbers
   become their digits. Empty text -> *missing*.
3. **regex** (``value_rules.regex``): searched in that text; the value is group 1 when the
   expression has one, else the whole match. No match -> *invalid*, with the reason.
4. **sin_valor** (``value_rules.no_value``): compared with the value as it is now (after the
   regex, before any conversion), numerically when both are numbers, else as trimmed text.
   A match -> *missing* (stored empty, never 0).
5. **formato** (``facho.inventory.values.FORMATTERS``: ``text``, ``int``, ``numero``,
   ``gpon_serial``, ``mac``, ``dbm_huawei``, ``dbm_zte``, ``distance_km``,
   ``status_huawei``). A value the format refuses -> *invalid*; a format's own "no value"
   (an empty text, ``int``'s 2147483647...) -> *missing*.
6. **unidad** (``value_rules.units``): ``mw`` / ``uw`` / ``decimas_uw`` -> dBm. A power of 0 or
   less -> *invalid*.
7. **escala** and **desplazamiento** (``value_rules.scale``): value × escala + desplazamiento.
8. **decimales**: rounded (half away from zero). Without it, steps 6-7 only drop the binary
   noise of the arithmetic (12 significant digits).
9. **etiquetas** (``value_rules.labels``): the value's text looked up in the map; a value the
   map lacks is stored as its own text, and the outcome says "sin etiqueta".

Steps 6-8 work on numbers; a text value that is a number (``"-14,61"``) is read as one,
other text -> *invalid*. With none of regex, sin_valor, unidad, escala, desplazamiento,
decimales, etiquetas set, the result is exactly ``apply_format(formato, raw)``.

``ValueRule.apply`` never raises: a rule that cannot work on a value (even a regex that does
not compile, in a rule built without ``from_dict``) gives *invalid* with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, NamedTuple

from facho.inventory.value_rules import labels, no_value, regex, scale, units
from facho.inventory.values import FORMATTERS, apply_format
from facho.inventory.values import text as as_text

VALUE, MISSING, INVALID = "value", "missing", "invalid"
SIN_ETIQUETA = "sin etiqueta"
# The Oid columns a rule is made of, in the order of the steps above.
RULE_FIELDS = ("regex", "sin_valor", "formato", "unidad", "escala", "desplazamiento",
               "decimales", "etiquetas")
_SHOWN_MAX = 60


class Outcome(NamedTuple):
    """What a rule made of one raw value.

    ``state``: ``value``, ``missing`` (the device gave nothing, or a "no value" marker) or
    ``invalid`` (a rule refused it). ``reason``: Spanish, for the operator: why it is invalid
    or missing, or, with state ``value``, that the value has no label (``sin_etiqueta``).
    ``matched``: what the regular expression took (group 1, else the whole match), for the
    panel's preview; None without a regex or when it found nothing."""

    value: Any
    state: str
    reason: str | None = None
    matched: str | None = None

    @property
    def sin_etiqueta(self) -> bool:
        """A value ``etiquetas`` has no label for (stored as its own text)."""
        return self.state == VALUE and self.reason is not None


class RuleError(ValueError):
    """A rule's fields that cannot work; ``errors`` is field -> Spanish message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


def shown(value: Any) -> str:
    """A raw value as the operator reads it in a reason (bytes as text, or hex if binary)."""
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if all(32 <= b < 127 or b >= 160 for b in raw):
            value = as_text(raw) or ""
        else:
            value = "0x" + raw.hex()
    elif isinstance(value, float):
        value = units.shown(value)
    value = str(value)
    return value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX - 1] + "…"


def _normalize(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the rule's fields, ready for ``ValueRule``, errors by field)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}

    formato = fields.get("formato")
    formato = str(formato).strip() if formato is not None else ""
    clean["formato"] = formato = formato or "text"
    if formato not in FORMATTERS:
        errors["formato"] = (f"formato desconocido «{formato}»; válidos: "
                             f"{', '.join(sorted(FORMATTERS))}")

    pattern = fields.get("regex")
    pattern = None if pattern is None or not str(pattern).strip() else str(pattern)
    clean["regex"] = pattern
    if pattern is not None:
        error = regex.check(pattern)
        if error:
            errors["regex"] = error

    unidad = fields.get("unidad")
    clean["unidad"] = unidad = str(unidad).strip() if unidad is not None else ""
    error = units.check(unidad, formato)
    if error:
        errors["unidad"] = error

    parsers = {"sin_valor": no_value.parse, "escala": scale.parse_escala,
               "desplazamiento": lambda v: scale.parse_number(v, "desplazamiento"),
               "decimales": scale.parse_decimales, "etiquetas": labels.parse}
    for field, parse in parsers.items():
        try:
            clean[field] = parse(fields.get(field))
        except ValueError as exc:
            errors[field] = str(exc)
    return clean, errors


def validate_rule(fields: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> Spanish error, for the panel form and profile imports; ``{}`` = valid.

    ``fields`` holds the rule's fields as typed in the form (text: ``"0,01"``,
    ``'{"1": "en línea"}'``) or as stored (float, dict); missing keys take the defaults
    (``formato`` ``text``, everything else unset). Other keys are ignored."""
    return _normalize(fields)[1]


@dataclass(frozen=True)
class ValueRule:
    """One OID's value rule. Build it with ``from_oid`` / ``from_dict`` (they validate);
    ``apply`` turns a raw value into an ``Outcome``."""

    formato: str = "text"
    regex: str | None = None
    sin_valor: tuple[str, ...] = ()
    unidad: str = ""
    escala: float | None = None
    desplazamiento: float | None = None
    decimales: int | None = None
    etiquetas: dict[str, str] | None = None

    def __post_init__(self):
        if not isinstance(self.sin_valor, tuple):     # "0, 65535" or a list
            object.__setattr__(self, "sin_valor", no_value.parse(self.sin_valor))

    def __hash__(self):
        return hash((self.formato, self.regex, self.sin_valor, self.unidad, self.escala,
                     self.desplazamiento, self.decimales,
                     tuple(sorted((self.etiquetas or {}).items()))))

    @classmethod
    def from_dict(cls, fields: Mapping[str, Any]) -> "ValueRule":
        """From the rule's fields as a vendor profile or the panel form gives them (see
        ``validate_rule``). RuleError (a ValueError, Spanish) when ``validate_rule`` finds
        errors."""
        clean, errors = _normalize(fields)
        if errors:
            raise RuleError(errors)
        return cls(**clean)

    @classmethod
    def from_oid(cls, oid: Any) -> "ValueRule":
        """From an ``Oid`` row (or any object with those attributes; missing or None
        attributes are unset). RuleError like ``from_dict``."""
        return cls.from_dict({field: getattr(oid, field, None) for field in RULE_FIELDS})

    @property
    def plain(self) -> bool:
        """Only ``formato`` is set: ``apply`` is ``apply_format``."""
        return not (self.regex or self.sin_valor or self.unidad or self.escala is not None
                    or self.desplazamiento is not None or self.decimales is not None
                    or self.etiquetas)

    @cached_property
    def _no_value(self) -> no_value.NoValue:
        return no_value.NoValue(self.sin_valor)

    def apply(self, raw: Any) -> Outcome:
        """The value to store for ``raw`` (see the module docstring for the steps)."""
        if raw is None:
            return Outcome(None, MISSING, "el equipo no dio valor")
        value, matched = raw, None
        if self.regex is not None:
            source = as_text(raw)
            if source is None:
                return Outcome(None, MISSING, "el equipo dio un texto vacío")
            try:
                value = matched = regex.extract(self.regex, source)
            except ValueError as exc:
                return Outcome(None, INVALID, str(exc))
        if self.sin_valor and self._no_value.matches(value):
            return Outcome(None, MISSING, f"«{shown(value)}» está en sin valor", matched)
        try:
            formatted = apply_format(self.formato, value)
        except (ValueError, TypeError, ArithmeticError) as exc:
            if self.formato not in FORMATTERS:
                return Outcome(None, INVALID, str(exc), matched)
            return Outcome(None, INVALID,
                           f"el formato «{self.formato}» no acepta «{shown(value)}»", matched)
        if formatted is None:
            return Outcome(None, MISSING, f"el formato «{self.formato}» lo da como sin valor",
                           matched)
        try:
            value = self._numeric(formatted)
        except (ValueError, ArithmeticError) as exc:
            return Outcome(None, INVALID, str(exc), matched)
        if self.etiquetas:
            text, found = labels.label(value, self.etiquetas)
            if not found:
                return Outcome(text, VALUE, f"{SIN_ETIQUETA}: «{text}» no está en etiquetas",
                               matched)
            value = text
        return Outcome(value, VALUE, None, matched)

    def _numeric(self, value: Any) -> Any:
        """Steps 6-8: unidad, escala/desplazamiento, decimales."""
        arithmetic = False
        if self.unidad:
            value = units.to_dbm(scale.as_number(value, "la unidad"), self.unidad)
            arithmetic = True
        if self.escala is not None or self.desplazamiento is not None:
            value = scale.scale(scale.as_number(value, "escala/desplazamiento"),
                                self.escala, self.desplazamiento)
            arithmetic = True
        if self.decimales is not None:
            value = scale.round_to(scale.as_number(value, "decimales"), self.decimales)
        elif arithmetic and isinstance(value, float):
            value = scale.clean(value)
        return value
