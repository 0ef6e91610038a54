from facho.inventory.optics import RX_CRITICAL_DBM, RX_WARNING_DBM
from facho.monitoring import rules
from tests.monitoring.rules.helpers import inputs, onu


def test_defaults_are_the_optics_classes():
    clean, errors = rules.validate_params("rx_baja", {})
    assert errors == {}
    assert (clean["aviso_dbm"], clean["critico_dbm"]) == (RX_WARNING_DBM, RX_CRITICAL_DBM)


def test_below_warning_is_aviso_below_critical_is_critico_above_is_nothing():
    found = rules.evaluate("rx_baja", inputs([onu(1, rx=-27.5), onu(2, rx=-31.0),
                                              onu(3, rx=-26.9), onu(4, rx=None)]))
    assert [(f.onu_id, f.severity) for f in found] == [(1, "aviso"), (2, "critico")]


def test_a_critical_level_above_the_warning_one_is_refused_in_spanish():
    _, errors = rules.validate_params("rx_baja", {"aviso_dbm": "-30", "critico_dbm": "-25"})
    assert "menor que el nivel de aviso" in errors["critico_dbm"]


def test_a_level_out_of_range_is_refused_in_spanish():
    _, errors = rules.validate_params("rx_baja", {"aviso_dbm": "-90"})
    assert "fuera de rango" in errors["aviso_dbm"]
