""""Probar" shows, row by row, what a formula and a value rule make of an OLT's first rows:
the raw index, the decoded position or why the formula refused it, and each raw value with
what would be stored or why the rule refused it."""
from facho.inventory.preview import ProbeColumn, build_preview
from facho.inventory.value_rules import ValueRule

UBNT = "1.3.6.1.4.1.41112.1.10.1.4.1"
PORT, RX = f"{UBNT}.2", f"{UBNT}.7"
STRING_FORMULA = {"kind": "string", "length": "prefixed", "chars": "ascii",
                  "from_columns": {"port": {"oid": PORT}}}


def serial_index(serial: str) -> tuple[int, ...]:
    return (len(serial), *serial.encode("ascii"))


def test_a_string_index_decodes_to_its_serial_and_takes_the_port_from_its_column():
    first, second = serial_index("UBNT1A2B3C4D"), serial_index("UBNT00000002")
    walked = {PORT: [(first, 3), (second, 5)],
              RX: [(first, -2153), (second, 0)]}
    rule = ValueRule.from_dict({"formato": "int", "escala": "0.01", "sin_valor": "0"})
    preview = build_preview(walked, [ProbeColumn("Potencia RX", RX, rule)],
                            STRING_FORMULA, rows=20)

    assert [r.decoded.key for r in preview.rows] == ["UBNT1A2B3C4D", "UBNT00000002"]
    assert [r.decoded.port for r in preview.rows] == [3, 5]
    assert preview.rows[0].cells[0].value == -21.53
    # the agent's 0 means "no value": shown as empty, never as 0 dBm
    assert preview.rows[1].cells[0].state == "missing"
    assert preview.rows[1].cells[0].value is None
    assert preview.refused_rows == 0


def test_rows_the_formula_or_the_rule_refuses_are_marked_with_the_reason():
    good, bad = serial_index("UBNT1A2B3C4D"), (12, 85, 66)          # length says 12, has 2
    walked = {PORT: [(good, 1), (bad, 1)],
              RX: [(good, b"sin lectura"), (bad, b"0.03 mW (-14.61 dBm)")]}
    rule = ValueRule.from_dict({"formato": "numero", "regex": r"\(([-\d.]+) dBm\)"})
    preview = build_preview(walked, [ProbeColumn("RX", RX, rule)], STRING_FORMULA)

    refused_value, refused_index = preview.rows
    assert refused_value.decoded is not None
    assert refused_value.cells[0].state == "invalid"
    assert "expresión regular" in refused_value.cells[0].reason
    assert refused_index.decoded is None and "12" in refused_index.error
    # the regex still shows what it matched on the row the formula refused
    assert refused_index.cells[0].matched == "-14.61"
    assert refused_index.cells[0].value == -14.61
    assert preview.refused_rows == 2
    assert preview.counts() == {"value": 1, "missing": 0, "invalid": 1}


def test_columns_with_a_trailing_sub_id_join_their_row_and_rows_are_capped():
    zte = {"kind": "bitshift", "base": 0x10000000, "slot_shift": 16, "slot_mask": 0xFF,
           "port_shift": 8, "port_mask": 0xFF, "frame": 1, "max_trailing": 1}
    pon = 0x10000000 + (1 << 16) + (2 << 8)
    names = [((pon, onu), f"onu-{onu}".encode()) for onu in range(1, 31)]
    rx = [((pon, onu, 1), 5500) for onu in range(1, 31)]
    columns = [ProbeColumn("Nombre", "1.1", ValueRule()),
               ProbeColumn("RX", "1.2", ValueRule.from_dict({"formato": "dbm_zte"}))]
    preview = build_preview({"1.1": names, "1.2": rx}, columns, zte, rows=5)

    assert [r.decoded.name for r in preview.rows] == [f"1/1/2:{n}" for n in range(1, 6)]
    assert all(r.cells[1].value == -19.0 for r in preview.rows)


def test_without_a_formula_indexes_are_shown_undecoded():
    walked = {"1.1": [((7, 1), b"x")]}
    preview = build_preview(walked, [ProbeColumn("Texto", "1.1", ValueRule())], None)
    assert preview.rows[0].decoded is None and preview.rows[0].error is None
    assert preview.rows[0].cells[0].value == "x"
