"""The polling budget of an OLT: how hard Facho may poll it (issue 15). Pure rules.

Fields (the `Olt` columns of the same names; enforced by `facho.snmp.pacing` and the walk):

* `max_repetitions`: rows per GetBulk (1-100);
* `max_requests_per_second`: SNMP requests per second to the OLT from every worker
  together (0 = no cap; `facho.executions.request_rate`);
* `request_pause_ms`: silence between an answer and the next request of a walk (0-10000);
* `getnext_only`: walk with GETNEXT, never GetBulk (agents that mishandle GetBulk);
* `max_concurrent`: executions at once on the OLT (`olt_limiter`).

A vendor profile may carry defaults (`"presupuesto"` in the file, optionally
`"por_modelo": {"C300": {...}}` overriding some fields for a model); an OLT whose budget
field is left empty in the panel takes its brand and model's default (`defaults_for`),
else `DEFAULTS`. Status and optical power can be separate jobs with separate intervals,
so a profile's budget is per request, not per reading.
"""
from __future__ import annotations

from typing import Any, Iterable

FIELDS = ("max_repetitions", "max_requests_per_second", "request_pause_ms", "getnext_only",
          "max_concurrent")
DEFAULTS: dict[str, Any] = {"max_repetitions": 25, "max_requests_per_second": 0,
                            "request_pause_ms": 0, "getnext_only": False,
                            "max_concurrent": 1}
RANGES = {"max_repetitions": (1, 100), "max_requests_per_second": (0, 10_000),
          "request_pause_ms": (0, 10_000), "max_concurrent": (1, 64)}
PER_MODEL_KEY = "por_modelo"

LABELS = {
    "max_repetitions": "Repeticiones por GetBulk",
    "max_requests_per_second": "Consultas por segundo (máximo)",
    "request_pause_ms": "Pausa entre consultas (ms)",
    "getnext_only": "Solo GETNEXT",
    "max_concurrent": "Ejecuciones simultáneas",
}
HELP = {
    "max_repetitions": "Filas que pide cada consulta GetBulk (1 a 100). Menos filas = "
                       "respuestas más pequeñas y más consultas. Si la OLT devuelve tablas "
                       "vacías o incompletas, bájelo o active «Solo GETNEXT». Vacío: el valor "
                       "del perfil del fabricante.",
    "max_requests_per_second": "Tope de consultas SNMP por segundo a esta OLT, sumando todas "
                               "las ejecuciones y todos los workers (0 = sin tope). Protege "
                               "la CPU de la OLT. Vacío: el valor del perfil del fabricante.",
    "request_pause_ms": "Milisegundos de espera entre una respuesta y la consulta siguiente "
                        "de un mismo recorrido (0 a 10000). Vacío: el valor del perfil del "
                        "fabricante.",
    "getnext_only": "Recorre las tablas con GETNEXT (una fila por consulta) en vez de "
                    "GetBulk, para OLTs que responden mal a GetBulk (algunas ZTE C300). Más "
                    "lento: úselo con un tope de consultas por segundo. En una OLT nueva sin "
                    "marcar, toma el valor del perfil del fabricante.",
    "max_concurrent": "Cuántas ejecuciones pueden consultar esta OLT a la vez.",
}


def range_message(name: str) -> str:
    low, high = RANGES[name]
    return f"Debe estar entre {low} y {high}."


def validate_budget(values: Any, path: str = "presupuesto") -> list[str]:
    """Spanish problems of a budget object (a profile's `presupuesto`), each with its path;
    unknown keys and wrong types included. Empty list when it is fine."""
    if not isinstance(values, dict):
        return [f"{path}: debe ser un objeto {{…}} con {', '.join(FIELDS)}"]
    errors = []
    for key, value in values.items():
        where = f"{path}.{key}"
        if key == PER_MODEL_KEY and path == "presupuesto":
            if not isinstance(value, dict):
                errors.append(f"{where}: debe ser un objeto modelo → presupuesto")
                continue
            for model, override in value.items():
                errors.extend(validate_budget(override, f"{where}.{model}"))
            continue
        if key not in FIELDS:
            errors.append(f"{where}: clave desconocida (las válidas son: {', '.join(FIELDS)})")
        elif key == "getnext_only":
            if not isinstance(value, bool):
                errors.append(f"{where}: debe ser true o false")
        elif isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: debe ser un número entero")
        elif not RANGES[key][0] <= value <= RANGES[key][1]:
            errors.append(f"{where}: {range_message(key)}")
    return errors


def budget_of(presupuesto: dict | None, modelo: str = "") -> dict[str, Any]:
    """A profile's budget for one model: `DEFAULTS`, then the profile's values, then its
    `por_modelo` entry for `modelo` (compared without case or spaces)."""
    out = dict(DEFAULTS)
    if not presupuesto:
        return out
    out.update({k: v for k, v in presupuesto.items() if k in FIELDS})
    wanted = _norm(modelo)
    for model, override in (presupuesto.get(PER_MODEL_KEY) or {}).items():
        if wanted and _norm(model) == wanted:
            out.update({k: v for k, v in override.items() if k in FIELDS})
    return out


def defaults_for(brand: str, modelo: str, profiles: Iterable) -> dict[str, Any]:
    """The budget defaults of an OLT of `brand` and `modelo` among `profiles` (parsed
    `Profile`s): the brand's profile that lists the model, else the brand's first profile
    with a budget, else `DEFAULTS`."""
    mine = [p for p in profiles if p is not None and _norm(p.marca) == _norm(brand)
            and p.presupuesto]
    listing = [p for p in mine if _norm(modelo) in {_norm(m) for m in p.modelos}]
    chosen = (listing or mine or [None])[0]
    return budget_of(chosen.presupuesto if chosen else None, modelo)


def _norm(text: str) -> str:
    return "".join((text or "").split()).lower()
