"""An operator runs jobs from the panel in a real browser (Debian's chromium) and watches
the execution finish: real Redis broker, a real in-process Dramatiq worker with the real
actors, and a simulated ZTE OLT served by snmpsim on 127.0.0.1."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

import actors.executions  # noqa: F401 - declares run_discovery/run_get on the test broker
from facho.extensions import db
from facho.models import INTERRUPTED, PENDING, SUCCESS, Execution, utcnow
from facho.ops.olt_sim import write_snmprec
from tests.browser import snmpsim_beside_the_browser, USERNAME, browser, live_app, live_server, log_in, page  # noqa: F401
from tests.execution_helpers import in_process_worker
from tests.factories import make_job, make_olt, seed_catalog

ONUS = 24
SUCCESS_LINE = "🚀 Encolada 1 tarea: 1 ejecución creada y encolada"
INFO_LINE = ('📊 Las ejecuciones aparecerán en "Ejecuciones" y se procesarán '
             "en la cola discovery_main")
WARNINGS = [
    '⚠️ Tarea "Descubrir ZTE": OLTs deshabilitadas omitidas: C320-OFF.',
    '⚠️ La tarea "Potencia sin OLTs" no tiene OLTs asignadas.',
    '⚠️ La tarea "ZTE apagada" está deshabilitada: no se ejecutó.',
]


@pytest.fixture(scope="module")
def zte_agent(snmpsim_factory, tmp_path_factory):  # noqa: F811
    """A small simulated ZTE C320 (community `zte_panel`).

    Started from a thread of its own: its readiness probe runs asyncio, which Playwright's
    sync API (owning this thread's loop) forbids here. The thread lives as long as the
    agent, since snmpsim is tied to the thread that started it (parent-death signal)."""
    data = tmp_path_factory.mktemp("panel-snmp")
    write_snmprec(data / "zte_panel.snmprec", "zte", ONUS, seed=7)
    yield from snmpsim_beside_the_browser(snmpsim_factory, data, "zte_panel")


@pytest.fixture
def jobs(live_app, zte_agent):  # noqa: F811
    with live_app.app_context():
        seed_catalog()
        olt = make_olt("C320-SIM", zte_agent.port, "zte_panel", marca="ZTE", modelo="C320")
        off = make_olt("C320-OFF", zte_agent.port, "zte_panel", marca="ZTE", modelo="C320",
                       habilitar_olt=False)
        discover = make_job("Descubrir ZTE", ["ZTE ONU descubrimiento", "ZTE ONU nombre"],
                            marca="ZTE", olt_ids=(olt, off),
                            next_run_at=utcnow() + timedelta(hours=3, minutes=10))
        make_job("ZTE apagada", ["ZTE ONU descubrimiento"], marca="ZTE", olt_ids=(olt,),
                 enabled=False)
        make_job("Potencia sin OLTs", ["ZTE ONU potencia RX"], marca="ZTE", job_type="get")
    return {"discover": discover, "olt": olt}


def executions(app, job_id) -> list[Execution]:
    with app.app_context():
        rows = db.session.execute(db.select(Execution).filter_by(job_id=job_id)
                                  .order_by(Execution.id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def select_jobs(page, *names):
    for name in names:
        page.locator("table.model-list tbody tr", has_text=name) \
            .locator("input.action-checkbox").check()


def alerts(page) -> list[tuple[str, str]]:
    out = []
    for alert in page.locator(".alert").all():
        kind = re.search(r"alert-(success|info|warning|danger)", alert.get_attribute("class"))
        out.append((kind.group(1), alert.inner_text().replace("×", "").strip()))
    return out


def test_run_from_the_panel_and_watch_it_finish(page, live_app, jobs):  # noqa: F811
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    log_in(page)
    page.goto("/admin/snmp_jobs/")
    select_jobs(page, "Descubrir ZTE", "ZTE apagada", "Potencia sin OLTs")
    page.click("text=Con seleccionados")
    with page.expect_navigation():
        page.click("text=🚀 Ejecutar tareas seleccionadas")
    assert len(dialogs) == 1 and dialogs[0].startswith("¿Ejecutar ahora las tareas seleccionadas?")
    shown = alerts(page)
    assert shown[:2] == [("success", SUCCESS_LINE), ("info", INFO_LINE)]
    assert [text for kind, text in shown if kind == "warning"] == WARNINGS
    assert len(shown) == 5
    page.screenshot(path="/tmp/facho_run_flash.png", full_page=True)

    [created] = executions(live_app, jobs["discover"])
    assert (created.status, created.olt_id) == (PENDING, jobs["olt"])

    page.goto("/admin/executions/")
    row = page.locator("table.model-list tbody tr", has_text="Descubrir ZTE")
    expect(row).to_have_count(1)
    expect(row.locator("td.col-status")).to_have_text("Pendiente")
    expect(row.locator("td.col-requested_by")).to_have_text(USERNAME)
    assert page.locator("#facho-live-list").get_attribute("data-active") == "1"
    page.screenshot(path="/tmp/facho_executions_pending.png", full_page=True)
    page.evaluate("window.__sameDocument = true")   # lost if the page were navigated

    with in_process_worker(live_app, threads=2):
        # nobody reloads: the list refreshes itself until the row is finished
        expect(row.locator("td.col-status")).to_have_text("Exitosa", timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#facho-live-list")).to_have_attribute("data-active", "0")
    page.screenshot(path="/tmp/facho_executions_success.png", full_page=True)
    [done] = executions(live_app, jobs["discover"])
    assert done.status == SUCCESS and done.result_summary["found"] == ONUS

    page.goto(f"/admin/executions/details/?id={done.id}")
    summary = page.locator("dl.facho-summary").first
    expect(summary.locator("dt[data-key=found] + dd")).to_have_text(str(ONUS))
    expect(summary.locator("dt[data-key=found]")).to_have_text("ONUs encontradas")
    page.screenshot(path="/tmp/facho_execution_detail.png", full_page=True)

    # "Ejecutar" clicked twice quickly: one confirmation, one request, one execution.
    page.goto("/admin/snmp_jobs/")
    select_jobs(page, "Descubrir ZTE")
    dialogs.clear()
    item = page.locator("a.dropdown-item", has_text="🚀 Ejecutar tareas seleccionadas")
    with page.expect_navigation():
        item.evaluate("element => { element.click(); element.click(); }")
    assert len(dialogs) == 1
    assert [kind for kind, _ in alerts(page)].count("success") == 1
    rows = executions(live_app, jobs["discover"])
    assert len(rows) == 2 and rows[-1].status == PENDING

    # Two requests racing at the server (two tabs): still one execution for the pair.
    with live_app.app_context():
        db.session.execute(db.update(Execution).where(Execution.id == rows[-1].id)
                           .values(status=INTERRUPTED))
        db.session.commit()
    page.goto("/admin/snmp_jobs/")
    statuses = page.evaluate("""async (jobId) => {
        const form = document.getElementById('action_form');  // form.action is its input
        const body = () => {
            const data = new FormData(form);
            data.set('action', 'ejecutar');
            data.append('rowid', String(jobId));
            return data;
        };
        const send = () => fetch(form.getAttribute('action'), {method: 'POST', body: body(),
                                               credentials: 'same-origin'});
        const answers = await Promise.all([send(), send()]);
        return answers.map(a => a.status);
    }""", jobs["discover"])
    assert statuses == [200, 200]          # both redirected to the list and rendered
    rows = executions(live_app, jobs["discover"])
    assert len(rows) == 3 and [r.status for r in rows].count(PENDING) == 1


def test_the_home_page_draws_its_charts_from_local_assets(page, live_app, jobs):  # noqa: F811
    external = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(("http://127.0.0.1", "data:")) else None)
    log_in(page)
    page.goto("/admin/snmp_jobs/")
    select_jobs(page, "Descubrir ZTE")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("text=Con seleccionados")
    with page.expect_navigation():
        page.click("text=🚀 Ejecutar tareas seleccionadas")
    page.goto("/admin/")
    charts = page.evaluate("""() => Object.fromEntries(Object.entries(window.fachoCharts || {})
        .map(([id, chart]) => [id, {type: chart.config.type, width: chart.width,
                                    data: chart.data.datasets.map(d => d.data)}]))""")
    assert set(charts) == {"chart-per-hour", "chart-lag"}   # nothing finished: no rates yet
    expect(page.locator("body")).to_contain_text("Sin ejecuciones terminadas en las últimas 24 h")
    assert charts["chart-per-hour"]["width"] > 300
    pending = charts["chart-per-hour"]["data"][0]           # first series: PENDING
    assert pending[-1] == 1 and sum(pending) == 1
    expect(page.locator("#next-jobs")).to_contain_text("Descubrir ZTE")
    expect(page.locator("#next-jobs")).to_contain_text(re.compile(r"en 3 h (9|10) min"))
    assert external == []
    page.screenshot(path="/tmp/facho_dashboard.png", full_page=True)
    page.goto("/admin/executions/eliminar-antiguas/")
    expect(page.locator("#purge-form")).to_be_visible()
    page.screenshot(path="/tmp/facho_purge.png", full_page=True)
