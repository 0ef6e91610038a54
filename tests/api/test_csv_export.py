"""CSV export (facho.api.csv_export): from the API and from the panel lists, the rows the
filters select, streamed in keyset batches (one batch in memory at a time), with no
community or SNMPv3 key anywhere."""
from __future__ import annotations

import csv
import gc
import io

import psutil
import pytest

from facho.api import csv_export
from tests.factories import (COMMUNITY, add_brand, add_execution, add_job, add_many_onus,
                             add_olt, add_onus)

MANY = 5000   # more than two batches


def parse(response) -> list[dict]:
    body = response.get_data(as_text=True)
    assert body.startswith(csv_export.BOM)
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.fixture
def inventory(app):
    brand = add_brand(app)
    big = add_olt(app, brand, "OLT-GRANDE", v3_auth_clave="clave-v3-auth")
    small = add_olt(app, brand, "OLT-CHICA")
    add_onus(app, big, MANY, status="online", serial="HWTC0000")
    add_onus(app, small, 3, status="offline", present=False, slot=2, descripcion="Pérez, Ana")
    return big, small


def test_the_api_streams_every_onu_of_a_big_inventory(app, reader, inventory):
    response = reader.get("/api/v1/onus.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="facho-onus-')
    rows = parse(response)
    assert len(rows) == MANY + 3
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    assert rows[-1]["olt"] == "OLT-CHICA" and rows[-1]["descripcion"] == "Pérez, Ana"
    text = response.get_data(as_text=True)
    assert COMMUNITY not in text and "clave-v3-auth" not in text and "comunidad" not in text


def test_200000_onus_stream_with_peak_memory_growth_under_50_mb(app, reader):
    """Built whole (rows, then text) the export of 200,000 ONUs needs well over 100 MB; the
    stream holds one batch at a time. The rows are written without ORM objects so the
    process has no freed memory of them to reuse."""
    add_many_onus(app, add_olt(app, add_brand(app), "OLT-ENORME"), 200_000)
    process = psutil.Process()
    gc.collect()
    baseline = peak = process.memory_info().rss
    response = reader.get("/api/v1/onus.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    lines, first = 0, None
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        first = first if first is not None else text
        lines += text.count("\r\n")
        peak = max(peak, process.memory_info().rss)
    response.close()
    assert first.startswith(csv_export.BOM + "id,")
    assert lines == 200_000 + 1                          # the header and every ONU
    assert (peak - baseline) / 2**20 < 50, f"RSS grew {(peak - baseline) / 2**20:.0f} MB"


def test_the_api_export_takes_the_list_filters(app, reader, inventory):
    rows = parse(reader.get(f"/api/v1/onus.csv?olt={inventory[1]}&presente=false"))
    assert [(r["olt"], r["presente"], r["slot"]) for r in rows] == [("OLT-CHICA", "no", "2")] * 3
    assert reader.get("/api/v1/onus.csv?limite=5").status_code == 422   # no paging here


def test_rows_are_read_one_batch_at_a_time():
    asked = []

    def fetch(after, limit):
        asked.append((after, limit))
        start = 0 if after is None else after
        return [(i,) for i in range(start + 1, min(start + limit, 25) + 1)]

    chunks = list(csv_export.csv_chunks([("id", None, str)], csv_export.batches(fetch, 10)))
    assert asked == [(None, 10), (10, 10), (20, 10)]
    assert len(chunks) == 4                      # the header, then one chunk per batch
    assert all(chunk.count("\r\n") <= 10 for chunk in chunks[1:])
    assert "".join(chunks).splitlines()[1:] == [str(i) for i in range(1, 26)]


def test_the_panel_exports_what_its_filters_and_search_select(app, staff_client, inventory):
    big, small = inventory
    rows = parse(staff_client.get(f"/admin/onus/exportar.csv?flt0_olt_igual_a={small}"))
    assert {r["olt"] for r in rows} == {"OLT-CHICA"} and len(rows) == 3
    rows = parse(staff_client.get("/admin/onus/exportar.csv?search=P%C3%A9rez"))
    assert len(rows) == 3
    everything = staff_client.get("/admin/onus/exportar.csv")
    assert len(parse(everything)) == MANY + 3 and COMMUNITY not in everything.get_data(
        as_text=True)


def test_the_panel_lists_link_to_their_export_with_the_current_filters(app, staff_client,
                                                                        inventory):
    page = staff_client.get(f"/admin/onus/?flt0_olt_igual_a={inventory[1]}&page=2")
    html = page.get_data(as_text=True)
    assert (f'href="/admin/onus/exportar.csv?flt0_olt_igual_a={inventory[1]}"' in html)
    assert "⬇ Exportar CSV" in html
    assert 'href="/admin/executions/exportar.csv"' in staff_client.get(
        "/admin/executions/").get_data(as_text=True)


def test_executions_export_from_the_api_and_the_panel(app, staff_client, reader):
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-1")
    job = add_job(app, brand, [olt], nombre="descubrir")
    add_execution(app, job, olt, status="FAILED", error_message="Tiempo agotado, reintente")
    add_execution(app, job, olt, status="SUCCESS")
    rows = parse(reader.get("/api/v1/ejecuciones.csv?estado=FAILED"))
    assert [(r["tarea"], r["olt"], r["estado"], r["error"]) for r in rows] == [
        ("descubrir", "OLT-1", "Fallida", "Tiempo agotado, reintente")]
    panel = parse(staff_client.get("/admin/executions/exportar.csv?flt0_estado_igual_a=SUCCESS"))
    assert [r["estado"] for r in panel] == ["Exitosa"]


def test_the_panel_export_is_staff_only(app, inventory):
    response = app.test_client().get("/admin/onus/exportar.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
