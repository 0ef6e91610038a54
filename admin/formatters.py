"""How values read in the panel: times in the operator's zone, states as badges."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from markupsafe import Markup, escape

from facho.labels import JOB_TYPE_NAMES, ONU_STATUS_NAMES, STATUS_HINTS, STATUS_NAMES
from facho.models import FAILED, INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS, utcnow

_STATUS_COLOURS = {PENDING: "secondary", RUNNING: "primary", SUCCESS: "success",
                   FAILED: "danger", INTERRUPTED: "warning", SKIPPED: "info"}
STATUS_LABELS = {code: (name, _STATUS_COLOURS[code]) for code, name in STATUS_NAMES.items()}
STATUS_CHOICES = [(code, label) for code, (label, _) in STATUS_LABELS.items()]
ONU_STATUS_LABELS = {"online": (ONU_STATUS_NAMES["online"], "success"),
                     "offline": (ONU_STATUS_NAMES["offline"], "secondary")}
# States stored through a vendor's label map (facho.inventory.value_rules.labels) are Spanish
# text; their colour follows what they mean: fibre cut red, power cut yellow.
_LABEL_COLOURS = (("en línea", "success"), ("los", "danger"), ("corte de fibra", "danger"),
                  ("dying gasp", "warning"), ("desconectada", "secondary"))


def onu_status_label(value: str | None) -> str:
    if value is None:
        return "—"
    return ONU_STATUS_LABELS.get(value, (value, "light"))[0]


def _onu_status_colour(value: str) -> str:
    lowered = value.lower()
    for prefix, colour in _LABEL_COLOURS:
        if lowered.startswith(prefix):
            return colour
    return "light"


def onu_status_badge(value: str | None) -> Markup:
    if value is None:
        return Markup("—")
    label, color = ONU_STATUS_LABELS.get(value, (value, _onu_status_colour(value)))
    return Markup(f'<span class="badge badge-{color}" data-status="{escape(value)}">'
                  f'{escape(label)}</span>')


JOB_TYPE_LABELS = JOB_TYPE_NAMES


def operator_tz():
    return current_app.config["FACHO"].tz


def local_time(value: datetime | None) -> str:
    """Stored times are UTC; operators read them on their own clock."""
    if value is None:
        return "—"
    return value.astimezone(operator_tz()).strftime("%Y-%m-%d %H:%M:%S")


def datetime_type_formatter(view, value, name=None):
    return local_time(value)


def yes_no(view, value, name=None):
    return Markup('<span class="badge badge-success">Sí</span>') if value else \
        Markup('<span class="badge badge-light">No</span>')


def status_badge(status: str | None) -> Markup:
    label, color = STATUS_LABELS.get(status, (status or "—", "light"))
    hint = STATUS_HINTS.get(status, label)
    return Markup(f'<span class="badge badge-{color}" title="{escape(hint)}" '
                  f'data-status="{escape(status or "")}">{escape(label)}</span>')


def execution_status_badge(execution) -> Markup:
    """The status badge, plus a yellow "con advertencias (n)" when a successful execution
    stored something the operator should check (`result_summary["warnings"]`)."""
    badge = status_badge(execution.status)
    summary = execution.result_summary if isinstance(execution.result_summary, dict) else {}
    warnings = summary.get("warnings") or []
    if execution.status == SUCCESS and warnings:
        badge += Markup(' <span class="badge badge-warning" data-warnings="{}" title="{}">'
                        'con advertencias ({})</span>').format(
            len(warnings), " ".join(str(w) for w in warnings)[:500], len(warnings))
    return badge


def duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s"


def column(func):
    """Adapt `func(value)` to Flask-Admin's column formatter `(view, context, model, name)`."""
    return lambda view, context, model, name: func(getattr(model, name))


def since_now(when: datetime | None) -> str:
    return "—" if when is None else humanize(when - utcnow())


def humanize(delta) -> str:
    """'en 4 min 30 s', 'vencida hace 10 s', 'ahora' (facho.scheduling.schedule.humanize_remaining)."""
    from facho.scheduling.schedule import humanize_remaining
    return humanize_remaining(delta)


def ago(seconds: float | None) -> str:
    """'hace 12 s', 'hace 3 min 5 s' for an age in seconds."""
    if seconds is None:
        return "—"
    from datetime import timedelta
    text = humanize(timedelta(seconds=-max(0.0, seconds)))
    return "hace menos de 1 s" if text == "ahora" else text.replace("vencida hace", "hace")
