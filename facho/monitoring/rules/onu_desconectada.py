"""ONU desconectada: a present ONU not online for more than N minutes, optionally only for
one down cause (LOS = fibre, dying gasp = power, other)."""
from __future__ import annotations

from datetime import timedelta

from facho.inventory.events.classify import CAUSE_NAMES, OFFLINE
from facho.monitoring.facts import Finding
from facho.monitoring.params import Param

KIND = "onu_desconectada"
NAME = "ONU desconectada"
LEVEL = "onu"
TIME_BASED = True
NEEDS_MEDIANS = False
ANY = "cualquiera"
PARAMS = (
    Param("minutos", "Desconectada más de (min)", 10, 0, 10080, unit="min"),
    Param("causa", "Causa", ANY, choices=(ANY, "los", "dying_gasp", "otra")),
)


def cross_check(params: dict) -> dict:
    return {}


def down_for_more_than(down_since, now, minutes) -> bool:
    """True when the ONU has been down longer than `minutes` (an unknown start counts as
    long down: it was down when first seen)."""
    return down_since is None or now - down_since > timedelta(minutes=minutes)


def cause_matches(cause, wanted) -> bool:
    return wanted == ANY or (cause or "otra") == wanted


def evaluate(inputs) -> list[Finding]:
    p = inputs.params
    found = []
    for onu in inputs.onus:
        if onu.state != OFFLINE or not cause_matches(onu.cause, p["causa"]):
            continue
        if not down_for_more_than(onu.down_since, inputs.now, p["minutos"]):
            continue
        cause = CAUSE_NAMES.get(onu.cause) if onu.cause else None
        found.append(Finding(
            kind=KIND, key=f"onu:{onu.id}", level=LEVEL, olt_id=onu.olt_id,
            severity=inputs.severity, slot=onu.slot, port=onu.port, onu_id=onu.id,
            cause=cause, onu_ids=(onu.id,),
            title=f"ONU {onu.name} desconectada ({inputs.olt.name})",
            detail=f"Desconectada desde hace más de {p['minutos']} min"
                   + (f"; causa: {cause}" if cause else "") + "."))
    return found
