"""admin.lists: panel lists at ISP scale. Estimated counts and refused sorts on PostgreSQL
(rows made with generate_series, ANALYZEd), searchable OLT filters and state options that
read no inventory on both databases."""
import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.models import Execution, Oid
from facho.row_counts import EXACT_BELOW
from tests.factories import UTC, add, add_brand, add_execution, add_job, add_olt, add_onus
from tests.panel import table, text

MANY = EXACT_BELOW + 5_000


def filter_groups(page: str) -> dict:
    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S)
    return json.loads(match.group(1))


def ajax_config(page: str) -> dict:
    match = re.search(r'<div id="facho-ajax-filters" class="d-none">(.*?)</div>', page, re.S)
    return json.loads(match.group(1))


def many_executions(app, count: int) -> dict:
    """`count` executions of OLT-BIG (one a minute) and 3 of OLT-SMALL, then ANALYZE."""
    brand = add_brand(app)
    big, small = add_olt(app, brand, "OLT-BIG"), add_olt(app, brand, "OLT-SMALL")
    job = add_job(app, brand, [big, small], nombre="Lectura")
    for _ in range(3):
        add_execution(app, job, small, status="FAILED", duration_ms=5)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":     # rows made by the server: fast
            db.session.execute(sa.text(
                "INSERT INTO executions (job_id, olt_id, status, scheduled_for, attempt, "
                "created_at, duration_ms) SELECT :job, :olt, 'SUCCESS', t, 1, t, n FROM "
                "(SELECT n, now() - n * interval '1 minute' AS t "
                "FROM generate_series(1, :count) n) s"), {"job": job, "olt": big, "count": count})
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE executions"))
        else:
            now = datetime.now(UTC)
            db.session.execute(sa.insert(Execution), [
                {"job_id": job, "olt_id": big, "status": "SUCCESS", "attempt": 1,
                 "scheduled_for": now - timedelta(minutes=n),
                 "created_at": now - timedelta(minutes=n), "duration_ms": n}
                for n in range(1, count + 1)])
            db.session.commit()
    return {"big": big, "small": small, "job": job}


@pytest.fixture
def pg_staff(pg_app, redis_url):
    """A staff client of a PostgreSQL app."""
    from werkzeug.security import generate_password_hash

    from facho.models import User
    from tests.conftest import login
    with pg_app.app_context():
        db.session.add(User(username="operador", is_staff=True, active=True,
                            password_hash=generate_password_hash(
                                "clave-segura-123", method="pbkdf2:sha256:1000")))
        db.session.commit()
    client = pg_app.test_client()
    assert login(client).status_code == 302
    return client


# --- counts ----------------------------------------------------------------------------------

def test_a_large_list_on_postgresql_shows_an_estimated_count_and_a_capped_pager(pg_app,
                                                                              pg_staff):
    many_executions(pg_app, MANY)
    page = text(pg_staff.get("/admin/executions/?page_size=20"))
    count = re.search(r'data-count-estimated="1"[^>]*>([^<]*)</span>', page)
    assert count, "the count is not marked as an estimate"
    number = int(re.sub(r"\D", "", count.group(1)))
    assert count.group(1).startswith("≈\u00a0") and count.group(1).endswith(" ejecuciones")
    assert abs(number - MANY) < MANY * 0.2           # the planner's, not necessarily exact
    assert "Se muestran las primeras 500 páginas" in page
    assert 'href="/admin/executions/?page=499' in page and "page=500" not in page


def test_a_filtered_list_that_selects_few_rows_counts_exactly(pg_app, pg_staff):
    ids = many_executions(pg_app, MANY)
    page = text(pg_staff.get(f"/admin/executions/?flt0_olt_igual_a={ids['small']}"))
    assert "data-count-estimated" not in page
    assert "Lista (3)" in page and "Se muestran las primeras" not in page


def test_sqlite_always_counts_exactly(app, staff_client):
    many_executions(app, 30)
    page = text(staff_client.get("/admin/executions/"))
    assert "Lista (33)" in page and "data-count-estimated" not in page


@contextmanager
def sql_sent(app):
    """The SQL statements sent while the block runs (a list filled as they go)."""
    statements = []
    listen = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def executions_counts(statements):
    return [s for s in statements if "count(" in s.lower() and "FROM executions" in s]


def test_a_full_first_page_is_counted_and_a_short_one_counts_its_rows(app, staff_client):
    many_executions(app, 57)
    with sql_sent(app) as statements:
        full = text(staff_client.get("/admin/executions/?page_size=50"))
        counted = len(executions_counts(statements))
        statements.clear()
        short = text(staff_client.get("/admin/executions/?page_size=100"))
    assert "Lista (60)" in full and counted == 1
    assert "Lista (60)" in short
    assert not executions_counts(statements)


# --- sorting -----------------------------------------------------------------------------------

def test_a_sort_no_index_serves_is_refused_over_an_estimated_count(pg_app, pg_staff):
    many_executions(pg_app, MANY)
    page = text(pg_staff.get("/admin/executions/?sort=8&desc=1"))   # Duración
    assert "no se ordena por «Duración»" in page
    shown = [int(n) for n in re.findall(r'<td class="col-id">\s*(\d+)', table(page))]
    with pg_app.app_context():
        newest = db.session.scalars(sa.select(Execution.id).order_by(
            Execution.created_at.desc(), Execution.id.desc()).limit(50)).all()
    assert shown == newest                       # the default order: newest first


def test_every_column_sorts_when_the_count_is_exact(app, staff_client):
    ids = many_executions(app, 30)
    page = text(staff_client.get(f"/admin/executions/?flt0_olt_igual_a={ids['big']}"
                                 "&sort=8&desc=1"))
    assert "no se ordena" not in page
    with app.app_context():
        slowest = db.session.scalar(sa.select(Execution.id).order_by(
            Execution.duration_ms.desc()).limit(1))
    first = re.search(r'<td class="col-id">\s*(\d+)', table(page)).group(1)
    assert int(first) == slowest


# --- searchable filters --------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["executions", "onus", "job_hosts", "incidentes"])
def test_the_olt_filter_lists_no_olts_in_the_page_but_searches_them(app, staff_client,
                                                                    endpoint):
    brand = add_brand(app)
    with app.app_context():
        db.session.execute(sa.text(
            "INSERT INTO olts (abreviatura, ip_address, comunidad, brand_id, created_at) "
            "SELECT 'OLT-' || n, '10.0.0.1', 'c', :brand, CURRENT_TIMESTAMP "
            "FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
            "WHERE n < 2000) SELECT n FROM s)"), {"brand": brand})
        db.session.commit()
    page = text(staff_client.get(f"/admin/{endpoint}/"))
    olt_filter = filter_groups(page)["OLT"][0]
    assert olt_filter["options"] is None and olt_filter["type"] == "facho-ajax"
    assert "OLT-1999" not in page and len(page) < 100_000
    lookup = ajax_config(page)[olt_filter["arg"]]["url"]
    found = json.loads(text(staff_client.get(lookup + "&query=OLT-199&limit=20")))
    assert sorted(name for _, name in found) == ["OLT-199"] + [f"OLT-199{n}" for n in range(10)]


def test_an_applied_olt_filter_names_its_olt(app, staff_client):
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-NORTE")
    page = text(staff_client.get(f"/admin/onus/?flt0_olt_igual_a={olt}"))
    assert ajax_config(page)["olt_igual_a"]["labels"] == {str(olt): "OLT-NORTE"}
    assert "ajax_filters.js" in page


# --- the ONU state filter ------------------------------------------------------------------------

def test_the_state_filter_offers_the_mapped_states_without_reading_the_inventory(app,
                                                                                staff_client):
    brand = add_brand(app)
    add(app, Oid(nombre="Estado", oid="1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15", brand_id=brand,
                 espacio="estado", etiquetas={"1": "en línea", "2": "LOS"}))
    add_onus(app, add_olt(app, brand, "OLT-1"), 3, status="desconocido")
    with sql_sent(app) as statements:
        page = text(staff_client.get("/admin/onus/"))
    options = filter_groups(page)["Estado"][0]["options"]
    assert options == [["online", "En línea"], ["offline", "Fuera de línea"],
                       ["en línea", "en línea"], ["LOS", "LOS"]]
    assert not [s for s in statements if "DISTINCT" in s.upper()]


def test_the_onu_search_matches_serial_description_or_name_on_sqlite(app, staff_client):
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-1")
    add_onus(app, olt, 12)
    with app.app_context():
        db.session.execute(sa.text("UPDATE onus SET serial = 'HWTC' || (1000 + id)"))
        db.session.commit()
        names = db.session.execute(sa.text("SELECT name, serial FROM onus ORDER BY id")).all()
    name, serial = names[10]
    by_name = table(text(staff_client.get(f"/admin/onus/?search={name}")))
    by_serial = table(text(staff_client.get(f"/admin/onus/?search={serial.lower()}")))
    assert name in by_name and names[1][0] not in by_name
    assert serial in by_serial and names[1][1] not in by_serial
