"""PON caída: at least K ONUs, or P % of a PON's present ONUs, went down within the last W
minutes: ONE incident for the PON, labelled by the dominant cause ("corte de fibra" when LOS
dominates, "corte de energía" when dying gasp does). Once open, it holds while at least as
many ONUs of the PON stay down (whenever they went down); the ONU alerts of the PON are
folded into it (`facho.monitoring.storm`)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from facho.inventory.events.classify import DYING_GASP, LOS, OFFLINE
from facho.monitoring.facts import Finding, pon_name
from facho.monitoring.params import Param

KIND = "pon_caida"
NAME = "PON caída (corte masivo)"
LEVEL = "pon"
TIME_BASED = False
NEEDS_MEDIANS = False
PARAMS = (
    Param("min_onus", "ONUs caídas (al menos)", 4, 1, 1024),
    Param("porcentaje", "o porcentaje del PON (%)", 50, 1, 100, unit="%"),
    Param("ventana_min", "dentro de (min)", 5, 1, 1440, unit="min"),
)
LABELS = {LOS: "corte de fibra", DYING_GASP: "corte de energía"}


def cross_check(params: dict) -> dict:
    return {}


def dominant_cause(causes) -> str:
    """"corte de fibra" / "corte de energía" when LOS / dying gasp is the most common cause
    (more than any other), else "causa mixta"."""
    counts = Counter(c or "otra" for c in causes)
    if not counts:
        return "causa mixta"
    (top, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return "causa mixta"
    return LABELS.get(top, "causa mixta")


def enough(down: int, present: int, min_onus: int, percent: float) -> bool:
    return down >= 1 and (down >= min_onus or (present and 100.0 * down / present >= percent))


def by_pon(onus) -> dict:
    pons: dict = {}
    for onu in onus:
        pons.setdefault(onu.pon, []).append(onu)
    return pons


def evaluate(inputs) -> list[Finding]:
    """A PON whose incident is already open (`inputs.open_keys`) holds on the ONUs still
    down, without the window."""
    p = inputs.params
    window_start = inputs.now - timedelta(minutes=p["ventana_min"])
    found = []
    for (slot, port), onus in sorted(by_pon(inputs.onus).items(), key=lambda kv: str(kv[0])):
        down = [o for o in onus if o.state == OFFLINE]
        recent = [o for o in down if o.down_since is not None and o.down_since >= window_start]
        counted = down if f"pon:{slot}/{port}" in inputs.open_keys else recent
        if not enough(len(counted), len(onus), p["min_onus"], p["porcentaje"]):
            continue
        label = dominant_cause(o.cause for o in counted)
        name = pon_name(slot, port)
        found.append(Finding(
            kind=KIND, key=f"pon:{slot}/{port}", level=LEVEL, olt_id=inputs.olt.id,
            severity=inputs.severity, slot=slot, port=port, cause=label,
            onu_ids=tuple(sorted(o.id for o in counted)),
            title=f"PON {name} de {inputs.olt.name}: {label}",
            detail=f"{len(counted)} de {len(onus)} ONUs caídas ({label})."))
    return found
