"""RFC 9457 problem details: the body of every API error, in Spanish.

    {"type": "about:blank" | "/api/v1/problemas/<code>", "title", "status", "detail",
     "instance": the request path, "errores": [{"campo", "ubicacion", "mensaje"}]}

`errores` is present when a field is at fault (a query parameter, a body field), so a
client can point at it; `detail` names it too, for a human reading only that line.
"""
from __future__ import annotations

import json

from facho.api import fields

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Solicitud incorrecta",
    401: "No autenticado",
    403: "Sin permiso",
    404: "No encontrado",
    405: "Método no permitido",
    409: "Conflicto",
    415: "Tipo de contenido no soportado",
    422: "Datos inválidos",
    429: "Demasiadas solicitudes",
    500: "Error interno",
    503: "Servicio no disponible",
}

# marshmallow / webargs messages that are not ours (should a field lack a Spanish one)
_ENGLISH = {
    "Unknown field.": "Parámetro desconocido.",
    "Missing data for required field.": fields.REQUIRED,
    "Field may not be null.": fields.NOT_NULL,
    "Not a valid integer.": fields.NOT_INTEGER,
    "Not a valid number.": fields.NOT_NUMBER,
    "Not a valid string.": fields.NOT_TEXT,
    "Not a valid boolean.": fields.NOT_BOOLEAN,
    "Not a valid datetime.": fields.NOT_INSTANT,
    "Not a valid list.": "No es una lista.",
    "Invalid input type.": "Tipo de dato inválido.",
    "Invalid JSON body.": "El cuerpo no es JSON válido.",
}
LOCATIONS = {"query": "consulta", "querystring": "consulta", "json": "cuerpo",
             "view_args": "ruta", "path": "ruta", "headers": "cabecera"}


def spanish(message: str) -> str:
    return _ENGLISH.get(message, message)


def field_errors(messages) -> list[dict]:
    """webargs' {location: {field: [messages]}} (nested for lists) as a flat list of
    {"campo", "ubicacion", "mensaje"}, in a stable order."""
    out: list[dict] = []

    def walk(location: str, path: str, value):
        if isinstance(value, dict):
            for key in sorted(value, key=str):
                child = f"{path}.{key}" if path else str(key)
                walk(location, child, value[key])
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(location, path, item)
        else:
            field = path or "(cuerpo)"
            if field == "_schema":
                field = "(cuerpo)"
            out.append({"campo": field, "ubicacion": LOCATIONS.get(location, location),
                        "mensaje": spanish(str(value))})

    for location in sorted(messages or {}, key=str):
        walk(str(location), "", messages[location])
    return out


def problem(status: int, detail: str, *, instance: str | None = None,
            errors: list[dict] | None = None, title: str | None = None,
            kind: str | None = None) -> dict:
    """A problem-details body. `kind` is a short code (e.g. "token-invalido") that
    becomes the `type` URI; without it the type is "about:blank" as RFC 9457 says."""
    body = {"type": f"/api/v1/problemas/{kind}" if kind else "about:blank",
            "title": title or TITLES.get(status, "Error"),
            "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errores"] = errors
    return body


def detail_for_fields(errors: list[dict]) -> str:
    """One line naming every field at fault: "Parámetro «pon»: No es …; …"."""
    parts = [f"{'Campo' if e['ubicacion'] == 'cuerpo' else 'Parámetro'} «{e['campo']}»: "
             f"{e['mensaje']}" for e in errors]
    return " ".join(parts) or "Los datos enviados no son válidos."


def dumps(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)
