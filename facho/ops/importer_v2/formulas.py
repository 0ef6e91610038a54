"""Old index formulas (``index_formulas``) into Facho decoder params. Pure functions.

The old system (``IndexFormula.calculate_components``) read a row index ``X.Y`` or ``X``:

- ``linear``: ``delta = X - base_index``; slot = delta // step_slot, port = (delta %
  step_slot) // step_port, onu_id = delta % step_port (+ onu_offset);
- ``bitshift``: slot = (X >> shift_slot_bits) & mask_slot, port = (X >> shift_port_bits) &
  mask_port, onu_id = X & 0xFF (+ onu_offset);
- the ONU number it stored (``logical``) is Y when ``has_dot_notation`` and
  ``dot_is_onu_number``, else onu_id.

A formula is carried over only when Facho's decoder gives the same slot, port and ONU
number for the indexes the old one read; otherwise it is refused with the reason.

Wildcards: the old discovery looked for (brand, model), then (brand, no model), then (no
brand, no model); older rows used the brand "🌐 Genérico" and the model "Genérico" for the
same. Facho has a brand default (empty ``modelo``) but no formula without a brand, so the
universal formula becomes the default of every brand that has none of its own.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from facho.inventory.decoders import validate_formula
from facho.inventory.decoders.base import SUBID_MAX

GENERIC_BRAND = "🌐 Genérico"
GENERIC_MODEL = "Genérico"


class Refused(ValueError):
    """A row that cannot be imported; str() is the Spanish reason."""


# Reasons several tables give for a row whose parent row was not imported.
BRAND_NOT_IMPORTED = "su marca no se importó"
WILDCARD_BRAND_NOT_IMPORTED = BRAND_NOT_IMPORTED + " (marca comodín o rechazada)"
JOB_NOT_IMPORTED = "su tarea no se importó"


@dataclass
class Target:
    """One Facho formula to write: its key (brand name, modelo) and where it came from."""

    brand: str
    modelo: str
    old: Mapping[str, Any]
    via_universal: bool = False
    notes: list[str] = field(default_factory=list)


def _hex(text: Any, what: str) -> int:
    try:
        value = int(str(text).strip(), 16)
    except ValueError:
        raise Refused(f"máscara de {what} {text!r} no es hexadecimal") from None
    if not 0 < value <= SUBID_MAX:
        raise Refused(f"máscara de {what} {text!r} fuera de 1..0xFFFFFFFF")
    return value


def _linear(old: Mapping[str, Any], notes: list[str]) -> dict:
    step_slot, step_port = old["step_slot"], old["step_port"]
    if not old["has_dot_notation"]:
        raise Refused("índice de un solo número: la fórmula lineal de Facho lee "
                      "<ponIndex>.<onu>; créela a mano en Fórmulas de índice")
    if not old["dot_is_onu_number"]:
        raise Refused("el número de ONU no era el que sigue al punto: sin equivalente en "
                      "Facho; créela a mano")
    if step_slot <= 0 or step_port <= 0:
        raise Refused(f"paso de slot {step_slot} / paso de puerto {step_port}: ambos deben "
                      "ser positivos")
    if step_port >= step_slot:
        raise Refused(f"paso de puerto {step_port} ≥ paso de slot {step_slot}: el sistema "
                      "anterior daba siempre puerto 0; corríjala a mano")
    if old["onu_offset"]:
        notes.append(f"onu_offset {old['onu_offset']} no se copia: el sistema anterior no lo "
                     "sumaba al número tras el punto")
    return {"kind": "linear", "base": old["base_index"], "step_slot": step_slot,
            "step_port": step_port}


def learned_base(samples: list[str], field_bits: int) -> tuple[int, int]:
    """(the most common value of the bits outside the fields, how many samples had it)
    over the ONU indexes of the old inventory; (0, 0) without samples."""
    seen = Counter()
    for raw in samples:
        head = str(raw).split(".", 1)[0]
        if head.isdigit() and int(head) <= SUBID_MAX:
            seen[int(head) & ~field_bits & SUBID_MAX] += 1
    if not seen:
        return 0, 0
    return seen.most_common(1)[0]


def _bitshift(old: Mapping[str, Any], samples: list[str], notes: list[str]) -> dict:
    if not old["mask_slot"] or not old["mask_port"]:
        raise Refused("sin máscara de slot o de puerto el campo tomaba todos los bits altos: "
                      "indique las máscaras en Facho v2 o cree la fórmula a mano")
    if old["has_dot_notation"] and not old["dot_is_onu_number"]:
        raise Refused("el número tras el punto no era la ONU: sin equivalente en Facho")
    params: dict[str, Any] = {
        "kind": "bitshift", "slot_shift": old["shift_slot_bits"],
        "slot_mask": _hex(old["mask_slot"], "slot"), "port_shift": old["shift_port_bits"],
        "port_mask": _hex(old["mask_port"], "puerto")}
    if not old["has_dot_notation"]:
        params.update(onu_shift=0, onu_mask=0xFF)
        if old["onu_offset"]:
            params["onu_offset"] = old["onu_offset"]
        if old["dot_is_onu_number"]:
            notes.append("el sistema anterior daba ONU 0 a todas las filas (sin punto y "
                         "«punto es número ONU»); Facho toma la ONU de los 8 bits bajos")
    elif old["onu_offset"]:
        notes.append(f"onu_offset {old['onu_offset']} no se copia: el sistema anterior no lo "
                     "sumaba al número tras el punto")
    field_bits = 0
    for name in ("slot", "port", "onu"):
        if f"{name}_shift" in params:
            field_bits |= params[f"{name}_mask"] << params[f"{name}_shift"]
    base, hits = learned_base(samples, field_bits)
    params["base"] = base
    if hits:
        notes.append(f"base 0x{base:x} deducida de {hits} de {len(samples)} índices del "
                     "inventario anterior (el sistema anterior ignoraba los bits fijos)")
    else:
        notes.append("base 0 (sin ONUs en el inventario anterior para deducirla): revísela "
                     "con «Probar»")
    return params


def convert(old: Mapping[str, Any], samples: list[str]) -> tuple[dict, list[str]]:
    """(Facho params, notes) for an old formula row, or Refused."""
    notes: list[str] = []
    mode = old["calculation_mode"]
    if mode == "linear":
        params = _linear(old, notes)
    elif mode == "bitshift":
        params = _bitshift(old, samples, notes)
    else:
        raise Refused(f"modo de cálculo desconocido {mode!r}")
    try:
        validate_formula(params)
    except ValueError as exc:
        raise Refused(f"Facho no la acepta: {exc}") from None
    return params, notes


def plan_targets(formulas: list[Mapping[str, Any]], brand_name: Callable[[Any], str | None],
                 model_name: Callable[[Any], str | None], brands: list[str],
                 refuse: Callable[[Mapping[str, Any], str], None]) -> list[Target]:
    """Which Facho formula (brand, modelo) each old formula becomes, wildcards resolved.
    ``brands``: the Facho brand names imported (the universal formula is copied to those
    without a default). ``refuse(row, reason)`` records a row that is not carried over."""
    universal: list[Mapping] = []
    by_key: dict[tuple[str, str], list[Mapping]] = {}
    for row in formulas:
        brand = brand_name(row["marca_id"]) if row["marca_id"] is not None else None
        model = model_name(row["modelo_id"]) if row["modelo_id"] is not None else None
        if not row["activo"]:
            refuse(row, "inactiva en el sistema anterior (no se usaba)")
        elif brand in (None, GENERIC_BRAND):
            if model not in (None, GENERIC_MODEL):
                refuse(row, f"marca comodín con modelo «{model}»: el sistema anterior no la "
                            "usaba")
            else:
                universal.append(row)
        else:
            key = (brand, "" if model in (None, GENERIC_MODEL) else model)
            by_key.setdefault(key, []).append(row)
    targets = []
    for (brand, modelo), rows in by_key.items():
        # the old lookup asked for modelo NULL, so a NULL-model row wins a "Genérico" one
        rows.sort(key=lambda r: (r["modelo_id"] is not None, r["id"]))
        targets.append(Target(brand, modelo, rows[0]))
        for other in rows[1:]:
            refuse(other, f"la fórmula #{rows[0]['id']} ya cubre {brand}"
                          f"{' ' + modelo if modelo else ' (todos los modelos)'}")
    if universal:
        universal.sort(key=lambda r: (r["marca_id"] is not None, r["id"]))
        chosen = universal[0]
        for other in universal[1:]:
            refuse(other, f"otra fórmula universal (#{chosen['id']}) es la que usaba el "
                          "sistema anterior")
        covered = {b for b, m in by_key if m == ""}
        for brand in brands:
            if brand not in covered:
                targets.append(Target(brand, "", chosen, via_universal=True))
    return targets
