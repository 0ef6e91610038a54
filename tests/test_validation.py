"""facho.validation: each validator accepts what an operator means and refuses the rest
with a Spanish message that says what to fix."""
import pytest

from facho import validation as v


@pytest.mark.parametrize("value, expected", [
    ("10.0.0.1", "10.0.0.1"), (" 10.0.0.1 ", "10.0.0.1"), ("2001:db8::1", "2001:db8::1"),
    ("OLT-Norte.isp.pe", "olt-norte.isp.pe"), ("olt1", "olt1"),
])
def test_host_accepts_addresses_and_names(value, expected):
    assert v.validate_host(value) == expected


@pytest.mark.parametrize("value, message", [
    ("", "Ingrese la dirección IP"), ("999.1.1.1", "Dirección IP inválida"),
    ("10.0.0", "Dirección IP inválida"), ("olt norte", "no es una IP ni un nombre de host"),
    ("-olt.isp", "no es una IP ni un nombre de host"), ("a" * 64, "no es una IP"),
])
def test_host_refuses_malformed_values(value, message):
    with pytest.raises(ValueError, match=message):
        v.validate_host(value)


@pytest.mark.parametrize("value, expected", [("161", 161), (1, 1), ("65535", 65535)])
def test_port_in_range(value, expected):
    assert v.validate_port(value) == expected


@pytest.mark.parametrize("value", ["0", "65536", "-1", "abc", "", None, "16.1"])
def test_port_out_of_range_or_not_a_number(value):
    with pytest.raises(ValueError, match="Puerto inválido"):
        v.validate_port(value)


@pytest.mark.parametrize("value, expected", [
    ("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.1.0"), (".1.3.6.1.4.1.2011", "1.3.6.1.4.1.2011"),
])
def test_oid_valid(value, expected):
    assert v.validate_oid(value) == expected


@pytest.mark.parametrize("value", ["", "1", "3.6.1", "1.3.6.a", "1..3", "1.3.6.1.", "1.03.6",
                                   "iso.3.6.1"])
def test_oid_malformed(value):
    with pytest.raises(ValueError, match="OID inválido"):
        v.validate_oid(value)


@pytest.mark.parametrize("value, message", [
    ("", "no puede estar vacía"), ("   ", "no puede estar vacía"), (None, "no puede estar vacía"),
    ("pub\nlic", "sin caracteres de control"), ("x" * 256, "hasta 255"),
])
def test_community_refused(value, message):
    with pytest.raises(ValueError, match=message):
        v.validate_community(value)


def test_community_is_kept_verbatim():
    assert v.validate_community(" public ") == " public "


@pytest.mark.parametrize("value", ["30s", "5m", "2h", "1d", " 10m "])
def test_interval_valid(value):
    assert v.validate_interval(value) == value.strip()


@pytest.mark.parametrize("value, message", [
    ("0m", "mayor que cero"), ("5x", "Intervalo inválido"), ("m5", "Intervalo inválido"),
    ("5 m", "Intervalo inválido"), ("", "Intervalo inválido"), ("1.5h", "Intervalo inválido"),
    ("400d", "demasiado largo"),
])
def test_interval_refused(value, message):
    with pytest.raises(ValueError, match=message):
        v.validate_interval(value)


def test_cron_and_zone_are_normalised():
    assert v.validate_cron(" 0  2 * * * ", " America/Lima ") == ("0 2 * * *", "America/Lima")


@pytest.mark.parametrize("expr, tz, message", [
    ("61 * * * *", "America/Lima", "Expresión cron inválida"),
    ("0 2 * *", "America/Lima", "5 campos"),
    ("0 0 31 2 *", "America/Lima", "nunca se cumple"),
    ("0 2 * * *", "America/Limaa", "Zona horaria desconocida"),
    ("0 2 * * *", "", "Zona horaria desconocida"),
])
def test_cron_refused(expr, tz, message):
    with pytest.raises(ValueError, match=message):
        v.validate_cron(expr, tz)


@pytest.mark.parametrize("interval, cron, message", [
    ("5m", "0 2 * * *", "no ambos"), ("", "", "Indique un intervalo"),
    (None, "  ", "Indique un intervalo"),
])
def test_exactly_one_schedule_kind(interval, cron, message):
    with pytest.raises(ValueError, match=message):
        v.validate_schedule_choice(interval, cron)
    v.validate_schedule_choice("5m", None)
    v.validate_schedule_choice("", "0 2 * * *")


def test_formula_params_accept_the_shipped_huawei_formula_as_text():
    params = v.validate_formula_params(
        "linear", '{"base": 4194304000, "step_slot": 8192, "step_port": 256}')
    assert params == {"kind": "linear", "base": 4194304000, "step_slot": 8192,
                      "step_port": 256}


@pytest.mark.parametrize("kind, params, message", [
    ("linear", "{base: 1}", "no es JSON válido"),
    ("linear", "[1, 2]", "deben ser un objeto JSON"),
    ("linear", '{"base": 1, "step_slot": 2}', "faltan parámetros: step_port"),
    ("linear", '{"base": "x", "step_slot": 2, "step_port": 1}', "'base': debe ser un número"),
    ("linear", '{"base": 1, "step_slot": 0, "step_port": 1}', "deben ser positivos"),
    ("linear", '{"kind": "dotted"}', "'kind' dice 'dotted'"),
    ("bitshift", '{"base": 1}', "faltan parámetros"),
    ("dotted", '{"positions": {"slot": 0}}', "positions debe indicar slot, port y onu"),
    ("dotted", '{"positions": [0, 1, 2]}', "Parámetro 'positions'"),
    ("hash", "{}", "tipo de fórmula desconocido"),
])
def test_formula_params_refused(kind, params, message):
    with pytest.raises(ValueError, match=message):
        v.validate_formula_params(kind, params)


@pytest.mark.parametrize("value, message", [
    ("", "no puede estar vacío"), ("  ", "no puede estar vacío"), ("x" * 121, "máximo 120"),
    ("a\tb", "caracteres de control"),
])
def test_name_refused(value, message):
    with pytest.raises(ValueError, match=message):
        v.validate_name(value)


def test_an_interval_under_the_minimum_is_refused_in_spanish():
    assert v.validate_interval("10s", minimum_s=10) == "10s"
    assert v.validate_interval("1m", minimum_s=60) == "1m"
    with pytest.raises(ValueError, match="Intervalo demasiado corto: el mínimo es 10 s"):
        v.validate_interval("9s", minimum_s=10)


def test_the_minimum_interval_comes_from_the_configuration():
    from facho.config import ConfigError, load_config
    base = {"FACHO_ENV": "testing"}
    assert load_config(base).min_interval_s == 10
    assert load_config({**base, "FACHO_MIN_INTERVAL_S": "30"}).min_interval_s == 30
    with pytest.raises(ConfigError, match="FACHO_MIN_INTERVAL_S inválida"):
        load_config({**base, "FACHO_MIN_INTERVAL_S": "0"})


def test_a_read_job_may_feed_only_the_history_with_a_metrica_oid():
    from facho.models import Oid
    from facho.validation import validate_job_oids

    def one(espacio):
        return Oid(id=1, nombre="Temperatura ONU", oid="1.3.6.1.4.1.9.1", espacio=espacio,
                   formato="int", sin_valor="", unidad="")
    assert validate_job_oids("get", [one("metrica")]) == []
    (problem,) = validate_job_oids("get", [one("descubrimiento")])
    assert "métrica del historial" in problem
