"""Security rules that must hold for every route, present and future."""
import re


from tests.conftest import create_user, login

PUBLIC = {"auth.login", "static", "admin.static", "health.healthz",
          # the REST API's description and its docs page (no data; tests/api)
          "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
          "api_docs_assets.swagger_asset"}


def _api(rule) -> bool:
    """A REST API route: a bearer token, never the session, opens it (401 without one),
    so neither the staff rule nor CSRF apply (tests/api/test_v1_access.py)."""
    return rule.endpoint.startswith("api_v1.")


def _concrete(rule) -> str:
    """A URL for `rule` with placeholder values for its arguments."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)


def test_every_route_needs_a_staff_login(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule), method=method)
            assert response.status_code in (302, 400, 401, 403), (rule.rule, method)
            assert response.status_code == 401 or not _api(rule), rule.rule
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked > 20  # the panel's views are all there


def test_every_route_refuses_a_logged_in_non_staff_user(app):
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        if _api(rule):
            assert client.get(_concrete(rule)).status_code == 401, rule.rule
            continue
        assert client.get(_concrete(rule)).status_code == 403, rule.rule


def test_every_state_changing_route_refuses_a_request_without_csrf_token(staff_client, app):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"} or rule.endpoint in PUBLIC:
            continue
        if _api(rule):
            assert staff_client.post(_concrete(rule)).status_code == 401, rule.rule
            continue
        response = staff_client.post(_concrete(rule), data={"rowid": "1", "action": "x"})
        assert response.status_code == 400, rule.rule
        checked += 1
    assert checked > 10


def test_session_cookie_is_httponly_samesite_and_secure_outside_development(tmp_path, redis_url):
    from tests.conftest import make_test_app
    prod = make_test_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, FACHO_ENV="production")
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_repeated_wrong_passwords_are_throttled(app):
    create_user(app)
    client = app.test_client()
    from facho.login_throttle import MAX_FAILURES
    for _ in range(MAX_FAILURES):
        assert login(client, password="mala").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 401
    assert "Demasiados intentos" in blocked.get_data(as_text=True)
