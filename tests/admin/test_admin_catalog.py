"""Brands, OIDs and index formulas: validation with Spanish messages, nothing saved."""
import pytest

from facho.models import Brand, IndexFormula, Oid
from tests.factories import add_brand, add_olt
from tests.panel import count, fetch, field_errors, post, table, text


def test_brand_is_created_and_listed(app, staff_client):
    page = text(post(staff_client, "/admin/brands/new/", {"nombre": " Huawei "}))
    assert "Registro creado." in page and "Huawei" in table(page)
    with app.app_context():
        assert Brand.query.one().nombre == "Huawei"


def test_duplicate_brand_is_refused(app, staff_client):
    add_brand(app, "Huawei")
    page = text(post(staff_client, "/admin/brands/new/", {"nombre": "Huawei"}))
    assert "Ya existe una marca con este nombre." in field_errors(page)["nombre"]
    assert count(app, Brand) == 1


def oid_form(**overrides):
    data = {"nombre": "Serie Huawei", "oid": "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3",
            "brand": "__None", "espacio": "serial", "formato": "gpon_serial",
            "default_value": ""}
    data.update(overrides)
    return data


def test_oid_is_normalised_and_saved(app, staff_client):
    page = text(post(staff_client, "/admin/oids/new/",
                     oid_form(oid=".1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3")))
    assert "Registro creado." in page
    with app.app_context():
        oid = Oid.query.one()
        assert (oid.oid, oid.brand_id, oid.formato) == (
            "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3", None, "gpon_serial")
    assert "Cualquiera" in table(page)


def test_malformed_oid_is_refused(app, staff_client):
    for value in ("1.3.6.x", "1..3.6", "iso.3.6.1", "1"):
        page = text(post(staff_client, "/admin/oids/new/", oid_form(oid=value)))
        assert any("OID inválido" in m for m in field_errors(page)["oid"]), value
        assert count(app, Oid) == 0


def test_duplicate_oid_name_is_refused(app, staff_client):
    post(staff_client, "/admin/oids/new/", oid_form())
    page = text(post(staff_client, "/admin/oids/new/", oid_form(oid="1.3.6.1.2.1.1.1.0")))
    assert "Ya existe un OID con este nombre." in field_errors(page)["nombre"]
    assert count(app, Oid) == 1


def formula_form(brand_id, **overrides):
    data = {"nombre": "Huawei GPON", "brand": str(brand_id), "modelo": "", "kind": "linear",
            "params": '{"base": 4194304000, "step_slot": 8192, "step_port": 256}'}
    data.update(overrides)
    return data


def test_index_formula_is_saved_with_its_kind_in_the_params(app, staff_client):
    brand = add_brand(app)
    page = text(post(staff_client, "/admin/index_formulas/new/", formula_form(brand)))
    assert "Registro creado." in page
    with app.app_context():
        formula = IndexFormula.query.one()
        assert formula.params == {"kind": "linear", "base": 4194304000, "step_slot": 8192,
                                  "step_port": 256}


BAD_FORMULAS = [
    ({"params": "{base: 1}"}, "JSON"),
    ({"params": '{"base": 1, "step_slot": 8192}'}, "faltan parámetros: step_port"),
    ({"params": '{"base": -1, "step_slot": 1, "step_port": 1}'}, "'base': debe ser un número"),
    ({"kind": "bitshift"}, "le faltan parámetros: port_shift, port_mask"),
    ({"kind": "dotted", "params": '{"positions": {"slot": 0}}'}, "positions debe indicar"),
]


def test_bad_formula_params_are_refused(app, staff_client):
    brand = add_brand(app)
    for overrides, message in BAD_FORMULAS:
        page = text(post(staff_client, "/admin/index_formulas/new/",
                         formula_form(brand, **overrides)))
        errors = field_errors(page)
        assert any(message in m for m in errors.get("params", [])), (overrides, errors)
        assert count(app, IndexFormula) == 0


def test_second_formula_for_the_same_brand_and_model_is_refused(app, staff_client):
    brand = add_brand(app)
    post(staff_client, "/admin/index_formulas/new/", formula_form(brand))
    page = text(post(staff_client, "/admin/index_formulas/new/",
                     formula_form(brand, nombre="Otra")))
    assert "Ya existe una fórmula para esta marca y modelo." in field_errors(page)["modelo"]
    assert count(app, IndexFormula) == 1
    # Editing the existing one is not a clash with itself.
    with app.app_context():
        formula_id = IndexFormula.query.one().id
    page = text(post(staff_client, f"/admin/index_formulas/edit/?id={formula_id}",
                     formula_form(brand, nombre="Huawei GPON v2")))
    assert "Cambios guardados." in page
    assert fetch(app, IndexFormula, formula_id).nombre == "Huawei GPON v2"


def test_brand_in_use_cannot_be_deleted(app, staff_client):
    brand = add_brand(app, "Huawei")
    add_olt(app, brand)
    page = text(post(staff_client, "/admin/brands/delete/", {"id": str(brand)}))
    assert "No se puede eliminar la marca Huawei: la usan 1 OLTs." in page
    assert count(app, Brand) == 1
    unused = add_brand(app, "ZTE")
    page = text(post(staff_client, "/admin/brands/delete/", {"id": str(unused)}))
    assert "Registro eliminado." in page
    assert count(app, Brand) == 1


BAD_RULES = [
    ({"formato": "numero", "regex": "([0-9]+"}, "regex", "no compila"),
    ({"formato": "text", "etiquetas": "[1, 2]"}, "etiquetas", "objeto JSON"),
    ({"formato": "text", "etiquetas": '{"1": 5}'}, "etiquetas", "objeto JSON"),
    ({"formato": "text", "etiquetas": "{1: en línea"}, "etiquetas", "No es JSON válido"),
    ({"formato": "int", "escala": "0"}, "escala", "0"),
    ({"formato": "text", "unidad": "mw"}, "unidad", "numero"),
]


@pytest.mark.parametrize("fields,field,message", BAD_RULES)
def test_a_value_rule_that_cannot_work_is_refused_under_its_field(app, staff_client, fields,
                                                                   field, message):
    page = text(post(staff_client, "/admin/oids/new/", oid_form(espacio="rx_power", **fields)))
    errors = field_errors(page)
    assert any(message in m for m in errors.get(field, [])), errors
    assert count(app, Oid) == 0


def test_a_value_rule_is_stored_as_numbers_and_a_label_map(app, staff_client):
    page = text(post(staff_client, "/admin/oids/new/", oid_form(
        espacio="estado", formato="int", escala="0,01", sin_valor="0,65535, 2147483647",
        decimales="2", etiquetas='{"1": "en línea", "2": "desconectada"}')))
    assert "Registro creado." in page, field_errors(page)
    with app.app_context():
        oid = Oid.query.one()
        assert oid.escala == 0.01 and oid.decimales == 2 and oid.desplazamiento is None
        assert oid.sin_valor == "0, 65535, 2147483647"
        assert oid.etiquetas == {"1": "en línea", "2": "desconectada"}
