"""Reading profile files (facho.inventory.profiles.format): every problem in Spanish, with the
path of the entry it concerns; nothing here touches the database."""
from __future__ import annotations

import json

import pytest

from facho.inventory.profiles.format import (FORMAT_VERSION, MAX_BYTES, OID_DEFAULTS,
                                             ProfileFileError, parse)
from tests.inventory.profiles.documents import ROOT, document, encoded


def problems_of(doc) -> list[str]:
    return parse(encoded(doc)).problems


def test_the_small_profile_reads_with_defaults_for_left_out_oid_keys():
    profile = parse(encoded(document()))
    assert profile.valid and profile.version == FORMAT_VERSION
    assert profile.marca == "Marca Prueba" and profile.modelos == ("X1",)
    serie = profile.oids[0]
    assert serie.path == "oids[0]" and serie.nombre == "Prueba serie"
    assert {k: serie.values[k] for k in OID_DEFAULTS if k != "formato"} == \
        {k: v for k, v in OID_DEFAULTS.items() if k != "formato"}
    assert profile.formulas[0].values["kind"] == "dotted"


def test_pasted_text_and_a_utf8_bom_read_like_the_file():
    text = encoded(document()).decode()
    assert parse(text).valid
    assert parse(b"\xef\xbb\xbf" + text.encode()).valid


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_a_truncated_file_says_where_it_ends(cut):
    data = encoded(document())
    with pytest.raises(ProfileFileError, match=r"^El archivo está incompleto o no es JSON: "
                                               r"línea \d+, columna \d+"):
        parse(data[:-cut])


def test_text_that_is_not_json_is_refused_with_line_and_column():
    with pytest.raises(ProfileFileError) as caught:
        parse(b'{"facho_perfil": 1,\n  marca: "x"}')
    assert str(caught.value).startswith("El archivo está incompleto o no es JSON: línea 2, "
                                        "columna 3")


@pytest.mark.parametrize("data, message", [
    (bytes(range(256)) * 4, "no es texto UTF-8"),
    (b"\x00\x01{}", "NUL"),
    (b"   \n", "está vacío"),
    (b"[1, 2]", "debe ser un objeto JSON"),
    (b'{"marca": "Huawei"}', "falta la clave «facho_perfil»"),
    (b'{"facho_perfil": "1", "marca": "Huawei"}', "número entero"),
    (b'{"facho_perfil": 1, "marca": "Huawei", "marca": "ZTE"}', "repite la clave «marca»"),
    (b'{"facho_perfil": 1, "marca": NaN}', "NaN"),
    (b'{"facho_perfil": 1, "nombre": "x"}', "no dice de qué marca es"),
])
def test_what_is_not_a_profile_at_all_gets_one_spanish_sentence(data, message):
    with pytest.raises(ProfileFileError, match=message):
        parse(data)


def test_a_file_over_the_size_limit_is_refused_before_reading_it():
    with pytest.raises(ProfileFileError, match="demasiado grande"):
        parse(b" " * (MAX_BYTES + 1))


def test_a_newer_format_version_is_refused_whole():
    with pytest.raises(ProfileFileError) as caught:
        parse(encoded(document(facho_perfil=2)))
    assert "versión 2 del formato" in str(caught.value)
    assert "actualice Facho" in str(caught.value)


def _with_oid(index: int, **fields) -> dict:
    doc = document()
    doc["oids"][index].update(fields)
    return doc


@pytest.mark.parametrize("doc, expected", [
    (_with_oid(1, espacio=None), "oids[1].espacio: falta"),
    (_with_oid(1, espacio="temperatura"), "oids[1].espacio: espacio desconocido «temperatura»"),
    (_with_oid(0, oid="1.3.6.x"), "oids[0].oid: OID inválido"),
    (_with_oid(2, escala="0.01"), 'oids[2].escala: debe ser un número o null (se leyó "0.01")'),
    (_with_oid(2, decimales=1.5), "oids[2].decimales: debe ser un número entero"),
    (_with_oid(2, keep_previous_value="sí"), "oids[2].keep_previous_value: debe ser true o false"),
    (_with_oid(1, etiquetas=["en línea"]), "oids[1].etiquetas: debe ser un objeto"),
    (_with_oid(1, etiquetas='{"1": "en línea"}'), "oids[1].etiquetas: debe ser un objeto"),
    (_with_oid(2, regex="([0-9]+"), "oids[2].regex: la expresión regular no compila"),
    (_with_oid(2, unidad="mw", formato="gpon_serial"), "oids[2].unidad: la unidad «mw»"),
    (_with_oid(2, escala=0), "oids[2].escala:"),
    (_with_oid(0, formato="status_marte"), "oids[0].formato: formato desconocido"),
    (_with_oid(0, nombre="a\x00b"), "oids[0].nombre: no puede contener caracteres de control"),
    (_with_oid(0, sinvalor="0"), "oids[0].sinvalor: clave desconocida"),
    (document(oids={"nombre": "x"}), "oids: debe ser una lista"),
    (document(oids=["x"]), "oids[0]: debe ser un objeto"),
    (document(modelos="X1"), "modelos: debe ser una lista de textos"),
    (document(extra=1), "extra: clave desconocida"),
])
def test_a_bad_entry_is_reported_under_its_path(doc, expected):
    problems = problems_of(doc)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("params, expected", [
    ({"kind": "lineal"}, "formulas[0].params.kind: tipo de fórmula desconocido"),
    ({"kind": "linear", "base": 0, "step_slot": 8192}, "formulas[0].params: "),
    ({"kind": "linear", "base": 0, "step_slot": 0, "step_port": 1}, "formulas[0].params: "),
    ({"kind": "dotted", "positions": {"port": 0, "onu": 1}, "colour": 3},
     "formulas[0].params: parámetro 'colour'"),
    ("dotted", "formulas[0].params: debe ser un objeto"),
])
def test_invalid_formula_params_are_reported_with_the_decoders_message(params, expected):
    doc = document()
    doc["formulas"][0]["params"] = params
    problems = problems_of(doc)
    assert any(p.startswith(expected) for p in problems), problems


def test_duplicate_names_inside_the_file_are_reported_on_the_repeated_entry():
    doc = document()
    doc["oids"].append(dict(doc["oids"][0], oid=f"{ROOT}.9"))
    doc["formulas"].append(dict(doc["formulas"][0], modelo="X2"))
    problems = problems_of(doc)
    assert "oids[3].nombre: otro OID del archivo (oids[0]) ya se llama «Prueba serie»" in problems
    assert ("formulas[1].nombre: otra fórmula del archivo (formulas[0]) ya se llama "
            "«Prueba {pon}.{onu}»") in problems


def test_two_entries_reading_the_same_oid_and_space_or_two_formulas_for_one_model():
    doc = document()
    doc["oids"].append(dict(doc["oids"][0], nombre="Prueba serie bis"))
    doc["formulas"].append(dict(doc["formulas"][0], nombre="Otra"))
    problems = problems_of(doc)
    assert any(p.startswith("oids[3].oid: otro OID del archivo (oids[0]) ya lee") for p in problems)
    assert any(p.startswith("formulas[1].modelo: otra fórmula del archivo (formulas[0]) ya es "
                            "la del modelo «(todos)»") for p in problems)


def test_the_same_oid_read_into_two_spaces_is_fine():
    doc = document()
    doc["oids"].append(dict(doc["oids"][0], nombre="Prueba serie (serial)", espacio="serial"))
    assert problems_of(doc) == []


def test_a_default_value_that_does_not_fit_its_field_is_refused_like_a_job_would():
    doc = _with_oid(2, default_value="mucho")
    assert any(p.startswith("oids[2]: ") and "mucho" in p for p in problems_of(doc))


def test_every_problem_of_a_file_is_listed_not_only_the_first():
    doc = document()
    doc["oids"][0]["espacio"] = "x"
    doc["oids"][2]["regex"] = "("
    doc["formulas"][0]["params"] = {"kind": "nada"}
    problems = problems_of(doc)
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == [
        "formulas[0].params.kind", "oids[0].espacio", "oids[2].regex"]


def test_the_document_helper_round_trips_through_json():
    assert json.loads(encoded(document())) == document()


def test_a_polling_budget_reads_with_its_per_model_overrides():
    doc = document()
    doc["presupuesto"] = {"max_repetitions": 10, "max_requests_per_second": 50,
                          "por_modelo": {"C300": {"getnext_only": True}}}
    profile = parse(encoded(doc))
    assert profile.valid
    assert profile.presupuesto["por_modelo"]["C300"] == {"getnext_only": True}


@pytest.mark.parametrize("budget, expected", [
    ({"max_repetitions": 0}, "presupuesto.max_repetitions: Debe estar entre 1 y 100."),
    ({"getnext_only": "si"}, "presupuesto.getnext_only: debe ser true o false"),
    ({"pausa": 3}, "presupuesto.pausa: clave desconocida"),
    ({"por_modelo": {"C300": {"max_requests_per_second": -1}}},
     "presupuesto.por_modelo.C300.max_requests_per_second: Debe estar entre 0 y 10000."),
    ([1], "presupuesto: debe ser un objeto"),
])
def test_a_bad_polling_budget_is_reported_by_its_path(budget, expected):
    doc = document()
    doc["presupuesto"] = budget
    profile = parse(encoded(doc))
    assert any(p.startswith(expected) for p in profile.problems), profile.problems
    assert profile.presupuesto is None
