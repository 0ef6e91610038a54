"""Hourly roll-ups (facho.inventory.history.rollup): they equal the raw samples they
summarise, merge exactly, and survive their packed format."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, strategies as st

from facho.inventory.history import rollup, samples

values = st.decimals(min_value=-50, max_value=50, places=2).map(float)
sample_lists = st.lists(st.tuples(st.integers(0, 86399), values), max_size=200)


@given(sample_lists)
def test_roll_ups_equal_min_avg_max_count_of_the_raw_samples_of_each_hour(records):
    hours = rollup.hours_of(records)
    assert [h.hour for h in hours] == sorted({s // 3600 for s, _ in records})
    for h in hours:
        raw = [v for s, v in records if s // 3600 == h.hour]
        assert (h.count, h.min, h.max) == (len(raw), min(raw), max(raw))
        assert h.avg == pytest.approx(sum(raw) / len(raw))


@given(sample_lists, sample_lists)
def test_merging_roll_ups_equals_rolling_up_the_union(a, b):
    merged = {h.hour: h for h in rollup.hours_of(a)}
    for h in rollup.hours_of(b):
        merged[h.hour] = rollup.merge(merged[h.hour], h) if h.hour in merged else h
    whole = rollup.hours_of(a + b)
    assert [h.hour for h in whole] == sorted(merged)
    for h in whole:
        m = merged[h.hour]
        assert (m.count, m.min, m.max) == (h.count, h.min, h.max)
        assert m.sum == pytest.approx(h.sum)


@given(sample_lists)
def test_the_packed_roll_ups_read_back_as_computed(records):
    # through the raw format first, as the store does
    raw = list(samples.unpack(samples.pack_many(records)))
    hours = rollup.hours_of(raw)
    back = rollup.unpack_hours(rollup.pack_hours(hours))
    assert len(back) == len(hours)
    for h, b in zip(hours, back):
        assert (b.hour, b.count, b.min, b.max) == (h.hour, h.count, h.min, h.max)
        assert b.avg == pytest.approx(h.avg, rel=1e-6, abs=1e-4)


def test_hour_rows_are_the_read_api_shape():
    hours = rollup.hours_of([(3600, -20.0), (3700, -22.0), (7300, 1.5)])
    assert rollup.hour_rows(date(2026, 3, 1), hours) == [
        (datetime(2026, 3, 1, 1, tzinfo=UTC), -22.0, -21.0, -20.0, 2),
        (datetime(2026, 3, 1, 2, tzinfo=UTC), 1.5, 1.5, 1.5, 1)]


def test_merging_different_hours_is_refused():
    a, b = rollup.hours_of([(0, 1.0), (3600, 2.0)])
    with pytest.raises(ValueError):
        rollup.merge(a, b)
