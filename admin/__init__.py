"""Flask-Admin panel: Bootstrap 4, Spanish, assets served locally, staff only."""
from __future__ import annotations

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin.security import DashboardView


def init_app(app) -> None:
    from admin import views

    panel = Admin(
        app,
        name="Facho",
        theme=Bootstrap4Theme(swatch="default", fluid=True),
        index_view=DashboardView(name="Inicio", url="/admin"),
    )
    views.register(panel)
