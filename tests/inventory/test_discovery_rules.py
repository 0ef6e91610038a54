"""Discovery with the new index decoders and value rules, against snmpsim on 127.0.0.1:
a string index whose PON port is a column, nothing merged silently (SUCCESS "con
advertencias" with the count), the decoder's own reason in a FAILED message, and one
example of each value a rule refused."""
from __future__ import annotations

import pytest

from facho.extensions import db
from facho.models import FAILED, SUCCESS, IndexFormula, Oid
from tests.execution_helpers import onus, run_now
from tests.factories import brand, make_job, make_olt, new_execution

ROOT = "1.3.6.1.4.1.41112.1.10.1.4.1"
PORT, NAME, RX = f"{ROOT}.2", f"{ROOT}.3", f"{ROOT}.7"
# another table of the same agent: one row keyed by a 100-character text (a 304-character index)
LONG_ROOT = "1.3.6.1.4.1.41112.1.10.1.9.1"
LONG_KEY = "X" * 100


def serial_index(serial: str) -> str:
    return ".".join(map(str, (len(serial), *serial.encode("ascii"))))


SERIALS = [f"UBNT{n:08X}" for n in range(1, 11)]


def recording() -> str:
    rows = []
    for n, serial in enumerate(SERIALS):
        i = serial_index(serial)
        rows += [(f"{PORT}.{i}", "2", str(1 + n % 2)), (f"{NAME}.{i}", "4", f"cliente-{n}"),
                 (f"{RX}.{i}", "2", "0" if n % 5 == 0 else str(-1900 - n))]
    long = serial_index(LONG_KEY)
    rows += [(f"{LONG_ROOT}.2.{long}", "2", "1"), (f"{LONG_ROOT}.3.{long}", "4", "larga"),
             (f"{LONG_ROOT}.3.{serial_index('UBNT000000FF')}", "4", "corta")]
    rows.sort(key=lambda r: tuple(int(p) for p in r[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows)


@pytest.fixture(scope="module")
def agent(snmpsim_factory, tmp_path_factory):
    data = tmp_path_factory.mktemp("ubnt")
    (data / "ubnt.snmprec").write_text(recording())
    return snmpsim_factory(data, probe_community="ubnt")


def setup(app, agent, params, name_oid=NAME, **rx_rule):
    with app.app_context():
        marca = brand("Ubiquiti")
        db.session.add(IndexFormula(nombre="UFiber serial", brand=marca, modelo="",
                                    kind=params["kind"], params=params))
        oids = [Oid(nombre="UBNT nombre", oid=name_oid, brand=marca, espacio="descubrimiento",
                    formato="text"),
                Oid(nombre="UBNT rx", oid=RX, brand=marca, espacio="rx_power",
                    formato=rx_rule.pop("formato", "int"), **rx_rule)]
        db.session.add_all(oids)
        db.session.commit()
        olt_id = make_olt("OLT-UBNT", agent.port, "ubnt", marca="Ubiquiti")
        job_id = make_job("Descubrir UBNT", ["UBNT nombre", "UBNT rx"], marca="Ubiquiti",
                          olt_ids=(olt_id,))
        execution_id = new_execution(job_id, olt_id)
    return olt_id, run_now(app, execution_id)


STRING = {"kind": "string", "length": "prefixed", "chars": "ascii",
          "from_columns": {"port": {"oid": PORT}}}


def test_a_serial_indexed_table_with_the_port_in_a_column_stores_every_onu(app, agent):
    olt_id, row = setup(app, agent, STRING, escala=0.01, sin_valor="0", decimales=2)
    assert row.status == SUCCESS, row.error_message
    stored = {o.name: o for o in onus(app, olt_id).values()}
    assert len(stored) == len(SERIALS)
    for n, serial in enumerate(SERIALS):
        onu = stored[f"0/0/{1 + n % 2}:{serial}"]
        assert onu.port == 1 + n % 2 and onu.onu_id is None
        assert onu.serial == serial  # the string index is the serial
        assert onu.descripcion is None  # the discovery column's text feeds no field
        # the agent's 0 is "no value": empty, never 0.00 dBm
        assert onu.rx_power == (None if n % 5 == 0 else round((-1900 - n) / 100, 2))
    assert not (row.result_summary or {}).get("warnings")


def test_rows_merged_into_one_onu_end_with_a_visible_warning(app, agent):
    # positions 0..2 of a 13-part index with 10 trailing ids ignored: every row is "12.85.66"
    merging = {"kind": "dotted", "positions": {"slot": 0, "port": 1, "onu": 2},
               "max_trailing": 10}
    olt_id, row = setup(app, agent, merging)
    assert row.status == SUCCESS
    warnings = row.result_summary["warnings"]
    assert any("9 filas" in w and "se unieron" in w for w in warnings), warnings
    assert "con advertencias" not in row.error_message  # the badge is the panel's job
    assert "9 filas" in row.error_message
    assert len(onus(app, olt_id)) == 1


def test_a_formula_that_fits_no_row_fails_with_the_decoders_reason(app, agent):
    linear = {"kind": "linear", "base": 4194304000, "step_slot": 8192, "step_port": 256}
    _, row = setup(app, agent, linear)
    assert row.status == FAILED
    assert "Ninguna de las 10 filas" in row.error_message
    assert "se esperaban 2 números, hay 13" in row.error_message


def test_each_value_a_rule_refuses_is_reported_with_one_example(app, agent):
    olt_id, row = setup(app, agent, STRING, formato="numero", regex=r"dBm=(\S+)")
    assert row.status == SUCCESS
    examples = row.result_summary["invalid_examples"]["UBNT rx"]
    assert examples["count"] == len(SERIALS)
    assert examples["value"] in {"0", "-1901"} or examples["value"].startswith("-19")
    assert "expresión regular" in examples["reason"]
    assert "UBNT rx" in row.error_message and "rechazados" in row.error_message
    assert all(o.rx_power is None for o in onus(app, olt_id).values())



def test_an_index_longer_than_the_inventory_keeps_is_refused_and_said_so(app, agent):
    params = {"kind": "string", "length": "prefixed", "chars": "ascii"}
    olt_id, row = setup(app, agent, params, name_oid=f"{LONG_ROOT}.3")
    assert row.status == SUCCESS
    assert list(onus(app, olt_id)) == [serial_index("UBNT000000FF")]
    [warning] = [w for w in row.result_summary["warnings"] if "no corresponden" in w]
    assert "1 de 2 filas" in warning and "caracteres" in warning and "255" in warning
