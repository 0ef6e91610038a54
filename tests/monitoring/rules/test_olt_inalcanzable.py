from datetime import timedelta

from facho.monitoring import rules
from facho.monitoring.facts import OltFact
from tests.monitoring.rules.helpers import NOW, inputs


def evaluate(statuses, last_success_min=None, **params):
    olt = OltFact(id=1, name="OLT-NORTE", recent_statuses=tuple(statuses),
                  created_at=NOW - timedelta(days=10),
                  last_success_at=None if last_success_min is None
                  else NOW - timedelta(minutes=last_success_min))
    return rules.evaluate("olt_inalcanzable", inputs(olt=olt, params=params))


def test_n_consecutive_failed_executions_make_it_unreachable():
    found = evaluate(["FAILED", "FAILED", "FAILED", "SUCCESS"], last_success_min=5, fallos=3)
    assert [(f.level, f.key) for f in found] == [("olt", "olt")]
    assert "3 ejecuciones fallidas" in found[0].detail


def test_a_success_among_the_last_n_does_not():
    assert evaluate(["FAILED", "SUCCESS", "FAILED"], last_success_min=5, fallos=3) == []


def test_no_successful_walk_in_m_minutes_makes_it_unreachable():
    assert len(evaluate(["SUCCESS"], last_success_min=31, fallos=3, minutos=30)) == 1
    assert evaluate(["SUCCESS"], last_success_min=29, fallos=3, minutos=30) == []


def test_an_olt_never_polled_is_not_unreachable():
    assert evaluate([], fallos=3, minutos=30) == []
