"""Panel: alert rules and notification channels. Bad input gets a Spanish message under
its field and saves nothing; a channel's URL (a secret) never appears on a page; "Enviar
prueba" sends one message to a local receiver, and only with the CSRF token."""
from facho.models import AlertRule, NotificationChannel
from tests import factories
from tests.monitoring.receivers import HttpReceiver
from tests.panel import alerts, count, field_errors, post, run_action, table, text

SECRET_URL = "json://noc:clave-del-webhook-123@127.0.0.1:9/ruta-secreta"


def rule_form(**overrides):
    data = {"nombre": "Cortes", "kind": "pon_caida", "scope": "todas", "severity": "critico",
            "min_severity": "aviso", "enabled": "y"}
    data.update(overrides)
    return data


def test_a_rule_without_scope_is_refused_under_the_field_and_nothing_is_saved(app,
                                                                               staff_client):
    page = text(post(staff_client, "/admin/reglas/new/", rule_form(scope="")))
    assert any("alcance" in message for message in field_errors(page)["scope"])
    assert count(app, AlertRule) == 0


def test_a_pon_scope_needs_olt_slot_and_port(app, staff_client):
    page = text(post(staff_client, "/admin/reglas/new/", rule_form(scope="pon")))
    errors = field_errors(page)
    assert "Elija la OLT a la que se aplica la regla." in errors["olt"]
    assert "Indique el slot y el puerto del PON." in errors["slot"]
    assert count(app, AlertRule) == 0


def test_a_threshold_out_of_range_is_refused_in_spanish_and_nothing_is_saved(app,
                                                                             staff_client):
    page = text(post(staff_client, "/admin/reglas/new/",
                     rule_form(kind="rx_baja", p_aviso_dbm="-90", p_critico_dbm="abc")))
    errors = field_errors(page)
    assert any("fuera de rango" in m for m in errors["p_aviso_dbm"])
    assert any("no es un número" in m for m in errors["p_critico_dbm"])
    assert count(app, AlertRule) == 0


def test_a_valid_rule_is_saved_with_its_parameters_and_defaults(app, staff_client):
    olt_id = factories.add_olt(app, factories.add_brand(app), "OLT-NORTE")
    page = text(post(staff_client, "/admin/reglas/new/",
                     rule_form(scope="pon", olt=str(olt_id), slot="1", port="3",
                               p_min_onus="6", p_ventana_min="")))
    assert count(app, AlertRule) == 1, page
    with app.app_context():
        rule = AlertRule.query.one()
        assert (rule.olt_id, rule.slot, rule.port) == (olt_id, 1, 3)
        assert rule.params["min_onus"] == 6 and rule.params["ventana_min"] == 5
    listing = table(text(staff_client.get("/admin/reglas/")))
    assert "PON 0/1/3 de OLT-NORTE" in listing and "PON caída" in listing


def test_a_malformed_apprise_url_is_refused_under_the_field(app, staff_client):
    for url in ("no-es-una-url", "nadaconocido://x"):
        page = text(post(staff_client, "/admin/canales/new/", {"nombre": "Guardia",
                                                               "apprise_url": url, "enabled": "y"}))
        assert any("Apprise" in m for m in field_errors(page)["apprise_url"]), url
        assert url not in page
    assert count(app, NotificationChannel) == 0


def test_the_channel_url_never_appears_in_list_details_or_edit_form(app, staff_client):
    post(staff_client, "/admin/canales/new/", {"nombre": "Guardia", "apprise_url": SECRET_URL,
                                               "enabled": "y"})
    assert count(app, NotificationChannel) == 1
    with app.app_context():
        channel_id = NotificationChannel.query.one().id
    for url in ("/admin/canales/", f"/admin/canales/details/?id={channel_id}",
                f"/admin/canales/edit/?id={channel_id}"):
        page = text(staff_client.get(url))
        assert "clave-del-webhook-123" not in page and "ruta-secreta" not in page, url
    # saving the edit form with the URL left empty keeps the stored one
    post(staff_client, f"/admin/canales/edit/?id={channel_id}",
         {"nombre": "Guardia NOC", "apprise_url": "", "enabled": "y"})
    with app.app_context():
        assert NotificationChannel.query.one().url == SECRET_URL


def test_send_test_reaches_the_receiver_once_and_needs_the_csrf_token(app, staff_client):
    with HttpReceiver() as http:
        channel_id = factories.add(app, NotificationChannel(nombre="Guardia", url=http.url))
        refused = run_action(staff_client, "canales", "enviar_prueba", [channel_id],
                             with_token=False)
        assert refused.status_code == 400 and http.messages == []
        page = text(run_action(staff_client, "canales", "enviar_prueba", [channel_id]))
        assert ("success", "Canal «Guardia»: mensaje de prueba enviado.") in alerts(page)
        assert len(http.messages) == 1 and "Prueba del canal" in http.messages[0]["message"]


def test_send_test_to_a_refusing_channel_says_so_without_the_url(app, staff_client):
    channel_id = factories.add(app, NotificationChannel(nombre="Caído", url=SECRET_URL))
    page = text(run_action(staff_client, "canales", "enviar_prueba", [channel_id]))
    assert any(kind == "danger" and "no aceptó" in message for kind, message in alerts(page))
    assert "clave-del-webhook-123" not in page and "ruta-secreta" not in page
