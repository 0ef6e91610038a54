"""Which changes of an ONU become events, decided from old and new values alone."""
from facho.inventory.events import detect, kinds
from facho.inventory.events.classify import (DYING_GASP, LOS, OFFLINE, ONLINE, OTHER,
                                             cause_class, state_class)


def test_a_first_state_is_a_baseline_not_an_event():
    assert detect.state_change(None, "en línea", None) is None


def test_the_same_state_again_is_no_event():
    assert detect.state_change("en línea", "en línea", "LOS") is None


def test_going_offline_carries_the_vendors_last_down_cause():
    change = detect.state_change("en línea", "desconectada", "dying gasp (sin energía)")
    assert (change.kind, change.old, change.new) == (kinds.ESTADO, "en línea", "desconectada")
    assert change.cause == "dying gasp (sin energía)"


def test_a_state_label_that_names_the_cause_is_the_cause_when_the_vendor_reports_none():
    assert detect.state_change("en línea", "LOS", None).cause == "LOS"
    assert detect.state_change("en línea", "desconectada", None).cause is None


def test_coming_back_online_has_no_cause():
    assert detect.state_change("desconectada", "en línea", "LOS").cause is None


def test_power_changes_beyond_the_threshold_only():
    assert detect.power_change(-20.0, -22.9, 3.0) is None
    change = detect.power_change(-20.0, -23.0, 3.0)
    assert (change.kind, change.old, change.new) == (kinds.POTENCIA, "-20.00", "-23.00")
    assert detect.power_change(-23.0, -19.5, 3.0) is not None
    assert detect.power_change(None, -30.0, 3.0) is None


def test_states_are_online_offline_or_unknown():
    assert state_class("en línea") == ONLINE
    assert state_class("online") == ONLINE
    assert state_class("dying gasp (sin energía)") == OFFLINE
    assert state_class("registrando") == OFFLINE
    assert state_class("inválido") is None
    assert state_class(None) is None


def test_causes_fall_into_fibre_power_or_other():
    assert cause_class("LOS") == LOS
    assert cause_class("LOSi/LOBi") == LOS
    assert cause_class("LOS (corte de fibra)") == LOS
    assert cause_class("dying gasp (sin energía)") == DYING_GASP
    assert cause_class("reinicio por botón") == OTHER
    assert cause_class("") is None


def test_events_read_as_sentences():
    assert kinds.describe(kinds.MOVIDA, "0/1/3:5", "0/2/1:7") == "movida de 0/1/3:5 a 0/2/1:7"
    assert kinds.describe(kinds.PRESENCIA, None, kinds.PRESENTE) == "apareció"
    assert kinds.describe(kinds.PRESENCIA, kinds.AUSENTE, kinds.PRESENTE) == "volvió a aparecer"
    assert kinds.describe(kinds.PRESENCIA, kinds.PRESENTE, kinds.AUSENTE) == "ya no aparece"
    assert kinds.describe(kinds.ESTADO, "en línea", "LOS", "LOS") == "en línea → LOS (LOS)"
