"""marshmallow fields and validators that speak Spanish (API parameters and bodies).

marshmallow's own messages are English; a client of this API reads Spanish, naming the
field (the problem details' `errores`), so every field used by the API comes from here.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from marshmallow import validate

REQUIRED = "Falta este dato obligatorio."
NOT_NULL = "No puede ser nulo."
_BASE = {"required": REQUIRED, "null": NOT_NULL, "validator_failed": "Valor inválido."}
NOT_INTEGER = "No es un número entero."
NOT_NUMBER = "No es un número."
NOT_TEXT = "No es un texto."
NOT_BOOLEAN = "No es un valor lógico (use true o false)."
NOT_INSTANT = "No es una fecha y hora ISO 8601."


class Int(ma.fields.Integer):
    default_error_messages = dict(_BASE, invalid=NOT_INTEGER,
                                  too_large="Número demasiado grande.")


class Float(ma.fields.Float):
    default_error_messages = dict(_BASE, invalid=NOT_NUMBER,
                                  too_large="Número demasiado grande.",
                                  special="No se admiten NaN ni infinito.")

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_nan", False)
        super().__init__(**kwargs)


class Str(ma.fields.String):
    """Text without control characters (PostgreSQL refuses NUL; none belongs in a filter)."""

    default_error_messages = dict(_BASE, invalid=NOT_TEXT,
                                  invalid_utf8="No es texto UTF-8 válido.",
                                  control="No puede contener caracteres de control.")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise self.make_error("control")
        return text


class Bool(ma.fields.Boolean):
    default_error_messages = dict(_BASE, invalid=NOT_BOOLEAN)


class Instant(ma.fields.AwareDateTime):
    """ISO 8601; without an offset it is read as UTC."""

    default_error_messages = dict(_BASE, invalid=NOT_INSTANT[:-1] +
                                  " (por ejemplo 2026-01-31T08:00:00Z).",
                                  invalid_awareness=NOT_INSTANT, format=NOT_INSTANT)

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", timezone.utc)
        super().__init__(**kwargs)


class IntList(ma.fields.List):
    default_error_messages = dict(_BASE, invalid="No es una lista de números enteros.")

    def __init__(self, **kwargs):
        super().__init__(Int(), **kwargs)


def between(low, high):
    return validate.Range(min=low, max=high, error="Debe estar entre {min} y {max}.")


def one_of(choices):
    return validate.OneOf(choices, error="Debe ser uno de: {choices}.")


def length(low=None, high=None):
    return validate.Length(min=low, max=high,
                           error="Debe tener entre {min} y {max} caracteres." if low else
                           "Admite hasta {max} caracteres.")


class Schema(ma.Schema):
    """Base of every API parameter schema: unknown parameters are refused by name."""

    error_messages = {"unknown": "Parámetro desconocido.",
                      "type": "Tipo de dato inválido: se esperaba un objeto JSON."}
