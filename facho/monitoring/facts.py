"""The plain values a rule's condition reads (built by `load`, or by tests), and what a
condition returns. No database here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OnuFact:
    """One present ONU as the last executions left it. `state` is "online" / "offline" /
    None (`classify.state_class`); `cause` the class of its down cause ("los",
    "dying_gasp", "otra" or None); `down_since` (UTC) when it last went down, when known."""
    id: int
    olt_id: int
    slot: int | None
    port: int | None
    name: str
    serial: str | None = None
    state: str | None = None
    cause: str | None = None
    down_since: datetime | None = None
    rx_power: float | None = None

    @property
    def pon(self) -> tuple:
        return (self.slot, self.port)


@dataclass(frozen=True)
class OltFact:
    """One OLT: its newest finished executions' statuses (newest first), its last
    successful one and when it was created (UTC)."""
    id: int
    name: str
    brand_id: int | None = None
    recent_statuses: tuple = ()
    last_success_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Finding:
    """A condition that holds now. `key` names what it is about inside its rule ("onu:12",
    "pon:1/3", "olt"); `level` is "onu", "pon" or "olt"; `onu_ids` the ONUs it covers."""
    kind: str
    key: str
    level: str
    olt_id: int
    severity: str
    title: str
    slot: int | None = None
    port: int | None = None
    onu_id: int | None = None
    cause: str | None = None
    detail: str = ""
    onu_ids: tuple = field(default=())
    rule_id: int | None = None

    @property
    def pon(self) -> tuple:
        return (self.slot, self.port)


def pon_name(slot, port) -> str:
    """"0/1/3", as the ONU names read."""
    return f"0/{'?' if slot is None else slot}/{'?' if port is None else port}"
