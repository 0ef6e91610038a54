"""Problem details (facho.api.problems): webargs' nested messages flattened to named fields,
in Spanish, and the RFC 9457 members."""
from __future__ import annotations

from facho.api import problems


def test_nested_messages_become_named_fields_in_spanish():
    errors = problems.field_errors({
        "json": {"tareas": {0: ["Not a valid integer."]}, "_schema": ["Invalid input type."]},
        "query": {"zzz": ["Unknown field."]},
    })
    assert errors == [
        {"campo": "(cuerpo)", "ubicacion": "cuerpo", "mensaje": "Tipo de dato inválido."},
        {"campo": "tareas.0", "ubicacion": "cuerpo", "mensaje": "No es un número entero."},
        {"campo": "zzz", "ubicacion": "consulta", "mensaje": "Parámetro desconocido."},
    ]
    assert problems.detail_for_fields(errors[2:]) == "Parámetro «zzz»: Parámetro desconocido."


def test_a_problem_has_the_rfc_members_and_a_type_only_when_named():
    plain = problems.problem(404, "No existe la ONU 3.", instance="/api/v1/onus/3")
    assert plain == {"type": "about:blank", "title": "No encontrado", "status": 404,
                     "detail": "No existe la ONU 3.", "instance": "/api/v1/onus/3"}
    named = problems.problem(429, "x", kind="limite-de-solicitudes")
    assert named["type"] == "/api/v1/problemas/limite-de-solicitudes"
    assert named["title"] == "Demasiadas solicitudes"
