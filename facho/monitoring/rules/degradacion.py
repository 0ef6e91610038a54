"""Degradación: a present ONU's rx power at least X dB (default 1.5) below its own median
of the last 7, 15 or 30 days (the median comes from the ONU's history,
`facho.inventory.history.store.series`; `load.rx_medians`)."""
from __future__ import annotations

import statistics

from facho.monitoring.facts import Finding
from facho.monitoring.params import Param

KIND = "degradacion"
NAME = "Degradación contra su historial"
LEVEL = "onu"
TIME_BASED = False
NEEDS_MEDIANS = True
# Shared with pon_degradada (a PON of degraded ONUs): the same test of one ONU.
MEDIAN_PARAMS = (
    Param("delta_db", "Caída respecto de la mediana (dB)", 1.5, 0.1, 30, integer=False,
          unit="dB"),
    Param("dias", "Mediana de los últimos (días)", 7, choices=(7, 15, 30)),
    Param("min_muestras", "Lecturas mínimas en el historial", 10, 1, 100000),
)
PARAMS = MEDIAN_PARAMS
# The median's window excludes the newest readings, so a drop does not lower its own
# baseline: samples younger than this do not count.
RECENT_EXCLUDED_H = 1


def cross_check(params: dict) -> dict:
    return {}


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def degraded(current, baseline, delta_db) -> bool:
    """True when `current` (dBm) is at least `delta_db` below `baseline` (dBm). A small
    tolerance keeps float32-stored history from flipping an exact threshold."""
    if current is None or baseline is None:
        return False
    return baseline - current >= delta_db - 1e-6


def degraded_onus(onus, medians, delta_db):
    """[(onu, median)] of the ONUs at least `delta_db` below their median."""
    return [(onu, medians[onu.id]) for onu in onus
            if onu.id in medians and degraded(onu.rx_power, medians[onu.id], delta_db)]


def evaluate(inputs) -> list[Finding]:
    p = inputs.params
    return [Finding(
        kind=KIND, key=f"onu:{onu.id}", level=LEVEL, olt_id=onu.olt_id,
        severity=inputs.severity, slot=onu.slot, port=onu.port, onu_id=onu.id,
        onu_ids=(onu.id,),
        title=f"ONU {onu.name} degradada ({inputs.olt.name})",
        detail=f"rx {onu.rx_power:.2f} dBm, {base - onu.rx_power:.1f} dB por debajo de su "
               f"mediana de {p['dias']} días ({base:.2f} dBm).")
        for onu, base in degraded_onus(inputs.onus, inputs.medians, p["delta_db"])]
