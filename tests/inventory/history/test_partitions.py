"""Day partitions of the raw time series on PostgreSQL (facho.inventory.history.partitions):
a write never waits for a partition, retention drops whole days, closed days are packed."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.history import compact, partitions, store
from tests.factories import add_brand, add_olt, add_onus

T0 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def onus(pg_app):
    olt = add_olt(pg_app, add_brand(pg_app), "OLT-P")
    with pg_app.app_context():
        yield add_onus(pg_app, olt, 20)


def where(table: str) -> dict[str, int]:
    """{partition: rows} of a table's partitions that hold rows."""
    found = db.session.execute(sa.text(
        f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")).all()
    return dict(found)


def test_rows_of_a_day_without_partition_land_in_the_default_one_until_it_is_made(onus):
    at = T0 + timedelta(hours=3)
    store.append([(o, "rx_power", at, -20.0) for o in onus])
    db.session.commit()
    assert where("onu_metric_days") == {"onu_metric_days_default": 20}
    db.session.commit()      # a reader of the default partition would hold the step back
    assert partitions.prepare(db.engine, date(2026, 12, 5)) == partitions.AHEAD + 1 + 1
    assert where("onu_metric_days") == {"onu_metric_days_p20261201": 20}
    assert set(partitions.existing(db.session.connection(), "onu_metric_days")) == {
        date(2026, 12, 1), date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)}
    # the roll-ups are one table (a year of partitions costs too much planning)
    assert not partitions.partitioned(db.session.connection(), "onu_metric_hours")
    assert store.series(onus[0], "rx_power", T0, T0 + timedelta(days=1)) == [(at, -20.0)]
    # made once: the next run finds them
    db.session.commit()
    assert partitions.prepare(db.engine, date(2026, 12, 5)) == 0


def test_retention_drops_the_partitions_of_old_days_and_packs_the_closed_ones(onus):
    for day in range(4):
        store.append([(o, m, T0 + timedelta(days=day, minutes=15 * q), -20.0 - q / 100)
                      for q in range(96) for o in onus     # a full day every 15 minutes
                      for m in ("rx_power", "tx_power")])
        db.session.commit()
        assert partitions.prepare(db.engine, (T0 + timedelta(days=day)).date())
    name = partitions.name_of("onu_metric_days", date(2026, 12, 3))
    size = "SELECT pg_relation_size(:n)"
    before = db.session.execute(sa.text(size), {"n": name}).scalar()
    want = store.series(onus[3], "rx_power", T0, T0 + timedelta(days=4))
    db.session.commit()
    now = T0 + timedelta(days=3, hours=2)            # days 0-2 closed, 3 open
    result = store.purge(now, raw_days=2, rollup_days=3)
    assert result["rolled_up"] == 3 * 40
    assert result["raw_days"] == 1 and result["raw_rows"] == 40     # day 0
    assert result["rollup_days"] == 0
    assert sorted(partitions.existing(db.session.connection(), "onu_metric_days")) == [
        date(2026, 12, d) for d in (2, 3, 4, 5, 6)]
    fill = {d: db.session.execute(sa.text(
        "SELECT reloptions FROM pg_class WHERE relname = :n"), {"n": n}).scalar()
        for d, n in partitions.existing(db.session.connection(), "onu_metric_days").items()}
    assert fill[date(2026, 12, 2)] == fill[date(2026, 12, 3)] == ["fillfactor=100"]
    assert fill[date(2026, 12, 4)] == ["fillfactor=50"]                   # open
    after = db.session.execute(sa.text(size), {"n": name}).scalar()
    # re-encoded rows, rewritten without the open day's free room (how much smaller also
    # depends on other sessions: VACUUM FULL keeps row versions an open snapshot may read)
    blobs = db.session.scalars(sa.text(f"SELECT samples FROM {name}")).all()
    assert len(blobs) == 40 and all(compact.is_compact(b) for b in blobs)
    assert after < before
    got = store.series(onus[3], "rx_power", T0, T0 + timedelta(days=4))
    assert got == [p for p in want if p[0] >= T0 + timedelta(days=1)]


def test_partitions_are_told_from_the_tables_of_the_models():
    assert partitions.is_partition("onu_metric_days_p20261207")
    assert not partitions.is_partition("onu_metric_hours_p20261207")
    assert not partitions.is_partition("onu_metric_days")
    assert not partitions.is_partition("onus")
