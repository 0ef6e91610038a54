"""What an inventory execution tells the operator beyond its counts: notes and warnings,
in Spanish, written once here. Pure functions over the counts the walk and the writes keep.

A *warning* means the execution succeeded but stored something the operator should check
(rows merged into one ONU, repeated names, values a rule refused): the panel shows SUCCESS
with a yellow "con advertencias" badge and the list. A *note* is the same text joined, kept
in the execution's message so the list shows it without opening the detail.
"""
from __future__ import annotations

from typing import Any

EMPTY_WALK = (
    "La OLT respondió, pero la tabla de descubrimiento ({oids}) no devolvió filas: no se "
    "cambió la presencia de ninguna ONU. Revise el OID de descubrimiento si la OLT tiene "
    "ONUs.")

NO_PRESENT = ("La OLT no tiene ONUs presentes en el inventario: ejecute primero una "
              "tarea de descubrimiento.")

EXAMPLE_LIMIT = 3


def _shown(value: Any, limit: int = 60) -> str:
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        try:
            text = raw.decode("utf-8")
            if not text.isprintable():
                raise ValueError
        except ValueError:
            text = "0x" + raw.hex()
    else:
        text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def nothing_decoded(rows: int, formula: str, example_index: str, reason: str) -> str:
    """FAILED message of a discovery whose rows all failed the index formula; the decoder's
    own reason is kept, so the operator knows which parameter to change."""
    return (f"Ninguna de las {rows} filas de la tabla de descubrimiento corresponde a la "
            f"fórmula de índice «{formula}». Ejemplo: índice {example_index}: {reason}. "
            "Revise la fórmula de la marca/modelo (use «Probar» en el formulario).")


def index_too_long(length: int, limit: int) -> str:
    return (f"el índice tiene {length} caracteres y el inventario guarda hasta {limit}: "
            "la tabla no es una tabla de ONUs o la fórmula toma un índice demasiado largo")


def undecoded_rows(count: int, rows: int, examples: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"índice {index}: {reason}" for index, reason in examples[:EXAMPLE_LIMIT])
    return (f"{count} de {rows} filas no corresponden a la fórmula de índice y no se "
            f"guardaron (p. ej. {shown}).")


def merged_rows(count: int, examples: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{index} → {raw}" for index, raw in examples[:EXAMPLE_LIMIT])
    return (f"{count} filas de la tabla de descubrimiento se decodificaron como una ONU ya "
            f"vista y se unieron a ella (p. ej. {shown}): la fórmula de índice ignora parte "
            "del índice (revise max_trailing y las posiciones).")


def repeated_names(count: int, examples: list[tuple[str, list[str]]]) -> str:
    shown = "; ".join(f"{name} en los índices {', '.join(raws[:3])}"
                      for name, raws in examples[:EXAMPLE_LIMIT])
    return (f"{count} nombres de ONU se repiten en filas distintas (p. ej. {shown}): la "
            "fórmula de índice no distingue esas ONUs; revise sus parámetros.")


def refused_values(per_oid: dict[str, dict]) -> str | None:
    """One sentence per OID whose value rule refused values, with one example row: what was
    read, from which ONU, and why it was refused."""
    parts = []
    for nombre, info in per_oid.items():
        if not info.get("count"):
            continue
        parts.append(f"OID «{nombre}»: {info['count']} valor(es) rechazados, p. ej. ONU "
                     f"{info['onu']} leyó «{_shown(info['value'])}»: {info['reason']}")
    if not parts:
        return None
    return ("Valores que la regla de su OID rechazó (se trataron como «sin valor»; revise "
            "formato, expresión regular o unidad del OID): " + "; ".join(parts) + ".")


class RefusedValues:
    """Counts and keeps the first example of values each OID's rule refused."""

    def __init__(self) -> None:
        self.per_oid: dict[str, dict] = {}
        self.total = 0

    def add(self, nombre: str, onu: str, value: Any, reason: str | None) -> None:
        self.total += 1
        info = self.per_oid.get(nombre)
        if info is None:
            self.per_oid[nombre] = {"count": 1, "onu": onu, "value": value,
                                    "reason": reason or "valor no válido"}
        else:
            info["count"] += 1

    def examples(self) -> dict[str, dict]:
        """JSON-safe copy for the execution's result_summary."""
        return {nombre: dict(info, value=_shown(info["value"]))
                for nombre, info in self.per_oid.items()}

    def warning(self) -> str | None:
        return refused_values(self.per_oid)
