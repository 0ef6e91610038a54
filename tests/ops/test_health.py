"""`/healthz`: database, Redis and a recent scheduler tick; no login; nothing else said."""
import time

import pytest

from facho.ops import status as ops
from facho.scheduling.lease import LeaderLease
from tests.conftest import free_port, make_test_app

KEYS = {"status", "database", "redis", "scheduler", "clock_jump"}


def get(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), response


def test_healthy_when_database_redis_and_a_recent_tick(app, redis_client):
    LeaderLease(redis_client).record_tick({"claimed": 3, "sent": 1})
    status, body, response = get(app)
    assert (status, body) == (200, {"status": "ok", "database": True, "redis": True,
                                    "scheduler": True, "clock_jump": None})
    assert response.headers["Cache-Control"] == "no-store"
    assert b"claimed" not in response.data      # the tick's details stay private


def test_a_scheduler_that_never_ticked_is_unhealthy(app, redis_client):
    status, body, _ = get(app)
    assert (status, body) == (503, {"status": "error", "database": True, "redis": True,
                                    "scheduler": False, "clock_jump": None})


def test_a_stale_tick_is_unhealthy(app, redis_client):
    old_ms = int((time.time() - ops.TICK_STALE_S - 5) * 1000)
    LeaderLease(redis_client).record_tick({"at_ms": old_ms})
    status, body, _ = get(app)
    assert status == 503 and body["scheduler"] is False and body["redis"] is True


def test_redis_down(tmp_path, redis_url):
    app = make_test_app(f"sqlite:///{tmp_path / 'h.db'}", tmp_path,
                        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    status, body, _ = get(app)
    assert (status, body) == (503, {"status": "error", "database": True, "redis": False,
                                    "scheduler": False, "clock_jump": None})


def test_database_down(tmp_path, redis_client):
    LeaderLease(redis_client).record_tick({})
    app = make_test_app(f"sqlite:///{tmp_path / 'missing-dir' / 'h.db'}", tmp_path)
    status, body, _ = get(app)
    assert (status, body) == (503, {"status": "error", "database": False, "redis": True,
                                    "scheduler": True, "clock_jump": None})


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get(app, method):
    assert getattr(app.test_client(), method)("/healthz").status_code in (400, 405)


def test_no_session_or_login_needed_and_the_body_has_only_the_documented_keys(app):
    response = app.test_client().get("/healthz")
    assert set(response.get_json()) == KEYS
    assert "Set-Cookie" not in response.headers


def test_healthz_and_status_say_when_the_scheduler_saw_the_clock_jump(app, redis_client):
    LeaderLease(redis_client).record_tick({"claimed": 0})
    status, body, _ = get(app)
    assert status == 200 and body["clock_jump"] is None
    LeaderLease(redis_client).record_clock_jump(-45.0)
    status, body, _ = get(app)
    assert status == 200                       # past, not a fault now: said, not failed
    assert body["clock_jump"]["direction"] == "atrás"
    assert body["clock_jump"]["step_s"] == -45.0 and body["clock_jump"]["age_s"] >= 0
    with app.app_context():
        report = ops.status_report(redis_client)
    assert "retrocedió 45 s" in report["scheduler"]["clock_jump"]["message"]


def test_the_cli_status_and_the_dashboard_print_the_clock_jump(app, staff_client, redis_client):
    """Issue 9: `flask facho status` and the dashboard say it too, not only /healthz."""
    lease = LeaderLease(redis_client, owner="sched-a:1:x")
    lease.record_tick({"claimed": 0})
    status = app.test_cli_runner().invoke(args=["facho", "status"])
    assert "retrocedió" not in status.output and "adelantó" not in status.output
    assert 'id="clock-jump"' not in staff_client.get("/admin/").get_data(as_text=True)
    lease.record_clock_jump(-45.0)
    status = app.test_cli_runner().invoke(args=["facho", "status"])
    assert "retrocedió 45 s" in status.output, status.output
    page = staff_client.get("/admin/").get_data(as_text=True)
    assert 'id="clock-jump">' in page
    assert "retrocedió 45 s" in page.split('id="clock-jump">', 1)[1].split("</p>", 1)[0]
