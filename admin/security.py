"""Access rules shared by every panel view: staff only, anonymous users go to login."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user


def staff_only() -> bool:
    return current_user.is_authenticated and bool(current_user.is_staff)


def refuse():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


class StaffOnly:
    """Mixin for any panel view (model views, pages, the home page): staff only."""

    def is_accessible(self):
        return staff_only()

    def inaccessible_callback(self, name, **kwargs):
        return refuse()


class StaffModelView(StaffOnly, ModelView):
    """Base model view: staff only. admin.base.FachoModelView adds the CSRF form base."""

    page_size = 50
    can_set_page_size = True

