"""The import's report: per old table, what was created, updated, left unchanged or refused
(with a Spanish reason naming the old row), plus notes on rows imported with a change the
operator should know about. Pure: rendering is text the CLI prints as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# How many refusals / notes per table the text report lists before "y N más".
SHOWN_PER_TABLE = 30


@dataclass
class TableReport:
    """One old table (or a group of rows of it) as the operator reads it."""

    tabla: str                  # the old table's name, e.g. "olt"
    destino: str                # what it became in Facho, Spanish, e.g. "OLTs"
    creados: int = 0
    actualizados: int = 0
    sin_cambios: int = 0
    rechazados: list[str] = field(default_factory=list)   # "#12 SMP-02: razón"
    notas: list[str] = field(default_factory=list)        # imported, but changed: why
    n_rechazados: int = 0       # rows refused (a line may stand for many: ONUs of one OLT)

    @property
    def leidos(self) -> int:
        return self.creados + self.actualizados + self.sin_cambios + self.n_rechazados

    def count(self, outcome: str) -> None:
        """outcome: "creado", "actualizado" or "sin_cambios" (see run.upsert)."""
        if outcome == "creado":
            self.creados += 1
        elif outcome == "actualizado":
            self.actualizados += 1
        else:
            self.sin_cambios += 1

    def refuse(self, row: str, reason: str, rows: int = 1) -> None:
        self.rechazados.append(f"{row}: {reason}")
        self.n_rechazados += rows

    def note(self, row: str, text: str) -> None:
        self.notas.append(f"{row}: {text}")

    def as_dict(self) -> dict:
        return {"tabla": self.tabla, "destino": self.destino, "leidos": self.leidos,
                "creados": self.creados, "actualizados": self.actualizados,
                "sin_cambios": self.sin_cambios, "rechazados": self.n_rechazados,
                "motivos": list(self.rechazados),
                "notas": list(self.notas)}


@dataclass
class Report:
    alcance: str
    simulado: bool
    tablas: dict[str, TableReport] = field(default_factory=dict)
    no_importado: list[str] = field(default_factory=list)   # whole tables not carried over

    def table(self, tabla: str, destino: str) -> TableReport:
        if tabla not in self.tablas:
            self.tablas[tabla] = TableReport(tabla, destino)
        return self.tablas[tabla]

    @property
    def changes(self) -> int:
        return sum(t.creados + t.actualizados for t in self.tablas.values())

    @property
    def refused(self) -> int:
        return sum(t.n_rechazados for t in self.tablas.values())

    def as_dict(self) -> dict:
        return {"alcance": self.alcance, "simulado": self.simulado, "cambios": self.changes,
                "rechazados": self.refused,
                "tablas": [t.as_dict() for t in self.tablas.values()],
                "no_importado": list(self.no_importado)}


def _listed(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    out = [f"    {title}:"]
    out += [f"      - {line}" for line in lines[:SHOWN_PER_TABLE]]
    if len(lines) > SHOWN_PER_TABLE:
        out.append(f"      … y {len(lines) - SHOWN_PER_TABLE} más (use --json para verlos todos)")
    return out


def render(report: Report) -> str:
    """The Spanish text report: one block per old table, then the verdict line."""
    head = ("SIMULACIÓN (no se escribió nada en Facho)" if report.simulado
            else "Importación desde Facho v2")
    lines = [f"{head} — alcance: {report.alcance}", ""]
    for t in report.tablas.values():
        lines.append(f"  {t.tabla} → {t.destino}: leídos {t.leidos}, creados {t.creados}, "
                     f"actualizados {t.actualizados}, sin cambios {t.sin_cambios}, "
                     f"rechazados {t.n_rechazados}")
        lines += _listed("rechazados", t.rechazados)
        lines += _listed("notas", t.notas)
    if report.no_importado:
        lines += ["", "  No se importa:"] + [f"    - {x}" for x in report.no_importado]
    lines.append("")
    lines.append(verdict(report))
    return "\n".join(lines)


def verdict(report: Report) -> str:
    refused = f"; {report.refused} filas rechazadas (ver arriba)" if report.refused else ""
    if report.changes == 0:
        return f"Sin cambios: Facho ya tenía todo lo importable{refused}."
    verb = "se crearían o actualizarían" if report.simulado else "creadas o actualizadas"
    return f"{report.changes} filas {verb}{refused}."
