"""The Spanish text of a notification: title and body for an incident's transition, with
the OLT, the PON, the cause, the number of ONUs and a link to the panel. Pure."""
from __future__ import annotations

from facho.monitoring.facts import pon_name

TRANSITION_TITLES = {"abierto": "ABIERTO", "reconocido": "RECONOCIDO", "resuelto": "RESUELTO"}
SEVERITY_NAMES = {"aviso": "aviso", "critico": "crítico"}


def incident_link(public_url: str, incident_id: int) -> str:
    return f"{public_url}/admin/incidentes/{incident_id}"


def folded_text(count: int) -> str:
    """"12 alertas de ONU incluidas" (the suppression an incident shows)."""
    return f"{count} alerta{'s' if count != 1 else ''} de ONU incluida{'s' if count != 1 else ''}"


def render(incident, olt_name: str | None, transition: str, public_url: str,
           actor: str | None = None, note: str | None = None) -> tuple[str, str]:
    """(title, body) for `incident` (anything with the Incident columns)."""
    title = f"[Facho {TRANSITION_TITLES[transition]}] {incident.title}"
    lines = [f"Incidente #{incident.id}: {incident.title}",
             f"Estado: {transition}",
             f"Severidad: {SEVERITY_NAMES.get(incident.severity, incident.severity)}"]
    if olt_name:
        lines.append(f"OLT: {olt_name}")
    if incident.slot is not None or incident.port is not None:
        lines.append(f"PON: {pon_name(incident.slot, incident.port)}")
    if incident.cause:
        lines.append(f"Causa: {incident.cause}")
    if incident.onus_included:
        lines.append(f"ONUs afectadas: {incident.onus_included}")
    if incident.onus_suppressed:
        lines.append(folded_text(incident.onus_suppressed).capitalize())
    if incident.detail:
        lines.append(incident.detail)
    if transition == "reconocido" and actor:
        lines.append(f"Reconocido por {actor}" + (f": {note}" if note else ""))
    if transition == "resuelto":
        lines.append(f"Resuelto por {actor}" if actor else "Resuelto automáticamente "
                     "(la condición dejó de cumplirse).")
    lines.append(f"Ver en el panel: {incident_link(public_url, incident.id)}")
    return title, "\n".join(lines)


def summary(open_incidents, opened_today: int, resolved_today: int, public_url: str
            ) -> tuple[str, str]:
    """The daily summary: counts and the open incidents, oldest first."""
    title = f"[Facho] Resumen diario: {len(open_incidents)} incidentes abiertos"
    lines = [f"Abiertos ahora: {len(open_incidents)}",
             f"Abiertos en las últimas 24 h: {opened_today}",
             f"Resueltos en las últimas 24 h: {resolved_today}"]
    for incident in open_incidents[:50]:
        lines.append(f"- #{incident.id} {incident.title} ({incident.state})")
    lines.append(f"Ver en el panel: {public_url}/admin/incidentes/")
    return title, "\n".join(lines)
