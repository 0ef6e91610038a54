"""CSRF on every panel POST, staff-only actions, logout, and no raw errors on pages."""
import re

import pytest

from facho.models import Olt, SnmpJob
from tests.conftest import create_user, csrf_token_from, login
from tests.factories import add_brand, add_job, add_olt
from tests.panel import count, fetch, post, run_action, text


@pytest.mark.parametrize("endpoint, model", [("olts", Olt), ("snmp_jobs", SnmpJob)])
def test_bulk_action_without_csrf_token_is_refused_and_changes_nothing(
        app, staff_client, endpoint, model):
    brand = add_brand(app)
    olt = add_olt(app, brand)
    target = olt if model is Olt else add_job(app, brand, [olt])
    response = run_action(staff_client, endpoint, "deshabilitar", [target], with_token=False)
    assert response.status_code == 400
    assert "Solicitud rechazada" in text(response)
    row = fetch(app, model, target)
    assert (row.habilitar_olt if model is Olt else row.enabled) is True


def test_bulk_action_with_a_forged_token_is_refused(app, staff_client):
    olt = add_olt(app, add_brand(app))
    response = staff_client.post("/admin/olts/action/", data={
        "action": "deshabilitar", "rowid": [str(olt)], "csrf_token": "forjado.123"})
    assert response.status_code == 400
    assert fetch(app, Olt, olt).habilitar_olt is True


def test_a_token_from_another_session_is_refused(app, staff_client):
    olt = add_olt(app, add_brand(app))
    create_user(app, username="otro")
    other = app.test_client()
    login(other, username="otro")
    foreign = csrf_token_from(text(other.get("/admin/olts/")))
    response = staff_client.post("/admin/olts/action/", data={
        "action": "deshabilitar", "rowid": [str(olt)], "csrf_token": foreign})
    assert response.status_code == 400
    assert fetch(app, Olt, olt).habilitar_olt is True


def test_list_pages_carry_the_token_in_the_action_form(app, staff_client):
    add_olt(app, add_brand(app))
    page = text(staff_client.get("/admin/olts/"))
    action_form = re.search(r'<form id="action_form".*?</form>', page, flags=re.S).group(0)
    assert 'name="csrf_token"' in action_form
    assert "Habilitar" in page and "Deshabilitar" in page and "Con seleccionados" in page


def test_create_form_without_token_saves_nothing(app, staff_client):
    response = staff_client.post("/admin/brands/new/", data={"nombre": "Huawei"})
    assert response.status_code == 400
    from facho.models import Brand
    assert count(app, Brand) == 0


def test_non_staff_user_cannot_run_actions(app):
    olt = add_olt(app, add_brand(app))
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    token = csrf_token_from(text(client.get("/login")))
    response = client.post("/admin/olts/action/", data={
        "action": "deshabilitar", "rowid": [str(olt)], "csrf_token": token})
    assert response.status_code == 403
    assert fetch(app, Olt, olt).habilitar_olt is True


def test_navbar_has_a_csrf_protected_logout_button(app, staff_client):
    page = text(staff_client.get("/admin/"))
    form = re.search(r'<form[^>]*action="/logout".*?</form>', page, flags=re.S).group(0)
    assert 'name="csrf_token"' in form and "Salir" in form and "operador" in form
    assert staff_client.post("/logout").status_code == 400  # no token: still logged in
    assert staff_client.get("/admin/olts/").status_code == 200
    response = post(staff_client, "/logout", {})
    assert "Sesión cerrada." in text(response)
    assert staff_client.get("/admin/olts/").status_code == 302


def test_unexpected_errors_show_a_spanish_message_not_the_exception(app, staff_client,
                                                                    monkeypatch):
    from admin.catalog import BrandView

    def explode(self, form, model, is_created):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(BrandView, "on_model_change", explode)
    page = text(post(staff_client, "/admin/brands/new/", {"nombre": "Huawei"}))
    assert "No se pudo completar la operación por un error interno." in page
    assert "SELECT secret" not in page and "RuntimeError" not in page
    from facho.models import Brand
    assert count(app, Brand) == 0


def test_panel_pages_load_no_external_assets(app, staff_client):
    add_olt(app, add_brand(app))
    for url in ("/admin/", "/admin/olts/", "/admin/olts/new/", "/admin/snmp_jobs/new/",
                "/admin/executions/", "/login"):
        page = text(staff_client.get(url))
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        external = [s for s in sources if re.match(r"(https?:)?//", s)]
        assert external == [], (url, external)


def test_panel_forms_check_the_token_themselves_too(app, staff_client):
    """Defence in depth: with Flask-WTF's global check switched off, the panel's own forms
    (SecureForm with the same token) still refuse a POST without it."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    olt = add_olt(app, add_brand(app))
    page = text(staff_client.post("/admin/olts/action/", follow_redirects=True,
                                  data={"action": "deshabilitar", "rowid": [str(olt)]}))
    assert "No se pudo ejecutar la acción." in page
    assert fetch(app, Olt, olt).habilitar_olt is True
    page = text(staff_client.post("/admin/brands/new/", data={"nombre": "ZTE"},
                                  follow_redirects=True))
    assert "El formulario expiró o no es válido (token CSRF)." in page
    from facho.models import Brand
    assert count(app, Brand) == 1
