"""The audit log (table audit_events): who changed data from the panel, when, and how much.

`record` is the one place that writes its rows. It adds the row to the caller's session and
does not commit: the caller commits the change and its audit row together, so a failure
leaves neither.
"""
from __future__ import annotations

from facho.extensions import db
from facho.models import AuditEvent, utcnow

ONUS_DELETED = "onus_eliminadas"
ABSENT_PURGED = "ausentes_purgadas"

# action code -> what the panel shows (a code without a label is shown as stored)
ACTION_LABELS = {
    ONUS_DELETED: "ONUs eliminadas",
    ABSENT_PURGED: "ONUs ausentes purgadas",
}

_USERNAME_MAX = AuditEvent.__table__.c.username.type.length
_ACTION_MAX = AuditEvent.__table__.c.action.type.length
TARGET_MAX = AuditEvent.__table__.c.target.type.length


def clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def record(username: str, action: str, target: str = "", count: int = 0,
           detail: str = "") -> AuditEvent:
    """Add one audit row to the current transaction (flushed, not committed)."""
    if not action or len(action) > _ACTION_MAX:
        raise ValueError(f"audit action must be 1-{_ACTION_MAX} characters: {action!r}")
    event = AuditEvent(at=utcnow(), username=clip(username or "(desconocido)", _USERNAME_MAX),
                       action=action, target=clip(target, TARGET_MAX), count=int(count),
                       detail=detail or "")
    db.session.add(event)
    db.session.flush()
    return event


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)
