"""Which rules apply where: a rule is scoped to all OLTs, a brand, an OLT or one PON
(OLT + slot + port). A rule with no scope is refused. Pure."""
from __future__ import annotations

SCOPE_NAMES = {"todas": "Todas las OLTs", "marca": "Una marca", "olt": "Una OLT",
               "pon": "Un PON (OLT, slot y puerto)"}


def scope_errors(scope, brand_id, olt_id, slot, port) -> dict:
    """{field: Spanish message} for a rule's scope (empty when it is complete)."""
    if scope not in SCOPE_NAMES:
        return {"scope": "Elija el alcance de la regla: todas las OLTs, una marca, una OLT "
                         "o un PON."}
    errors = {}
    if scope == "marca" and brand_id is None:
        errors["brand"] = "Elija la marca a la que se aplica la regla."
    if scope in ("olt", "pon") and olt_id is None:
        errors["olt"] = "Elija la OLT a la que se aplica la regla."
    if scope == "pon":
        for name, value in (("slot", slot), ("port", port)):
            if value is None:
                errors[name] = "Indique el slot y el puerto del PON."
            elif not 0 <= value <= 255:
                errors[name] = "Debe estar entre 0 y 255."
    return errors


def applies_to_olt(rule, olt_id: int, brand_id: int | None) -> bool:
    """Whether `rule` (anything with scope, brand_id, olt_id) covers this OLT at all."""
    if rule.scope == "todas":
        return True
    if rule.scope == "marca":
        return rule.brand_id == brand_id
    return rule.olt_id == olt_id


def onus_in_scope(rule, onus) -> tuple:
    """The ONUs of one OLT a rule covers (a PON rule: only its slot and port)."""
    if rule.scope != "pon":
        return tuple(onus)
    return tuple(o for o in onus if o.slot == rule.slot and o.port == rule.port)


def describe(rule) -> str:
    if rule.scope == "todas":
        return "Todas las OLTs"
    if rule.scope == "marca":
        return f"Marca {rule.brand}" if getattr(rule, "brand", None) else "Marca"
    olt = getattr(rule, "olt", None)
    if rule.scope == "olt":
        return f"OLT {olt}"
    return f"PON 0/{rule.slot}/{rule.port} de {olt}"
