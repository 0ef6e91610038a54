"""facho.labels: the ONU states a filter offers come from the label maps, not the inventory."""
from facho.labels import onu_state_options


def test_state_options_are_the_format_codes_then_every_mapped_label_once():
    maps = [{"1": "en línea", "2": "desconectada", "-1": "inválido"},
            {"1": "LOS", "4": "dying gasp (sin energía)", "3": "en línea"}]
    assert onu_state_options(maps) == [
        ("online", "En línea"), ("offline", "Fuera de línea"),
        ("desconectada", "desconectada"), ("dying gasp (sin energía)", "dying gasp (sin energía)"),
        ("en línea", "en línea"), ("inválido", "inválido"), ("LOS", "LOS")]


def test_a_map_that_is_not_an_object_or_an_empty_label_is_skipped():
    assert onu_state_options(["texto", None, {"1": " "}]) == [
        ("online", "En línea"), ("offline", "Fuera de línea")]
