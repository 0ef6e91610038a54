"""Prometheus metrics (facho.api.metrics): the text parses with Prometheus' own parser and
its figures are the database's; behind a token with scope «lectura»."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from facho.api import metrics
from tests.factories import add_brand, add_execution, add_job, add_olt, add_onus


def samples(response) -> dict:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == metrics.CONTENT_TYPE
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_parse_and_match_the_database(app, reader, redis_client):
    brand = add_brand(app)
    north, south = add_olt(app, brand, "OLT-N"), add_olt(app, brand, "OLT-S")
    job = add_job(app, brand, [north, south], nombre="descubrir")
    get_job = add_job(app, brand, [north], nombre="potencia", job_type="get")
    for status in ("FAILED", "FAILED", "SUCCESS"):
        add_execution(app, job, north, status=status)
    add_execution(app, get_job, north, status="SUCCESS")
    add_onus(app, north, 4, status="online")
    add_onus(app, north, 1, status="offline", present=False, first=9)
    add_onus(app, south, 2, status="online")

    got = samples(reader.get("/api/v1/metrics"))
    ex = "facho_executions"
    assert got[(ex, (("job_type", "descubrimiento"), ("status", "FAILED")))] == 2
    assert got[(ex, (("job_type", "descubrimiento"), ("status", "SUCCESS")))] == 1
    assert got[(ex, (("job_type", "get"), ("status", "SUCCESS")))] == 1
    assert got[(ex, (("job_type", "get"), ("status", "FAILED")))] == 0
    assert got[("facho_onus", (("olt", "OLT-N"), ("status", "online")))] == 4
    assert got[("facho_onus", (("olt", "OLT-N"), ("status", "offline")))] == 1
    assert got[("facho_onus_present", (("olt", "OLT-N"), ("present", "0")))] == 1
    assert got[("facho_onus_present", (("olt", "OLT-S"), ("present", "1")))] == 2
    assert got[("facho_redis_up", ())] == 1
    assert got[("facho_scheduler_healthy", ())] == 0          # no scheduler in this test
    assert got[("facho_workers_alive", ())] == 0
    assert got[("facho_queue_messages", (("kind", "ready"), ("queue", "discovery_main")))] == 0
    assert got[("facho_job_missed_slots", (("job", "descubrir"),))] == 0


def test_queued_messages_show_in_the_queue_depth(app, make_caller):
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-1")
    job = add_job(app, brand, [olt], nombre="descubrir")
    make_caller(("ejecutar",)).post("/api/v1/tareas/ejecutar", json={"tareas": [job]})
    got = samples(make_caller().get("/api/v1/metrics"))
    assert got[("facho_queue_messages", (("kind", "ready"), ("queue", "discovery_main")))] == 1


def test_metrics_need_a_token_with_lectura(app, make_caller):
    assert app.test_client().get("/api/v1/metrics").status_code == 401
    assert make_caller(("ejecutar",)).get("/api/v1/metrics").status_code == 403
