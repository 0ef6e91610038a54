"""The Spanish names operators read for the codes Facho stores: execution states, ONU
states, job types. Panel (badges, filters), CLI and messages all take them from here."""
from __future__ import annotations

from facho.models import FAILED, INTERRUPTED, PENDING, RUNNING, SKIPPED, SUCCESS

STATUS_NAMES = {
    PENDING: "Pendiente",
    RUNNING: "En ejecución",
    SUCCESS: "Exitosa",
    FAILED: "Fallida",
    INTERRUPTED: "Interrumpida",
    SKIPPED: "Omitida",
}
# What each state means, for hover texts and help.
STATUS_HINTS = {
    PENDING: "Pendiente: encolada o reservada, aún no empezó",
    RUNNING: "En ejecución: un worker la está procesando",
    SUCCESS: "Exitosa: terminó y guardó sus datos",
    FAILED: "Fallida: terminó con error (vea Error / motivo)",
    INTERRUPTED: "Interrumpida: se cortó sin terminar (vea Error / motivo)",
    SKIPPED: "Omitida: el turno no se ejecutó (vea Error / motivo)",
}
# ONU states as the formats of facho.inventory.values store them; a value a vendor's text
# OID returns that is not listed here is shown as read.
ONU_STATUS_NAMES = {"online": "En línea", "offline": "Fuera de línea"}
JOB_TYPE_NAMES = {"descubrimiento": "Descubrimiento", "get": "Consulta (get)"}


def onu_state_options(label_maps) -> list[tuple[str, str]]:
    """The ONU states the panel's filter offers, known without reading the inventory (a
    DISTINCT over 1 M ONUs took a scan per page): the `status_*` formats' codes, then every
    label of the state OIDs' label maps (`Oid.etiquetas`, as the values are stored), in
    alphabetical order. (stored value, Spanish text); a map that is not a dict is skipped."""
    options = dict(ONU_STATUS_NAMES)
    labels = {str(label) for labels in label_maps if isinstance(labels, dict)
              for label in labels.values() if str(label).strip()}
    for label in sorted(labels - set(options), key=str.casefold):
        options[label] = label
    return list(options.items())
