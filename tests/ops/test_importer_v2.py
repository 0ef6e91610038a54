"""`facho.ops.importer_v2`: the Facho v2 database (real PostgreSQL, built from the old schema
and the scenario of tests/ops/facho_v2_db.py) imported into Facho on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.models import (Brand, Execution, IndexFormula, Oid, Olt, Onu, SnmpJob,
                          SnmpJobHost)
from facho.ops.importer_v2 import Options, render, run_import
from tests.ops.facho_v2_db import (HUAWEI_BASE, ZTE_BASE, huawei_index, scenario_database,
                                   zte_index)

TABLES = (Brand, Olt, Oid, IndexFormula, SnmpJob, SnmpJobHost, Onu, Execution)


@pytest.fixture
def old_url():
    """A fresh Facho v2 database with the scenario's rows, dropped after the test."""
    with scenario_database("facho_v2") as url:
        yield url


def counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in TABLES}


def run(url, **options):
    return run_import(url, Options(**options))


def test_the_catalogue_maps_brands_olts_and_oids_with_wildcards_resolved(any_app, old_url):
    with any_app.app_context():
        run(old_url)
        assert sorted(b.nombre for b in Brand.query) == ["FiberHome", "Huawei", "V-SOL", "ZTE"]
        olts = {o.abreviatura: o for o in Olt.query}
        assert sorted(olts) == ["FH-01", "SMP-01", "SMP-01 #3", "SMP-02", "ZTE-01", "ZTE-03"]
        smp = olts["SMP-01"]
        assert (smp.ip_address, smp.brand.nombre, smp.modelo, smp.snmp_port, smp.snmp_version,
                smp.comunidad) == ("10.10.0.1", "Huawei", "MA5800", 161, "v2c", "s3creta-1")
        assert olts["SMP-01 #3"].ip_address == "10.10.0.3"
        assert olts["SMP-02"].ip_address == "10.10.0.2"      # one OLT, not two
        assert olts["ZTE-03"].modelo == ""                   # model "Genérico" = any model
        assert olts["FH-01"].habilitar_olt is False
        oids = {o.nombre: o for o in Oid.query}
        assert oids["Serial"].brand_id is None               # brand "🌐 Genérico"
        assert (oids["MAC"].brand_id, oids["MAC"].formato) == (None, "mac")   # NULL brand
        assert oids["Descripción (Huawei)"].brand.nombre == "Huawei"
        assert oids["Descripción (Huawei)"].keep_previous_value is True
        assert oids["Descripción (ZTE)"].brand.nombre == "ZTE"
        assert oids["Distancia"].formato == "distance_km"
        assert "Suscriptor" not in oids and "Zabbix estado" not in oids


def test_state_labels_become_the_brands_estado_oid_with_the_unbranded_ones_underneath(
        any_app, old_url):
    with any_app.app_context():
        run(old_url)
        huawei = Oid.query.filter_by(nombre="Descubrimiento Huawei (estado)").one()
        assert (huawei.espacio, huawei.formato, huawei.oid, huawei.brand.nombre) == (
            "estado", "int", "1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3", "Huawei")
        assert huawei.etiquetas == {"1": "ACTIVO", "2": "SUSPENDIDO"}   # its own over NULL's
        zte = Oid.query.filter_by(nombre="Descubrimiento ZTE (estado)").one()
        assert zte.etiquetas == {"1": "ONLINE"}                         # the NULL-brand rows
        assert not any(o.espacio == "estado" for j in SnmpJob.query for o in j.oids)


def test_formulas_keep_the_old_lookup_order_and_the_universal_formula_reaches_every_brand(
        any_app, old_url):
    with any_app.app_context():
        run(old_url, scope="inventario")
        formulas = {(f.brand.nombre, f.modelo): f for f in IndexFormula.query}
        assert sorted(formulas) == [("FiberHome", ""), ("Huawei", ""), ("V-SOL", ""),
                                    ("ZTE", ""), ("ZTE", "C300")]
        assert formulas[("Huawei", "")].params == {
            "kind": "linear", "base": HUAWEI_BASE, "step_slot": 8192, "step_port": 256}
        assert formulas[("ZTE", "")].params["base"] == ZTE_BASE     # learned from the ONUs
        universal = formulas[("FiberHome", "")]
        assert universal.params["step_slot"] == 65536               # #4, not the older #5
        assert universal.nombre == "Genérica universal (FiberHome)"


def test_jobs_get_their_one_oid_their_type_and_the_old_utc_cron(any_app, old_url):
    with any_app.app_context():
        run(old_url)
        jobs = {j.nombre: j for j in SnmpJob.query}
        assert sorted(jobs) == ["Descripciones #2", "Descripciones #3", "Descubrimiento Huawei",
                                "Descubrimiento ZTE", "MACs"]
        hw = jobs["Descubrimiento Huawei"]
        assert (hw.job_type, hw.interval_raw, hw.cron_expr, [o.nombre for o in hw.oids],
                hw.max_retries, hw.retry_delay_seconds) == (
            "descubrimiento", "5m", None, ["Descubrimiento Huawei"], 3, 45)
        assert (jobs["Descripciones #2"].cron_expr, jobs["Descripciones #2"].cron_tz) == (
            "0 */2 * * *", "UTC")
        assert (jobs["Descripciones #3"].interval_raw, jobs["Descripciones #3"].enabled) == (
            "15m", False)                                    # from interval_seconds 900
        assert jobs["Descubrimiento ZTE"].job_type == "descubrimiento"    # old "walk"
        assert jobs["MACs"].job_type == "get"                             # old "bulk"
        hosts = {(h.job.nombre, h.olt.abreviatura) for h in SnmpJobHost.query}
        assert ("Descubrimiento Huawei", "SMP-01 #3") in hosts
        assert len(hosts) == 9


def test_cron_zone_can_keep_the_times_as_written_instead(any_app, old_url):
    with any_app.app_context():
        run(old_url, cron_tz="America/Lima")
        job = SnmpJob.query.filter_by(nombre="Descubrimiento ZTE").one()
        assert (job.cron_expr, job.cron_tz) == ("30 3 * * *", "America/Lima")


def test_every_old_row_is_imported_or_reported_with_a_spanish_reason(any_app, old_url):
    with any_app.app_context():
        report = run(old_url, scope="ejecuciones")
        tables = report.tablas
        assert (tables["olt"].leidos, tables["oids"].leidos, tables["snmp_jobs"].leidos,
                tables["snmp_job_hosts"].leidos) == (9, 11, 8, 12)
        refused = "\n".join(line for t in tables.values() for line in t.rechazados)
        for expected in ("#4 SMP-02: duplicada de la OLT #2",
                         "#6 ZTE-02: dirección inválida «10.20.0.300»",
                         "#8 GEN-01: su marca no se importó",
                         "#1 🌐 Genérico: marca comodín",
                         "#6 Suscriptor: Facho no guarda el ID de suscriptor",
                         "#5 Genérica antigua: otra fórmula universal (#4)",
                         "#6 Huawei genérica: la fórmula #1 ya cubre Huawei",
                         "#7 ZTE C320 mal: paso de puerto 8192 ≥ paso de slot 256",
                         "#8 FiberHome inactiva: inactiva",
                         "#5 Tabla ZTE: tipo 'table' sin equivalente",
                         "#7 Sin horario: sin intervalo ni cron",
                         "#3: estado RUNNING: sin terminar",
                         "OLT #4: 2 ONUs no se importan"):
            assert expected in refused
        text = render(report)
        assert "#3 SMP-01: abreviatura repetida (también la usa la OLT #1)" in text
        assert "s3creta" not in text                         # communities never shown


def test_the_inventory_becomes_onus_with_presence_misses_and_decoded_positions(any_app,
                                                                             old_url):
    with any_app.app_context():
        run(old_url, scope="inventario")
        onus = {(o.olt.abreviatura, o.raw_index): o for o in Onu.query}
        assert len(onus) == 31                               # 33 minus the refused OLT's 2
        hw = onus[("SMP-01", huawei_index(1, 0, 2))]
        assert (hw.slot, hw.port, hw.onu_id, hw.name) == (1, 0, 2, "0/1/0:2")
        zte = onus[("ZTE-01", zte_index(1, 1, 3))]
        assert (zte.slot, zte.port, zte.onu_id) == (1, 1, 3)
        odd = onus[("SMP-01", "12345.1")]                    # the formula cannot read it
        assert (odd.slot, odd.port, odd.onu_id) == (9, 9, 9)
        absent = [o for o in onus.values() if not o.present]
        assert absent and all(o.consecutive_misses == 3 for o in absent)
        assert all(o.status == "SUSPENDIDO" for o in absent)
        first = onus[("SMP-01", huawei_index(0, 0, 1))]       # old onu_index_map id 1
        assert (first.serial, first.mac, first.distance_km, first.plan, first.modelo) == (
            "HWTC00000001", "AC:DC:00:00:00:01", 1.001, "100M", "HG8546M")
        assert onus[("SMP-01", huawei_index(0, 0, 3))].mac is None          # "zz"
        assert len(onus[("SMP-01", huawei_index(0, 1, 1))].descripcion) == 255


def test_executions_of_the_last_days_come_with_the_history_scope_only(any_app, old_url):
    with any_app.app_context():
        run(old_url, scope="inventario")
        assert Execution.query.count() == 0
        run(old_url, scope="ejecuciones", days=30)
        rows = {e.message_id: e for e in Execution.query}
        assert sorted(rows) == ["facho-v2:1", "facho-v2:2"]   # not RUNNING, not 60 days old
        ok = rows["facho-v2:1"]
        assert (ok.status, ok.olt.abreviatura, ok.job.nombre, ok.duration_ms,
                ok.result_summary, ok.worker) == (
            "SUCCESS", "SMP-01", "Descubrimiento Huawei", 4000, {"onus": 12}, "celery@a")
        assert rows["facho-v2:2"].error_message == "Timeout"


def test_a_dry_run_writes_nothing_but_reports_everything(any_app, old_url):
    with any_app.app_context():
        before = counts()
        report = run(old_url, scope="ejecuciones", simulate=True)
        db.session.remove()
        assert counts() == before == {name: 0 for name in before}
        assert report.tablas["olt"].creados == 6 and report.changes > 0
        assert render(report).startswith("SIMULACIÓN (no se escribió nada en Facho)")


def test_a_second_run_changes_nothing_and_says_so(any_app, old_url):
    with any_app.app_context():
        run(old_url, scope="ejecuciones")
        first = counts()
        again = run(old_url, scope="ejecuciones")
        assert counts() == first
        assert again.changes == 0
        assert render(again).splitlines()[-1].startswith("Sin cambios: Facho ya tenía todo")


def test_a_second_run_updates_what_changed_in_the_old_database(any_app, old_url):
    import psycopg
    with any_app.app_context():
        run(old_url, scope="inventario")
        first = counts()
        with psycopg.connect(old_url) as conn:
            conn.execute("UPDATE olt SET ip_address = '10.10.9.9' WHERE id = 1")
            conn.execute("UPDATE onu_status SET presence = 'DISABLED', consecutive_misses = 7 "
                         "WHERE onu_index_id = 1")
        again = run(old_url, scope="inventario")
        assert counts() == first
        assert again.tablas["olt"].actualizados == 1
        assert Olt.query.filter_by(abreviatura="SMP-01").one().ip_address == "10.10.9.9"
        smp = Olt.query.filter_by(abreviatura="SMP-01").one()
        onu = Onu.query.filter_by(olt_id=smp.id, raw_index=huawei_index(0, 0, 1)).one()
        assert (onu.present, onu.consecutive_misses) == (False, 7)


def test_importing_over_the_seeded_catalogue_adopts_the_old_formula_without_duplicates(
        any_app, old_url):
    from facho.inventory.seed import seed
    with any_app.app_context():
        seed()
        db.session.commit()
        seeded = {f.nombre for f in IndexFormula.query}
        run(old_url)
        huawei = Brand.query.filter_by(nombre="Huawei").one()
        formula = IndexFormula.query.filter_by(brand_id=huawei.id, modelo="").one()
        assert formula.params["base"] == HUAWEI_BASE
        assert formula.nombre in seeded                      # the existing row, renamed not
        assert Brand.query.filter_by(nombre="Huawei").count() == 1


def test_a_failure_half_way_leaves_nothing_written(any_app, old_url):
    from facho.ops.importer_v2 import ImporterError
    with any_app.app_context():
        cascade = " CASCADE" if db.engine.dialect.name == "postgresql" else ""
        db.session.execute(sa.text(f"DROP TABLE executions{cascade}"))
        db.session.commit()
        with pytest.raises(ImporterError, match="la base de Facho rechazó la importación"):
            run(old_url, scope="ejecuciones")      # fails at the last step, the history
        db.session.remove()
        assert [counts_of(m) for m in (Brand, Olt, Onu)] == [0, 0, 0]


def counts_of(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_imported_olts_show_in_the_panel_without_their_community(old_url, app,
                                                                     staff_client):
    with app.app_context():
        run(old_url, scope="inventario")
    page = staff_client.get("/admin/olts/").get_data(as_text=True)
    assert "SMP-01 #3" in page and "ZTE-03" in page
    assert "s3creta" not in page
    onus = staff_client.get("/admin/onus/?search=HWTC00000001").get_data(as_text=True)
    assert "HWTC00000001" in onus and "0/0/0:1" in onus


def test_losing_the_old_database_half_way_is_one_line_and_nothing_written(any_app, old_url):
    import psycopg

    from facho.ops.importer_v2 import ImporterError
    from tests.ops.facho_v2_db import admin_url

    def cut_the_connection(label, total):
        """Called as the ONU step starts, after the catalogue was written (uncommitted)."""
        name = old_url.rsplit("/", 1)[1]
        with psycopg.connect(admin_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        return lambda n: None

    with any_app.app_context():
        with pytest.raises(ImporterError, match="falló la lectura de la base de Facho v2"):
            run_import(old_url, Options(scope="inventario"), progress=cut_the_connection)
        db.session.remove()
        assert [counts_of(m) for m in (Brand, Olt, SnmpJob)] == [0, 0, 0]


def test_an_unforeseen_error_is_one_line_and_nothing_written(any_app, old_url, monkeypatch):
    from facho.ops.importer_v2 import ImporterError, run as run_module

    def broken(ctx):   # stands for a bug in the last step: no real row can cause one
        raise KeyError("campo")

    monkeypatch.setattr(run_module, "import_onus", broken)
    with any_app.app_context():
        with pytest.raises(ImporterError, match=r"error inesperado \(KeyError: 'campo'\)"):
            run(old_url, scope="inventario")
        db.session.remove()
        assert counts_of(Olt) == 0
