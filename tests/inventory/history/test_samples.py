"""The packed raw format and the choice of what is a numeric reading
(facho.inventory.history.samples)."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, strategies as st

from facho.inventory.history import samples


def test_numeric_fields_are_readings_under_their_espacio_and_others_are_not():
    assert samples.metric_of("rx_power", "rx_power") == "rx_power"
    assert samples.metric_of("tx_power", "tx_power") == "tx_power"
    assert samples.metric_of("distancia_onu", "distance_km") == "distancia_onu"
    assert samples.metric_of("descripcion", "descripcion") is None
    assert samples.metric_of("estado", "status") is None
    # a discovery column feeding the distance is not a get reading's espacio
    assert samples.metric_of("descubrimiento", "distance_km") is None
    assert samples.metric_of("rx_power", None) is None
    # any numeric OID an operator adds: espacio "metrica", stored under its nombre
    assert samples.metric_of("metrica", None, " Temperatura ONU ") == "Temperatura ONU"
    assert samples.metric_of("metrica", None, "x" * 100) == "x" * samples.METRIC_MAX


@pytest.mark.parametrize("value, ok", [(-23.45, True), (0, True), (0.0, True), (12, True),
                                       (math.nan, False), (math.inf, False), (1e39, False),
                                       (True, False), ("1.0", False), (None, False)])
def test_only_finite_float32_numbers_are_storable(value, ok):
    assert samples.storable(value) is ok


def test_bucket_is_the_utc_day_and_second_and_instant_inverts_it():
    at = datetime(2026, 12, 7, 23, 59, 59, 999_000, tzinfo=UTC)
    assert samples.bucket(at) == (date(2026, 12, 7), 86399)
    assert samples.instant(date(2026, 12, 7), 86399) == at.replace(microsecond=0)
    naive = datetime(2026, 12, 8, 0, 0, 0)
    assert samples.bucket(naive) == (date(2026, 12, 8), 0)


def test_records_are_seven_bytes_and_a_truncated_tail_is_ignored():
    blob = samples.pack_many([(0, -23.45), (900, -23.5), (86399, 12.345)])
    assert len(blob) == 3 * samples.RECORD
    assert list(samples.unpack(blob)) == [(0, -23.45), (900, -23.5), (86399, 12.345)]
    assert list(samples.unpack(blob + b"\x00\x01")) == list(samples.unpack(blob))
    assert list(samples.unpack(None)) == []
    with pytest.raises(ValueError):
        samples.pack(86400, 1.0)


def test_day_series_sorts_appended_records_by_time():
    blob = samples.pack_many([(1800, 2.0)]) + samples.pack_many([(900, 1.0)])
    assert samples.day_series(date(2026, 1, 2), blob) == [
        (datetime(2026, 1, 2, 0, 15, tzinfo=UTC), 1.0),
        (datetime(2026, 1, 2, 0, 30, tzinfo=UTC), 2.0)]


six_digits = st.decimals(min_value=-99999, max_value=99999, places=2,
                         allow_nan=False, allow_infinity=False).map(float)


@given(st.integers(0, 86399), six_digits)
def test_a_value_of_six_significant_digits_reads_back_as_written(second, value):
    (got,) = samples.unpack(samples.pack(second, value))
    # within one unit of the 6th significant digit (a value of 7 digits such as 86161.55 may
    # round either way: float32 holds it as 86161.546875)
    assert got[0] == second
    assert got[1] == pytest.approx(value, rel=1e-5, abs=1e-9)
    assert got[1] == float(f"{got[1]:.6g}")     # stored rounded to 6 significant digits
    if abs(value) < 10000:           # up to 6 significant digits with 2 decimals: exact
        assert got[1] == value
