"""Panel: incidents. The list filters by state, OLT, PON, kind and age; the detail page
acknowledges (with a note) and resolves, each a CSRF-protected POST that queues its
notification once; the navigation bar counts the open incidents."""
import re
from datetime import timedelta

from facho.models import Incident, NotificationOutbox, utcnow
from tests import factories
from tests.panel import count, fetch, post, table, text


incident = factories.add_incident


def titles(client, query=""):
    return [t for t in ("Norte A", "Norte B", "Sur C", "Viejo D")
            if t in table(text(client.get(f"/admin/incidentes/{query}")))]


def test_filters_by_state_olt_pon_kind_and_age(app, staff_client):
    brand = factories.add_brand(app)
    north = factories.add_olt(app, brand, "OLT-NORTE")
    south = factories.add_olt(app, brand, "OLT-SUR", ip_address="10.0.0.2")
    incident(app, north, title="Norte A", slot=1, port=1)
    incident(app, north, title="Norte B", slot=1, port=2, kind="pon_degradada",
             state="reconocido")
    incident(app, south, title="Sur C", kind="olt_inalcanzable", state="resuelto")
    incident(app, north, title="Viejo D", slot=1, port=1,
             opened_at=utcnow() - timedelta(days=3))
    assert titles(staff_client) == ["Norte A", "Norte B", "Sur C", "Viejo D"]
    assert titles(staff_client, "?flt0_estado_igual_a=abierto") == ["Norte A", "Viejo D"]
    assert titles(staff_client, f"?flt0_olt_igual_a={south}") == ["Sur C"]
    assert titles(staff_client, "?flt0_pon_0slotpuerto_igual_a=0/1/1") == [
        "Norte A", "Viejo D"]
    assert titles(staff_client, "?flt0_tipo_igual_a=pon_degradada") == ["Norte B"]
    assert titles(staff_client, "?flt0_abierto_en_igual_a=24h") == [
        "Norte A", "Norte B", "Sur C"]


def test_the_navigation_bar_counts_open_incidents(app, staff_client):
    olt = factories.add_olt(app, factories.add_brand(app), "OLT-NORTE")
    incident(app, olt, title="uno")
    incident(app, olt, title="dos", state="reconocido")
    incident(app, olt, title="tres", state="resuelto")
    page = text(staff_client.get("/admin/red/"))
    badge = re.search(r'id="incidents-badge".*?<span class="badge[^"]*">(\d+)</span>', page,
                      flags=re.S)
    assert badge.group(1) == "2"


def test_acknowledge_with_a_note_then_resolve_from_the_detail_page(app, staff_client):
    from facho.models import AlertRule, NotificationChannel
    olt = factories.add_olt(app, factories.add_brand(app), "OLT-NORTE")
    channel = factories.add(app, NotificationChannel(nombre="Guardia",
                                                     url="json://127.0.0.1:9/x"))
    from facho.extensions import db
    with app.app_context():
        rule = AlertRule(nombre="r", kind="pon_caida", scope="todas", params={})
        rule.channels = [db.session.get(NotificationChannel, channel)]
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    incident_id = incident(app, olt, rule_id=rule_id)
    detail = text(staff_client.get(f"/admin/incidentes/{incident_id}", follow_redirects=True))
    assert "Reconocer" in detail and "PON 0/1/1 de OLT-NORTE" in detail
    refused = staff_client.post(f"/admin/incidentes/{incident_id}/reconocer",
                                data={"nota": "sin token"})
    assert refused.status_code == 400 and fetch(app, Incident, incident_id).state == "abierto"
    post(staff_client, f"/admin/incidentes/{incident_id}/reconocer",
         {"nota": "cuadrilla en camino"})
    post(staff_client, f"/admin/incidentes/{incident_id}/reconocer", {"nota": "otra vez"})
    row = fetch(app, Incident, incident_id)
    assert (row.state, row.acknowledged_by, row.ack_note) == (
        "reconocido", "operador", "cuadrilla en camino")
    page = text(post(staff_client, f"/admin/incidentes/{incident_id}/resolver", {}))
    assert "Incidentes resueltos: 1." in page
    row = fetch(app, Incident, incident_id)
    assert (row.state, row.resolved_by) == ("resuelto", "operador")
    assert count(app, NotificationOutbox) == 2      # reconocido, resuelto: once each
