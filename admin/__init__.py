"""Flask-Admin panel: Bootstrap 4, Spanish, assets served locally, staff only."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_wtf.csrf import CSRFError


def init_app(app) -> None:
    from admin import i18n

    i18n.install()  # before any view exists: filters translate their labels when built

    from admin import views
    from admin.dashboard import DashboardView
    from facho.scheduling import edits as lifecycle

    lifecycle.install()
    panel = Admin(
        app,
        name="Facho",
        theme=Bootstrap4Theme(swatch="default", fluid=True,
                              base_template="admin/facho_base.html"),
        index_view=DashboardView(name="Inicio", url="/admin"),
    )
    views.register(panel)
    from admin.profiles import ProfilesView
    panel.add_view(ProfilesView(name="Perfiles de fabricante", endpoint="profiles",
                                url="/admin/perfiles", category=views.CONFIG))
    app.register_error_handler(CSRFError, csrf_refused)
    # Browsers ask for /favicon.ico on their own (a JSON page, /healthz): serve the panel's
    # icon there as a static file, public like the other static files.
    app.add_url_rule("/favicon.ico", endpoint="static", defaults={"filename": "favicon.ico"},
                     view_func=app.view_functions["static"])


def csrf_refused(error):
    """Flask-WTF refuses a POST without a valid token before any view runs (so before the
    staff check): an anonymous user, usually one whose session ended, goes to login like
    on any other page; a logged-in one gets the Spanish page instead of Flask-WTF's."""
    from admin.auth import PUBLIC_ENDPOINTS
    if not current_user.is_authenticated and request.endpoint not in PUBLIC_ENDPOINTS:
        flash("Su sesión no está iniciada o expiró: no se guardó ningún cambio. "
              "Inicie sesión e intente de nuevo.", "warning")
        return redirect(url_for("auth.login"))
    return render_template("csrf_error.html"), 400
