"""validate_rule: the form's errors, one Spanish message per field, naming the field."""
from __future__ import annotations

import pytest

from facho.inventory.value_rules import validate_rule


def test_an_empty_form_and_a_complete_good_rule_are_valid():
    assert validate_rule({}) == {}
    assert validate_rule({"formato": "numero", "regex": r"\(([-\d.]+) dBm\)",
                          "sin_valor": "0, -40, 65535", "unidad": "mw", "escala": "1",
                          "desplazamiento": "-0,5", "decimales": "2",
                          "etiquetas": '{"1": "en línea"}'}) == {}
    assert validate_rule({"regex": "", "escala": "", "decimales": "", "etiquetas": "",
                          "unidad": None, "sin_valor": None}) == {}


def test_a_regex_that_does_not_compile_names_the_re_error():
    errors = validate_rule({"regex": "(-?\\d+"})
    assert errors == {"regex": "la expresión regular no compila: missing ), unterminated "
                               "subpattern en la posición 0"}


def test_a_regex_with_two_groups_is_refused():
    assert "use uno solo" in validate_rule({"regex": r"(\d+) mW \((\S+)\)"})["regex"]


@pytest.mark.parametrize("not_a_map", ["[1,2]", '"x"', "5", '{"1": 5}', [1, 2], 5, {"1": 5}])
def test_etiquetas_that_are_not_a_map_of_text_are_refused(not_a_map):
    assert validate_rule({"etiquetas": not_a_map}) == {
        "etiquetas": 'etiquetas debe ser un objeto JSON de valor → texto, por ejemplo '
                     '{"1": "en línea"}'}


def test_escala_0_is_refused():
    assert validate_rule({"escala": "0"})["escala"].startswith("escala no puede ser 0")
    assert validate_rule({"escala": 0.0})["escala"].startswith("escala no puede ser 0")


def test_an_unknown_unit_or_a_unit_on_a_text_format_is_refused():
    assert validate_rule({"formato": "numero", "unidad": "dbm"}) == {
        "unidad": "unidad desconocida «dbm»; válidas: (ninguna), mw, uw, decimas_uw"}
    assert "la unidad «mw»" in validate_rule({"unidad": "mw"})["unidad"]
    assert validate_rule({"formato": "int", "unidad": "decimas_uw"}) == {}


@pytest.mark.parametrize("field, value, message", [
    ("decimales", "7", "decimales debe ser un número entero de 0 a 6"),
    ("decimales", "-1", "decimales debe ser un número entero de 0 a 6"),
    ("desplazamiento", "abc", "desplazamiento debe ser un número"),
    ("escala", "x", "escala debe ser un número"),
    ("sin_valor", "0,,65535", "sin valor: el elemento 2 está vacío"),
    ("formato", "dbm_marte", "formato desconocido «dbm_marte»"),
])
def test_each_other_field_error_names_its_field(field, value, message):
    errors = validate_rule({"formato": "int", field: value})
    assert list(errors) == [field] and errors[field].startswith(message)


def test_several_errors_are_reported_together():
    errors = validate_rule({"regex": "(", "escala": 0, "unidad": "x", "etiquetas": "[]"})
    assert set(errors) == {"regex", "escala", "unidad", "etiquetas"}
