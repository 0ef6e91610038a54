"""OLT inalcanzable: its last N finished executions all failed, or no successful walk in
the last M minutes. After it comes back, ONU alerts of that OLT wait a settle period
(`asentamiento_min`, applied by `facho.monitoring.storm`)."""
from __future__ import annotations

from datetime import timedelta

from facho.models import FAILED
from facho.monitoring.facts import Finding
from facho.monitoring.params import Param

KIND = "olt_inalcanzable"
NAME = "OLT inalcanzable"
LEVEL = "olt"
TIME_BASED = True
NEEDS_MEDIANS = False
PARAMS = (
    Param("fallos", "Ejecuciones fallidas seguidas", 3, 1, 100),
    Param("minutos", "Sin recorrido exitoso en (min)", 30, 1, 10080, unit="min"),
    Param("asentamiento_min", "Asentamiento tras volver (min)", 10, 0, 240, unit="min"),
)


def cross_check(params: dict) -> dict:
    return {}


def unreachable(recent_statuses, last_success_at, created_at, now, failures, minutes):
    """The reason (Spanish) the OLT counts as unreachable, or None. `recent_statuses`
    newest first; an OLT never walked successfully counts from its creation."""
    streak = 0
    for status in recent_statuses:
        if status != FAILED:
            break
        streak += 1
    if streak >= failures:
        return f"{streak} ejecuciones fallidas seguidas"
    since = last_success_at or created_at
    if since is not None and recent_statuses and now - since > timedelta(minutes=minutes):
        return f"sin recorrido exitoso en más de {minutes} min"
    return None


def evaluate(inputs) -> list[Finding]:
    p, olt = inputs.params, inputs.olt
    reason = unreachable(olt.recent_statuses, olt.last_success_at, olt.created_at,
                         inputs.now, p["fallos"], p["minutos"])
    if reason is None:
        return []
    return [Finding(kind=KIND, key="olt", level=LEVEL, olt_id=olt.id,
                    severity=inputs.severity, title=f"OLT {olt.name} inalcanzable",
                    cause="OLT inalcanzable", detail=reason[0].upper() + reason[1:] + ".")]
