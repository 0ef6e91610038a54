"""Potencia rx baja: a present ONU's last rx power below the warning level (aviso) or the
critical one (crítico). Defaults are the optics classes of `facho.inventory.optics`
(B+ −27 dBm, C+ −30 dBm)."""
from __future__ import annotations

from facho.inventory.optics import RX_CRITICAL_DBM, RX_WARNING_DBM
from facho.monitoring.facts import Finding
from facho.monitoring.params import Param

KIND = "rx_baja"
NAME = "Potencia rx baja"
LEVEL = "onu"
TIME_BASED = False
NEEDS_MEDIANS = False
PARAMS = (
    Param("aviso_dbm", "Nivel de aviso (dBm)", RX_WARNING_DBM, -45, -5, integer=False,
          unit="dBm"),
    Param("critico_dbm", "Nivel crítico (dBm)", RX_CRITICAL_DBM, -45, -5, integer=False,
          unit="dBm"),
)


def cross_check(params: dict) -> dict:
    if params["critico_dbm"] >= params["aviso_dbm"]:
        return {"critico_dbm": "Nivel crítico (dBm): debe ser menor que el nivel de aviso."}
    return {}


def level_of(rx, warning, critical) -> str | None:
    """"critico", "aviso" or None for an rx power (dBm)."""
    if rx is None:
        return None
    if rx < critical:
        return "critico"
    if rx < warning:
        return "aviso"
    return None


def evaluate(inputs) -> list[Finding]:
    p = inputs.params
    found = []
    for onu in inputs.onus:
        level = level_of(onu.rx_power, p["aviso_dbm"], p["critico_dbm"])
        if level is None:
            continue
        limit = p["critico_dbm"] if level == "critico" else p["aviso_dbm"]
        found.append(Finding(
            kind=KIND, key=f"onu:{onu.id}", level=LEVEL, olt_id=onu.olt_id, severity=level,
            slot=onu.slot, port=onu.port, onu_id=onu.id, onu_ids=(onu.id,),
            title=f"Potencia rx baja en ONU {onu.name} ({inputs.olt.name})",
            detail=f"rx {onu.rx_power:.2f} dBm, por debajo de {limit:g} dBm."))
    return found
