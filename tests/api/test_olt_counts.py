"""Per-OLT ONU counts of /api/v1/olts (facho.api.olt_counts): counted once, kept in Redis
at most 30 s for every web process, recounted by one process at a time while the others
answer the previous figures."""
from __future__ import annotations

import json
import time

from facho.api import olt_counts
from tests.factories import add_brand, add_olt, add_onus


def test_figures_are_fresh_for_30_seconds_after_they_were_counted():
    assert olt_counts.is_fresh(1000.0, 1000.0)
    assert olt_counts.is_fresh(1000.0, 1029.9)
    assert not olt_counts.is_fresh(1000.0, 1030.0)
    assert not olt_counts.is_fresh(1000.0, 999.0)        # counted "in the future": recount


def test_unreadable_stored_figures_count_as_none():
    assert olt_counts.decode(None) is None
    assert olt_counts.decode(b"{") is None
    assert olt_counts.decode(b'{"at": 1}') is None
    assert olt_counts.decode(b'{"at": 5, "counts": {"7": {"total": 1}}}') == (5.0, {7: {
        "total": 1}})


def olt_with_onus(app, n):
    olt = add_olt(app, add_brand(app), "OLT-N")
    add_onus(app, olt, n, status="en línea")
    return olt


def test_the_stored_figures_are_answered_until_they_are_30_seconds_old(app, redis_client):
    olt = olt_with_onus(app, 2)
    with app.app_context():
        first_at, first = olt_counts.current(redis_client)
        add_onus(app, olt, 1, first=9, status="LOS")
        assert olt_counts.current(redis_client) == (first_at, first)
        assert first[olt]["total"] == 2
        stored = json.loads(redis_client.get(olt_counts.KEY))
        stored["at"] -= olt_counts.MAX_AGE_S
        redis_client.set(olt_counts.KEY, json.dumps(stored))
        at, counts = olt_counts.current(redis_client)
    assert at > first_at - olt_counts.MAX_AGE_S
    assert counts[olt] == {"total": 3, "presentes": 3, "ausentes": 0,
                           "por_estado": {"en línea": 2, "LOS": 1}}
    assert not redis_client.exists(olt_counts.LOCK)


def test_while_another_process_recounts_the_previous_figures_are_answered(app, redis_client):
    olt = olt_with_onus(app, 2)
    old = time.time() - 3600
    redis_client.set(olt_counts.KEY, json.dumps({"at": old, "counts": {str(olt): {
        "total": 1, "presentes": 1, "ausentes": 0, "por_estado": {}}}}))
    redis_client.set(olt_counts.LOCK, "1")                 # another process is recounting
    with app.app_context():
        assert olt_counts.current(redis_client)[1][olt]["total"] == 1
        redis_client.delete(olt_counts.KEY)                # nothing to answer: count here
        assert olt_counts.current(redis_client)[1][olt]["total"] == 2
    assert redis_client.exists(olt_counts.LOCK)            # the other process's lock stays


def test_the_olts_route_says_when_its_counts_were_taken(app, reader, redis_client):
    from datetime import datetime
    olt_with_onus(app, 2)
    body = reader.get("/api/v1/olts").get_json()
    counted = datetime.fromisoformat(body["contadas_en"].replace("Z", "+00:00"))
    assert abs(counted.timestamp() - time.time()) < 30
    assert body["items"][0]["onus"]["total"] == 2
