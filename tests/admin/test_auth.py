"""Login, staff-only access, CSRF and safe redirects."""
from tests.conftest import create_user, csrf_token_from, login


def test_anonymous_user_is_sent_to_login(app):
    response = app.test_client().get("/admin/olts/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_staff_user_logs_in_and_reaches_the_panel(app):
    create_user(app)
    client = app.test_client()
    response = login(client)
    assert response.status_code == 302
    assert client.get("/admin/olts/").status_code == 200


def test_wrong_password_is_refused_with_a_spanish_message(app):
    create_user(app)
    client = app.test_client()
    response = login(client, password="otra-clave")
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos" in response.get_data(as_text=True)
    assert client.get("/admin/olts/").status_code == 302


def test_logged_in_non_staff_user_gets_403(app):
    create_user(app, username="invitado", staff=False)
    client = app.test_client()
    login(client, username="invitado")
    assert client.get("/admin/olts/").status_code == 403
    assert client.get("/admin/").status_code == 403


def test_passwords_are_stored_hashed(app):
    from facho.models import User
    create_user(app, password="clave-segura-123")
    with app.app_context():
        user = User.query.filter_by(username="operador").one()
        assert "clave-segura-123" not in user.password_hash
        assert user.check_password("clave-segura-123")


def test_login_without_csrf_token_is_refused(app):
    create_user(app)
    client = app.test_client()
    response = client.post("/login", data={"username": "operador",
                                           "password": "clave-segura-123"})
    assert response.status_code == 400
    assert client.get("/admin/olts/").status_code == 302


def test_next_redirect_goes_only_to_local_paths(app):
    create_user(app)
    for target, expected in [("/admin/olts/", "/admin/olts/"),
                             ("https://evil.example/", "/admin/"),
                             ("//evil.example/x", "/admin/"),
                             ("/\\\\evil.example", "/admin/")]:
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post(f"/login?next={target}", data={
            "username": "operador", "password": "clave-segura-123", "csrf_token": token})
        assert response.headers["Location"] == expected, target


def test_healthz_needs_no_login_and_reveals_only_health(app, redis_client):
    from facho.scheduling.lease import LeaderLease
    LeaderLease(redis_client).record_tick({"claimed": 0})  # a scheduler that just ticked
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert set(body) == {"status", "database", "redis", "scheduler", "clock_jump"}
    assert body == {"status": "ok", "database": True, "redis": True, "scheduler": True,
                    "clock_jump": None}
    assert response.status_code == 200
