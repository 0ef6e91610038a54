"""Bad input to the API's parameters (Hypothesis): any value of any parameter of the list
routes is answered below 500, and a refusal is a Spanish problem document naming a field."""
from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARAMS = {
    "/api/v1/onus": ["q", "olt", "slot", "puerto", "estado", "presente", "rx_min", "rx_max",
                     "despues_de", "limite"],
    "/api/v1/ejecuciones": ["estado", "tarea", "olt", "solicitada_por", "origen", "desde",
                            "hasta", "despues_de", "limite"],
    "/api/v1/onus/1": ["metrica", "desde", "hasta", "resolucion"],
    "/api/v1/tareas": ["habilitada", "tipo"],
}
VALUES = st.one_of(
    st.text(max_size=40), st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "true", "nan", "inf", "1e999", "2026-13-40T99:00:00Z", "%", "_",
                     "' OR '1'='1", "\x00", "a\x00b", "0", "-1"]))


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(sorted(PARAMS)), data=st.data())
def test_any_parameter_value_is_answered_below_500(any_app, any_reader, route, data):
    names = data.draw(st.lists(st.sampled_from(PARAMS[route]), min_size=1, max_size=3,
                               unique=True))
    query = {name: data.draw(VALUES) for name in names}
    response = any_reader.get(f"{route}?{urlencode(query)}")
    assert response.status_code < 500, (route, query, response.get_data(as_text=True))
    if response.status_code == 422:
        body = response.get_json(force=True)
        assert body["errores"] and all(e["campo"] for e in body["errores"])
