"""Entry point: `create_app()` for gunicorn and the `flask` CLI (FLASK_APP=app)."""
from __future__ import annotations

import sys

from flask import Flask

from facho.config import Config, ConfigError, load_config


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app; `config` defaults to the validated environment."""
    from facho import logging_setup, redis_conn
    from admin import auth
    from facho.ops import cli
    from facho.ops import health
    from facho.extensions import csrf, db, login_manager, migrate
    import admin

    config = config or load_config()
    logging_setup.init_app(config)
    app = Flask(__name__, static_folder="admin/static", static_url_path="/static",
                template_folder="admin/templates")
    app.config.update(
        FACHO=config,
        SECRET_KEY=config.secret_key,
        SQLALCHEMY_DATABASE_URI=config.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(config.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not config.development,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=config.env == "testing",
    )
    config.var_dir.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory="migrations", render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    redis_conn.init_app(app)
    auth.init_app(app)
    health.init_app(app)
    admin.init_app(app)
    cli.init_app(app)
    # the REST API: bearer tokens, not the session, so no CSRF (facho.api.v1)
    from facho.api import v1 as api_v1
    app.config.update(api_v1.SETTINGS)
    api_v1.FachoApi(app).register_blueprint(api_v1.bp)
    app.register_blueprint(api_v1.assets)
    csrf.exempt(api_v1.bp)
    return app


def engine_options(database_url: str) -> dict:
    # hide_parameters: a database error logged in full must not carry the bound values
    # (an OLT's `comunidad` among them) into the logs.
    if database_url.startswith("sqlite"):
        # Web, worker and scheduler share the file: wait for the write lock instead of failing.
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    return {"pool_pre_ping": True, "pool_recycle": 1800, "hide_parameters": True}


def _app_or_exit() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        print(exc.line(), file=sys.stderr)
        raise SystemExit(2) from None


_app: Flask | None = None


def __getattr__(name: str):
    # `app` is built on first access (gunicorn "app:app", `flask --app app`), so importing
    # create_app in tests or tools does not read the environment.
    global _app
    if name == "app":
        if _app is None:
            _app = _app_or_exit()
        return _app
    raise AttributeError(name)
