"""The panel in a real browser: an operator logs in and sets up a brand, two OLTs and a job
that runs on both, and finds them in the Spanish lists."""
from tests.browser import browser, live_app, live_server, log_in, page  # noqa: F401

SAVE = "input[type=submit][value='Guardar']"


def pick(page, select, *labels):
    """Choose options of a (select2-enhanced) <select> as a user would end up with."""
    page.select_option(select, label=list(labels) if len(labels) > 1 else labels[0],
                       force=True)


def create_olt(page, abreviatura, ip):
    page.goto("/admin/olts/new/")
    page.fill("#abreviatura", abreviatura)
    pick(page, "#brand", "Huawei")
    page.fill("#modelo", "MA5800-X7")
    page.fill("#ip_address", ip)
    page.fill("#comunidad", "comunidad-secreta")
    page.fill("#descripcion", f"Nodo {abreviatura}")
    page.click(SAVE)
    page.wait_for_url("**/admin/olts/")


def test_operator_sets_up_brand_olts_and_a_job(page, live_app):
    log_in(page)
    assert page.locator("nav .navbar-brand").inner_text() == "Facho"
    assert page.locator("nav button", has_text="Salir").is_visible()

    page.goto("/admin/brands/new/")
    page.fill("#nombre", "Huawei")
    page.click(SAVE)
    page.wait_for_url("**/admin/brands/")
    assert "Registro creado." in page.locator(".alert").first.inner_text()
    page.goto("/admin/brands/new/")
    page.fill("#nombre", "ZTE")
    page.click(SAVE)
    page.wait_for_url("**/admin/brands/")

    create_olt(page, "OLT-NORTE", "10.20.0.1")
    create_olt(page, "OLT-SUR", "10.20.0.2")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 2
    headers = page.locator("table.model-list thead").inner_text()
    for label in ("Abreviatura", "Marca", "IP / host", "Habilitada"):
        assert label in headers
    assert "comunidad-secreta" not in page.content()
    page.screenshot(path="/tmp/facho_olts.png", full_page=True)

    # A ZTE OLT must not be offered for a Huawei job.
    page.goto("/admin/olts/new/")
    page.fill("#abreviatura", "OLT-ZTE")
    pick(page, "#brand", "ZTE")
    page.fill("#ip_address", "10.30.0.1")
    page.fill("#comunidad", "otra")
    page.click(SAVE)
    page.wait_for_url("**/admin/olts/")

    # A discovery job needs a discovery OID (the form refuses one without it).
    from facho.extensions import db
    from facho.models import Brand, Oid
    with live_app.app_context():
        huawei = Brand.query.filter_by(nombre="Huawei").one()
        db.session.add(Oid(nombre="Huawei ONT descubrimiento", brand=huawei,
                           oid="1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9", espacio="descubrimiento"))
        db.session.commit()

    page.goto("/admin/snmp_jobs/new/")
    page.fill("#nombre", "Descubrimiento Huawei")
    pick(page, "#brand", "Huawei")
    assert page.locator("#olts option", has_text="OLT-ZTE").is_disabled()
    assert page.locator("#olts option", has_text="OLT-NORTE").is_enabled()
    pick(page, "#olts", "OLT-NORTE (Huawei)", "OLT-SUR (Huawei)")
    pick(page, "#oids", "Huawei ONT descubrimiento (1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9)")
    page.fill("#interval_raw", "5m")
    page.screenshot(path="/tmp/facho_job_form.png", full_page=True)
    page.click(SAVE)
    page.wait_for_url("**/admin/snmp_jobs/")

    row = page.locator("table.model-list tbody tr", has_text="Descubrimiento Huawei")
    assert row.count() == 1
    cells = row.inner_text()
    assert "cada 5 minutos" in cells
    assert "OLT-NORTE, OLT-SUR" in cells
    assert "Descubrimiento" in cells
    headers = page.locator("table.model-list thead").inner_text()
    for label in ("Programación", "Próxima ejecución", "Falta", "OLTs"):
        assert label in headers
    page.screenshot(path="/tmp/facho_jobs.png", full_page=True)

    from facho.models import SnmpJob
    with live_app.app_context():
        job = SnmpJob.query.one()
        assert sorted(h.olt.abreviatura for h in job.job_hosts) == ["OLT-NORTE", "OLT-SUR"]
        assert job.next_run_at is not None


def test_validation_errors_show_under_the_field(page):
    log_in(page)
    page.goto("/admin/brands/new/")
    page.fill("#nombre", "Huawei")
    page.click(SAVE)
    page.goto("/admin/olts/new/")
    page.fill("#abreviatura", "OLT-X")
    pick(page, "#brand", "Huawei")
    page.fill("#ip_address", "999.1.1.1")
    page.fill("#snmp_port", "70000")
    page.click(SAVE)
    feedback = page.locator(".invalid-feedback")
    text = " ".join(feedback.all_inner_texts())
    assert "Dirección IP inválida" in text and "Puerto inválido" in text
    page.screenshot(path="/tmp/facho_olt_errors.png", full_page=True)
