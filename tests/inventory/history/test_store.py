"""The time series' storage (facho.inventory.history.store) on SQLite and PostgreSQL:
appends go to one row per ONU, metric and day; roll-ups equal the raw data; retention keeps
exactly the window; deleted ONUs lose their series."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory import cleanup
from facho.inventory.history import compact, rollup, store
from facho.models import OnuMetricDay, OnuMetricHours
from facho.ops import retention
from tests.factories import add_brand, add_olt, add_onus

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def onus(any_app):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-H")
    return any_app, add_onus(any_app, olt, 3)


def rows(model):
    return {(r.onu_id, r.metric, r.day) for r in db.session.scalars(sa.select(model))}


def test_two_executions_on_one_day_append_to_the_same_row(onus):
    app, (a, b, _) = onus
    with app.app_context():
        first = T0 + timedelta(hours=10)
        second = first + timedelta(minutes=15)
        assert store.append([(a, "rx_power", first, -23.45), (b, "rx_power", first, -19.5),
                             (a, "tx_power", first, 2.1)]) == 3
        db.session.commit()
        assert store.append([(a, "rx_power", second, -23.5)]) == 1
        db.session.commit()
        assert rows(OnuMetricDay) == {(a, "rx_power", T0.date()), (b, "rx_power", T0.date()),
                                      (a, "tx_power", T0.date())}
        assert store.series(a, "rx_power", T0, T0 + timedelta(days=1)) == [
            (first, -23.45), (second, -23.5)]
        # [start, end): the second sample is at `end`
        assert store.series(a, "rx_power", first, second) == [(first, -23.45)]
        assert store.series(b, "tx_power", T0, T0 + timedelta(days=1)) == []
        assert store.append([]) == 0


def test_a_series_spans_days_and_its_hours_come_from_raw_before_the_roll_up(onus):
    app, (a, _, _) = onus
    with app.app_context():
        points = [(T0 + timedelta(minutes=15 * i), -20.0 - (i % 7) / 4) for i in range(200)]
        store.append([(a, "rx_power", t, v) for t, v in points])
        db.session.commit()
        end = T0 + timedelta(days=3)
        assert store.series(a, "rx_power", T0, end) == points
        open_hours = store.series(a, "rx_power", T0, end, resolution="hour")
        assert store.roll_up(T0 + timedelta(days=4)) == 3          # 3 day rows closed
        assert rows(OnuMetricHours) == rows(OnuMetricDay)
        stored = store.series(a, "rx_power", T0, end, resolution="hour")
        assert len(stored) == len(open_hours) == 50                # 200 samples, 4 an hour
        for got, want in zip(stored, open_hours):
            assert got[0] == want[0] and got[1::2] == want[1::2]   # hour, min, max, count
            assert got[2] == pytest.approx(want[2], abs=1e-4)      # avg
        for hour, low, avg, high, count in stored:
            raw = [v for t, v in points if hour <= t < hour + timedelta(hours=1)]
            assert (low, high, count) == (min(raw), max(raw), len(raw))
            assert avg == pytest.approx(sum(raw) / len(raw), abs=1e-4)
        assert store.roll_up(T0 + timedelta(days=4)) == 0          # done once
        with pytest.raises(ValueError):
            store.series(a, "rx_power", T0, end, resolution="minute")


def test_a_day_is_rolled_up_only_once_closed(onus):
    app, (a, _, _) = onus
    with app.app_context():
        store.append([(a, "rx_power", T0 + timedelta(hours=23, minutes=59), -20.0)])
        db.session.commit()
        # 00:30 the next day: an execution started at 23:59 may still be writing
        assert store.roll_up(T0 + timedelta(days=1, minutes=30)) == 0
        assert store.roll_up(T0 + timedelta(days=1, hours=1)) == 1


def test_roll_ups_equal_the_raw_data_for_random_executions(onus):
    app, ids = onus
    rng = random.Random(12)
    with app.app_context():
        written = []
        for i in range(40):      # 40 executions at random times over two days
            at = T0 + timedelta(seconds=rng.randrange(2 * 86400))
            batch = [(onu, "rx_power", at, round(rng.uniform(-30, -10), 2)) for onu in ids]
            store.append(batch)
            db.session.commit()
            written += batch
        store.roll_up(T0 + timedelta(days=3))
        for onu in ids:
            mine = [(at.replace(microsecond=0), v) for o, _, at, v in written if o == onu]
            raw = store.series(onu, "rx_power", T0, T0 + timedelta(days=2))
            assert raw == sorted(mine)
            for hour, low, avg, high, count in store.series(
                    onu, "rx_power", T0, T0 + timedelta(days=2), resolution="hour"):
                inside = [v for t, v in raw if hour <= t < hour + timedelta(hours=1)]
                assert (low, high, count) == (min(inside), max(inside), len(inside))
                assert avg == pytest.approx(sum(inside) / len(inside), abs=1e-4)


def _day(n: int) -> datetime:
    return T0 + timedelta(days=n, hours=12)


def test_retention_keeps_exactly_the_window_at_the_day_edge(onus):
    app, (a, b, _) = onus
    with app.app_context():
        for n in range(0, 12):
            store.append([(a, "rx_power", _day(n), -20.0 - n), (b, "tx_power", _day(n), 2.0)])
            db.session.commit()
        now = T0 + timedelta(days=11, hours=5)
        # raw 3 days: from day 8 (now - 3 days = day 8 05:00, rounded down to its day)
        # roll-ups 6 days: from day 5
        result = retention.purge(now, retention_days=30, absent_onu_days=0,
                                 history_raw_days=3, history_rollup_days=6)
        assert result.history["rolled_up"] == 2 * 11           # days 0-10 closed, day 11 open
        assert {d for _, _, d in rows(OnuMetricDay)} == {
            (T0 + timedelta(days=n)).date() for n in range(8, 12)}
        assert {d for _, _, d in rows(OnuMetricHours)} == {
            (T0 + timedelta(days=n)).date() for n in range(5, 11)}
        assert result.history["raw_days"] == 8 and result.history["rollup_days"] == 5
        assert result.history["raw_rows"] == 16 and result.history["rollup_rows"] == 10
        start, end = T0, T0 + timedelta(days=12)
        assert [v for _, v in store.series(a, "rx_power", start, end)] == [
            -28.0, -29.0, -30.0, -31.0]
        hours = store.series(a, "rx_power", start, end, resolution="hour")
        assert [h[0] for h in hours] == [_day(n) for n in range(5, 12)]   # day 11 from raw
        again = retention.purge(now, retention_days=30, absent_onu_days=0,
                                history_raw_days=3, history_rollup_days=6)
        assert again.history == {"rolled_up": 0, "raw_rows": 0, "raw_days": 0,
                                 "rollup_rows": 0, "rollup_days": 0}


def test_roll_ups_are_kept_at_least_as_long_as_raw_days(onus):
    app, (a, _, _) = onus
    with app.app_context():
        store.append([(a, "rx_power", _day(0), -20.0)])
        db.session.commit()
        retention.purge(T0 + timedelta(days=5), retention_days=30, absent_onu_days=0,
                        history_raw_days=10, history_rollup_days=2)
        assert rows(OnuMetricHours) == rows(OnuMetricDay) == {(a, "rx_power", date(2026, 12, 1))}


def test_deleted_onus_lose_their_series(onus):
    app, (a, b, c) = onus
    with app.app_context():
        store.append([(o, "rx_power", _day(n), -20.0) for o in (a, b, c) for n in range(3)])
        db.session.commit()
        store.roll_up(_day(10))
        assert cleanup.delete_onus([a], "operador") == 1
        assert {o for o, _, _ in rows(OnuMetricDay) | rows(OnuMetricHours)} == {b, c}
        assert store.series(a, "rx_power", T0, _day(5)) == []
        assert store.series(a, "rx_power", T0, _day(5), resolution="hour") == []


def test_a_rolled_up_day_is_rewritten_small_and_reads_back_the_same(onus):
    app, (a, _, _) = onus
    with app.app_context():
        points = [(T0 + timedelta(minutes=15 * i, seconds=i % 2), -21.0 - (i % 9) / 100)
                  for i in range(96)]
        store.append([(a, "rx_power", t, v) for t, v in points])
        db.session.commit()
        raw = store.series(a, "rx_power", T0, T0 + timedelta(days=1))
        hours = store.series(a, "rx_power", T0, T0 + timedelta(days=1), resolution="hour")
        assert store.roll_up(T0 + timedelta(days=2)) == 1
        (blob,) = db.session.scalars(sa.select(OnuMetricDay.samples))
        assert compact.is_compact(blob) and len(blob) < 96 * 2
        assert store.series(a, "rx_power", T0, T0 + timedelta(days=1)) == raw == points
        assert store.series(a, "rx_power", T0, T0 + timedelta(days=1),
                            resolution="hour") == hours
        # a late reading of the closed day is appended after the compact part, not lost
        late = T0 + timedelta(hours=23, minutes=59)
        store.append([(a, "rx_power", late, -30.0)])
        db.session.commit()
        assert store.series(a, "rx_power", T0, T0 + timedelta(days=1)) == points + [
            (late, -30.0)]


def test_a_daily_series_reads_the_folded_days_and_equals_folding_the_hours(onus):
    app, (a, _, _) = onus
    with app.app_context():
        points = [(T0 + timedelta(minutes=15 * i, seconds=i % 3), -20.0 - (i % 11) / 8)
                  for i in range(4 * 96)]
        store.append([(a, m, t, v) for t, v in points for m in ("rx_power", "temperatura")])
        db.session.commit()
        assert store.roll_up(T0 + timedelta(days=3, hours=2)) == 6    # days 0-2 closed
        start, end = T0 + timedelta(hours=6), T0 + timedelta(days=3, hours=12)
        hours = store.series(a, "rx_power", start, end, resolution="hour")
        daily = store.series(a, "rx_power", start, end, resolution="day")
        assert daily == rollup.fold_days(hours)
        assert [d[0] for d in daily] == [T0 + timedelta(days=n) for n in range(4)]
        assert daily[0][4] == 72                     # the first day from 06:00: its hours
        assert store.metrics_series(a, start, end, "day") == {
            "rx_power": daily, "temperatura": store.series(a, "temperatura", start, end, "day")}
        # a whole day inside the range is read from its folded columns, not its hours
        middle = (T0 + timedelta(days=1)).date()
        row = db.session.get(OnuMetricHours, (a, "rx_power", middle))
        assert (row.day_min, row.day_avg, row.day_max, row.day_count) == daily[1][1:]
        row.day_avg = 99.0
        db.session.commit()
        assert store.series(a, "rx_power", start, end, resolution="day")[1][2] == 99.0
        # a day rolled up before the columns existed (NULL) is folded from its hours
        row.day_min = row.day_avg = row.day_max = row.day_count = None
        db.session.commit()
        assert store.series(a, "rx_power", start, end, resolution="day") == daily
