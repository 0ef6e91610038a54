"""PON degradada: at least K ONUs of a PON degraded at once (each at least X dB below its
own median): a dirty connector or a bent fibre upstream of the splitter."""
from __future__ import annotations

from facho.monitoring.facts import Finding, pon_name
from facho.monitoring.params import Param
from facho.monitoring.rules.degradacion import MEDIAN_PARAMS, degraded_onus
from facho.monitoring.rules.pon_caida import by_pon

KIND = "pon_degradada"
NAME = "PON degradada"
LEVEL = "pon"
TIME_BASED = False
NEEDS_MEDIANS = True
PARAMS = (
    Param("min_onus", "ONUs degradadas (al menos)", 2, 1, 1024),
    *MEDIAN_PARAMS,
)


def cross_check(params: dict) -> dict:
    return {}


def evaluate(inputs) -> list[Finding]:
    p = inputs.params
    found = []
    for (slot, port), onus in sorted(by_pon(inputs.onus).items(), key=lambda kv: str(kv[0])):
        hit = degraded_onus(onus, inputs.medians, p["delta_db"])
        if len(hit) < p["min_onus"]:
            continue
        worst = max(base - onu.rx_power for onu, base in hit)
        name = pon_name(slot, port)
        found.append(Finding(
            kind=KIND, key=f"pon:{slot}/{port}", level=LEVEL, olt_id=inputs.olt.id,
            severity=inputs.severity, slot=slot, port=port, cause="degradación óptica",
            onu_ids=tuple(sorted(onu.id for onu, _ in hit)),
            title=f"PON {name} de {inputs.olt.name} degradada",
            detail=f"{len(hit)} ONUs a {p['delta_db']:g} dB o más por debajo de su mediana "
                   f"de {p['dias']} días (la peor, {worst:.1f} dB)."))
    return found
