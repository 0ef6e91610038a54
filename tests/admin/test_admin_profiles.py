"""Configuración → Perfiles de fabricante: export, import with a preview, confirm; staff only,
CSRF on every POST, Spanish messages for every bad file and nothing saved."""
from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest

from facho.models import AuditEvent, Brand, IndexFormula, Oid, Olt
from facho.inventory.profiles.apply import AUDIT_ACTION
from tests.conftest import create_user, csrf_token_from, login
from tests.factories import COMMUNITY, add_brand, add_oid, add_olt
from tests.inventory.profiles.documents import MARCA, ROOT, document, encoded
from tests.panel import alerts, count, text, token

URL = "/admin/perfiles/"
MODELS = (Brand, Oid, IndexFormula, AuditEvent)


def rows(app) -> tuple[int, ...]:
    return tuple(count(app, model) for model in MODELS)


def preview(client, *, data: bytes | None = None, filename="perfil.facho.json", texto=None,
            incluido=None, with_token=True):
    form = {}
    if with_token:
        form["csrf_token"] = token(client)
    if data is not None:
        form["archivo"] = (io.BytesIO(data), filename)
    if texto is not None:
        form["texto"] = texto
    if incluido is not None:
        form["incluido"] = incluido
    return client.post(URL + "vista-previa/", data=form, content_type="multipart/form-data")


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return unescape(match.group(1)) if match else ""


def confirm(client, page: str, **overrides):
    form = {"csrf_token": token(client), "contenido": hidden(page, "contenido"),
            "huella": hidden(page, "huella"), "origen": hidden(page, "origen")}
    form.update(overrides)
    return client.post(URL + "confirmar/", data=form, content_type="multipart/form-data",
                       follow_redirects=True)


def error_of(page: str) -> str:
    match = re.search(r'id="perfil-(?:error|aviso)">(.*?)</div>', page, flags=re.S)
    return unescape(match.group(1)).strip() if match else ""


def plain(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


# --- access -------------------------------------------------------------------------------

def test_the_page_is_in_the_configuration_menu_and_lists_brands_and_shipped_profiles(
        app, staff_client):
    add_brand(app, "Huawei")
    page = text(staff_client.get(URL))
    assert "Perfiles de fabricante" in page and 'href="/admin/perfiles/"' in page
    assert "Exportar" in page and "/admin/perfiles/exportar/" in page
    assert "huawei-ma5600t-ma5800.json" in page and "zte-c300-c320.json" in page
    assert "Importar este perfil" in page


def test_non_staff_users_are_refused_and_anonymous_ones_sent_to_login(app):
    brand = add_brand(app, "Huawei")
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    for url in (URL, f"{URL}exportar/{brand}"):
        assert client.get(url).status_code == 403
    tok = csrf_token_from(text(client.get("/login")))
    response = client.post(URL + "vista-previa/", data={"csrf_token": tok, "texto": "{}"})
    assert response.status_code == 403
    response = client.post(URL + "confirmar/", data={
        "csrf_token": tok, "contenido": encoded(document()).decode()})
    assert response.status_code == 403 and count(app, Oid) == 0
    anonymous = app.test_client()
    assert "/login" in anonymous.get(URL).headers["Location"]


def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(app, staff_client):
    response = preview(staff_client, data=encoded(document()), with_token=False)
    assert response.status_code == 400 and "Vista previa" not in text(response)
    response = staff_client.post(URL + "confirmar/", data={
        "contenido": encoded(document()).decode(), "huella": ""})
    assert response.status_code == 400
    assert rows(app) == (0, 0, 0, 0)


# --- export -------------------------------------------------------------------------------

def test_export_downloads_the_brand_file_without_any_olt_or_secret(app, staff_client):
    brand = add_brand(app, "V-SOL")
    add_oid(app, brand, nombre="V-SOL serie", oid="1.3.6.1.4.1.37950.1.1.5.12.1.1.2",
            espacio="descubrimiento")
    add_olt(app, brand, abreviatura="OLT-VSOL-SECRETA", ip_address="10.20.30.40",
            v3_auth_clave="clave-auth-xyz")
    response = staff_client.get(f"{URL}exportar/{brand}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="v-sol.facho.json"'
    body = response.get_data(as_text=True)
    doc = json.loads(body)
    assert doc["marca"] == "V-SOL" and [o["nombre"] for o in doc["oids"]] == ["V-SOL serie"]
    for secret in ("OLT-VSOL-SECRETA", "10.20.30.40", COMMUNITY, "clave-auth-xyz"):
        assert secret not in body
    assert staff_client.get(f"{URL}exportar/999").status_code == 404


# --- preview and confirm ------------------------------------------------------------------

def test_preview_then_confirm_writes_the_catalog_and_an_audit_row(app, staff_client):
    response = preview(staff_client, data=encoded(document()))
    page = text(response)
    assert response.status_code == 200 and rows(app) == (0, 0, 0, 0)
    assert "Se crearán" in page and "Se cambiarán" not in page
    assert "Prueba potencia RX" in page and "Confirmar importación" in page
    assert "Marca Prueba" in page and "se creará" in page
    done = text(confirm(staff_client, page))
    assert ("success", "Perfil importado: 3 OIDs creados, 0 cambiados, 1 fórmula creada, "
                       "0 cambiadas (marca Marca Prueba, creada).") in alerts(done)
    assert rows(app)[:3] == (1, 3, 1)
    with app.app_context():
        event = AuditEvent.query.one()
        assert (event.username, event.action, event.count) == ("operador", AUDIT_ACTION, 4)
    audit_page = text(staff_client.get("/admin/audit_events/"))
    assert "Perfil de fabricante importado" in audit_page


def test_importing_the_same_file_again_previews_all_unchanged_with_nothing_to_confirm(
        app, staff_client):
    confirm(staff_client, text(preview(staff_client, data=encoded(document()))))
    page = text(preview(staff_client, data=encoded(document())))
    assert "Sin cambios" in page and "Se crearán" not in page and "Se cambiarán" not in page
    assert "no hay nada que importar" in page and "Confirmar importación" not in page


def test_a_changed_field_is_shown_old_to_new_and_confirm_changes_it(app, staff_client):
    confirm(staff_client, text(preview(staff_client, data=encoded(document()))))
    doc = document()
    doc["oids"][2]["escala"] = 0.1
    page = text(preview(staff_client, texto=encoded(doc).decode()))
    assert "Se cambiarán" in page
    changes = re.search(r'id="perfil-cambiar".*?</table>', page, flags=re.S).group(0)
    assert "OID Prueba potencia RX escala 0.01 → 0.1" in plain(changes)
    done = text(confirm(staff_client, page))
    assert any("0 OIDs creados, 1 cambiado" in message for _, message in alerts(done))
    with app.app_context():
        assert Oid.query.filter_by(nombre="Prueba potencia RX").one().escala == 0.1


def test_the_preview_shows_a_conflict_in_spanish_under_its_entry_and_offers_no_confirm(
        app, staff_client):
    huawei = add_brand(app, "Huawei")
    add_oid(app, huawei, nombre="Prueba estado", oid="1.3.6.1.4.1.2011.9", espacio="estado")
    before = rows(app)
    page = text(preview(staff_client, data=encoded(document())))
    conflicts = re.search(r'id="perfil-conflictos".*?</table>', page, flags=re.S).group(0)
    assert "oids[1]" in conflicts
    assert ("oids[1].nombre: ya existe un OID «Prueba estado» de la marca Huawei"
            in plain(conflicts))
    assert "No se puede importar" in page and "Confirmar importación" not in page
    # even a hand-made confirmation of that file is refused, nothing saved
    forged = confirm(staff_client, page, contenido=encoded(document()).decode(), huella="x")
    assert forged.status_code == 400 and "No se importó nada" in error_of(text(forged))
    assert rows(app) == before


@pytest.mark.parametrize("data, message", [
    (encoded(document())[:-30], "El archivo está incompleto o no es JSON: línea"),
    (b"esto no es json", "El archivo está incompleto o no es JSON: línea 1, columna 1"),
    (encoded(document(facho_perfil=2)), "versión 2 del formato"),
    (bytes(range(256)) * 20, "no es texto UTF-8"),
    (b"\x89PNG\r\n\x1a\n" + bytes(500), "no es texto UTF-8"),
])
def test_a_file_that_is_not_a_usable_profile_gets_a_spanish_message_and_nothing_saved(
        app, staff_client, data, message):
    response = preview(staff_client, data=data)
    assert response.status_code == 200
    assert message in error_of(text(response))
    assert "Confirmar importación" not in text(response)
    assert rows(app) == (0, 0, 0, 0)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["oids"][2].update(regex="(["), "oids[2].regex: la expresión regular no compila"),
    (lambda d: d["oids"][1].update(etiquetas=["en línea"]), "oids[1].etiquetas: debe ser un objeto"),
    (lambda d: d["formulas"][0].update(params={"kind": "bitshift"}), "formulas[0].params: "),
    (lambda d: d["oids"].append(dict(d["oids"][0])), "oids[3].nombre: otro OID del archivo"),
])
def test_bad_entries_are_listed_in_spanish_and_nothing_is_saved(app, staff_client, change,
                                                                 message):
    doc = document()
    change(doc)
    page = text(preview(staff_client, data=encoded(doc)))
    assert message in plain(page)
    assert "Confirmar importación" not in page
    assert rows(app) == (0, 0, 0, 0)


def test_same_oid_and_space_under_another_name_is_a_conflict_in_the_preview(app, staff_client):
    brand = add_brand(app, MARCA)
    add_oid(app, brand, nombre="Serie del NOC", oid=f"{ROOT}.1", espacio="descubrimiento")
    page = plain(text(preview(staff_client, data=encoded(document()))))
    assert "ya tiene el OID" in page and "«Serie del NOC»" in page
    assert rows(app) == (1, 1, 0, 0)


def test_a_5_mb_file_or_paste_gets_a_spanish_error_never_a_traceback(app, staff_client):
    big = b'{"facho_perfil": 1, "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    response = preview(staff_client, data=big)
    assert response.status_code == 400 and "demasiado grande" in error_of(text(response))
    response = preview(staff_client, texto=big.decode())
    assert response.status_code == 413 and "demasiado grande" in error_of(text(response))
    assert rows(app) == (0, 0, 0, 0)


def test_nothing_chosen_or_both_chosen_are_explained(app, staff_client):
    assert "Elija un archivo" in error_of(text(preview(staff_client, texto="  ")))
    both = preview(staff_client, data=encoded(document()), texto=encoded(document()).decode())
    assert "use uno de los dos" in error_of(text(both))
    assert "No existe el perfil incluido" in error_of(text(preview(staff_client,
                                                                   incluido="../format")))


def test_a_shipped_profile_imports_from_its_button_through_the_same_preview(app, staff_client):
    page = text(preview(staff_client, incluido="zte-c300-c320"))
    assert "perfil incluido con Facho «zte-c300-c320»" in page
    assert "ZTE ONU descubrimiento" in page and "Confirmar importación" in page
    done = text(confirm(staff_client, page))
    assert any(message.startswith("Perfil importado: 7 OIDs creados")
               for _, message in alerts(done))
    with app.app_context():
        assert Oid.query.filter_by(nombre="ZTE ONU descubrimiento").one().oid == \
            "1.3.6.1.4.1.3902.1012.3.28.1.1.5"


def test_confirm_is_refused_when_the_catalog_changed_since_the_preview(app, staff_client):
    page = text(preview(staff_client, data=encoded(document())))
    add_brand(app, MARCA)                             # another operator, meanwhile
    before = rows(app)
    response = confirm(staff_client, page)
    assert response.status_code == 409
    assert "el catálogo cambió desde la vista previa" in error_of(text(response))
    assert rows(app) == before
    again = text(response)                            # the refreshed preview can be confirmed
    assert "Confirmar importación" in again
    assert any(m.startswith("Perfil importado") for _, m in alerts(text(confirm(staff_client,
                                                                                 again))))


def test_confirm_revalidates_what_it_receives(app, staff_client):
    response = confirm(staff_client, "", contenido='{"facho_perfil": 1, "marca": "X", "oids": [',
                       huella="")
    assert response.status_code == 400 and "incompleto" in error_of(text(response))
    response = confirm(staff_client, "", contenido="", huella="")
    assert response.status_code == 400 and "no trae el perfil" in error_of(text(response))
    assert rows(app) == (0, 0, 0, 0)
    assert count(app, Olt) == 0
