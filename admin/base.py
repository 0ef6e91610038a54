"""The base of every panel model view: Spanish errors, CSRF forms, local times, and bulk
enable/disable. Access rules come from admin.security."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import flash, g, has_app_context
from flask_admin.actions import action
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.helpers import is_form_submitted
from flask_admin.model import typefmt
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from admin import formatters, lists
from admin.forms import CSRF_MESSAGE, FachoForm
from admin.security import StaffModelView
from facho.scheduling import edits as lifecycle
from facho.extensions import db

log = logging.getLogger("facho.admin")

GENERIC_DB_ERROR = ("No se pudo guardar: los datos no cumplen una regla de la base de datos "
                    "(valor fuera de rango o combinación no permitida).")
DUPLICATE_ERROR = "No se pudo guardar: ya existe un registro con esos datos."
IN_USE_ERROR = ("No se pudo completar: el registro está en uso por otros (por ejemplo "
                "OLTs, tareas o ejecuciones) o hace referencia a uno que ya no existe.")
INTERNAL_ERROR = ("No se pudo completar la operación por un error interno. "
                  "El detalle quedó registrado en el servidor.")
DEFAULT_UNIQUE = "Ya existe un registro con este valor."

_TYPE_FORMATTERS = dict(typefmt.BASE_FORMATTERS)
_TYPE_FORMATTERS.update({datetime: formatters.datetime_type_formatter,
                         bool: formatters.yes_no})


class FachoModelView(StaffModelView):
    form_base_class = FachoForm
    can_export = False          # exports would bypass the column rules (the community)
    can_view_details = True
    named_filter_urls = True    # ?flt0_habilitada_igual_a=1 reads better than ?flt0_7=1
    column_type_formatters = _TYPE_FORMATTERS
    column_type_formatters_detail = _TYPE_FORMATTERS
    list_template = "admin/facho_list.html"
    count_noun = "filas"        # "≈ 10 000 000 filas" when the count is an estimate
    # Unique column -> Spanish message, used before the database (form validator) and
    # after it (IntegrityError on commit, e.g. two operators saving at once).
    unique_messages: dict[str, str] = {}

    def __init__(self, model, *, name: str, endpoint: str, **kwargs):
        super().__init__(model, db, name=name, endpoint=endpoint, **kwargs)

    def _get_filter_groups(self):
        # Flask-Admin caches filter options when the view is built; refresh the dynamic ones.
        groups = super()._get_filter_groups()
        for items in (groups or {}).values():
            for item in items:
                flt = self._filters[item["index"]]
                if callable(flt.options):
                    item["options"] = flt.get_options(self)
        return groups

    # --- lists at scale (admin.lists) ---------------------------------------------------

    def get_count_query(self):
        return lists.count_query(db.session(), self.model, self.count_noun)

    # Columns an index serves as a sort (admin.lists.sort_refused); None: every column.
    scale_sortable: tuple[str, ...] | None = None

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        g.facho_defer_count = execute     # a small count may come from the rows (admin.lists)
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters,
                                       execute=execute, page_size=page_size)
        g.pop("facho_defer_count", None)
        if isinstance(count, lists.PendingCount):
            count = count.resolve(page, rows, self.page_size if page_size is None else page_size)
        return count, rows

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        refused = lists.sort_refused(self, sort_column)
        if refused:
            g.facho_sort_refused = refused
            sort_column = None      # the default order, which an index serves
        return super()._apply_sorting(query, joins, sort_column, sort_desc)

    def render(self, template, **kwargs):
        if "filter_groups" in kwargs and "num_pages" in kwargs:   # a list page
            kwargs.update(lists.pager_kwargs(kwargs.get("count"), kwargs["num_pages"]))
            kwargs["sort_refused"] = g.get("facho_sort_refused")
            kwargs["ajax_filters"] = lists.ajax_filters(self, kwargs.get("filter_groups"),
                                                        kwargs.get("active_filters"))
        return super().render(template, **kwargs)

    # --- forms ---------------------------------------------------------------------------

    def scaffold_form(self):
        form_class = super().scaffold_form()
        # Flask-Admin adds its own Unique validator to unique columns; give it our words.
        for name, unbound in vars(form_class).items():
            if isinstance(unbound, UnboundField):
                for validator in unbound.kwargs.get("validators") or ():
                    if isinstance(validator, Unique):
                        validator.message = self.unique_messages.get(name, DEFAULT_UNIQUE)
        return form_class

    def check_form(self, form) -> None:
        """Cross-field rules; append Spanish messages to `form.<field>.errors`."""

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        is_model_form = isinstance(form, (self._create_form_class, self._edit_form_class))
        if is_model_form and is_form_submitted():
            before = sum(len(field.errors) for field in form)
            self.check_form(form)
            valid = valid and sum(len(field.errors) for field in form) == before
            if "csrf_token" in form and form["csrf_token"].errors:
                flash(CSRF_MESSAGE, "error")  # a hidden field: nothing on the page marks it
        return valid

    def create_model(self, form):
        g.facho_form = form  # so an IntegrityError on commit can point at the field
        lifecycle.take_interrupted_count(db.session)
        return super().create_model(form)

    def update_model(self, form, model):
        g.facho_form = form
        lifecycle.take_interrupted_count(db.session)
        return super().update_model(form, model)

    def after_model_change(self, form, model, is_created):
        report_interrupted()

    # --- errors: never raw exception text on a page -----------------------------------

    def integrity_message(self, exc: IntegrityError) -> tuple[str | None, str]:
        """(field, Spanish message) for a database refusal; read, never shown."""
        text = str(exc.orig).lower()
        if "unique" in text or "duplicate" in text:
            # SQLite: "UNIQUE constraint failed: olts.abreviatura"; PostgreSQL:
            # 'violates unique constraint "uq_olts_abreviatura"', "Key (abreviatura)=(...)".
            for field, message in self.unique_messages.items():
                if f".{field}" in text or f"({field})" in text or f"_{field}\"" in text:
                    return field, message
            return None, DUPLICATE_ERROR
        if "foreign key" in text:
            return None, IN_USE_ERROR
        return None, GENERIC_DB_ERROR

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, (OperationalError, InterfaceError)):
            # The database is down: flashing needs no database, but re-rendering the form
            # does. Let facho.ops.health answer with its 503 page (what is down, what to do).
            raise exc
        lifecycle.take_interrupted_count(db.session)
        if isinstance(exc, ValidationError):
            flash(str(exc), "error")  # our own Spanish messages
        elif isinstance(exc, IntegrityError):
            field, message = self.integrity_message(exc)
            form = g.get("facho_form")
            if form is not None and field and field in form:
                form[field].errors = list(form[field].errors) + [message]
            log.warning("event=panel_integrity_error view=%s error=%s", self.endpoint,
                        type(exc.orig).__name__)
            flash(message, "error")
        else:
            log.exception("event=panel_error view=%s", self.endpoint)
            flash(INTERNAL_ERROR, "error")
        return True  # handled: Flask-Admin must not flash str(exc) itself

    def flash_report(self, produce) -> None:
        """Run `produce()` (returns a manual_run.RunReport) and flash its messages; an
        unexpected error is rolled back and shown in Spanish, never as raw text."""
        try:
            report = produce()
        except Exception as exc:  # noqa: BLE001 - reported in Spanish, logged in full
            db.session.rollback()
            self.handle_view_exception(exc)
            return
        for category, text in report.messages():
            flash(text, category)


def plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def report_interrupted() -> None:
    count = lifecycle.take_interrupted_count(db.session)
    if count:
        flash(plural(count, "1 ejecución pendiente fue interrumpida.",
                     f"{count} ejecuciones pendientes fueron interrumpidas."), "warning")


class ToggleActionsMixin:
    """Bulk "Habilitar" / "Deshabilitar" on a boolean column.

    Objects are loaded and changed through the ORM (not one Core UPDATE) so the
    facho.scheduling.edits listener sees every enabled -> disabled change.
    """

    toggle_attribute = "enabled"
    toggle_nouns = ("registro", "registros")

    @action("habilitar", "Habilitar", "¿Habilitar los registros seleccionados?")
    def action_enable(self, ids):
        self.set_flag(ids, True)

    @action("deshabilitar", "Deshabilitar",
            "¿Deshabilitar los registros seleccionados? "
            "Sus ejecuciones pendientes se interrumpirán.")
    def action_disable(self, ids):
        self.set_flag(ids, False)

    def set_flag(self, ids, value: bool) -> None:
        keys = [int(i) for i in ids if str(i).isdigit()]
        rows = db.session.scalars(sa.select(self.model).where(self.model.id.in_(keys))).all()
        changed = [row for row in rows if getattr(row, self.toggle_attribute) != value]
        for row in changed:
            setattr(row, self.toggle_attribute, value)
        lifecycle.take_interrupted_count(db.session)
        try:
            self.on_toggled(changed, value)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported in Spanish, logged in full
            db.session.rollback()
            self.handle_view_exception(exc)
            return
        n, unchanged = len(changed), len(rows) - len(changed)
        verb = ("habilit" if value else "deshabilit") + plural(n, "ó", "aron")
        message = f"Se {verb} {n} {plural(n, *self.toggle_nouns)}"
        if unchanged:
            message += f" ({unchanged} ya lo {plural(unchanged, 'estaba', 'estaban')})"
        flash(message + ".", "success")
        report_interrupted()

    def on_toggled(self, rows, value: bool) -> None:
        """Hook run before the commit of a bulk toggle (e.g. re-plan re-enabled jobs)."""


def options_from(query_factory):
    """Filter options read from the database on every list page (see
    FachoModelView._get_filter_groups), so a new brand or OLT shows up without a restart.
    Flask-Admin also asks once while building the view, outside any app: nothing then."""

    def options():
        if not has_app_context():
            return []
        return [(str(key), str(label)) for key, label in db.session.execute(query_factory())]

    return options


def brand_options():
    from facho.models import Brand
    return options_from(lambda: sa.select(Brand.id, Brand.nombre).order_by(Brand.nombre))
