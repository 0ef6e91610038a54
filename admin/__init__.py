"""Flask-Admin panel: Bootstrap 4, Spanish, assets served locally, staff only."""
from __future__ import annotations

from flask import render_template
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_wtf.csrf import CSRFError


def init_app(app) -> None:
    from admin import i18n

    i18n.install()  # before any view exists: filters translate their labels when built

    from admin import views
    from admin.dashboard import DashboardView
    from facho import lifecycle

    lifecycle.install()
    panel = Admin(
        app,
        name="Facho",
        theme=Bootstrap4Theme(swatch="default", fluid=True,
                              base_template="admin/facho_base.html"),
        index_view=DashboardView(name="Inicio", url="/admin"),
    )
    views.register(panel)
    app.register_error_handler(CSRFError, csrf_refused)


def csrf_refused(error):
    """Flask-WTF refuses a POST without a valid token before any view runs; say so in
    Spanish instead of its English default page."""
    return render_template("csrf_error.html"), 400
