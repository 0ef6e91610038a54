"""An ONU is its serial: a new index with a serial the OLT had under an index no longer
seen is that ONU, moved; ambiguous serials move nothing."""
from types import SimpleNamespace as Row

from facho.inventory.identity import moves, normal_serial


def _row(id_, serial, present=True):
    return Row(id=id_, serial=serial, present=present)


def test_serials_compare_without_case_or_blanks():
    assert normal_serial(" hwtc1234abcd ") == "HWTC1234ABCD"
    assert normal_serial("  ") is None


def test_a_new_index_with_a_known_serial_is_the_old_row_moved():
    old = _row(7, "HWTC00000001")
    assert moves({"2.1.7": "hwtc00000001", "2.1.8": "ZTEG00000002"}, [old]) == {"2.1.7": old}


def test_an_absent_row_moves_as_well():
    old = _row(7, "HWTC00000001", present=False)
    assert moves({"2.1.7": "HWTC00000001"}, [old]) == {"2.1.7": old}


def test_a_serial_on_two_new_indexes_moves_nothing():
    assert moves({"a": "HWTC00000001", "b": "HWTC00000001"}, [_row(7, "HWTC00000001")]) == {}


def test_a_serial_on_two_unseen_rows_moves_nothing():
    assert moves({"a": "HWTC00000001"},
                 [_row(7, "HWTC00000001"), _row(8, "hwtc00000001")]) == {}


def test_new_indexes_without_serial_move_nothing():
    assert moves({"a": None, "b": ""}, [_row(7, None)]) == {}
