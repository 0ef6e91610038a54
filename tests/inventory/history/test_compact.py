"""Closed days re-encoded small (facho.inventory.history.compact): they read back exactly
the records written, in their order, and take far less room than 7 bytes a sample."""
from __future__ import annotations

import random

from hypothesis import given, strategies as st

from facho.inventory.history import compact, samples

# what a raw row holds: seconds of the day and values as read back from float32
seconds = st.integers(0, 86399)
floats32 = st.floats(allow_nan=False, allow_infinity=False, width=32).map(samples.readback)
levels = st.decimals(min_value=-40, max_value=10, places=2).map(float).map(samples.readback)


def read_back(records):
    """Records as `samples.unpack` gives them from a raw row."""
    return list(samples.unpack(samples.pack_many(records)))


@given(st.lists(st.tuples(seconds, floats32), max_size=200))
def test_any_float32_records_decode_to_what_was_encoded_in_the_same_order(records):
    records = read_back(records)
    blob = compact.encode(records)
    assert compact.is_compact(blob)
    assert list(samples.unpack(blob)) == records


@given(st.lists(st.tuples(seconds, levels), min_size=1, max_size=120))
def test_power_levels_with_two_decimals_decode_exactly(records):
    records = read_back(records)
    assert list(samples.unpack(compact.encode(records))) == records


def test_a_day_every_15_minutes_takes_under_two_bytes_a_sample():
    rng = random.Random(7)
    base = -23.0
    day = [(i * 900 + rng.choice((0, 0, 1)), round(base + rng.gauss(0, 0.15), 2))
           for i in range(96)]
    day = read_back(day)
    blob = compact.encode(day)
    assert len(blob) < 2 * 96 < samples.RECORD * 96
    assert blob[0] == compact.DEFLATED
    assert list(samples.unpack(blob)) == day


def test_raw_records_appended_after_the_rewrite_are_read_too():
    blob = compact.encode(read_back([(0, -20.5), (900, -20.25)]))
    late = samples.pack(1800, -21.0)
    assert list(samples.unpack(blob + late)) == [(0, -20.5), (900, -20.25), (1800, -21.0)]


def test_a_raw_row_is_never_taken_for_a_compact_one():
    # a raw row starts with the high byte of a second of the day: 0 or 1
    assert not compact.is_compact(samples.pack(86399, 1.0))
    assert not compact.is_compact(samples.pack(0, -1.0))
    assert not compact.is_compact(b"") and not compact.is_compact(None)


def test_an_empty_day_and_extreme_values_round_trip():
    assert list(samples.unpack(compact.encode([]))) == []
    extremes = read_back([(0, 3.4028234663852886e38), (1, -1.17549e-38), (2, 1e-45),
                          (3, 0.0), (4, 123456.0), (5, -0.001)])
    assert list(samples.unpack(compact.encode(extremes))) == extremes
