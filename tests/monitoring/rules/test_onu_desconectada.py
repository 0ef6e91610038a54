from facho.monitoring import rules
from tests.monitoring.rules.helpers import inputs, onu


def evaluate(onus, **params):
    return rules.evaluate("onu_desconectada", inputs(onus, params))


def test_an_onu_down_longer_than_n_minutes_fires_with_its_cause():
    found = evaluate([onu(1, state="offline", cause="los", down_min=11)], minutos=10)
    assert [(f.onu_id, f.cause, f.level) for f in found] == [
        (1, "pérdida de señal (LOS)", "onu")]


def test_an_onu_down_for_less_than_n_minutes_or_online_does_not():
    assert evaluate([onu(1, state="offline", cause="los", down_min=9),
                     onu(2, state="online")], minutos=10) == []


def test_a_cause_filter_keeps_only_that_cause():
    onus = [onu(1, state="offline", cause="los", down_min=30),
            onu(2, state="offline", cause="dying_gasp", down_min=30),
            onu(3, state="offline", cause=None, down_min=30)]
    assert [f.onu_id for f in evaluate(onus, minutos=10, causa="dying_gasp")] == [2]
    assert [f.onu_id for f in evaluate(onus, minutos=10, causa="otra")] == [3]
    assert len(evaluate(onus, minutos=10)) == 3


def test_an_onu_down_since_an_unknown_time_counts_as_long_down():
    assert len(evaluate([onu(1, state="offline", down_min=None)], minutos=60)) == 1
