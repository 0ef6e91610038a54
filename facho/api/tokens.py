"""API tokens: creation (the secret shown once), lookup by hash, scopes, revocation.

A token reads `facho_<prefix>_<secret>`: 8 random characters that name it in lists and
logs, and 32 random bytes (URL-safe base64) that make it unguessable. Only its SHA-256 is
stored: a fast hash is enough for a random 256-bit secret (there is nothing to brute-force
that a slow hash would protect), and it lets a request find its token by an indexed
equality instead of trying every row.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facho.extensions import db
from facho.models import API_SCOPES, ApiToken, utcnow

PREFIX = "facho_"
ADMIN_SCOPE = "administrar"
SCOPE_LABELS = {"lectura": "Lectura (consultar)",
                "ejecutar": "Ejecutar (tareas y re-ejecuciones)",
                "administrar": "Administrar (todo lo anterior y lo administrativo)"}
LAST_USED_EVERY_S = 60    # last_used_at is written at most this often per token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_secret() -> tuple[str, str]:
    """(full token, its display prefix)."""
    prefix = secrets.token_hex(4)
    return f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def clean_scopes(scopes) -> list[str]:
    """Known scopes in canonical order; ValueError (Spanish) when none or an unknown one."""
    chosen = {str(s).strip() for s in scopes or () if str(s).strip()}
    unknown = sorted(chosen - set(API_SCOPES))
    if unknown:
        raise ValueError(f"Alcance desconocido: {', '.join(unknown)} (válidos: "
                         f"{', '.join(API_SCOPES)}).")
    if not chosen:
        raise ValueError("Elija al menos un alcance.")
    return [s for s in API_SCOPES if s in chosen]


def grants(scopes: set[str], needed: str) -> bool:
    """`administrar` includes every scope; the others only themselves."""
    return needed in scopes or ADMIN_SCOPE in scopes


def create(user_id: int, name: str, scopes, expires_at: datetime | None = None
           ) -> tuple[ApiToken, str]:
    """Add a token (flushed, not committed); returns the row and the secret to show once."""
    name = (name or "").strip()
    if not name:
        raise ValueError("Indique un nombre para el token.")
    if len(name) > 80:
        raise ValueError("El nombre del token admite hasta 80 caracteres.")
    if expires_at is not None and expires_at <= utcnow():
        raise ValueError("La fecha de vencimiento debe ser futura.")
    secret, prefix = new_secret()
    row = ApiToken(name=name, prefix=prefix, token_hash=hash_token(secret), user_id=user_id,
                   scopes=" ".join(clean_scopes(scopes)), expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    return row, secret


def revoke(token_ids) -> int:
    """Revoke the tokens not revoked yet (flushed, not committed); how many changed."""
    ids = [int(i) for i in token_ids]
    if not ids:
        return 0
    result = db.session.execute(sa.update(ApiToken)
                                .where(ApiToken.id.in_(ids), ApiToken.revoked_at.is_(None))
                                .values(revoked_at=utcnow()))
    return result.rowcount or 0


@dataclass(frozen=True)
class Refusal:
    """Why a presented token does not authenticate (Spanish, for the 401 detail)."""
    detail: str


MISSING = Refusal("Falta el token: envíe la cabecera «Authorization: Bearer <token>». "
                  "Los tokens se crean en el panel (Administración > Tokens de API).")
UNKNOWN = Refusal("Token inválido: no corresponde a ningún token de Facho.")
REVOKED = Refusal("Token revocado: cree uno nuevo en el panel.")
EXPIRED = Refusal("Token vencido: cree uno nuevo en el panel.")
USER_INACTIVE = Refusal("El usuario dueño del token está desactivado o ya no es staff.")


def bearer_of(header: str | None) -> str | None:
    """The token in an `Authorization: Bearer …` header, or None."""
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    value = value.strip()
    return value if kind.lower() == "bearer" and value else None


def authenticate(secret: str | None, now: datetime | None = None) -> ApiToken | Refusal:
    """The token row a request presents, or why it is refused. Touches `last_used_at`
    (at most once a minute per token, so polling does not write on every call); the
    caller commits."""
    if not secret:
        return MISSING
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return UNKNOWN
    row = db.session.execute(sa.select(ApiToken).where(
        ApiToken.token_hash == hash_token(secret))).scalar_one_or_none()
    if row is None:
        return UNKNOWN
    now = now or utcnow()
    if row.revoked_at is not None:
        return REVOKED
    if row.expires_at is not None and row.expires_at <= now:
        return EXPIRED
    if not (row.user and row.user.is_active and row.user.is_staff):
        return USER_INACTIVE
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= LAST_USED_EVERY_S:
        row.last_used_at = now
    return row
