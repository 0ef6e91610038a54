"""The panel's home page: health facts, charts data, next jobs, ONUs; Redis down; local
assets only."""
import json
import re
import time
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from facho.ops import dashboard
from facho.messaging import NAMESPACE
from facho.extensions import db
from facho.models import Execution, Onu, utcnow
from tests import factories as f
from tests.conftest import free_port, login, make_test_app
from tests.factories import add, add_brand, add_execution, add_job, add_olt
from tests.panel import chart_json, text


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, flags=re.S)
    assert match, element_id
    return unescape(re.sub(r"<[^>]+>", " ", match.group(2)))


@pytest.fixture
def populated(app, redis_client):
    brand = add_brand(app)
    olt_a, olt_b = add_olt(app, brand, "OLT-A"), add_olt(app, brand, "OLT-B")
    add_olt(app, brand, "OLT-C")          # no execution at all: no rate, not 0 %
    soon = utcnow() + timedelta(minutes=4, seconds=30)
    job = add_job(app, brand, [olt_a, olt_b], nombre="Descubrir norte", next_run_at=soon)
    add_job(app, brand, [olt_a], nombre="Apagada", enabled=False, next_run_at=soon)
    now = utcnow()
    # inside the current hour whatever the minute (now - 5 min falls in the previous hour
    # during the first five minutes of each hour)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    for status in ("SUCCESS", "SUCCESS", "SUCCESS", "FAILED"):
        add_execution(app, job, olt_a, status, created_at=this_hour)
    add_execution(app, job, olt_b, "FAILED", created_at=this_hour)
    add_execution(app, job, olt_b, "SUCCESS", created_at=now - timedelta(hours=30))
    # a scheduled run that started 4 s after its slot, one hour ago
    slot = now - timedelta(hours=1)
    add_execution(app, job, olt_a, "SUCCESS", scheduled_for=slot,
                   started_at=slot + timedelta(seconds=4), created_at=slot)
    for i in range(5):
        add(app, Onu(olt_id=olt_a, raw_index=str(i), present=i < 3))
    # Redis: a worker heartbeat, a tick, a queued and a dead message, a stale OLT slot
    now_ms = int(time.time() * 1000)
    redis_client.set(f"{NAMESPACE}:worker:worker-1", json.dumps(
        {"queues": ["discovery_main"], "threads": 20, "started_at": now_ms / 1000 - 60}), ex=30)
    from facho.scheduling.lease import LeaderLease
    lease = LeaderLease(redis_client, owner="sched-host:42:abc")
    lease.acquire()
    lease.record_tick({"claimed": 2})
    redis_client.rpush(f"{NAMESPACE}:discovery_main", "m1", "m2")
    redis_client.zadd(f"{NAMESPACE}:get_main.XQ", {"dead-1": now_ms})
    from facho.executions.olt_limiter import OltLimiter
    OltLimiter(redis_client).acquire(olt_b, "stale-token", 1, ttl_ms=1000,
                                     now_ms=now_ms - 3_600_000)
    return {"job": job, "olt_a": olt_a, "olt_b": olt_b}


def test_dashboard_shows_health_charts_next_jobs_and_onus(app, staff_client, populated,
                                                           redis_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    page = text(response)
    assert "Redis no responde" not in page
    # executions by state, last 24 h (the 30 h old one is out)
    counts = dict(re.findall(r'data-status="(\w+)">[^<]*<span class="badge badge-\w+">(\d+)<',
                             page))
    assert counts["SUCCESS"] == "4" and counts["FAILED"] == "2" and counts["PENDING"] == "0"
    queues = {name: [int(n) for n in re.findall(r'<td class="text-right[^"]*">(\d+)</td>', row)]
              for name, row in re.findall(r'<tr data-queue="(\w+)">(.*?)</tr>', page, flags=re.S)}
    assert queues["discovery_main"] == [2, 0, 0] and queues["get_main"] == [0, 0, 1]
    assert section(page, "worker-count") == "1" and "worker-1" in section(page, "workers")
    scheduler = section(page, "scheduler")
    assert "Activo" in scheduler and "sched-host:42:abc" in scheduler and "hace" in scheduler
    assert section(page, "stale-slots").strip() == "1 vencidos"
    assert "flask facho locks --free-stale" in page
    problems = section(page, "health-problems")
    assert "1 mensajes en dead-letter" in problems and "1 cupos de OLT vencidos" in problems

    data = chart_json(page)
    series = {s["status"]: s for s in data["per_hour"]["series"]}
    assert sum(series["SUCCESS"]["data"]) == 4 and series["SUCCESS"]["data"][-1] == 3
    assert series["FAILED"]["data"][-1] == 2 and series["FAILED"]["label"] == "Fallida"
    assert len(data["per_hour"]["labels"]) == 24
    lima_hour = utcnow().astimezone(ZoneInfo("America/Lima")).strftime("%H:00")
    assert data["per_hour"]["labels"][-1] == lima_hour
    rates = {r["olt"]: r for r in data["success_rate"]}
    assert rates["OLT-A"] == {"olt": "OLT-A", "success": 4, "failed": 1, "rate": 80.0}
    assert rates["OLT-B"]["rate"] == 0.0
    # an OLT with nothing finished is listed apart from the 0 % one, never drawn as 0 %
    assert data["no_rate"] == ["OLT-C"] and "OLT-C" not in rates
    no_rate = section(page, "success-no-rate")
    assert "OLT-C" in no_rate and "OLT-B" not in no_rate and "no es 0 %" in no_rate
    # the OLT slots table: expiry on the operator's clock, like every other time shown
    with app.app_context():
        from facho.ops import status as ops
        [slot] = ops.olt_slots(redis_client)
    expires = datetime.fromisoformat(slot["expires_at"]).astimezone(ZoneInfo("America/Lima"))
    slots = section(page, "olt-slots")
    assert expires.strftime("%Y-%m-%d %H:%M:%S") in slots and slot["expires_at"] not in slots
    assert "Vence (America/Lima)" in slots
    # a worker's uptime reads as when it started, not as when it was last seen
    workers = section(page, "workers")
    assert "Activo hace" not in page and "Iniciado" in workers and "hace" in workers
    assert 4.0 in data["lag"]["avg_s"] and data["lag"]["max_s"].count(None) == 23

    next_jobs = section(page, "next-jobs")
    assert "Descubrir norte" in next_jobs and "Apagada" not in next_jobs
    assert "en 4 min" in next_jobs and "cada 5 minutos" in next_jobs
    onus = re.search(r'<tr data-olt="OLT-A">(.*?)</tr>', page, flags=re.S).group(1)
    assert re.findall(r">(\d+)</td>", onus) == ["5", "3", "2"]


def test_next_jobs_show_a_claimed_pending_slot_before_next_run_at(app, staff_client):
    """The dashboard's next jobs give the next slot that has not run yet, as the jobs list
    does (issue 9, 3.3), not `next_run_at` one slot later."""
    brand = add_brand(app)
    olt = add_olt(app, brand)
    slot = (utcnow() + timedelta(minutes=1)).replace(microsecond=0)
    job = add_job(app, brand, [olt], nombre="Cada minuto", interval_raw="1m",
                  next_run_at=slot + timedelta(minutes=1))
    add_execution(app, job, olt, scheduled_for=slot)
    next_jobs = section(text(staff_client.get("/admin/")), "next-jobs")
    local = slot.astimezone(ZoneInfo("America/Lima")).strftime("%H:%M:%S")
    later = (slot + timedelta(minutes=1)).astimezone(ZoneInfo("America/Lima")).strftime("%H:%M:%S")
    assert local in next_jobs and later not in next_jobs, next_jobs


def test_every_queue_is_named_in_spanish_on_the_dashboard(app, staff_client, populated):
    from facho.messaging import QUEUES
    page = staff_client.get("/admin/").get_data(as_text=True)
    for queue in QUEUES:
        row = re.search(rf'<tr data-queue="{queue}">\s*<td>([^<]*)<', page)
        assert row, queue
        assert row.group(1).strip() not in ("", queue), (queue, row.group(1))


def test_dashboard_uses_only_local_assets(app, staff_client, populated):
    page = text(staff_client.get("/admin/"))
    sources = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources and not [s for s in sources if re.match(r"(https?:)?//", s)]
    assert "http://" not in page.split("<body>")[0] and "https://" not in page
    for asset in ("/static/vendor/chart-4.6.1.umd.min.js", "/static/js/dashboard.js"):
        assert f'src="{asset}"' in page
        assert staff_client.get(asset).status_code == 200


def test_dashboard_with_redis_down_still_answers_in_spanish(tmp_path, redis_url):
    app = make_test_app(f"sqlite:///{tmp_path / 'down.db'}", tmp_path,
                        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with app.app_context():
        db.create_all()
    brand = add_brand(app)
    olt = add_olt(app, brand, "OLT-A")
    job = add_job(app, brand, [olt], nombre="Descubrir")
    add_execution(app, job, olt, "SUCCESS", created_at=utcnow() - timedelta(minutes=1))
    from tests.conftest import create_user
    create_user(app)
    client = app.test_client()
    assert login(client).status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 200
    page = text(response)
    assert "Redis no responde: no se pueden mostrar las colas" in section(page, "redis-down")
    assert 'id="queues"' not in page and 'id="scheduler"' not in page
    counts = dict(re.findall(r'data-status="(\w+)">[^<]*<span class="badge badge-\w+">(\d+)<',
                             page))
    assert counts["SUCCESS"] == "1"                 # the database figures are still there
    assert chart_json(page)["success_rate"][0]["success"] == 1
    assert client.get("/admin/snmp_jobs/").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_start_lag_per_hour_on_both_databases(any_app):
    now = utcnow().replace(minute=30, second=0, microsecond=0)
    with any_app.app_context():
        olt = f.olt("OLT-1")
        job = f.job("j", olts=[olt])
        for minutes_ago, lag_s in ((60, 2), (61, 6), (5, 1)):
            slot = now - timedelta(minutes=minutes_ago)
            db.session.add(Execution(job=job, olt=olt, status="SUCCESS", scheduled_for=slot,
                                     started_at=slot + timedelta(seconds=lag_s)))
        db.session.add(Execution(job=job, olt=olt, status="PENDING",          # not started
                                 scheduled_for=now - timedelta(minutes=2)))
        db.session.add(Execution(job=job, olt=olt, status="SUCCESS", started_at=now))  # manual
        db.session.commit()
        lag = dashboard.start_lag_per_hour(ZoneInfo("America/Lima"), now=now)
    assert lag["count"][-1] == 1 and lag["avg_s"][-1] == 1.0
    assert lag["count"][-2] == 2 and lag["avg_s"][-2] == 4.0 and lag["max_s"][-2] == 6.0
    assert lag["avg_s"][:-2] == [None] * 22 and sum(lag["count"]) == 3
