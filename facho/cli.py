"""`flask facho …`: user management, seed data and operations commands.

Errors end with one clear line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from facho.extensions import db
from facho.models import User

facho_cli = AppGroup("facho", help="Operaciones de Facho.")


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


@facho_cli.command("create-user")
@click.argument("username")
@click.option("--staff/--no-staff", default=False, help="Acceso al panel.")
@click.option("--password-env", default="FACHO_PASSWORD", show_default=True,
              help="Variable de entorno con la contraseña (si no, se pide).")
@click.option("--update/--no-update", default=False, help="Cambiar la contraseña si existe.")
def create_user(username: str, staff: bool, password_env: str, update: bool):
    """Create a user (password from $FACHO_PASSWORD or a prompt)."""
    from facho.validation import validate_username
    try:
        username = validate_username(username)
    except ValueError as exc:
        fail(str(exc), 2)
    password = os.environ.get(password_env) or click.prompt(
        "Contraseña", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        fail("la contraseña debe tener al menos 8 caracteres", 2)
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user and not update:
        fail(f"el usuario '{username}' ya existe (use --update para cambiar su contraseña)")
    if user is None:
        user = User(username=username)
        db.session.add(user)
    user.set_password(password)
    user.is_staff = staff
    user.active = True
    db.session.commit()
    click.echo(f"usuario '{username}' {'actualizado' if update else 'creado'}"
               f"{' (staff)' if staff else ''}")


@facho_cli.command("seed")
def seed_command():
    """Load brands, vendor OIDs and index formulas (idempotent)."""
    from facho.seed import seed
    counts = seed()
    db.session.commit()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@facho_cli.command("ensure-admin")
def ensure_admin():
    """Create a staff user when none exists; print its credentials once.

    Username from $FACHO_ADMIN_USER (default admin), password from
    $FACHO_ADMIN_PASSWORD or generated.
    """
    import secrets
    if db.session.execute(db.select(User).filter_by(is_staff=True)).first():
        click.echo("usuario staff existente: no se crea otro")
        return
    username = os.environ.get("FACHO_ADMIN_USER", "admin")
    password = os.environ.get("FACHO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user = User(username=username, is_staff=True, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo("=" * 60)
    click.echo(f"Usuario staff creado: {username}  contraseña: {password}")
    click.echo("Guárdela ahora: no se volverá a mostrar.")
    click.echo("=" * 60)


@facho_cli.command("embedded-redis")
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
def embedded_redis(action: str):
    """Start, stop or check the embedded Redis (only when REDIS_URL is unset)."""
    from flask import current_app
    from facho import redis_conn
    config = current_app.config["FACHO"]
    if config.redis_url:
        fail("REDIS_URL está definida: no se usa Redis embebido")
    sock = config.embedded_redis_socket
    if action == "start":
        redis_conn.ensure_embedded_redis(sock)
        click.echo(f"Redis embebido en unix://{sock}")
    elif action == "stop":
        stopped = redis_conn.stop_embedded_redis(sock)
        click.echo("Redis embebido detenido" if stopped else "Redis embebido no estaba activo")
    else:
        up = redis_conn.embedded_redis_answers(sock)
        click.echo("activo" if up else "detenido")
        if not up:
            raise SystemExit(1)


def init_app(app) -> None:
    app.cli.add_command(facho_cli)
