"""Property-based: whatever text an operator types, the validators either accept it or
refuse it with a Spanish message; never another exception, never a crash."""
import ipaddress
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facho import validation
from facho.scheduling.schedule import parse_interval, validate_cron

odd_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
# Words only a Spanish message carries ("use" or "cron" would let an English one pass).
SPANISH_HINTS = ("inválid", "no puede", "desconocida", "Ingrese", "debe", "máximo", "vací",
                 "entre", "fuera", "Intervalo", "Expresión", "Zona", "Indique", "ejemplo")
ENGLISH_WORDS = ("must", "invalid", "Invalid", "should", "cannot", "expected", "Expected",
                 "not a ", "the ", "value", "error")


def _refused_in_spanish(func, value):
    try:
        func(value)
    except ValueError as exc:
        message = str(exc)
        assert message and "Traceback" not in message
        assert any(h in message for h in SPANISH_HINTS), message
        assert not any(w in message.replace(value, "") for w in ENGLISH_WORDS), message
        return True
    return False


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(odd_text)
def test_any_text_is_accepted_or_refused_clearly_by_every_validator(value):
    for func in (validation.validate_host, validation.validate_port, validation.validate_oid,
                 validation.validate_community, validation.validate_timezone,
                 validation.validate_name, validation.validate_username, parse_interval):
        _refused_in_spanish(func, value)
    _refused_in_spanish(lambda v: validate_cron(v, "America/Lima"), value)


@given(st.ip_addresses())
def test_every_ip_address_is_accepted(address):
    assert ipaddress.ip_address(validation.validate_host(str(address))) == address


@given(st.integers())
def test_ports_outside_1_to_65535_are_refused(port):
    if 1 <= port <= 65535:
        assert validation.validate_port(str(port)) == port
    else:
        assert _refused_in_spanish(validation.validate_port, str(port))


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20))
def test_numeric_dotted_oids_are_accepted(parts):
    oid = "1.3." + ".".join(map(str, parts))
    assert validation.validate_oid(oid) == oid
    assert validation.validate_oid("." + oid) == oid


@given(st.text(alphabet=string.ascii_letters + ".-_ ", min_size=1, max_size=30)
       .filter(lambda s: not any(c.isdigit() for c in s)))
def test_oids_without_numbers_are_refused(text):
    assert _refused_in_spanish(validation.validate_oid, text)


@given(st.integers(1, 365), st.sampled_from("smhd"))
def test_well_formed_intervals_are_accepted(n, unit):
    assert parse_interval(f"{n}{unit}").total_seconds() > 0


@given(st.sampled_from(["0s", "0m", "-5m", "5", "m5", "5x", "1.5h", "", " ", "5 m"]))
def test_malformed_or_zero_intervals_are_refused(raw):
    assert _refused_in_spanish(parse_interval, raw)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # read-only use of app
@given(odd_text)
def test_cli_arguments_with_odd_text_end_with_a_clear_line_not_a_traceback(app, value):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["facho", "run", value or "x"])
    assert result.exit_code == 2
    # either "the job does not exist" or, for a value starting with "-", the usage error,
    # both in Spanish (click's own "Error: No such option" is English)
    assert ("no existe" in result.output or "opción desconocida" in result.output
            or "uso incorrecto" in result.output), result.output
    assert "Traceback" not in result.output
