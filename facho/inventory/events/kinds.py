"""The kinds of ONU events and how an operator reads them (Spanish)."""
from __future__ import annotations

ESTADO, PRESENCIA, POTENCIA, MOVIDA = "estado", "presencia", "potencia", "movida"
KINDS = (ESTADO, PRESENCIA, POTENCIA, MOVIDA)
KIND_NAMES = {ESTADO: "Estado", PRESENCIA: "Presencia", POTENCIA: "Potencia RX",
              MOVIDA: "Movida"}

# presence values
PRESENTE, AUSENTE = "presente", "ausente"


def describe(kind: str, old: str | None, new: str | None, cause: str | None = None) -> str:
    """One line for lists: "en línea → desconectada (LOS)", "movida de 0/1/3:5 a 0/2/1:7"."""
    if kind == MOVIDA:
        return f"movida de {old} a {new}"
    if kind == PRESENCIA:
        if new == PRESENTE:
            return "apareció" if old is None else "volvió a aparecer"
        return "ya no aparece"
    if kind == POTENCIA:
        return f"potencia RX {old} → {new} dBm"
    text = f"{old or '—'} → {new or '—'}"
    return f"{text} ({cause})" if cause else text
