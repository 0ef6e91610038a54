"""Facts for the pure rule tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from facho.monitoring.facts import OltFact, OnuFact
from facho.monitoring.rules import Inputs

UTC = timezone.utc
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OLT = OltFact(id=1, name="OLT-NORTE", brand_id=1)


def onu(n, *, state="online", cause=None, down_min=None, rx=-20.0, slot=1, port=1):
    return OnuFact(id=n, olt_id=1, slot=slot, port=port, name=f"0/{slot}/{port}:{n}",
                   state=state, cause=cause, rx_power=rx,
                   down_since=None if down_min is None else NOW - timedelta(minutes=down_min))


def inputs(onus=(), params=None, severity="aviso", olt=OLT, medians=None, open_keys=()):
    return Inputs(olt, tuple(onus), params or {}, severity, NOW, medians or {},
                  frozenset(open_keys))
