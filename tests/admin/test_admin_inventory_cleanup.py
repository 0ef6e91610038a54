"""Removing ONUs from the panel (issue 11): "Eliminar seleccionadas" on the ONU list, the
"Purgar ausentes de <OLT>" page once the list is filtered by one OLT, and the audit log
(Administración > Auditoría). Staff only, CSRF-checked, confirmed, audited."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest
import sqlalchemy as sa

from facho import audit
from facho.models import AuditEvent, Onu, OnuMetricDay, utcnow
from tests.admin.test_admin_pages import EMOJI_ALONE, ENGLISH, ENGLISH_PATTERN
from tests import browser as real_browser
from tests.conftest import create_user, csrf_token_from, login
from tests.factories import add, add_brand, add_olt, add_onus
from tests.panel import alerts, count, run_action, table, text, token

DELETE = "eliminar"
# the real-browser fixtures, for the last test
browser, live_app, live_server, page = (real_browser.browser, real_browser.live_app,
                                        real_browser.live_server, real_browser.page)


@pytest.fixture
def inventory(app):
    """OLT-A: 3 present ONUs (slot 1), 4 absent (slot 2); OLT-B: 2 absent; 2 readings each."""
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    return {
        "olt_a": olt_a, "olt_b": olt_b,
        "a_present": add_onus(app, olt_a, 3, slot=1, readings=2),
        "a_absent": add_onus(app, olt_a, 4, slot=2, present=False, readings=2),
        "b_absent": add_onus(app, olt_b, 2, slot=1, present=False, readings=2),
    }


def onu_ids(app) -> set[int]:
    from facho.extensions import db
    with app.app_context():
        return set(db.session.scalars(sa.select(Onu.id)))


def audit_rows(app) -> list[tuple]:
    from facho.extensions import db
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(AuditEvent.username, AuditEvent.action, AuditEvent.target,
                      AuditEvent.count).order_by(AuditEvent.id))]


def all_onus(inv) -> set[int]:
    return set(inv["a_present"] + inv["a_absent"] + inv["b_absent"])


def purge_url(olt_id) -> str:
    return f"/admin/onus/purgar-ausentes/?olt={olt_id}"


def purge(client, olt_id, with_token=True, follow=True):
    data = {"olt": str(olt_id)}
    if with_token:
        data["csrf_token"] = token(client)
    return client.post("/admin/onus/purgar-ausentes/", data=data, follow_redirects=follow)


def confirmations(html: str) -> dict:
    return json.loads(unescape(re.search(
        r'<div id="actions-confirmation-data" class="d-none">(.*?)</div>', html).group(1)))


# --- "Eliminar seleccionadas" ----------------------------------------------------------

def test_the_list_offers_the_action_with_a_spanish_confirmation_naming_the_count(
        app, staff_client, inventory):
    html = text(staff_client.get("/admin/onus/"))
    menu = re.search(r'Con seleccionados</a>\s*<div class="dropdown-menu">(.*?)</div>', html,
                     flags=re.S).group(1)
    assert re.findall(r"modelActions.execute\('(\w+)'\)", menu) == [DELETE]  # no "delete"
    assert "Eliminar seleccionadas" in menu
    assert confirmations(html)[DELETE].startswith(
        "¿Eliminar las ONUs seleccionadas y todas sus lecturas?")
    counted = re.search(r'<div id="onu-delete-confirmation"[^>]*>', html).group(0)
    assert unescape(re.search(r'data-one="([^"]*)"', counted).group(1)).startswith(
        "¿Eliminar 1 ONU seleccionada y todas sus lecturas?")
    assert unescape(re.search(r'data-many="([^"]*)"', counted).group(1)).startswith(
        "¿Eliminar {n} ONUs seleccionadas y todas sus lecturas?")
    assert "/static/js/onu_cleanup.js" in html
    assert staff_client.get("/admin/onus/delete/").status_code in (302, 404, 405)


def test_deleting_selected_onus_flashes_the_count_and_audits_it(app, staff_client, inventory):
    inv = inventory
    chosen = inv["a_present"][:2]
    response = run_action(staff_client, "onus", DELETE, chosen)
    assert response.status_code == 200
    assert alerts(text(response)) == [("success", "Se eliminaron 2 ONUs de OLT-A.")]
    assert onu_ids(app) == all_onus(inv) - set(chosen)
    assert count(app, OnuMetricDay) == 2 * (len(all_onus(inv)) - 2)
    assert audit_rows(app) == [("operador", "onus_eliminadas", "OLT-A", 2)]

    one = [inv["b_absent"][0]]
    shown = alerts(text(run_action(staff_client, "onus", DELETE, one)))
    assert shown == [("success", "Se eliminó 1 ONU de OLT-B.")]
    both = [inv["a_absent"][0], inv["b_absent"][1]]
    shown = alerts(text(run_action(staff_client, "onus", DELETE, both)))
    assert shown == [("success", "Se eliminaron 2 ONUs de OLT-A, OLT-B.")]
    assert [row[2:] for row in audit_rows(app)] == [("OLT-A", 2), ("OLT-B", 1),
                                                    ("OLT-A, OLT-B", 2)]


def test_deleting_onus_someone_else_deleted_says_so(app, staff_client, inventory):
    gone = inventory["a_present"][:1]
    run_action(staff_client, "onus", DELETE, gone)
    shown = alerts(text(run_action(staff_client, "onus", DELETE, gone)))
    assert shown == [("warning", "No se eliminó ninguna ONU: las seleccionadas ya no existen.")]
    assert len(audit_rows(app)) == 1


def test_a_failure_is_shown_in_spanish_and_deletes_nothing(app, staff_client, inventory,
                                                          monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit table locked")
    monkeypatch.setattr(audit, "record", broken)
    response = run_action(staff_client, "onus", DELETE, inventory["a_present"])
    shown = alerts(text(response))
    assert [kind for kind, _ in shown] == ["danger"]
    assert "error interno" in shown[0][1] and "audit table" not in text(response)
    assert onu_ids(app) == all_onus(inventory)
    assert count(app, OnuMetricDay) == 2 * len(all_onus(inventory))
    assert audit_rows(app) == []


# --- "Purgar ausentes de esta OLT" ---------------------------------------------------------

def test_the_purge_link_shows_when_the_list_is_filtered_by_one_olt(app, staff_client,
                                                                  inventory):
    html = text(staff_client.get(f"/admin/onus/?flt0_olt_igual_a={inventory['olt_a']}"))
    link = re.search(r'<a [^>]*id="purge-absent-link"[^>]*>(.*?)</a>', html, flags=re.S)
    assert link.group(1).strip() == "🧹 Purgar ausentes de OLT-A (4)"
    assert f'href="/admin/onus/purgar-ausentes/?olt={inventory["olt_a"]}"' in link.group(0)
    with_absent = text(staff_client.get(f"/admin/onus/?flt0_olt_igual_a={inventory['olt_a']}"
                                        "&flt1_presente_igual_a=0"))
    assert "Purgar ausentes de OLT-A (4)" in with_absent
    for query in ("", "flt0_presente_igual_a=0",
                  f"flt0_olt_igual_a={inventory['olt_a']}&flt1_olt_igual_a={inventory['olt_b']}"):
        assert "purge-absent-link" not in text(staff_client.get(f"/admin/onus/?{query}")), query
    olt_c = add_olt(app, add_brand(app), "OLT-C")       # nothing absent: nothing to offer
    add_onus(app, olt_c, 2)
    assert "purge-absent-link" not in text(staff_client.get(
        f"/admin/onus/?flt0_olt_igual_a={olt_c}"))


def test_the_purge_page_names_what_goes_before_confirming(app, staff_client, inventory):
    html = text(staff_client.get(purge_url(inventory["olt_a"])))
    body = re.search(r'<div class="col-lg-7" id="purge-absent">(.*?)</form>', html,
                     flags=re.S).group(1)
    flat = re.sub(r"\s+", " ", unescape(body))
    words = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))
    assert "La OLT OLT-A tiene 4 ONUs ausentes" in re.sub(r" (?=[ .,:])", "", words)
    assert "las 3 ONUs presentes y las demás OLTs no cambian" in words
    assert "Ausentes: 0/2/1:1, 0/2/1:2, 0/2/1:3, 0/2/1:4." in words
    assert ('data-confirmation="¿Eliminar 4 ONUs ausentes de OLT-A y sus lecturas? '
            'No se puede deshacer."') in flat
    assert "Purgar 4 ONUs ausentes" in flat and 'name="csrf_token"' in body
    assert not [word for word in ENGLISH if word in html]
    assert not EMOJI_ALONE.search(html)
    assert onu_ids(app) == all_onus(inventory)          # a GET changes nothing


def test_purging_removes_only_that_olts_absent_onus_and_audits_it(app, staff_client,
                                                                 inventory):
    inv = inventory
    response = purge(staff_client, inv["olt_a"], follow=False)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/onus/?flt0_olt_igual_a={inv['olt_a']}")
    html = text(staff_client.get(response.headers["Location"]))
    assert alerts(html) == [("success", "Se eliminaron 4 ONUs de OLT-A.")]
    kept = set(inv["a_present"] + inv["b_absent"])
    assert onu_ids(app) == kept
    assert count(app, OnuMetricDay) == 2 * len(kept)
    assert audit_rows(app) == [("operador", "ausentes_purgadas", "OLT-A", 4)]
    assert "purge-absent-link" not in html
    # nothing left: the page says so, a second post deletes and audits nothing
    empty = re.sub(r"\s+", " ", text(staff_client.get(purge_url(inv["olt_a"]))))
    assert "no tiene ONUs ausentes: no hay nada que purgar." in empty
    shown = alerts(text(purge(staff_client, inv["olt_a"])))
    assert shown == [("info", "OLT-A no tiene ONUs ausentes: no se eliminó nada.")]
    assert len(audit_rows(app)) == 1


def test_purging_an_unknown_olt_explains_and_changes_nothing(app, staff_client, inventory):
    for url in (purge_url(999999), purge_url("x"), "/admin/onus/purgar-ausentes/"):
        shown = alerts(text(staff_client.get(url, follow_redirects=True)))
        assert shown[0][0] == "danger" and "Elija una OLT existente" in shown[0][1]
    purge(staff_client, 999999)
    assert onu_ids(app) == all_onus(inventory) and audit_rows(app) == []


# --- who may do it ---------------------------------------------------------------------

def test_a_user_without_staff_rights_changes_nothing(app, inventory):
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    csrf = csrf_token_from(text(client.get("/login")))
    response = client.post("/admin/onus/action/", data={
        "action": DELETE, "rowid": [str(i) for i in inventory["a_present"]], "csrf_token": csrf})
    assert response.status_code == 403
    response = client.post("/admin/onus/purgar-ausentes/", data={
        "olt": str(inventory["olt_a"]), "csrf_token": csrf})
    assert response.status_code == 403
    assert client.get(purge_url(inventory["olt_a"])).status_code == 403
    assert client.get("/admin/audit_events/").status_code == 403
    assert onu_ids(app) == all_onus(inventory) and audit_rows(app) == []


def test_requests_without_a_csrf_token_change_nothing(app, staff_client, inventory):
    response = run_action(staff_client, "onus", DELETE, inventory["a_present"],
                          with_token=False)
    assert response.status_code == 400
    assert purge(staff_client, inventory["olt_a"], with_token=False).status_code == 400
    forged = staff_client.post("/admin/onus/purgar-ausentes/", data={
        "olt": str(inventory["olt_a"]), "csrf_token": "forjado.1"})
    assert forged.status_code == 400
    forged = staff_client.post("/admin/onus/action/", data={
        "action": DELETE, "rowid": [str(inventory["a_present"][0])], "csrf_token": "forjado.1"})
    assert forged.status_code == 400
    assert onu_ids(app) == all_onus(inventory) and audit_rows(app) == []


def test_anonymous_requests_go_to_login(app, inventory):
    anonymous = app.test_client()
    for response in (
            anonymous.post("/admin/onus/action/", data={
                "action": DELETE, "rowid": [str(inventory["a_present"][0])]}),
            anonymous.post("/admin/onus/purgar-ausentes/", data={"olt": inventory["olt_a"]}),
            anonymous.get(purge_url(inventory["olt_a"])),
            anonymous.get("/admin/audit_events/")):
        assert response.status_code == 302
        assert response.headers["Location"].split("?")[0].endswith("/login")
    assert onu_ids(app) == all_onus(inventory)


# --- Administración > Auditoría --------------------------------------------------------------

def test_the_audit_log_is_a_read_only_list_newest_first_in_spanish(app, staff_client,
                                                                  inventory):
    run_action(staff_client, "onus", DELETE, inventory["a_present"][:1])
    purge(staff_client, inventory["olt_b"])
    add(app, AuditEvent(at=utcnow().replace(year=2020), username="antiguo",
                        action="otra_accion", target="X", count=7, detail="d" * 400))
    html = text(staff_client.get("/admin/audit_events/"))
    menu = re.search(r"Administración.*?</ul>|Administración.*?</div>", html, flags=re.S)
    assert menu and "Auditoría" in menu.group(0)
    rows = re.findall(r"<tr>.*?</tr>", table(html), flags=re.S)[1:]
    cells = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip() for row in rows]
    assert len(cells) == 3
    assert "operador ONUs ausentes purgadas OLT-B 2" in cells[0]
    assert "Filas de historial eliminadas: 4." in cells[0]
    assert "operador ONUs eliminadas OLT-A 1 ONUs: 0/1/1:1. Filas de historial eliminadas: 2." in cells[1]
    assert "antiguo otra_accion X 7" in cells[2] and "d" * 159 + "…" in cells[2]
    for word in ("Fecha", "Usuario", "Acción", "Objetivo", "Cantidad", "Detalle"):
        assert word in html
    assert not [word for word in ENGLISH if word in html]
    assert not ENGLISH_PATTERN.search(html) and not EMOJI_ALONE.search(html)
    assert "Con seleccionados" not in html              # no actions: nothing to change
    assert staff_client.get("/admin/audit_events/new/").status_code == 302
    from facho.extensions import db
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.min(AuditEvent.id)))
    assert staff_client.get(f"/admin/audit_events/edit/?id={first}").status_code == 302
    details = text(staff_client.get(f"/admin/audit_events/details/?id={first}"))
    assert "ONUs eliminadas" in details and "0/1/1:1" in details
    posted = staff_client.post("/admin/audit_events/delete/", data={
        "id": str(first), "csrf_token": token(staff_client)})
    assert posted.status_code in (302, 404, 405)
    assert len(audit_rows(app)) == 3
    filtered = table(text(staff_client.get(
        "/admin/audit_events/?flt0_accin_igual_a=ausentes_purgadas")))
    assert "OLT-B" in filtered and "OLT-A" not in filtered


# --- in a real browser: the dialogs the operator answers ----------------------------------------

def test_the_browser_asks_naming_the_count_before_deleting(page, live_app):
    brand = add_brand(live_app)
    olt = add_olt(live_app, brand, "OLT-NAV")
    ids = add_onus(live_app, olt, 3, readings=1) + add_onus(live_app, olt, 2, slot=2,
                                                          present=False)
    dialogs, answers = [], []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.accept() if answers.pop(0) else dialog.dismiss()

    page.on("dialog", answer)
    real_browser.log_in(page)
    page.goto("/admin/onus/")
    for name in ("0/1/1:1", "0/1/1:2"):
        page.locator("table.model-list tbody tr", has_text=name) \
            .locator("input.action-checkbox").check()
    answers.append(False)                               # "Cancelar": nothing happens
    page.click("text=Con seleccionados")
    page.click("a.dropdown-item:has-text('Eliminar seleccionadas')")
    assert dialogs[-1].startswith("¿Eliminar 2 ONUs seleccionadas y todas sus lecturas?")
    assert onu_ids(live_app) == set(ids)
    answers.append(True)
    page.click("text=Con seleccionados")
    with page.expect_navigation():
        page.click("a.dropdown-item:has-text('Eliminar seleccionadas')")
    assert len(dialogs) == 2
    assert "Se eliminaron 2 ONUs de OLT-NAV." in page.locator(".alert-success").inner_text()
    assert onu_ids(live_app) == set(ids[2:])

    page.goto(f"/admin/onus/?flt0_olt_igual_a={olt}")
    with page.expect_navigation():
        page.click("#purge-absent-link")
    answers.append(True)
    with page.expect_navigation():
        page.click("#purge-absent-form button[type=submit]")
    assert dialogs[-1] == "¿Eliminar 2 ONUs ausentes de OLT-NAV y sus lecturas? No se puede deshacer."
    assert "Se eliminaron 2 ONUs de OLT-NAV." in page.locator(".alert-success").inner_text()
    assert onu_ids(live_app) == {ids[2]}
    assert [row[1:] for row in audit_rows(live_app)] == [
        ("onus_eliminadas", "OLT-NAV", 2), ("ausentes_purgadas", "OLT-NAV", 2)]
