"""An OLT's uptime (sysUpTime), read by every discovery and get execution, and what it says:
the OLT rebooted.

Why: after a reboot every ONU re-registers (a wave of offline states and LOS) although
nothing happened in the field; the alerts hold ONU and PON findings back for a settle period
after it (`facho.monitoring.evaluate`), as they do after an unreachable period.

The rule (`rebooted_at`, pure): the OLT rebooted when its uptime went *down* since the last
reading; it came up `uptime_s` seconds before now. A static value (a recording served by a
simulator) never looks like a reboot. sysUpTime counts hundredths of a second in 32 bits and
wraps after 497 days: a wrap reads as a reboot, once in that time.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from facho.extensions import db
from facho.executions.targets import run_snmp as run
from facho.models import Olt, UTCDateTime
from facho.snmp import SnmpClient, SnmpError

SYS_UPTIME_OID = "1.3.6.1.2.1.1.3.0"


def seconds(value: Any) -> int | None:
    """sysUpTime (TimeTicks, hundredths of a second) as whole seconds; None when it is not a
    number (an agent without it, a broken value)."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    try:
        ticks = int(value)
    except (TypeError, ValueError):
        return None
    return ticks // 100 if ticks >= 0 else None


def rebooted_at(previous_s: int | None, uptime_s: int | None, now: datetime
                ) -> datetime | None:
    """When the OLT came up, if its uptime went down since `previous_s`; else None."""
    if previous_s is None or uptime_s is None or uptime_s >= previous_s:
        return None
    return now - timedelta(seconds=uptime_s)


def record(olt_id: int, uptime_s: int | None, now: datetime) -> datetime | None:
    """Store the reading on the OLT (in the caller's transaction); the reboot instant when
    this reading shows one."""
    if uptime_s is None:
        return None
    table = Olt.__table__
    previous = db.session.execute(sa.select(table.c.uptime_s).where(table.c.id == olt_id)
                                  ).scalar()
    reboot = rebooted_at(previous, uptime_s, now)
    # text, not a Core update: Core would also stamp the OLT's `updated_at` (an edit)
    statement = sa.text(
        "UPDATE olts SET uptime_s = :uptime_s, uptime_at = :uptime_at, "
        "rebooted_at = coalesce(:rebooted_at, rebooted_at) WHERE id = :olt_id").bindparams(
        sa.bindparam("uptime_at", type_=UTCDateTime()),
        sa.bindparam("rebooted_at", type_=UTCDateTime()))
    db.session.execute(statement, {"uptime_s": uptime_s, "uptime_at": now,
                                   "rebooted_at": reboot, "olt_id": olt_id})
    return reboot


UPTIME_TIMEOUT_S = 1.0   # an optional reading: one short try, never the walk's retries


def read(client: SnmpClient) -> int | None:
    """The OLT's sysUpTime (s) after the walk: one request of at most UPTIME_TIMEOUT_S, no
    retry; None when the agent does not answer it (the walk's data is never lost or held
    up for an optional reading)."""
    target = dataclasses.replace(client.target, retries=0,
                                 timeout_s=min(client.target.timeout_s, UPTIME_TIMEOUT_S))
    try:
        values = run(SnmpClient(target).get_many([SYS_UPTIME_OID], strict=False))
    except SnmpError:
        return None
    return seconds(values.get(SYS_UPTIME_OID))


def note(summary: dict, olt_id: int, uptime_s: int | None, now: datetime) -> None:
    """Store the reading (in the execution's transaction) and say so in the summary."""
    if uptime_s is None:
        return
    summary["uptime_s"] = uptime_s
    reboot = record(olt_id, uptime_s, now)
    if reboot is not None:
        summary["rebooted_at"] = reboot.isoformat()
