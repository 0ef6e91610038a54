"""Administración > Tokens de API and Llamadas a la API: a token is created for the
logged-in staff user and shown once, stored hashed; bad input says what to fix; revoking
works at once; CSRF and the staff rule apply; the call log lists the API's calls."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from facho.api import tokens
from facho.models import ApiCall, ApiToken
from tests.conftest import create_user, login
from tests.panel import alerts, count, post, run_action, text
from tests.factories import add_token

NEW = "/admin/api_tokens/new/"


def secret_on(page: str) -> str | None:
    found = re.search(r'id="new-token" readonly\s+value="([^"]+)"', page)
    return found.group(1) if found else None


def tokens_in_db(app):
    from facho.extensions import db
    with app.app_context():
        rows = db.session.query(ApiToken).all()
        db.session.expunge_all()
        return rows


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(app, staff_client):
    page = text(post(staff_client, NEW, {"nombre": "Grafana", "alcances": ["lectura",
                                                                          "ejecutar"]}))
    secret = secret_on(page)
    assert secret and secret.startswith("facho_") and "no se volverá a mostrar" in page
    [row] = tokens_in_db(app)
    assert row.token_hash == tokens.hash_token(secret) and row.scopes == "lectura ejecutar"
    assert row.name == "Grafana" and row.expires_at is None
    listing = text(staff_client.get("/admin/api_tokens/"))
    assert "Grafana" in listing and f"facho_{row.prefix}_…" in listing
    assert secret not in listing
    assert secret not in text(staff_client.get(f"/admin/api_tokens/details/?id={row.id}"))
    # the token works on the API, as the logged-in user
    response = app.test_client().get("/api/v1/tareas",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_an_expiry_day_ends_the_token_at_the_end_of_that_local_day(app, staff_client):
    day = date.today() + timedelta(days=10)
    post(staff_client, NEW, {"nombre": "Temporal", "alcances": ["lectura"],
                             "vence": day.isoformat()})
    [row] = tokens_in_db(app)
    local = row.expires_at.astimezone(app.config["FACHO"].tz)
    assert (local.date(), local.hour, local.minute) == (day + timedelta(days=1), 0, 0)


@pytest.mark.parametrize("data, says", [
    ({"nombre": "", "alcances": ["lectura"]}, "Indique un nombre para el token."),
    ({"nombre": "x"}, "Elija al menos un alcance."),
    ({"nombre": "x", "alcances": ["lectura"], "vence": "2000-01-01"},
     "La fecha de vencimiento debe ser futura."),
    ({"nombre": "x", "alcances": ["lectura"], "vence": "mañana"}, "fecha"),
])
def test_bad_input_says_what_to_fix_and_creates_nothing(app, staff_client, data, says):
    page = text(post(staff_client, NEW, data))
    assert says in page and secret_on(page) is None
    assert count(app, ApiToken) == 0


def test_creating_without_the_csrf_token_is_refused(app, staff_client):
    response = staff_client.post(NEW, data={"nombre": "x", "alcances": ["lectura"]})
    assert response.status_code == 400 and secret_on(text(response)) is None
    assert count(app, ApiToken) == 0


def test_only_staff_reach_the_token_pages(app):
    create_user(app, username="visor", password="clave-segura-123", staff=False)
    client = app.test_client()
    assert login(client, "visor").status_code == 302
    assert client.get("/admin/api_tokens/").status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.get("/admin/api_calls/").status_code == 403


def test_revoking_stops_the_token_at_once(app, staff_client, api_user_id):
    token_id, secret = add_token(app, api_user_id)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/olts", headers=bearer).status_code == 200
    shown = alerts(text(run_action(staff_client, "api_tokens", "revocar", [token_id])))
    assert ("success", "Se revocó 1 token.") in shown
    assert app.test_client().get("/api/v1/olts", headers=bearer).status_code == 401
    assert 'data-state="revocado"' in text(staff_client.get("/admin/api_tokens/"))
    again = alerts(text(run_action(staff_client, "api_tokens", "revocar", [token_id])))
    assert ("warning", "No se revocó ningún token: ya estaban revocados.") in again


def test_the_call_log_lists_each_call_with_token_route_and_status(app, staff_client,
                                                                  api_user_id):
    _, secret = add_token(app, api_user_id, name="facturación")
    app.test_client().get("/api/v1/onus/77", headers={"Authorization": f"Bearer {secret}"})
    assert count(app, ApiCall) == 1
    page = text(staff_client.get("/admin/api_calls/"))
    assert "facturación" in page and "/api/v1/onus/&lt;int:onu_id&gt;" in page
    assert "404" in page


@pytest.fixture
def api_user_id(app):
    return create_user(app, username="integrador", password="x")
