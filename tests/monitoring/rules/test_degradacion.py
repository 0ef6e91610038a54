"""Degradation against each ONU's own median, on history generated into the real time
series (SQLite and PostgreSQL)."""
import random
from datetime import timedelta

from facho.extensions import db
from facho.monitoring import load, rules
from facho.monitoring.rules.degradacion import degraded
from tests import factories
from tests.monitoring.rules.helpers import NOW, inputs, onu


def test_degraded_means_at_least_delta_below_the_median():
    assert degraded(-21.6, -20.0, 1.5)
    assert degraded(-21.5, -20.0, 1.5)
    assert not degraded(-21.4, -20.0, 1.5)
    assert not degraded(None, -20.0, 1.5) and not degraded(-25.0, None, 1.5)


def _history(app, onu_id, days, rng):
    """Readings every 2 hours for `days` days around −20 dBm (median exactly −20.0)."""
    readings, offsets = [], [-0.3, -0.1, 0.0, 0.1, 0.3]
    at = NOW - timedelta(days=days)
    i = 0
    while at < NOW - timedelta(hours=2):
        readings.append((at, -20.0 + offsets[i % len(offsets)]))
        at += timedelta(hours=2)
        i += 1
    rng.shuffle(readings)
    factories.add_readings(app, onu_id, "rx_power", sorted(readings))


def test_fires_at_minus_1_6_not_at_minus_1_4_against_a_generated_7_day_history(any_app):
    brand_id = factories.add_brand(any_app)
    olt_id = factories.add_olt(any_app, brand_id)
    first, second = factories.add_onus(any_app, olt_id, 2)
    rng = random.Random(13)
    for onu_id in (first, second):
        _history(any_app, onu_id, 8, rng)
    with any_app.app_context():
        medians = load.rx_medians([first, second], NOW, 7, 10)
        db.session.rollback()
    assert abs(medians[first] - (-20.0)) < 1e-3 and abs(medians[second] - (-20.0)) < 1e-3
    onus = [onu(first, rx=-21.6), onu(second, rx=-21.4)]
    found = rules.evaluate("degradacion", inputs(onus, {"delta_db": 1.5, "dias": 7},
                                                 medians=medians))
    assert [f.onu_id for f in found] == [first]
    assert "1.6 dB por debajo de su mediana de 7 días" in found[0].detail


def test_an_onu_with_too_little_history_has_no_median(any_app):
    brand_id = factories.add_brand(any_app)
    olt_id = factories.add_olt(any_app, brand_id)
    (onu_id,) = factories.add_onus(any_app, olt_id, 1)
    factories.add_readings(any_app, onu_id, "rx_power",
                           [(NOW - timedelta(days=1, hours=h), -20.0) for h in range(3)])
    with any_app.app_context():
        assert load.rx_medians([onu_id], NOW, 7, 10) == {}
        assert load.rx_medians([onu_id], NOW, 7, 3) == {onu_id: -20.0}


def test_pon_degradation_needs_k_onus_degraded_at_once():
    medians = {1: -20.0, 2: -20.0, 3: -20.0}
    two = [onu(1, rx=-22.0), onu(2, rx=-21.8), onu(3, rx=-20.1)]
    found = rules.evaluate("pon_degradada", inputs(two, {"min_onus": 2}, medians=medians))
    assert [(f.key, f.onu_ids) for f in found] == [("pon:1/1", (1, 2))]
    assert rules.evaluate("pon_degradada", inputs(two, {"min_onus": 3}, medians=medians)) == []


def test_medians_are_kept_for_an_hour_then_read_again(any_app):
    brand_id = factories.add_brand(any_app)
    olt_id = factories.add_olt(any_app, brand_id)
    (onu_id,) = factories.add_onus(any_app, olt_id, 1)
    factories.add_readings(any_app, onu_id, "rx_power",
                           [(NOW - timedelta(hours=2 + h), -20.0) for h in range(3)])
    with any_app.app_context():
        assert load.cached_rx_medians(olt_id, [onu_id], NOW, 7, 3) == {onu_id: -20.0}
    factories.add_readings(any_app, onu_id, "rx_power",
                           [(NOW - timedelta(hours=5 + h), -25.0) for h in range(4)])
    with any_app.app_context():
        later = NOW + timedelta(minutes=30)
        assert load.cached_rx_medians(olt_id, [onu_id], later, 7, 3) == {onu_id: -20.0}
        again = NOW + timedelta(minutes=61)
        assert load.cached_rx_medians(olt_id, [onu_id], again, 7, 3) == {onu_id: -25.0}
