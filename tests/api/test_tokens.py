"""API tokens (facho.api.tokens): stored hashed, shown once, refused when unknown, revoked,
expired or owned by a user who lost staff; scopes."""
from __future__ import annotations

from datetime import timedelta

import pytest

from facho.api import tokens
from facho.extensions import db
from facho.models import ApiToken, User, utcnow


@pytest.fixture
def owner(app_ctx):
    user = User(username="dueño", is_staff=True, active=True, password_hash="x")
    db.session.add(user)
    db.session.commit()
    return user


def test_a_new_token_is_stored_only_as_its_hash(owner):
    row, secret = tokens.create(owner.id, "Grafana", ["lectura"])
    db.session.commit()
    assert secret.startswith(f"facho_{row.prefix}_") and len(secret) > 40
    stored = db.session.execute(db.select(ApiToken)).scalar_one()
    assert stored.token_hash == tokens.hash_token(secret)
    assert secret not in {str(getattr(stored, c.name)) for c in ApiToken.__table__.columns}


def test_two_tokens_never_share_a_secret(owner):
    secrets = {tokens.create(owner.id, f"t{i}", ["lectura"])[1] for i in range(20)}
    assert len(secrets) == 20


def test_the_token_presented_authenticates_and_marks_its_use(owner):
    row, secret = tokens.create(owner.id, "Grafana", ["lectura", "ejecutar"])
    db.session.commit()
    found = tokens.authenticate(secret)
    assert found.id == row.id and found.scope_set == {"lectura", "ejecutar"}
    assert found.last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(owner):
    row, secret = tokens.create(owner.id, "Grafana", ["lectura"])
    now = utcnow()
    tokens.authenticate(secret, now)
    tokens.authenticate(secret, now + timedelta(seconds=30))
    assert row.last_used_at == now
    tokens.authenticate(secret, now + timedelta(seconds=61))
    assert row.last_used_at == now + timedelta(seconds=61)


@pytest.mark.parametrize("presented, refusal", [
    (None, tokens.MISSING), ("", tokens.MISSING),
    ("facho_00000000_no-existe", tokens.UNKNOWN), ("otra-cosa", tokens.UNKNOWN),
])
def test_a_missing_or_unknown_token_is_refused(owner, presented, refusal):
    tokens.create(owner.id, "Grafana", ["lectura"])
    assert tokens.authenticate(presented) is refusal


def test_a_revoked_token_is_refused(owner):
    row, secret = tokens.create(owner.id, "Grafana", ["lectura"])
    assert tokens.revoke([row.id]) == 1
    assert tokens.revoke([row.id]) == 0      # revoking twice changes nothing
    db.session.commit()
    assert tokens.authenticate(secret) is tokens.REVOKED


def test_an_expired_token_is_refused_from_its_expiry_on(owner):
    expires = utcnow() + timedelta(hours=1)
    row, secret = tokens.create(owner.id, "Grafana", ["lectura"], expires)
    assert isinstance(tokens.authenticate(secret, expires - timedelta(seconds=1)), ApiToken)
    assert tokens.authenticate(secret, expires) is tokens.EXPIRED


def test_a_token_of_a_user_no_longer_staff_or_active_is_refused(owner):
    _, secret = tokens.create(owner.id, "Grafana", ["lectura"])
    owner.is_staff = False
    assert tokens.authenticate(secret) is tokens.USER_INACTIVE
    owner.is_staff, owner.active = True, False
    assert tokens.authenticate(secret) is tokens.USER_INACTIVE


@pytest.mark.parametrize("scopes, message", [
    ([], "Elija al menos un alcance."),
    (["lectura", "borrar"], "Alcance desconocido: borrar"),
])
def test_scopes_must_be_known_and_at_least_one(owner, scopes, message):
    with pytest.raises(ValueError, match=message):
        tokens.create(owner.id, "Grafana", scopes)


def test_a_name_is_required_and_the_expiry_must_be_future(owner):
    with pytest.raises(ValueError, match="nombre"):
        tokens.create(owner.id, "  ", ["lectura"])
    with pytest.raises(ValueError, match="futura"):
        tokens.create(owner.id, "x", ["lectura"], utcnow() - timedelta(minutes=1))


def test_administrar_grants_every_scope_and_the_others_only_themselves():
    assert tokens.grants({"administrar"}, "ejecutar") and tokens.grants({"administrar"},
                                                                         "lectura")
    assert tokens.grants({"lectura"}, "lectura") and not tokens.grants({"lectura"}, "ejecutar")
    assert not tokens.grants({"ejecutar"}, "lectura")


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"), ("bearer   abc ", "abc"), ("Basic abc", None), ("Bearer", None),
    (None, None),
])
def test_the_bearer_header_is_read_strictly(header, token):
    assert tokens.bearer_of(header) == token
