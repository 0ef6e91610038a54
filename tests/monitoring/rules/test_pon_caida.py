from facho.monitoring import rules
from facho.monitoring.rules.pon_caida import dominant_cause
from tests.monitoring.rules.helpers import inputs, onu


def pon(down, total=32, cause="los", down_min=1, port=1):
    return ([onu(n, state="offline", cause=cause, down_min=down_min, port=port)
             for n in range(1, down + 1)]
            + [onu(n, port=port) for n in range(down + 1, total + 1)])


def test_twenty_of_thirty_two_los_in_one_walk_is_one_pon_incident_labelled_fibre_cut():
    found = rules.evaluate("pon_caida", inputs(pon(20), {"min_onus": 4}))
    assert len(found) == 1
    assert (found[0].level, found[0].cause, len(found[0].onu_ids)) == (
        "pon", "corte de fibra", 20)
    assert "20 de 32" in found[0].detail


def test_dying_gasp_dominating_is_a_power_cut():
    found = rules.evaluate("pon_caida", inputs(pon(6, cause="dying_gasp"), {"min_onus": 4}))
    assert found[0].cause == "corte de energía"


def test_a_percentage_of_a_small_pon_fires_below_k():
    found = rules.evaluate("pon_caida", inputs(pon(2, total=4),
                                               {"min_onus": 10, "porcentaje": 50}))
    assert len(found) == 1


def test_downs_older_than_the_window_do_not_open_but_hold_an_open_incident():
    old = pon(8, down_min=30)
    params = {"min_onus": 4, "ventana_min": 5}
    assert rules.evaluate("pon_caida", inputs(old, params)) == []
    held = rules.evaluate("pon_caida", inputs(old, params, open_keys={"pon:1/1"}))
    assert len(held) == 1


def test_below_both_thresholds_nothing():
    assert rules.evaluate("pon_caida", inputs(pon(3), {"min_onus": 4, "porcentaje": 50})) == []


def test_a_tie_between_causes_is_mixed():
    assert dominant_cause(["los", "dying_gasp"]) == "causa mixta"
    assert dominant_cause(["los", "los", "otra"]) == "corte de fibra"


def test_each_pon_is_judged_alone():
    onus = pon(5, total=8, port=1) + [onu(100 + n, state="offline", cause="los", down_min=1,
                                          port=2) for n in range(2)] + [
        onu(200 + n, port=2) for n in range(8)]
    found = rules.evaluate("pon_caida", inputs(onus, {"min_onus": 4, "porcentaje": 90}))
    assert [f.key for f in found] == ["pon:1/1"]
