"""Every panel page renders for a staff user, in Spanish, with data in every table."""
import re
from datetime import datetime

from facho.models import IndexFormula, Onu
from tests.factories import UTC, add, add_brand, add_execution, add_job, add_oid, add_olt
from tests.panel import text

ENGLISH = ("With selected", "Add Filter", "There are no items", "Save and Add Another",
           "Record was", "Create New Record", "Traceback")
# the page-size menu ("20 items"), a state's code as hover text, a raw ONU state
ENGLISH_PATTERN = re.compile(r"\b\d+ items?\b|title=\"(PENDING|RUNNING|SUCCESS|FAILED|"
                             r"INTERRUPTED|SKIPPED)\"|>\s*(online|offline)\s*<")


EMOJI_ALONE = re.compile("(?:>|\"|title=\")\\s*[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]+"
                         "\\s*(?:<|\")")


def test_every_page_renders_in_spanish(app, staff_client):
    brand = add_brand(app)
    olt = add_olt(app, brand)
    oid = add_oid(app, brand)
    job = add_job(app, brand, [olt], cron_expr="0 2 * * *")
    execution = add_execution(app, job, olt, "SUCCESS", duration_ms=10,
                               result_summary={"onus": 3},
                               finished_at=datetime(2025, 1, 1, tzinfo=UTC))
    formula = add(app, IndexFormula(nombre="Huawei", brand_id=brand, kind="linear",
                                    params={"kind": "linear", "base": 0, "step_slot": 1,
                                            "step_port": 1}))
    onu = add(app, Onu(olt_id=olt, raw_index="1.1", serial="HWTC00000001", status="online"))
    add(app, Onu(olt_id=olt, raw_index="1.2", serial="HWTC00000002", status="offline"))
    from facho.extensions import db
    from facho.models import SnmpJobHost
    with app.app_context():
        host = db.session.query(SnmpJobHost).one().id
    pages = {"brands": brand, "olts": olt, "oids": oid, "snmp_jobs": job,
             "executions": execution, "index_formulas": formula, "onus": onu, "job_hosts": host}
    editable = {"brands", "olts", "oids", "snmp_jobs", "index_formulas", "job_hosts"}
    creatable = editable - {"job_hosts"}
    for endpoint, row in pages.items():
        urls = [f"/admin/{endpoint}/", f"/admin/{endpoint}/?sort=1&desc=1",
                f"/admin/{endpoint}/details/?id={row}"]
        urls += [f"/admin/{endpoint}/edit/?id={row}"] if endpoint in editable else []
        urls += [f"/admin/{endpoint}/new/"] if endpoint in creatable else []
        for url in urls:
            response = staff_client.get(url)
            assert response.status_code == 200, url
            page = text(response)
            assert not [word for word in ENGLISH if word in page], url
            assert not ENGLISH_PATTERN.search(page), (url, ENGLISH_PATTERN.search(page))
            # an emoji renders as an empty box without an emoji font: never on its own
            assert not EMOJI_ALONE.search(page), (url, EMOJI_ALONE.search(page))
    onus = text(staff_client.get("/admin/onus/"))
    assert "En línea" in onus and "Fuera de línea" in onus and "20 registros" in onus
    assert '"options": [["online", "En l\\u00ednea"], ["offline", "Fuera de l\\u00ednea"]]' in onus
    details = text(staff_client.get(f"/admin/snmp_jobs/details/?id={job}"))
    assert "cron 0 2 * * * (America/Lima)" in details and "OLT-1" in details
    details = text(staff_client.get(f"/admin/executions/details/?id={execution}"))
    assert "Exitosa" in details and "&#34;onus&#34;: 3" in details
