"""/api/v1 access rules: every route refuses a missing, unknown, revoked or expired token
and one without the route's scope; a session cookie never authenticates the API and a
token never opens the panel; errors are RFC 9457 problem details in Spanish; every call is
logged; each token has its own rate limit with Retry-After. Routes are read from the
OpenAPI description, so a route added later is checked too."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from facho.models import ApiCall, ApiToken, utcnow
from tests.conftest import make_test_app
from tests.factories import add_token

PROBLEM = "application/problem+json"
WRITE_SCOPE = "ejecutar"


def routes(app) -> list[tuple[str, str, str]]:
    """(method, concrete path, required scope) of every documented operation; path ids
    become 1 (no row needs to exist: authentication comes before the lookup)."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    out = []
    for path, operations in spec["paths"].items():
        for method in operations:
            if method in ("get", "post"):
                scope = WRITE_SCOPE if method == "post" else "lectura"
                out.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path), scope))
    return out


def call(client, method, path, headers):
    body = {"json": {"tareas": [1]}} if method == "POST" else {}
    return client.open(path, method=method, headers=headers, **body)


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("/api/v1/problemas/") or body["type"] == "about:blank"
    return body


def test_the_description_lists_every_route_of_the_api(app):
    listed = {(m, p) for m, p, _ in routes(app)}
    assert {("GET", "/api/v1/olts"), ("GET", "/api/v1/onus"), ("GET", "/api/v1/onus/1"),
            ("GET", "/api/v1/onus.csv"), ("GET", "/api/v1/ejecuciones"),
            ("GET", "/api/v1/ejecuciones/1"), ("GET", "/api/v1/ejecuciones.csv"),
            ("GET", "/api/v1/tareas"), ("POST", "/api/v1/tareas/ejecutar"),
            ("POST", "/api/v1/ejecuciones/1/reejecutar"), ("GET", "/api/v1/metrics")} <= listed


@pytest.mark.parametrize("presented, says", [
    (None, "Falta el token"), ("Bearer facho_00000000_inventado", "Token inválido"),
    ("Basic dXN1YXJpbzpjbGF2ZQ==", "Falta el token"),
])
def test_every_route_refuses_a_missing_or_unknown_token(app, presented, says):
    client = app.test_client()
    for method, path, _ in routes(app):
        headers = {"Authorization": presented} if presented else {}
        response = call(client, method, path, headers)
        body = assert_problem(response, 401)
        assert says in body["detail"], (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_refuses_a_revoked_or_expired_token(app, api_user):
    from facho.api import tokens
    from facho.extensions import db
    revoked_id, revoked = add_token(app, api_user, ("administrar",))
    expired_id, expired = add_token(app, api_user, ("administrar",))
    with app.app_context():
        tokens.revoke([revoked_id])
        db.session.get(ApiToken, expired_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    client = app.test_client()
    for method, path, _ in routes(app):
        for secret, word in ((revoked, "revocado"), (expired, "vencido")):
            body = assert_problem(call(client, method, path,
                                       {"Authorization": f"Bearer {secret}"}), 401)
            assert word in body["detail"], (method, path)


def test_every_route_refuses_a_token_without_its_scope(app, make_caller):
    for method, path, scope in routes(app):
        other = "lectura" if scope == WRITE_SCOPE else WRITE_SCOPE
        caller = make_caller((other,))
        body = assert_problem(call(caller.client, method, path, caller.headers()), 403)
        assert f"«{scope}»" in body["detail"], (method, path)


def test_administrar_opens_every_route(app, make_caller):
    caller = make_caller(("administrar",))
    for method, path, _ in routes(app):
        assert call(caller.client, method, path, caller.headers()).status_code not in (
            401, 403), (method, path)


def test_a_staff_session_cookie_does_not_authenticate_the_api(app, staff_client):
    assert staff_client.get("/admin/").status_code == 200      # the session is good
    assert_problem(staff_client.get("/api/v1/olts"), 401)
    assert_problem(staff_client.post("/api/v1/tareas/ejecutar", json={"tareas": [1]}), 401)


def test_a_token_does_not_open_the_panel(app, reader):
    response = reader.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert reader.get("/admin/onus/").status_code == 302


def test_a_bad_parameter_is_a_422_naming_the_field_in_spanish(app, reader):
    body = assert_problem(reader.get("/api/v1/onus?limite=0&presente=quizas&color=rojo"), 422)
    fields = {e["campo"]: e["mensaje"] for e in body["errores"]}
    assert fields == {"limite": "Debe estar entre 1 y 1000.",
                      "presente": "No es un valor lógico (use true o false).",
                      "color": "Parámetro desconocido."}
    assert all(e["ubicacion"] == "consulta" for e in body["errores"])
    assert "«limite»" in body["detail"] and "«color»" in body["detail"]
    assert body["instance"] == "/api/v1/onus"


def test_a_bad_body_is_a_422_naming_the_field(app, make_caller):
    caller = make_caller(("ejecutar",))
    body = assert_problem(caller.post("/api/v1/tareas/ejecutar", json={"tareas": "1"}), 422)
    assert body["errores"][0]["campo"] == "tareas" and body["errores"][0]["ubicacion"] == "cuerpo"
    body = assert_problem(caller.post("/api/v1/tareas/ejecutar", json={}), 422)
    assert body["errores"] == [{"campo": "tareas", "ubicacion": "cuerpo",
                                "mensaje": "Falta este dato obligatorio."}]


def test_an_unknown_path_or_row_is_a_404_problem(app, reader):
    assert_problem(reader.get("/api/v1/no-existe"), 404)
    body = assert_problem(reader.get("/api/v1/onus/999"), 404)
    assert body["detail"] == "No existe la ONU 999."


def test_every_call_is_logged_with_token_route_and_status(app, reader, api_user):
    reader.get("/api/v1/olts")
    reader.get("/api/v1/onus/999")
    app.test_client().get("/api/v1/tareas")
    with app.app_context():
        rows = [(c.token_name, c.username, c.method, c.route, c.status, c.token_id is None)
                for c in ApiCall.query.order_by(ApiCall.id)]
    assert rows == [("integración", "integrador", "GET", "/api/v1/olts", 200, False),
                    ("integración", "integrador", "GET", "/api/v1/onus/<int:onu_id>", 404,
                     False),
                    ("", "", "GET", "/api/v1/tareas", 401, True)]


@pytest.fixture
def limited_app(tmp_path, redis_url):
    from tests.api.conftest import sqlite_app_with
    return sqlite_app_with(tmp_path, FACHO_API_RATE_PER_MINUTE="3")


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(limited_app, redis_client):
    from tests.api.conftest import Caller
    from tests.conftest import create_user
    user = create_user(limited_app, username="limitado", password="x")
    callers = [Caller(limited_app.test_client(), add_token(limited_app, user, name=n)[1])
               for n in ("a", "b")]
    first, second = callers
    # the window is one minute of the Redis clock: if one ends during the test, count again
    for _ in range(3):
        codes = [first.get("/api/v1/olts").status_code for _ in range(4)]
        refused = first.get("/api/v1/olts")
        if codes[:3] == [200, 200, 200]:
            break
    assert codes[:3] == [200, 200, 200]
    body = assert_problem(refused, 429)
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60 and f"{retry} s" in body["detail"]
    assert "3 solicitudes por minuto" in body["detail"]
    assert second.get("/api/v1/olts").status_code == 200     # the limit is per token
    assert int(second.get("/api/v1/olts").headers["X-RateLimit-Remaining"]) <= 1


def test_the_docs_page_is_served_without_internet(app):
    client = app.test_client()
    page = client.get("/api/v1/docs").get_data(as_text=True)
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links and all(link.startswith("/api/v1/docs/assets/") for link in links)
    for link in links:
        assert client.get(link).status_code == 200
    assert "http://" not in page and "https://" not in page


def test_with_redis_down_a_call_is_a_spanish_503_problem(tmp_path, redis_url):
    from facho.extensions import db
    from tests.conftest import create_user, free_port
    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path,
                        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with app.app_context():
        db.create_all()
    _, secret = add_token(app, create_user(app, username="r", password="x"))
    response = app.test_client().get("/api/v1/olts",
                                     headers={"Authorization": f"Bearer {secret}"})
    body = assert_problem(response, 503)
    assert body["detail"].startswith("Redis no responde. Qué hacer:")
    assert response.headers["Retry-After"] == "30"


def test_with_the_database_gone_a_call_is_a_spanish_503_problem(tmp_path, redis_url):
    app = make_test_app(f"sqlite:///{tmp_path / 'no-existe' / 'facho.db'}", tmp_path)
    response = app.test_client().get(
        "/api/v1/olts", headers={"Authorization": "Bearer facho_00000000_cualquiera"})
    body = assert_problem(response, 503)
    assert body["detail"].startswith("La base de datos no responde. Qué hacer:")
