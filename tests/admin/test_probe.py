""""Probar" from the OID, formula and job forms: the values typed (not saved) are tried on
the first rows of a live OLT (snmpsim on 127.0.0.1), bounded in rows, through the OLT's
limiter; staff only and CSRF protected; nothing is written."""
from __future__ import annotations

from html import unescape

from facho.executions.olt_limiter import OltLimiter
from facho.extensions import db
from facho.models import Oid, Onu
from facho.redis_conn import get_redis
from tests.factories import make_olt, oid, seed_catalog
from tests.panel import count, post, text, token

HW = "1.3.6.1.4.1.2011.6.128.1.1.2"


def huawei_olt(app, olt_agents, **fields) -> int:
    with app.app_context():
        seed_catalog()
        return make_olt("OLT-HW", olt_agents.port, "huawei_sim", **fields)


def probe_oid(client, olt_id, rows=5, **fields):
    data = {"nombre": "RX de prueba", "oid": f"{HW}.51.1.4", "espacio": "rx_power",
            "formato": "int", "probar_olt": olt_id, "probar_filas": rows}
    data.update(fields)
    return unescape(text(post(client, "/admin/probar/oid", data)))


def test_an_oid_being_edited_shows_raw_index_position_raw_and_stored_values(
        app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    page = probe_oid(staff_client, olt_id, escala="0.01", sin_valor="2147483647",
                     decimales="2")
    truth = sorted(olt_agents.huawei, key=lambda o: o.index)[:5]
    assert page.count('data-index="') == 5
    for onu in truth:
        index = ".".join(map(str, onu.index))
        assert f'data-index="{index}"' in page
        assert f"0/{onu.slot}/{onu.port}:{onu.onu_id}" in page
        if onu.rx_dbm is None:
            assert "2147483647" in page
        else:
            assert f"{onu.rx_dbm:.2f}".rstrip("0").rstrip(".") in page
    assert "Nada se guardó" in page
    with app.app_context():
        assert count(app, Onu) == 0
        assert db.session.query(Oid).filter_by(nombre="RX de prueba").count() == 0


def test_a_rule_error_is_shown_in_spanish_and_nothing_is_read(app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    page = probe_oid(staff_client, olt_id, formato="numero", regex="([0-9]+")
    assert 'id="probar-error"' in page
    assert "expresión regular" in page and "probar-tabla" not in page


def test_a_formula_being_edited_is_tried_on_the_brands_discovery_column(
        app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    wrong = '{"base": 4194304000, "step_slot": 4096, "step_port": 256}'
    page = unescape(text(post(staff_client, "/admin/probar/formula", {
        "kind": "linear", "params": wrong, "probar_olt": olt_id, "probar_filas": 3})))
    # slot 1 of the simulated OLT is 8192 above the base: with step 4096 it reads as slot 2
    first = sorted(olt_agents.huawei, key=lambda o: o.index)[0]
    assert f"0/{first.slot * 2}/{first.port}:{first.onu_id}" in page
    bad = unescape(text(post(staff_client, "/admin/probar/formula", {
        "kind": "linear", "params": '{"base": 1', "probar_olt": olt_id})))
    assert "no es JSON válido" in bad


def test_a_jobs_oids_are_tried_together_discovery_column_first(app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    with app.app_context():
        ids = [oid("Huawei ONT potencia RX").id, oid("Huawei ONT descubrimiento").id]
    page = unescape(text(post(staff_client, "/admin/probar/tarea", {
        "oids": [str(i) for i in ids], "probar_olt": olt_id, "probar_filas": 4})))
    header = page[page.index("<thead"):page.index("</thead>")]
    assert header.index("Huawei ONT descubrimiento") < header.index("Huawei ONT potencia RX")
    assert page.count('data-index="') == 4


def test_a_busy_olt_is_reported_not_waited_for(app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    limiter = OltLimiter(get_redis(app.config["FACHO"]))
    with limiter.hold(olt_id, 1):
        page = probe_oid(staff_client, olt_id)
    assert "está ocupada" in page and "probar-tabla" not in page


def test_probing_needs_a_staff_session(app, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    anonymous = app.test_client().post("/admin/probar/oid", data={"oid": f"{HW}.51.1.4",
                                                       "probar_olt": olt_id})
    assert anonymous.status_code in (302, 400)
    assert "probar-tabla" not in text(anonymous)


def test_without_the_csrf_token_a_staff_user_is_refused(app, staff_client, olt_agents):
    olt_id = huawei_olt(app, olt_agents)
    token(staff_client)
    refused = staff_client.post("/admin/probar/oid", data={"oid": f"{HW}.51.1.4",
                                                           "probar_olt": olt_id})
    assert refused.status_code == 400
    assert "probar-tabla" not in text(refused)


def test_the_oid_form_offers_probar_with_the_olts_and_the_rule_help(app, staff_client,
                                                                    olt_agents):
    huawei_olt(app, olt_agents)
    page = unescape(text(staff_client.get("/admin/oids/new/")))
    assert 'id="probar-boton"' in page and "OLT-HW (Huawei)" in page
    assert "0.03 mW (-14.61 dBm)" in page          # the regex help's example
    assert 'id="etiquetas"' in page and 'id="unidad"' in page
