"""Staff login (Flask-Login) and the rule that every page but a few needs a staff user."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from facho.extensions import db, login_manager
from facho.models import User, utcnow

bp = Blueprint("auth", __name__)

# Endpoints reachable without a staff session. Everything else is refused by default,
# so a route added later is protected without anyone remembering to protect it.
PUBLIC_ENDPOINTS = {"auth.login", "static", "admin.static", "health.healthz"}
# Blueprints outside the staff session: the REST API checks its own bearer tokens (a
# session cookie never authenticates it), its OpenAPI description and docs page are public.
PUBLIC_BLUEPRINTS = {"api_v1", "api-docs", "api_docs_assets"}


class LoginForm(FlaskForm):
    username = StringField("Usuario", validators=[DataRequired("Ingrese su usuario.")])
    password = PasswordField("Contraseña", validators=[DataRequired("Ingrese su contraseña.")])


def is_safe_next(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative `//host` or `/\\host`."""
    if not target:
        return False
    parts = urlsplit(target)
    return (not parts.scheme and not parts.netloc and target.startswith("/")
            and not target.startswith("//") and "\\" not in target)


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        from facho import login_throttle
        username = form.username.data.strip()
        if login_throttle.blocked(username, request.remote_addr):
            error = "Demasiados intentos fallidos. Espere unos minutos e intente de nuevo."
        else:
            user = db.session.execute(
                db.select(User).filter_by(username=username)).scalar_one_or_none()
            if user and user.active and user.check_password(form.password.data):
                login_throttle.reset(username, request.remote_addr)
                login_user(user)
                user.last_login_at = utcnow()
                db.session.commit()
                target = request.args.get("next")
                return redirect(target if is_safe_next(target) else url_for("admin.index"))
            login_throttle.failed(username, request.remote_addr)
            error = "Usuario o contraseña incorrectos."
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Sesión cerrada.", "info")
    return redirect(url_for("auth.login"))


def require_staff():
    """before_request: anonymous users go to login, logged-in non-staff get 403."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not current_user.is_staff:
        abort(403)
    return None


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Inicie sesión para acceder al panel."
    app.register_blueprint(bp)
    app.before_request(require_staff)
