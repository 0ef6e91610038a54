"""How values read in the panel: times in the operator's zone, states as badges."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from markupsafe import Markup, escape

from facho.models import FAILED, INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS, utcnow

STATUS_LABELS = {
    PENDING: ("Pendiente", "secondary"),
    RUNNING: ("En ejecución", "primary"),
    SUCCESS: ("Exitosa", "success"),
    FAILED: ("Fallida", "danger"),
    INTERRUPTED: ("Interrumpida", "warning"),
    SKIPPED: ("Omitida", "info"),
}
# What each state means, for the badge's hover text (the code stays in `data-status`).
STATUS_HINTS = {
    PENDING: "Pendiente: encolada o reservada, aún no empezó",
    RUNNING: "En ejecución: un worker la está procesando",
    SUCCESS: "Exitosa: terminó y guardó sus datos",
    FAILED: "Fallida: terminó con error (vea Error / motivo)",
    INTERRUPTED: "Interrumpida: se cortó sin terminar (vea Error / motivo)",
    SKIPPED: "Omitida: el turno no se ejecutó (vea Error / motivo)",
}
STATUS_CHOICES = [(code, label) for code, (label, _) in STATUS_LABELS.items()]
# ONU states as the formats of facho.values store them (code -> Spanish, badge colour);
# a value a vendor's text OID returns that is not listed here is shown as read.
ONU_STATUS_LABELS = {
    "online": ("En línea", "success"),
    "offline": ("Fuera de línea", "secondary"),
}


def onu_status_label(value: str | None) -> str:
    if value is None:
        return "—"
    return ONU_STATUS_LABELS.get(value, (value, "light"))[0]


def onu_status_badge(value: str | None) -> Markup:
    if value is None:
        return Markup("—")
    label, color = ONU_STATUS_LABELS.get(value, (value, "light"))
    return Markup(f'<span class="badge badge-{color}" data-status="{escape(value)}">'
                  f'{escape(label)}</span>')


JOB_TYPE_LABELS = {"descubrimiento": "Descubrimiento", "get": "Consulta (get)"}


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
    """'en 4 min 30 s', 'vencida hace 10 s', 'ahora' (facho.schedule.humanize_remaining)."""
    from facho.schedule import humanize_remaining
    return humanize_remaining(delta)


def ago(seconds: float | None) -> str:
    """'hace 12 s', 'hace 3 min 5 s' for an age in seconds."""
    if seconds is None:
        return "—"
    from datetime import timedelta
    text = humanize(timedelta(seconds=-max(0.0, seconds)))
    return "hace menos de 1 s" if text == "ahora" else text.replace("vencida hace", "hace")
