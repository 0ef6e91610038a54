"""Two vendors no shipped profile knows, onboarded through the panel alone (issue 11): an
operator in a real browser (chromium) starts from an empty catalogue, creates brand, OLT,
OIDs with their value rules and the index formula, checks each with "Probar" against the
live OLT (snmpsim on 127.0.0.1 serving a recording), creates a discovery job, runs it from
the list with a real in-process Dramatiq worker, and ends with a correct inventory.

- "UFiber": the ONU table is indexed by the serial as a length-prefixed ASCII string and the
  PON port is a column; offline ONUs report 0 for "no value".
- V-SOL V1600D (EPON): the optical column is text like "0.03 mW (-14.61 dBm)".

The recordings and their ground truth are tests/data/snmprec/synthetic/ (README there)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

import actors.executions  # noqa: F401 - declares the execution actors on the test broker
from facho.config import REPO_ROOT
from tests.browser import snmpsim_beside_the_browser, browser, live_app, live_server, log_in, page  # noqa: F401
from tests.execution_helpers import in_process_worker, onus

SYNTHETIC = REPO_ROOT / "tests" / "data" / "snmprec" / "synthetic"
SAVE = "input[type=submit][value='Guardar']"
UBNT = "1.3.6.1.4.1.41112.1.10.1.4.1"
VSOL = "1.3.6.1.4.1.37950.1.1.5.12"


@pytest.fixture(scope="module")
def agent(snmpsim_factory, tmp_path_factory):  # noqa: F811
    """snmpsim serving the synthetic recordings (community = file name), started from a
    thread of its own: its readiness probe runs asyncio, which Playwright's sync API
    forbids in this thread."""
    data = tmp_path_factory.mktemp("onboarding")
    for name in ("ubnt_string", "vsol_v1600d"):
        (data / f"{name}.snmprec").write_bytes((SYNTHETIC / f"{name}.snmprec").read_bytes())
    yield from snmpsim_beside_the_browser(snmpsim_factory, data, "ubnt_string")


def expected(name: str) -> dict[str, dict]:
    truth = json.loads((SYNTHETIC / f"{name}.expected.json").read_text())
    return {onu["raw_index"]: onu for onu in truth["onus"]}


def pick(page, select, *labels):
    page.select_option(select, label=list(labels) if len(labels) > 1 else labels[0],
                       force=True)


def save(page, list_url):
    page.click(SAVE)
    page.wait_for_url(f"**{list_url}")


def probar(page, olt_label):
    """Click "Probar" under the form and wait for the preview (or its error)."""
    page.select_option("#probar_olt", label=olt_label, force=True)
    page.fill("#probar_filas", "10")
    page.click("#probar-boton")
    result = page.locator("#probar-resultado")
    expect(result).to_be_visible()
    return result


def create_brand_and_olt(page, marca, olt, port, community):
    page.goto("/admin/brands/new/")
    page.fill("#nombre", marca)
    save(page, "/admin/brands/")
    page.goto("/admin/olts/new/")
    page.fill("#abreviatura", olt)
    pick(page, "#brand", marca)
    page.fill("#ip_address", "127.0.0.1")
    page.fill("#snmp_port", str(port))
    page.fill("#comunidad", community)
    save(page, "/admin/olts/")
    return f"{olt} ({marca})"


def fill_oid(page, nombre, oid, marca, espacio, formato, **rule):
    page.goto("/admin/oids/new/")
    page.fill("#nombre", nombre)
    page.fill("#oid", oid)
    pick(page, "#brand", marca)
    page.select_option("#espacio", espacio, force=True)     # select2-enhanced
    page.select_option("#formato", formato, force=True)
    for field, value in rule.items():
        if field == "unidad":
            page.select_option("#unidad", value, force=True)
        else:
            page.fill(f"#{field}", value)


def create_formula(page, nombre, marca, kind, params):
    page.goto("/admin/index_formulas/new/")
    page.fill("#nombre", nombre)
    pick(page, "#brand", marca)
    page.select_option("#kind", kind, force=True)
    page.fill("#params", json.dumps(params))


def create_and_run_job(page, live_app, nombre, marca, olt_label, oid_labels):
    page.goto("/admin/snmp_jobs/new/")
    page.fill("#nombre", nombre)
    pick(page, "#brand", marca)
    pick(page, "#olts", olt_label)
    pick(page, "#oids", *oid_labels)
    page.fill("#interval_raw", "1h")
    result = probar(page, olt_label)
    expect(result.locator("#probar-tabla")).to_be_visible()
    save(page, "/admin/snmp_jobs/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("table.model-list tbody tr", has_text=nombre) \
        .locator("input.action-checkbox").check()
    page.click("text=Con seleccionados")
    with page.expect_navigation():
        page.click("text=🚀 Ejecutar tareas seleccionadas")
    page.goto("/admin/executions/")
    row = page.locator("table.model-list tbody tr", has_text=nombre)
    with in_process_worker(live_app, threads=2):
        expect(row.locator("td.col-status")).to_contain_text("Exitosa", timeout=60_000)
    return row


def test_a_serial_keyed_olt_with_the_port_in_a_column_onboarded_from_the_panel(
        page, live_app, agent):
    log_in(page)
    olt = create_brand_and_olt(page, "Ubiquiti", "UFIBER-1", agent.port, "ubnt_string")

    # the ONU table, tried before any formula exists: indexes shown undecoded
    fill_oid(page, "UFiber nombre", f"{UBNT}.3", "Ubiquiti", "descubrimiento", "text")
    result = probar(page, olt)
    expect(result.locator("#probar-nota")).to_contain_text("No hay fórmula de índice")
    expect(result.locator("tr[data-index^='12.85.66.78.84.']").first).to_be_visible()
    save(page, "/admin/oids/")

    create_formula(page, "UFiber serial", "Ubiquiti", "string",
                   {"length": "prefixed", "chars": "ascii",
                    "from_columns": {"port": {"oid": f"{UBNT}.2"}}})
    result = probar(page, olt)
    expect(result.locator("#probar-tabla")).to_contain_text("0/0/3:UBNT11BF432C")
    expect(result.locator("#probar-rechazadas")).to_have_text("0")
    save(page, "/admin/index_formulas/")

    fill_oid(page, "UFiber descripción", f"{UBNT}.3", "Ubiquiti", "descripcion", "text")
    save(page, "/admin/oids/")
    fill_oid(page, "UFiber estado", f"{UBNT}.4", "Ubiquiti", "estado", "int",
             etiquetas='{"1": "en línea", "2": "desconectada"}')
    save(page, "/admin/oids/")
    fill_oid(page, "UFiber RX", f"{UBNT}.5", "Ubiquiti", "rx_power", "int", sin_valor="0",
             escala="0,01", decimales="2")
    result = probar(page, olt)
    first = result.locator("tr[data-index='12.85.66.78.84.49.49.66.70.52.51.50.67']")
    expect(first.locator(".probar-guardado")).to_have_text("-18.09")
    expect(result.locator("td.probar-valor[data-state='missing']").first).to_contain_text("vacío")
    save(page, "/admin/oids/")
    fill_oid(page, "UFiber distancia", f"{UBNT}.6", "Ubiquiti", "distancia_onu",
             "distance_km", sin_valor="0")
    save(page, "/admin/oids/")

    labels = [f"UFiber {n} ({UBNT}.{c})" for n, c in
              (("nombre", 3), ("descripción", 3), ("estado", 4), ("RX", 5), ("distancia", 6))]
    create_and_run_job(page, live_app, "Descubrir UFiber", "Ubiquiti", olt, labels)

    truth = expected("ubnt_string")
    with live_app.app_context():
        from facho.models import Olt
        olt_id = Olt.query.filter_by(abreviatura="UFIBER-1").one().id
    stored = onus(live_app, olt_id)
    assert sorted(stored) == sorted(truth)
    for raw, onu in stored.items():
        want = truth[raw]
        assert (onu.name, onu.serial, onu.port, onu.onu_id) == (
            want["name"], want["serial"], want["port"], want["onu_id"])
        assert (onu.descripcion, onu.status) == (want["description"], want["state"])
        assert onu.rx_power == want["rx_dbm"]                     # None where the agent said 0
        assert onu.distance_km == want["distance_km"]


def test_an_epon_olt_whose_powers_are_text_with_units_onboarded_from_the_panel(
        page, live_app, agent):
    log_in(page)
    olt = create_brand_and_olt(page, "V-SOL", "VSOL-EPON", agent.port, "vsol_v1600d")
    status = f"{VSOL}.1.25.1.4"
    fill_oid(page, "V1600D estado (tabla)", status, "V-SOL", "descubrimiento", "int")
    save(page, "/admin/oids/")
    create_formula(page, "V1600D {pon}.{onu}", "V-SOL", "dotted",
                   {"positions": {"port": 0, "onu": 1}})
    result = probar(page, olt)
    expect(result.locator("#probar-tabla")).to_contain_text("0/0/1:1")
    save(page, "/admin/index_formulas/")

    # the text "0.06 mW (-12.56 dBm)": first a regex that cannot match, shown as refused
    fill_oid(page, "V1600D RX", f"{VSOL}.2.1.8.1.7", "V-SOL", "rx_power", "numero",
             regex=r"dBm=(\S+)")
    result = probar(page, olt)
    expect(result.locator("#probar-rechazadas")).not_to_have_text("0")
    expect(result.locator("td.probar-valor[data-state='invalid']").first) \
        .to_contain_text("expresión regular")
    page.fill("#regex", r"\(([-\d.]+) dBm\)")
    page.fill("#sin_valor", "0")
    result = probar(page, olt)
    first = result.locator("tr[data-index='1.1']")
    expect(first).to_contain_text("coincidió: «-12.56»")
    expect(first.locator(".probar-guardado")).to_have_text("-12.56")
    save(page, "/admin/oids/")
    fill_oid(page, "V1600D estado", status, "V-SOL", "estado", "int",
             etiquetas='{"0": "desconectada", "1": "en línea"}')
    save(page, "/admin/oids/")
    fill_oid(page, "V1600D MAC", f"{VSOL}.1.25.1.5", "V-SOL", "mac", "mac")
    save(page, "/admin/oids/")
    fill_oid(page, "V1600D descripción", f"{VSOL}.1.25.1.9", "V-SOL", "descripcion", "text")
    save(page, "/admin/oids/")
    fill_oid(page, "V1600D distancia", f"{VSOL}.1.25.1.17", "V-SOL", "distancia_onu",
             "distance_km", sin_valor="0")
    save(page, "/admin/oids/")

    labels = [f"{n} ({o})" for n, o in (
        ("V1600D estado (tabla)", status), ("V1600D RX", f"{VSOL}.2.1.8.1.7"),
        ("V1600D estado", status), ("V1600D MAC", f"{VSOL}.1.25.1.5"),
        ("V1600D descripción", f"{VSOL}.1.25.1.9"),
        ("V1600D distancia", f"{VSOL}.1.25.1.17"))]
    create_and_run_job(page, live_app, "Descubrir V1600D", "V-SOL", olt, labels)

    truth = expected("vsol_v1600d")
    with live_app.app_context():
        from facho.models import Olt
        olt_id = Olt.query.filter_by(abreviatura="VSOL-EPON").one().id
    stored = onus(live_app, olt_id)
    assert sorted(stored) == sorted(truth)
    for raw, onu in stored.items():
        want = truth[raw]
        assert (onu.name, onu.port, onu.onu_id, onu.mac) == (
            want["name"], want["port"], want["onu_id"], want["mac"])
        assert (onu.descripcion, onu.status) == (want["description"], want["state"])
        assert onu.rx_power == want["rx_dbm"]                 # "0.00 mW (0.00 dBm)" = empty
        assert onu.distance_km == want["distance_km"]
