"""Rule ``etiquetas`` and the Spanish state maps Facho ships."""
from __future__ import annotations

import pytest

from facho.inventory.value_rules import STATE_LABELS, ValueRule
from facho.inventory.value_rules.labels import FORMAT_ERROR, label, parse

STATES = {"1": "en línea", "2": "desconectada"}


def test_a_state_value_becomes_its_label():
    rule = ValueRule(formato="int", etiquetas=STATES)
    assert rule.apply(1) == ("en línea", "value", None, None)
    assert rule.apply(b"2").value == "desconectada"


def test_a_value_the_map_lacks_is_kept_as_text_and_flagged_sin_etiqueta():
    outcome = ValueRule(formato="int", etiquetas=STATES).apply(7)
    assert outcome.value == "7" and outcome.state == "value"
    assert outcome.sin_etiqueta and outcome.reason.startswith("sin etiqueta")
    assert not ValueRule(formato="int", etiquetas=STATES).apply(1).sin_etiqueta


def test_labels_match_the_value_after_scaling_and_numerically():
    assert label(1.0, STATES) == ("en línea", True)
    assert label("01", STATES) == ("en línea", True)
    assert ValueRule(formato="int", escala=1, etiquetas=STATES).apply(2).value == "desconectada"


def test_a_missing_value_gets_no_label():
    assert ValueRule(formato="int", sin_valor="0", etiquetas=STATES).apply(0).state == "missing"


def test_the_huawei_run_status_map_says_en_linea_and_desconectada():
    rule = ValueRule(formato="int", etiquetas=STATE_LABELS["huawei_run_status"])
    assert rule.apply(1).value == "en línea"
    assert rule.apply(2).value == "desconectada"
    assert rule.apply(-1).value == "inválido"


def test_the_zte_schemes_differ_by_one_and_vsol_gpon_extends_the_legacy_one():
    legacy, v2 = STATE_LABELS["zte_c300_phase_state"], STATE_LABELS["zte_c600_phase_state"]
    assert legacy["3"] == v2["4"] == "en línea"
    assert {str(int(k) + 1): v for k, v in legacy.items()} == v2
    vsol = STATE_LABELS["vsol_v1600g_phase_state"]
    assert {k: vsol[k] for k in legacy} == legacy
    assert vsol["7"] == "desactivada" and vsol["8"] == "configuración fallida"


def test_every_shipped_map_is_valid_etiquetas_with_spanish_online_wording():
    assert set(STATE_LABELS) == {
        "huawei_run_status", "huawei_down_cause", "zte_c300_phase_state",
        "zte_c600_phase_state", "zte_offline_reason", "fiberhome_onu_status",
        "vsol_v1600g_phase_state", "vsol_v1600d_line_status", "vsol_v1600d_deregister_reason",
        "cdata_gpon_status", "cdata_epon_status"}
    for name, labels in STATE_LABELS.items():
        assert parse(labels) == labels, name
        assert all(isinstance(k, str) and int(k) == int(k) for k in labels), name
        assert "online" not in labels.values() and "offline" not in labels.values(), name
    assert STATE_LABELS["huawei_down_cause"]["13"] == "dying gasp (sin energía)"
    assert STATE_LABELS["fiberhome_onu_status"]["0"] == "LOS (corte de fibra)"


@pytest.mark.parametrize("not_a_map", ["[1, 2]", '"x"', "5", '{"1": 5}', [1, 2], {"1": 5},
                                       '{"1": null}'])
def test_a_map_that_is_not_a_map_is_refused(not_a_map):
    with pytest.raises(ValueError) as error:
        parse(not_a_map)
    assert str(error.value).startswith(FORMAT_ERROR)


def test_parse_reads_json_text_and_treats_empty_as_none():
    assert parse('{"1": "en línea"}') == {"1": "en línea"}
    assert parse(None) is None and parse("") is None and parse({}) is None
    with pytest.raises(ValueError, match="no es JSON válido"):
        parse('{"1": ')
