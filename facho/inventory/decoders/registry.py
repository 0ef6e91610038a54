"""The decoder kinds by name, and the functions the rest of Facho calls. Pure functions.

Each kind (one module each) reads the numbers its index carries; this module adds what is
common to all of them, in this order: numbers read from columns (``from_columns``) replace
the index's, offsets (``slot_offset``...) are added to every number read from the index or a
column, and fields neither gives take the constant parameters (``frame``, ``slot``, ``port``,
0 by default; offsets never apply to a constant: the operator writes it as the CLI shows it).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facho.inventory.decoders import bitshift, dotted, linear, string
from facho.inventory.decoders.base import (COMMON_PARAMS, LABELS, NAME_MAX, OID_MAX_SUBIDS,
                                           SUBID_MAX, THE, DecodedIndex, Kind, check_int,
                                           parse_index, refuse_constant)
from facho.inventory.decoders.base import dotted as dotted_text
from facho.inventory.decoders.columns import column_number, validate_from_columns
from facho.inventory.decoders.columns import column_oids as _column_oids

# Same names, same order as facho.models.FORMULA_KINDS (the column's CHECK constraint).
KINDS: dict[str, Kind] = {"linear": linear.KIND, "bitshift": bitshift.KIND,
                          "dotted": dotted.KIND, "string": string.KIND}
OFFSETS = {"slot": "slot_offset", "port": "port_offset", "onu": "onu_offset"}


def validate_formula(params: Mapping[str, Any]) -> None:
    """ValueError (Spanish, naming the parameter to fix) when ``params`` cannot decode."""
    if not isinstance(params, Mapping):
        raise ValueError("los parámetros de la fórmula deben ser un objeto JSON ({...})")
    name = params.get("kind")
    if not isinstance(name, str) or name not in KINDS:
        raise ValueError(f"tipo de fórmula desconocido {name!r}; válidos: {', '.join(KINDS)}")
    kind = KINDS[name]
    check_int(params, "frame", maximum=SUBID_MAX)
    check_int(params, "max_trailing", maximum=OID_MAX_SUBIDS - 1)
    for key in OFFSETS.values():
        check_int(params, key, minimum=None, maximum=SUBID_MAX)
    kind.validate(params)   # first: its missing parameters also name the unknown ones
    allowed = COMMON_PARAMS + kind.params
    for key in params:
        if key not in allowed:
            raise ValueError(f"parámetro {key!r}: no existe en la fórmula {name}; válidos: "
                             f"{', '.join(allowed[1:])}")
    validate_from_columns(params)
    for field in ("slot", "port"):
        if field in (params.get("from_columns") or {}):
            refuse_constant(params, field, f"de from_columns.{field}")


def decode_index(index: tuple[int, ...] | list[int] | str, params: Mapping[str, Any],
                 columns: Mapping[str, Any] | None = None) -> DecodedIndex:
    """Decode one row index. ``columns``: field -> this row's raw SNMP value (int, bytes
    or str) of the column ``params["from_columns"][field]`` names. ValueError (Spanish)
    when the index or a column value does not fit the formula."""
    return decoder(params)(index, columns)


def decoder(params: Mapping[str, Any]):
    """``decode(index, columns=None) -> DecodedIndex`` for one validated formula: a
    discovery decodes thousands of rows with the same formula, validated once here."""
    validate_formula(params)
    return lambda index, columns=None: _decode(index, params, columns)


def _decode(index, params: Mapping[str, Any],
            columns: Mapping[str, Any] | None) -> DecodedIndex:
    found = KINDS[params["kind"]].decode(parse_index(index), params)
    raw = dotted_text(found.row)
    numbers = dict(found.fields)
    for field, column in (params.get("from_columns") or {}).items():
        numbers[field] = column_number(field, column, (columns or {}).get(field), raw)
    for field, key in OFFSETS.items():
        if field in numbers and params.get(key):
            numbers[field] += params[key]
            if numbers[field] < 0:
                raise ValueError(f"índice {raw!r}: con {key} {params[key]} "
                                 f"{THE[field]} queda en {numbers[field]}; revise {key}")
    frame = numbers.get("frame", params.get("frame", 0))
    slot = numbers.get("slot", params.get("slot", 0))
    port = numbers.get("port", params.get("port", 0))
    onu = numbers.get("onu")
    tail = onu if onu is not None else found.key
    name = f"{frame}/{slot}/{port}:{tail}"[:NAME_MAX]
    return DecodedIndex(frame, slot, port, onu, name, raw, found.key)


def encode_index(slot: int, port: int, onu_id: int, params: Mapping[str, Any],
                 frame: int | None = None) -> tuple[int, ...]:
    """The row index an OLT using ``params`` gives that ONU (inverse of decode_index, for
    simulators and tests). ValueError when a number does not fit, or the formula cannot
    carry it (a slot other than the constant one of a formula without slot)."""
    validate_formula(params)
    kind = KINDS[params["kind"]]
    if kind.encode is None:
        raise ValueError(f"la fórmula {params['kind']} lleva una clave de texto en el "
                         "índice: use encode_index_key")
    carried = kind.fields(params)
    from_columns = params.get("from_columns") or {}
    numbers: dict[str, int] = {}
    for field, value in (("frame", frame), ("slot", slot), ("port", port), ("onu", onu_id)):
        constant = params.get(field, 0)
        if field in carried:
            if value is None and field != "frame":
                raise ValueError(f"falta {THE[field]}: la fórmula lleva ese número en el "
                                 "índice")
            value = constant if value is None else value
            numbers[field] = value - params.get(OFFSETS.get(field, ""), 0)
            if numbers[field] < 0:
                raise ValueError(f"{THE[field]} {value} no cabe: con "
                                 f"{OFFSETS[field]} {params[OFFSETS[field]]} el índice "
                                 f"tendría {numbers[field]}")
        elif value is not None and value != constant and field not in from_columns:
            raise ValueError(f"{THE[field]} {value} no puede ir en el índice: la fórmula "
                             f"no lleva ese número y vale siempre {constant}")
    return kind.encode(numbers, params)


def encode_index_key(key: str, params: Mapping[str, Any]) -> tuple[int, ...]:
    """The row index of a text key (``string`` formulas), e.g. "UBNT12345678" ->
    (12, 85, 66, 78, 84, 49, ...)."""
    validate_formula(params)
    if params["kind"] != "string":
        raise ValueError(f"la fórmula {params['kind']} no lleva una clave de texto: use "
                         "encode_index")
    return string.encode_key(key, params)


def column_oids(params: Mapping[str, Any]) -> dict[str, str]:
    """field -> dotted OID of each column the formula reads (``from_columns``), so
    discovery walks them with the table."""
    validate_formula(params)
    return _column_oids(params)


def describe(params: Mapping[str, Any]) -> str:
    """One Spanish line for the formula preview; ValueError as validate_formula."""
    validate_formula(params)
    kind = KINDS[params["kind"]]
    from_columns = params.get("from_columns") or {}
    parts = [kind.describe(params)]
    if "frame" not in kind.fields(params) and "frame" not in from_columns:
        parts.append(f"frame {params.get('frame', 0)}")
    if params.get("max_trailing"):
        extra = params["max_trailing"]
        parts.append(f"admite hasta {extra} número{'s' if extra > 1 else ''} extra al final "
                     "(max_trailing), que se ignora" + ("n" if extra > 1 else ""))
    for field, key in OFFSETS.items():
        if params.get(key):
            parts.append(f"{LABELS[field]} = leído {params[key]:+d} ({key})")
    for field, column in from_columns.items():
        regex = f" con la expresión «{column['regex']}»" if "regex" in column else ""
        parts.append(f"{LABELS[field]} desde la columna {_column_oids(params)[field]}{regex}")
    if "onu" not in kind.fields(params) and "onu" not in from_columns:
        parts.append("sin número de ONU: el nombre termina en la clave")
    return "; ".join(parts)


def row_key(index: tuple[int, ...], known: Mapping[str, Any], max_trailing: int) -> str | None:
    """The row of `known` (raw index text → row) a column's index belongs to: the index
    itself, or the index without up to `max_trailing` trailing sub-ids (ZTE's rx power
    `…<pon>.<onu>.1` belongs to the row `<pon>.<onu>`); None when it belongs to none."""
    text = dotted_text(index)
    if text in known:
        return text
    for cut in range(1, max_trailing + 1):
        if len(index) - cut < 1:
            break
        text = dotted_text(index[:-cut])
        if text in known:
            return text
    return None
