"""``from_columns``: a field whose number comes from another column of the same row. Pure.

Some OLTs do not put slot, port or ONU id in the row index (a serial-keyed table), or put
them in a form no formula reads. ``params["from_columns"]`` then names, per field, the
column that holds it::

    "from_columns": {"port": {"oid": "1.3.6.1.4.1.41112.1.10.1.4.1.2", "regex": "(\\d+)"}}

Discovery walks those columns too (``column_oids``) and passes each row's raw SNMP value
to ``decode_index(..., columns={"port": value})``. A value is used as is when it is an int;
text (``bytes`` read as ASCII) must be a whole number, or match ``regex``, whose group 1 is
the number ("PON 3" with "(\\d+)" -> 3). Any column of the table may be named, whatever its
espacio in the OID catalogue.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders.base import FIELDS, LABELS

COLUMN_KEYS = ("oid", "regex")
REGEX_MAX = 255   # Oid.regex is VARCHAR(255): same limit for a column's expression
_OID = re.compile(r"\.?[0-2](\.(0|[1-9]\d{0,9})){1,127}")
# A number in a column's text: ASCII digits only (int() would also take "1_0" or "٣").
_NUMBER = re.compile(r"-?[0-9]+")
_EXAMPLE = '{"port": {"oid": "1.3.6.1.4.1.41112.1.10.1.4.1.2", "regex": "(\\\\d+)"}}'


def validate_from_columns(params: Mapping[str, Any]) -> None:
    """ValueError naming the key to fix (``from_columns.port.regex``...)."""
    spec = params.get("from_columns")
    if spec is None:
        return
    if not isinstance(spec, Mapping):
        raise ValueError(f"parámetro 'from_columns': debe ser un objeto como {_EXAMPLE}")
    for field, column in spec.items():
        where = f"from_columns.{field}"
        if field not in FIELDS:
            raise ValueError(f"parámetro {where!r}: campo desconocido; válidos: "
                             f"{', '.join(FIELDS)}")
        if not isinstance(column, Mapping):
            raise ValueError(f"parámetro {where!r}: debe ser un objeto con 'oid' y, si el "
                             f"valor es texto, 'regex'; ejemplo: {_EXAMPLE}")
        unknown = [k for k in column if k not in COLUMN_KEYS]
        if unknown:
            raise ValueError(f"parámetro {where + '.' + str(unknown[0])!r}: no existe; "
                             f"válidos: {', '.join(COLUMN_KEYS)}")
        oid = column.get("oid")
        if not isinstance(oid, str) or not _OID.fullmatch(oid.strip()):
            raise ValueError(f"parámetro {where + '.oid'!r}: OID inválido {oid!r} (números "
                             "separados por puntos, p. ej. 1.3.6.1.4.1.41112.1.10.1.4.1.2)")
        if "regex" in column:
            _check_regex(column["regex"], f"{where}.regex")


def _check_regex(regex: Any, where: str) -> None:
    if not isinstance(regex, str) or not regex or len(regex) > REGEX_MAX:
        raise ValueError(f"parámetro {where!r}: debe ser un texto de 1 a {REGEX_MAX} "
                         "caracteres, p. ej. '(\\d+)'")
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ValueError(f"parámetro {where!r}: la expresión «{regex}» no es válida "
                         f"({exc})") from None
    if compiled.groups < 1:
        raise ValueError(f"parámetro {where!r}: la expresión «{regex}» no tiene grupo; "
                         "encierre el número entre paréntesis, p. ej. 'PON (\\d+)'")


def column_oids(params: Mapping[str, Any]) -> dict[str, str]:
    """field -> dotted OID (no leading dot) of each column the formula reads."""
    return {field: column["oid"].strip().lstrip(".")
            for field, column in (params.get("from_columns") or {}).items()}


def column_number(field: str, column: Mapping[str, Any], value: Any, index: str) -> int:
    """The number of ``field`` in this row's raw ``value`` of its column; ValueError (for
    the execution message) saying which column, which row and why."""
    where = f"la columna de {LABELS[field]} ({column['oid'].strip().lstrip('.')})"
    if value is None:
        raise ValueError(f"{where} no tiene valor para el índice {index!r}")
    regex = column.get("regex")
    if isinstance(value, int) and not isinstance(value, bool) and not regex:
        number = value
    else:
        text = _text(value)
        if regex:
            match = re.search(regex, text)
            if match is None:
                raise ValueError(f"{where} tiene {text!r} para el índice {index!r}, que no "
                                 f"coincide con la expresión «{regex}»")
            found = match.group(1)
            if found is None or not _NUMBER.fullmatch(found.strip()):
                raise ValueError(f"{where} tiene {text!r} para el índice {index!r}: el grupo "
                                 f"1 de «{regex}» dio {found!r}, que no es un número")
            number = int(found.strip())
        else:
            if not _NUMBER.fullmatch(text):
                raise ValueError(
                    f"{where} tiene {text!r} para el índice {index!r}, que no es un número: "
                    f"indique una expresión en from_columns.{field}.regex, p. ej. '(\\d+)'")
            number = int(text)
    if number < 0:
        raise ValueError(f"{where} tiene {number} para el índice {index!r}: no se admiten "
                         "números negativos")
    return number


def _text(value: Any) -> str:
    # OCTET STRINGs come as bytes; firmware pads them with NULs. A stray non-ASCII byte
    # must not hide the number next to it, so it is replaced, not refused.
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii", errors="replace")
    return str(value).replace("\x00", "").strip()
