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


def test_network_incident_and_duration_figures_match_the_database(app, reader):
    from datetime import timedelta

    from facho.models import utcnow
    from tests.factories import add_incident
    brand = add_brand(app)
    north = add_olt(app, brand, "OLT-N")
    job = add_job(app, brand, [north], nombre="descubrir")
    now = utcnow()
    for ms in (800, 4000, 45000):
        add_execution(app, job, north, status="SUCCESS", duration_ms=ms, finished_at=now)
    add_execution(app, job, north, status="SUCCESS", duration_ms=1000,
                  finished_at=now - timedelta(hours=2))                  # outside the hour
    add_onus(app, north, 2, status="en línea", rx_power=-20.0)
    add_onus(app, north, 1, status="LOS", first=3, rx_power=-26.0)
    add_onus(app, north, 1, present=False, first=4, status="en línea")
    add_incident(app, north, severity="critico")
    add_incident(app, north, state="resuelto", title="viejo")

    got = samples(reader.get("/api/v1/metrics"))
    assert got[("facho_olt_onus_by_state", (("olt", "OLT-N"), ("state", "en_linea")))] == 2
    assert got[("facho_olt_onus_by_state", (("olt", "OLT-N"), ("state", "desconectadas")))] == 1
    assert got[("facho_olt_onus_by_state", (("olt", "OLT-N"), ("state", "ausentes")))] == 1
    pon = (("olt", "OLT-N"), ("pon", "0/1/1"))
    assert got[("facho_pon_rx_dbm", pon + (("stat", "min"),))] == -26.0
    assert got[("facho_pon_rx_dbm", pon + (("stat", "avg"),))] == -22.0
    assert got[("facho_pon_onus_offline", pon)] == 1
    assert got[("facho_incidents_open", (("kind", "pon_caida"), ("severity", "critico")))] == 1
    hist = "facho_execution_duration_seconds"
    desc = (("job_type", "descubrimiento"),)
    assert got[(hist + "_bucket", desc + (("le", "1.0"),))] == 1
    assert got[(hist + "_bucket", desc + (("le", "5.0"),))] == 2
    assert got[(hist + "_bucket", desc + (("le", "+Inf"),))] == 3
    assert got[(hist + "_gcount", desc)] == 3


def test_every_metric_the_grafana_dashboard_plots_is_exported(app, reader):
    """docs/grafana/facho-dashboard.json: each expression names metrics /metrics serves."""
    import json
    import re

    from facho.config import REPO_ROOT
    from tests.factories import add_incident
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-N")
    add_job(app, brand, [olt], nombre="descubrir")
    add_onus(app, olt, 1, status="en línea", rx_power=-20.0)
    add_incident(app, olt)
    exported = {name for name, _ in samples(reader.get("/api/v1/metrics"))}
    dashboard = json.loads((REPO_ROOT / "docs" / "grafana" / "facho-dashboard.json").read_text())
    used = {name for p in dashboard["panels"] for t in p["targets"]
            for name in re.findall(r"\bfacho_[a-z_]+", t["expr"])}
    assert len(used) >= 10
    assert used <= exported, used - exported
