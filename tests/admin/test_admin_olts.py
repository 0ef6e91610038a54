"""OLTs in the panel: validation, the write-only community and SNMPv3 keys, filters, bulk
enable/disable."""

import re

from facho.models import Execution, Olt
from tests.conftest import create_user, login
from tests.factories import COMMUNITY, add_brand, add_execution, add_job, add_olt
from tests.panel import count, fetch, field_errors, post, run_action, table, text


def olt_form(brand_id, **overrides):
    data = {"abreviatura": "OLT-NORTE", "brand": str(brand_id), "modelo": "MA5800",
            "ip_address": "10.20.0.1", "snmp_port": "161", "snmp_version": "v2c",
            "comunidad": COMMUNITY, "descripcion": "Nodo norte", "habilitar_olt": "y",
            "max_concurrent": "1", "max_starts_per_minute": "30"}
    data.update(overrides)
    return data


def test_olt_is_created_from_the_form(app, staff_client):
    brand = add_brand(app)
    page = text(post(staff_client, "/admin/olts/new/", olt_form(brand)))
    assert "Registro creado." in page
    with app.app_context():
        olt = Olt.query.one()
        assert (olt.abreviatura, olt.ip_address, olt.comunidad) == (
            "OLT-NORTE", "10.20.0.1", COMMUNITY)
    assert "OLT-NORTE" in page and "Habilitada" in page


def test_community_never_appears_in_list_details_or_edit_form(app, staff_client):
    olt = add_olt(app, add_brand(app), descripcion="visible")
    for url in ("/admin/olts/", f"/admin/olts/details/?id={olt}",
                f"/admin/olts/edit/?id={olt}"):
        page = text(staff_client.get(url))
        assert "OLT-1" in page, url
        assert COMMUNITY not in page, url
    details = text(staff_client.get(f"/admin/olts/details/?id={olt}"))
    assert "Comunidad" not in details


def test_export_is_not_offered(app, staff_client):
    add_olt(app, add_brand(app))
    response = staff_client.get("/admin/olts/export/csv/")
    assert COMMUNITY not in text(response)
    assert response.status_code in (302, 404)


def test_empty_community_on_edit_keeps_the_stored_one(app, staff_client):
    brand = add_brand(app)
    olt = add_olt(app, brand, abreviatura="OLT-NORTE")
    post(staff_client, f"/admin/olts/edit/?id={olt}",
         olt_form(brand, comunidad="", descripcion="cambiada"))
    stored = fetch(app, Olt, olt)
    assert stored.descripcion == "cambiada" and stored.comunidad == COMMUNITY
    post(staff_client, f"/admin/olts/edit/?id={olt}", olt_form(brand, comunidad="nueva-com"))
    assert fetch(app, Olt, olt).comunidad == "nueva-com"


BAD_OLT_INPUT = [
    ("ip_address", "999.10.0.1", "Dirección IP inválida"),
    ("ip_address", "olt norte!", "no es una IP ni un nombre de host"),
    ("snmp_port", "0", "Puerto inválido: debe estar entre 1 y 65535."),
    ("snmp_port", "70000", "Puerto inválido: debe estar entre 1 y 65535."),
    ("snmp_port", "abc", "No es un valor entero válido"),
    ("comunidad", "", "La comunidad SNMP no puede estar vacía."),
    ("comunidad", "   ", "La comunidad SNMP no puede estar vacía."),
    ("abreviatura", "", "Este campo es obligatorio."),
    ("abreviatura", "   ", "Abreviatura: no puede estar vacío."),
    ("max_concurrent", "0", "Debe estar entre 1 y 64."),
    # the polling budget (issue 15)
    ("max_repetitions", "0", "Debe estar entre 1 y 100."),
    ("max_repetitions", "101", "Debe estar entre 1 y 100."),
    ("max_requests_per_second", "-1", "Debe estar entre 0 y 10000."),
    ("request_pause_ms", "10001", "Debe estar entre 0 y 10000."),
    ("request_pause_ms", "dos", "No es un valor entero válido"),
]


def test_bad_input_is_refused_under_the_field_and_nothing_is_saved(app, staff_client):
    brand = add_brand(app)
    for field, value, message in BAD_OLT_INPUT:
        page = text(post(staff_client, "/admin/olts/new/", olt_form(brand, **{field: value})))
        errors = field_errors(page)
        assert any(message in m for m in errors.get(field, [])), (field, value, errors)
        assert "No se pudo crear el registro" in page
        assert count(app, Olt) == 0, (field, value)


def test_duplicate_abreviatura_is_refused_before_the_database(app, staff_client):
    brand = add_brand(app)
    add_olt(app, brand, abreviatura="OLT-NORTE")
    page = text(post(staff_client, "/admin/olts/new/", olt_form(brand)))
    assert "Ya existe una OLT con esta abreviatura." in field_errors(page)["abreviatura"]
    assert count(app, Olt) == 1


def test_integrity_error_on_commit_shows_spanish_and_rolls_back(any_app, monkeypatch):
    """Two operators saving the same name at once: the form check passes for both and the
    database refuses the second. The page says so in Spanish, never the SQL error."""
    from flask_admin.contrib.sqla.validators import Unique
    monkeypatch.setattr(Unique, "__call__", lambda self, form, field: None)
    create_user(any_app)
    client = any_app.test_client()
    login(client)
    brand = add_brand(any_app)
    add_olt(any_app, brand, abreviatura="OLT-NORTE")
    page = text(post(client, "/admin/olts/new/", olt_form(brand)))
    assert "Ya existe una OLT con esta abreviatura." in page
    for raw in ("UNIQUE", "unique constraint", "IntegrityError", "INSERT INTO",
                "olts.abreviatura"):
        assert raw not in page
    assert count(any_app, Olt) == 1
    # The session was rolled back: the next save works.
    page = text(post(client, "/admin/olts/new/", olt_form(brand, abreviatura="OLT-SUR")))
    assert "Registro creado." in page
    assert count(any_app, Olt) == 2


def test_filter_by_habilitar_olt_shows_only_matching_rows(app, staff_client):
    brand = add_brand(app)
    add_olt(app, brand, abreviatura="OLT-ACTIVA", habilitar_olt=True)
    add_olt(app, brand, abreviatura="OLT-APAGADA", habilitar_olt=False)
    page = table(text(staff_client.get("/admin/olts/?flt0_habilitada_igual_a=0")))
    assert "OLT-APAGADA" in page and "OLT-ACTIVA" not in page
    page = table(text(staff_client.get("/admin/olts/?flt0_habilitada_igual_a=1")))
    assert "OLT-ACTIVA" in page and "OLT-APAGADA" not in page


def test_filter_by_brand_and_model_and_search_by_ip(app, staff_client):
    huawei, zte = add_brand(app, "Huawei"), add_brand(app, "ZTE")
    add_olt(app, huawei, abreviatura="OLT-HW", ip_address="10.1.1.1", modelo="MA5800")
    add_olt(app, zte, abreviatura="OLT-ZTE", ip_address="10.2.2.2", modelo="C320")
    page = text(staff_client.get("/admin/olts/?flt0_modelo_igual_a=C320"))
    assert "OLT-ZTE" in table(page) and "OLT-HW" not in table(page)
    assert '"C320"' in page and '"MA5800"' in page  # the model filter offers stored models
    page = table(text(staff_client.get(f"/admin/olts/?flt0_marca_igual_a={zte}")))
    assert "OLT-ZTE" in page and "OLT-HW" not in page
    page = table(text(staff_client.get("/admin/olts/?search=10.1.1.1")))
    assert "OLT-HW" in page and "OLT-ZTE" not in page


def test_bulk_disable_interrupts_only_pending_executions_of_those_olts(app, staff_client):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    job = add_job(app, brand, [olt_a, olt_b])
    pending_a = add_execution(app, job, olt_a, "PENDING")
    running_a = add_execution(app, job, olt_a, "RUNNING")
    done_a = add_execution(app, job, olt_a, "SUCCESS")
    pending_b = add_execution(app, job, olt_b, "PENDING")

    page = text(run_action(staff_client, "olts", "deshabilitar", [olt_a]))

    assert "Se deshabilitó 1 OLT." in page
    assert "1 ejecución pendiente fue interrumpida." in page
    assert fetch(app, Olt, olt_a).habilitar_olt is False
    assert fetch(app, Olt, olt_b).habilitar_olt is True
    interrupted = fetch(app, Execution, pending_a)
    assert interrupted.status == "INTERRUPTED"
    assert interrupted.error_message == "Interrumpida: la OLT fue deshabilitada"
    assert interrupted.finished_at is not None
    assert fetch(app, Execution, running_a).status == "RUNNING"
    assert fetch(app, Execution, done_a).status == "SUCCESS"
    assert fetch(app, Execution, pending_b).status == "PENDING"

    page = text(run_action(staff_client, "olts", "habilitar", [olt_a, olt_b]))
    assert "Se habilitó 1 OLT (1 ya lo estaba)." in page
    assert fetch(app, Olt, olt_a).habilitar_olt is True


def test_disabling_from_the_edit_form_interrupts_pending(app, staff_client):
    brand = add_brand(app)
    olt = add_olt(app, brand, abreviatura="OLT-NORTE")
    pending = add_execution(app, add_job(app, brand, [olt]), olt, "PENDING")
    form = olt_form(brand, comunidad="")
    del form["habilitar_olt"]  # an unchecked checkbox is not sent
    page = text(post(staff_client, f"/admin/olts/edit/?id={olt}", form))
    assert "1 ejecución pendiente fue interrumpida." in page
    assert fetch(app, Execution, pending).status == "INTERRUPTED"


# --- SNMPv3 -------------------------------------------------------------------------------

AUTH_KEY, PRIV_KEY = "v3-clave-auth-xyz", "v3-clave-priv-xyz"


def v3_form(brand_id, **overrides):
    data = olt_form(brand_id, snmp_version="v3", comunidad="", v3_usuario="facho-v3",
                    v3_auth_proto="sha1", v3_auth_clave=AUTH_KEY, v3_priv_proto="aes",
                    v3_priv_clave=PRIV_KEY)
    data.update(overrides)
    return data


def add_v3_olt(app, brand_id, **kw):
    return add_olt(app, brand_id, snmp_version="v3", comunidad="", v3_usuario="facho-v3",
                   v3_auth_proto="sha1", v3_auth_clave=AUTH_KEY, v3_priv_proto="aes",
                   v3_priv_clave=PRIV_KEY, **kw)


def test_v3_olt_is_created_from_the_form_without_a_community(app, staff_client, caplog):
    caplog.set_level("DEBUG")
    brand = add_brand(app)
    form = text(staff_client.get("/admin/olts/new/"))
    for label in ("Usuario SNMPv3", "Autenticación SNMPv3", "Clave de autenticación SNMPv3",
                  "Privacidad SNMPv3", "Clave de privacidad SNMPv3", "Sin autenticación",
                  "SHA-1", "AES-128", "v3 (usuario y claves)", "Solo SNMPv3"):
        assert label in form, label
    page = text(post(staff_client, "/admin/olts/new/", v3_form(brand)))
    assert "Registro creado." in page, field_errors(page)
    with app.app_context():
        olt = Olt.query.one()
        assert (olt.snmp_version, olt.comunidad, olt.v3_usuario, olt.v3_auth_proto,
                olt.v3_auth_clave, olt.v3_priv_proto, olt.v3_priv_clave) == (
            "v3", "", "facho-v3", "sha1", AUTH_KEY, "aes", PRIV_KEY)
    assert AUTH_KEY not in page and PRIV_KEY not in page
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert AUTH_KEY not in logged and PRIV_KEY not in logged


def test_v3_keys_never_appear_in_list_details_or_edit_form(app, staff_client):
    olt = add_v3_olt(app, add_brand(app))
    for url in ("/admin/olts/", f"/admin/olts/details/?id={olt}",
                f"/admin/olts/edit/?id={olt}", "/admin/olts/export/csv/"):
        page = text(staff_client.get(url))
        assert AUTH_KEY not in page and PRIV_KEY not in page, url
    details = text(staff_client.get(f"/admin/olts/details/?id={olt}"))
    assert "facho-v3" in details and "SHA-1" in details and "AES-128" in details
    assert "Clave" not in details
    edit = text(staff_client.get(f"/admin/olts/edit/?id={olt}"))
    for name in ("v3_auth_clave", "v3_priv_clave"):
        field = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', edit).group(0)
        assert 'type="password"' in field and not re.search(r'value="[^"]', field), field


def test_empty_v3_keys_on_edit_keep_the_stored_ones(app, staff_client):
    brand = add_brand(app)
    olt = add_v3_olt(app, brand)
    page = text(post(staff_client, f"/admin/olts/edit/?id={olt}",
                     v3_form(brand, v3_auth_clave="", v3_priv_clave="", descripcion="otra")))
    assert "Cambios guardados." in page, field_errors(page)
    stored = fetch(app, Olt, olt)
    assert stored.descripcion == "otra"
    assert (stored.v3_auth_clave, stored.v3_priv_clave) == (AUTH_KEY, PRIV_KEY)
    post(staff_client, f"/admin/olts/edit/?id={olt}",
         v3_form(brand, v3_auth_clave="", v3_priv_clave="nueva-clave-priv"))
    stored = fetch(app, Olt, olt)
    assert (stored.v3_auth_clave, stored.v3_priv_clave) == (AUTH_KEY, "nueva-clave-priv")


def test_dropping_a_v3_protocol_forgets_its_key(app, staff_client):
    brand = add_brand(app)
    olt = add_v3_olt(app, brand)
    post(staff_client, f"/admin/olts/edit/?id={olt}",
         v3_form(brand, v3_auth_clave="", v3_priv_proto="", v3_priv_clave=""))
    stored = fetch(app, Olt, olt)
    assert (stored.v3_auth_proto, stored.v3_auth_clave) == ("sha1", AUTH_KEY)
    assert (stored.v3_priv_proto, stored.v3_priv_clave) == ("", "")


BAD_V3_INPUT = [
    ({"v3_usuario": ""}, "v3_usuario", "SNMPv3 requiere un usuario"),
    ({"v3_usuario": "   "}, "v3_usuario", "SNMPv3 requiere un usuario"),
    ({"v3_usuario": "u" * 33}, "v3_usuario", "Usuario SNMPv3: máximo 32 caracteres."),
    ({"v3_auth_proto": ""}, "v3_priv_proto",
     "La privacidad (cifrado) requiere autenticación"),
    ({"v3_auth_proto": "", "v3_auth_clave": ""}, "v3_priv_proto",
     "La privacidad (cifrado) requiere autenticación"),
    ({"v3_auth_clave": "corta12"}, "v3_auth_clave",
     "La clave de autenticación debe tener al menos 8 caracteres."),
    ({"v3_auth_clave": ""}, "v3_auth_clave",
     "Ingrese la clave de autenticación (mínimo 8 caracteres)."),
    ({"v3_priv_clave": "corta12"}, "v3_priv_clave",
     "La clave de privacidad debe tener al menos 8 caracteres."),
    ({"v3_priv_clave": ""}, "v3_priv_clave",
     "Ingrese la clave de privacidad (mínimo 8 caracteres)."),
    ({"v3_priv_proto": "", "v3_priv_clave": "sobra-esta-clave"}, "v3_priv_clave",
     "no eligió protocolo de privacidad"),
    ({"v3_auth_proto": "sha256"}, "v3_auth_proto", "Opción inválida."),
]


def test_bad_v3_input_is_refused_under_the_field_without_echoing_keys(app, staff_client):
    brand = add_brand(app)
    for overrides, field, message in BAD_V3_INPUT:
        page = text(post(staff_client, "/admin/olts/new/", v3_form(brand, **overrides)))
        errors = field_errors(page)
        assert any(message in m for m in errors.get(field, [])), (overrides, errors)
        assert "No se pudo crear el registro" in page
        assert count(app, Olt) == 0, overrides
        for key in (AUTH_KEY, PRIV_KEY, "corta12", "sobra-esta-clave"):
            assert key not in page, (overrides, key)


def test_the_community_is_still_required_for_v1_and_v2c(app, staff_client):
    brand = add_brand(app)
    for version in ("v1", "v2c"):
        page = text(post(staff_client, "/admin/olts/new/",
                         v3_form(brand, snmp_version=version, comunidad="")))
        assert "La comunidad SNMP no puede estar vacía." in field_errors(page)["comunidad"]
    assert count(app, Olt) == 0
    # A v3 OLT has no community: back to v2c it needs one, even on edit.
    olt = add_v3_olt(app, brand)
    page = text(post(staff_client, f"/admin/olts/edit/?id={olt}",
                     v3_form(brand, snmp_version="v2c", comunidad="")))
    assert "La comunidad SNMP no puede estar vacía." in field_errors(page)["comunidad"]
    assert fetch(app, Olt, olt).snmp_version == "v3"
    post(staff_client, f"/admin/olts/edit/?id={olt}",
         v3_form(brand, snmp_version="v2c", comunidad="nueva-com"))
    stored = fetch(app, Olt, olt)
    assert (stored.snmp_version, stored.comunidad) == ("v2c", "nueva-com")


def test_a_v3_olt_needs_no_user_nor_keys_while_it_is_v2c(app, staff_client):
    brand = add_brand(app)
    page = text(post(staff_client, "/admin/olts/new/", olt_form(brand, v3_usuario="",
                                                                 v3_auth_proto="sha1")))
    assert "Registro creado." in page, field_errors(page)
    with app.app_context():
        olt = Olt.query.one()
        assert (olt.snmp_version, olt.comunidad, olt.v3_auth_clave) == ("v2c", COMMUNITY, "")


# --- the polling budget (issue 15) ---------------------------------------------------------

BUDGET_FORM = {"max_repetitions": "12", "max_requests_per_second": "40",
               "request_pause_ms": "5", "getnext_only": "y"}


def test_the_polling_budget_is_saved_from_the_form_with_its_spanish_help(app, staff_client):
    brand = add_brand(app)
    form = text(staff_client.get("/admin/olts/new/"))
    for words in ("Repeticiones por GetBulk", "Consultas por segundo (máximo)",
                  "Pausa entre consultas (ms)", "Solo GETNEXT",
                  "sumando todas las ejecuciones y todos los workers"):
        assert words in form, words
    page = text(post(staff_client, "/admin/olts/new/", olt_form(brand, **BUDGET_FORM)))
    assert "Registro creado." in page
    with app.app_context():
        olt = Olt.query.one()
        assert (olt.max_repetitions, olt.max_requests_per_second, olt.request_pause_ms,
                olt.getnext_only) == (12, 40, 5, True)


def test_a_budget_left_empty_takes_the_vendor_profile_defaults_of_brand_and_model(
        app, staff_client):
    zte = add_brand(app, "ZTE")
    post(staff_client, "/admin/olts/new/", olt_form(zte, abreviatura="OLT-C300", modelo="C300"))
    post(staff_client, "/admin/olts/new/", olt_form(zte, abreviatura="OLT-C320", modelo="C320"))
    with app.app_context():
        c300 = Olt.query.filter_by(abreviatura="OLT-C300").one()
        c320 = Olt.query.filter_by(abreviatura="OLT-C320").one()
        # zte-c300-c320.json: GETNEXT-safe on the C300, small GetBulks on the C320
        assert (c300.getnext_only, c300.max_requests_per_second) == (True, 100)
        assert (c320.getnext_only, c320.max_repetitions, c320.max_requests_per_second) == (
            False, 10, 50)
        c320_id = c320.id
    # an operator's value wins over the profile, and emptying it again restores the profile's
    post(staff_client, f"/admin/olts/edit/?id={c320_id}",
         olt_form(zte, abreviatura="OLT-C320", modelo="C320", comunidad="",
                  max_repetitions="40"))
    assert fetch(app, Olt, c320_id).max_repetitions == 40
    post(staff_client, f"/admin/olts/edit/?id={c320_id}",
         olt_form(zte, abreviatura="OLT-C320", modelo="C320", comunidad="",
                  max_repetitions=""))
    assert fetch(app, Olt, c320_id).max_repetitions == 10
