"""What a stored ONU state label means: online or not, and the class of a down cause.

States are stored as the vendor's label after the OID's label map
(`facho.inventory.value_rules.labels.STATE_LABELS`: "en línea", "desconectada", "LOS",
"dying gasp (sin energía)", …) or as the `status_*` formats' codes ("online"/"offline").
The one rule: a state is online when it is one of `ONLINE_STATES`; any other known state of
a present ONU counts as not online (registering, LOS, dying gasp, offline…). The same rule
is written for SQL (`is_online_sql`) so PON counts agree with the ONU page.
"""
from __future__ import annotations

import sqlalchemy as sa

ONLINE, OFFLINE = "online", "offline"
ONLINE_STATES = ("en línea", "online")
# labels that say the state could not be read (Huawei's "inválido", a failed query)
UNKNOWN_STATES = ("", "inválido", "inválida", "consulta fallida")

# down cause classes (what a NOC acts on: fibre → field crew, power → the customer's side)
LOS, DYING_GASP, OTHER = "los", "dying_gasp", "otra"
CAUSE_NAMES = {LOS: "pérdida de señal (LOS)", DYING_GASP: "corte de energía (dying gasp)",
               OTHER: "otra causa"}


def state_class(status: str | None) -> str | None:
    """ONLINE, OFFLINE, or None when the state is unknown (no value, "inválido")."""
    if status is None:
        return None
    lowered = status.strip().lower()
    if lowered in UNKNOWN_STATES:
        return None
    return ONLINE if lowered in ONLINE_STATES else OFFLINE


def cause_class(text: str | None) -> str | None:
    """LOS, DYING_GASP or OTHER for a vendor's down cause (or a state label that names
    one, as ZTE's and FiberHome's do); None for no cause."""
    if text is None or not text.strip():
        return None
    lowered = text.strip().lower()
    if "dying" in lowered or "energía" in lowered:
        return DYING_GASP
    if lowered.startswith("los") or "corte de fibra" in lowered:
        return LOS
    return OTHER


def is_online_sql(status_column) -> sa.ColumnElement:
    return status_column.in_(ONLINE_STATES)


def is_offline_sql(status_column) -> sa.ColumnElement:
    """Not online and a known state: the SQL twin of `state_class(...) == OFFLINE` (plain
    IN lists, no function per row: the worst-PONs screen reads every ONU; labels are
    stored as the label maps write them, lower case)."""
    return sa.and_(status_column.isnot(None),
                   status_column.notin_(ONLINE_STATES + UNKNOWN_STATES))
