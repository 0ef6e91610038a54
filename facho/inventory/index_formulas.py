"""Decoding an ONU table's row index into frame / slot / port / ONU id. Pure functions.

A row index is the OID suffix after the column, as a tuple of ints (``facho.snmp`` walks
return it that way; dotted text is accepted too). A formula is a plain dict, as stored in
``IndexFormula.params`` (its ``kind`` column repeats ``params["kind"]``):

``linear`` (Huawei): index ``<ponIndex>.<onuId>`` with
    ``ponIndex = base + slot * step_slot + port * step_port``;
    params ``base``, ``step_slot``, ``step_port``, optional ``frame`` (constant, default 0).
``bitshift`` (ZTE C300/C320): index ``<ponIndex>.<onuId>`` with
    ``ponIndex = base + (slot << slot_shift) + (port << port_shift)``, each field cut with
    its ``*_mask``; with ``onu_shift``/``onu_mask`` the ONU id comes from the same integer
    and the index has one part. Bits outside the fields must equal ``base`` exactly.
``dotted``: the index already holds the numbers; ``positions`` maps ``slot``, ``port``,
    ``onu`` (and optionally ``frame``) to their position in the index.

Every kind takes ``max_trailing`` (default 0): how many extra trailing sub-ids a column
may add after the row index (ZTE's ONU rx power is ``…10.<pon>.<onu>.1``). They are
ignored, and ``raw`` names the row without them, so all columns of one ONU share it.

Names: ``<frame>/<slot>/<port>:<onu>``. Huawei's CLI shows frame 0 (``0/1/3:5``); on ZTE
operators read ``gpon-onu_1/<slot>/<port>:<onu>``, where the leading 1 is the shelf, so
ZTE formulas use ``frame: 1`` and names come out as ``1/1/3:5``.

A wrong index (too short, too long, or not produced by the formula) raises ValueError.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

HUAWEI_GPON: dict[str, Any] = {
    "kind": "linear", "base": 4194304000, "step_slot": 8192, "step_port": 256, "frame": 0,
}
ZTE_C320: dict[str, Any] = {
    "kind": "bitshift", "base": 0x10000000, "slot_shift": 16, "slot_mask": 0xFF,
    "port_shift": 8, "port_mask": 0xFF, "frame": 1, "max_trailing": 1,
}
ZTE_C300 = ZTE_C320  # same PON index layout (verified on the C320 recording)

# What `flask facho seed` loads into IndexFormula (modelo "" = the brand's default).
SHIPPED_FORMULAS: list[dict[str, Any]] = [
    {"nombre": "Huawei GPON (MA56xx/MA5800)", "marca": "Huawei", "modelo": "",
     "params": HUAWEI_GPON},
    {"nombre": "ZTE GPON (C300/C320)", "marca": "ZTE", "modelo": "", "params": ZTE_C320},
]

_REQUIRED = {
    "linear": ("base", "step_slot", "step_port"),
    "bitshift": ("base", "slot_shift", "slot_mask", "port_shift", "port_mask"),
    "dotted": ("positions",),
}


class DecodedIndex(NamedTuple):
    frame: int
    slot: int
    port: int
    onu_id: int
    name: str  # "<frame>/<slot>/<port>:<onu>"
    raw: str   # the row index without trailing sub-ids, e.g. "4194312448.5"


def validate_formula(params: Mapping[str, Any]) -> None:
    """ValueError (Spanish, for the admin form) when the params cannot decode anything."""
    kind = params.get("kind")
    if kind not in _REQUIRED:
        raise ValueError(f"tipo de fórmula desconocido {kind!r}; válidos: {', '.join(_REQUIRED)}")
    missing = [k for k in _REQUIRED[kind] if k not in params]
    if missing:
        raise ValueError(f"a la fórmula {kind} le faltan parámetros: {', '.join(missing)}")
    if kind == "linear" and (params["step_slot"] <= 0 or params["step_port"] <= 0):
        raise ValueError("step_slot y step_port deben ser positivos")
    if kind == "dotted":
        positions = params["positions"]
        if not all(k in positions for k in ("slot", "port", "onu")):
            raise ValueError("positions debe indicar slot, port y onu")


def _parse(index: tuple[int, ...] | list[int] | str) -> tuple[int, ...]:
    if isinstance(index, str):
        try:
            return tuple(int(p) for p in index.strip(".").split("."))
        except ValueError:
            raise ValueError(f"índice inválido {index!r}") from None
    return tuple(index)


def _split(index: tuple[int, ...], parts: int, params: Mapping[str, Any]) -> tuple[int, ...]:
    trailing = int(params.get("max_trailing", 0))
    if not parts <= len(index) <= parts + trailing:
        expected = f"{parts}" if not trailing else f"{parts} a {parts + trailing}"
        raise ValueError(f"índice {_dotted(index)!r}: se esperaban {expected} números, "
                         f"hay {len(index)}")
    return index[:parts]


def _dotted(index: tuple[int, ...]) -> str:
    return ".".join(map(str, index))


def _result(frame: int, slot: int, port: int, onu: int, row: tuple[int, ...]) -> DecodedIndex:
    return DecodedIndex(frame, slot, port, onu, f"{frame}/{slot}/{port}:{onu}", _dotted(row))


def decode_index(index: tuple[int, ...] | list[int] | str,
                 params: Mapping[str, Any]) -> DecodedIndex:
    """Decode one row index with ``params`` (see module docstring)."""
    validate_formula(params)
    index = _parse(index)
    kind = params["kind"]
    frame = int(params.get("frame", 0))
    if kind == "linear":
        pon, onu = _split(index, 2, params)
        offset = pon - params["base"]
        slot, rest = divmod(offset, params["step_slot"])
        port, leftover = divmod(rest, params["step_port"])
        if offset < 0 or leftover:
            raise ValueError(f"índice PON {pon} no corresponde a la fórmula lineal "
                             f"(base {params['base']}, paso slot {params['step_slot']}, "
                             f"paso puerto {params['step_port']})")
        return _result(frame, slot, port, onu, (pon, onu))
    if kind == "bitshift":
        with_onu = "onu_shift" in params
        row = _split(index, 1 if with_onu else 2, params)
        pon = row[0]
        slot = (pon >> params["slot_shift"]) & params["slot_mask"]
        port = (pon >> params["port_shift"]) & params["port_mask"]
        fixed = pon - (slot << params["slot_shift"]) - (port << params["port_shift"])
        if with_onu:
            onu = (pon >> params["onu_shift"]) & params["onu_mask"]
            fixed -= onu << params["onu_shift"]
        else:
            onu = row[1]
        if fixed != params["base"]:
            raise ValueError(f"índice PON {pon} (0x{pon:x}) no corresponde a la fórmula por "
                             f"bits (base 0x{params['base']:x})")
        return _result(frame, slot, port, onu, row)
    positions = params["positions"]
    row = _split(index, max(positions.values()) + 1, params)
    if "frame" in positions:
        frame = row[positions["frame"]]
    return _result(frame, row[positions["slot"]], row[positions["port"]],
                   row[positions["onu"]], row)


def encode_index(slot: int, port: int, onu_id: int, params: Mapping[str, Any],
                 frame: int | None = None) -> tuple[int, ...]:
    """The row index an OLT using ``params`` gives that ONU (the inverse of decode_index)."""
    validate_formula(params)
    kind = params["kind"]
    if kind == "linear":
        return (params["base"] + slot * params["step_slot"] + port * params["step_port"], onu_id)
    if kind == "bitshift":
        if slot & ~params["slot_mask"] or port & ~params["port_mask"]:
            raise ValueError(f"slot {slot} o puerto {port} no caben en la fórmula por bits")
        pon = params["base"] + (slot << params["slot_shift"]) + (port << params["port_shift"])
        if "onu_shift" in params:
            return (pon + (onu_id << params["onu_shift"]),)
        return (pon, onu_id)
    positions = params["positions"]
    values = {"slot": slot, "port": port, "onu": onu_id,
              "frame": params.get("frame", 0) if frame is None else frame}
    out = [0] * (max(positions.values()) + 1)
    for key, position in positions.items():
        out[position] = values[key]
    return tuple(out)
