"""Fixtures of the REST API tests: a staff user with tokens, and how to call with one."""
from __future__ import annotations

import pytest

from tests.conftest import create_user, make_test_app
from tests.factories import add_token


def sqlite_app_with(tmp_path, **env):
    """A SQLite app with its schema and the given FACHO_* settings (e.g. the rate limit)."""
    from facho.extensions import db
    app = make_test_app(f"sqlite:///{tmp_path / 'facho.db'}", tmp_path, **env)
    with app.app_context():
        db.create_all()
    return app


class Caller:
    """A test client that presents one bearer token."""

    def __init__(self, client, secret: str):
        self.client, self.secret = client, secret

    def headers(self, extra=None):
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api_user(app):
    """The staff user owning the tests' tokens (a cheap password hash: not under test)."""
    from werkzeug.security import generate_password_hash

    from facho.extensions import db
    from facho.models import User
    with app.app_context():
        user = User(username="integrador", is_staff=True, active=True,
                    password_hash=generate_password_hash("x", method="pbkdf2:sha256:1000"))
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def make_caller(app, api_user):
    def make(scopes=("lectura",), user_id=None, **fields) -> Caller:
        _, secret = add_token(app, user_id or api_user, scopes, **fields)
        return Caller(app.test_client(), secret)
    return make


@pytest.fixture
def reader(make_caller):
    return make_caller(("lectura",))


@pytest.fixture
def any_reader(any_app):
    """A `lectura` token's caller on SQLite and on PostgreSQL (with `any_app`)."""
    user = create_user(any_app, username="lector", password="x")
    return Caller(any_app.test_client(), add_token(any_app, user)[1])
