"""Which changes of an ONU are events (pure: old and new values in, changes out).

A first value is not a change: an ONU's first state or power reading sets the baseline
and makes no event, so the first discovery of an OLT does not flood the event list.
"""
from __future__ import annotations

from dataclasses import dataclass

from facho.inventory.events import kinds
from facho.inventory.events.classify import DYING_GASP, LOS, OFFLINE, cause_class, state_class

POWER_EVENT_DB = 3.0     # default |Δ rx power| in dB that makes an event (FACHO_POWER_EVENT_DB)


@dataclass(frozen=True)
class Change:
    kind: str
    old: str | None
    new: str | None
    cause: str | None = None


def state_change(old: str | None, new: str | None, down_cause: str | None) -> Change | None:
    """A new state label; when the ONU is now offline, the cause is the vendor's last down
    cause, else the state label itself when it names one (ZTE "LOS", FiberHome "dying
    gasp")."""
    if old is None or new is None or old == new:
        return None
    cause = None
    if state_class(new) == OFFLINE:
        if down_cause and down_cause.strip():
            cause = down_cause.strip()
        elif cause_class(new) in (LOS, DYING_GASP):
            cause = new
    return Change(kinds.ESTADO, old, new, cause)


def power_change(old: float | None, new: float | None,
                 threshold_db: float = POWER_EVENT_DB) -> Change | None:
    """rx power moved by at least `threshold_db` dB since the last reading."""
    if old is None or new is None or abs(new - old) < threshold_db:
        return None
    return Change(kinds.POTENCIA, f"{old:.2f}", f"{new:.2f}")


def appeared(returning: bool) -> Change:
    """A new ONU (old None) or one that was absent and is back."""
    return Change(kinds.PRESENCIA, kinds.AUSENTE if returning else None, kinds.PRESENTE)


def gone() -> Change:
    return Change(kinds.PRESENCIA, kinds.PRESENTE, kinds.AUSENTE)


def moved(old_name: str | None, new_name: str | None) -> Change:
    return Change(kinds.MOVIDA, old_name, new_name)
