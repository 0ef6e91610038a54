"""ONUs: the inventory discovery jobs keep. Not editable: the OLT is the source of truth and
the next discovery would overwrite any hand edit.

What staff may do is remove ONUs (issue 11), each time with a confirmation and one audit row
(facho.inventory.cleanup, shown under Administración > Auditoría):

- "Eliminar seleccionadas", a bulk action on the list;
- "Purgar ausentes de <OLT>", a link on the list once it is filtered by one OLT, to a page
  that shows how many absent ONUs that OLT has (and which) before the operator confirms.
  It lives here, not as an action on the OLT list: the operator finds the leftovers while
  looking at that OLT's ONUs (filter OLT + Presente = No), sees exactly the rows that would
  go, and one click can only ever purge one OLT.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import (BooleanEqualFilter, FilterEqual,
                                              IntEqualFilter)
from flask_admin.helpers import get_form_data
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import HiddenField

from admin import formatters as fmt
from admin.base import FachoModelView, plural
from admin.csv_export import CsvExportMixin
from admin.forms import CSRF_MESSAGE, FachoForm
from admin.lists import AjaxEqualFilter, olt_ref
from facho import labels
from facho import models as m
from facho.api import csv_export
from facho.extensions import db
from facho.inventory import cleanup, search

DELETE_ACTION = "eliminar"
# Flask-Admin's dialog; static/js/onu_cleanup.js shows the counted texts below instead.
DELETE_CONFIRMATION = ("¿Eliminar las ONUs seleccionadas y todas sus lecturas? Quedará "
                       "registrado en la auditoría y no se puede deshacer (si una ONU sigue "
                       "en la OLT, el próximo descubrimiento la vuelve a crear).")
DELETE_CONFIRMATION_ONE = DELETE_CONFIRMATION.replace(
    "las ONUs seleccionadas", "1 ONU seleccionada")
DELETE_CONFIRMATION_MANY = DELETE_CONFIRMATION.replace(
    "las ONUs seleccionadas", "{n} ONUs seleccionadas")
MAX_OLTS_NAMED = 5


def _dbm(view, context, onu, name):
    value = getattr(onu, name)
    return "—" if value is None else f"{value:.2f} dBm"


def _onu_link(view, context, onu, name):
    """The name opens the ONU's page (charts, events: admin/network.py)."""
    return Markup(f'<a href="{escape(url_for("red.onu_view", onu_id=onu.id))}">'
                  f'{escape(onu.name or onu.raw_index)}</a>')


def _km(view, context, onu, name):
    return "—" if onu.distance_km is None else f"{onu.distance_km:.3f} km"


def _onu_status_options():
    """The known states (facho.labels.onu_state_options: the state OIDs' label maps, a
    small table), not a DISTINCT over the inventory; nothing while Flask-Admin builds the
    view outside any app (see options_from)."""
    from flask import has_app_context
    if not has_app_context():
        return []
    maps = db.session.execute(sa.select(m.Oid.etiquetas).where(
        m.Oid.espacio == "estado", m.Oid.etiquetas.isnot(None))).scalars().all()
    return labels.onu_state_options(maps)


def deleted_message(count: int, olt_names: list[str]) -> str:
    """"Se eliminaron 3 ONUs de OLT-X." (the flash after a deletion or a purge)."""
    where = cleanup.listed(olt_names[:MAX_OLTS_NAMED], len(olt_names))
    verb = plural(count, "Se eliminó 1 ONU", f"Se eliminaron {count} ONUs")
    return f"{verb} de {where}." if where else f"{verb}."


class PurgeAbsentForm(FachoForm):
    olt = HiddenField()


def olt_filter_value(view, active_filters) -> int | None:
    """The OLT id when the list is filtered by exactly one OLT ("OLT igual a N")."""
    values = {value for index, _, value in active_filters or ()
              if getattr(view._filters[index], "column", None) is m.Onu.olt_id}
    if len(values) != 1:
        return None
    value = str(values.pop()).strip()
    return int(value) if value.isdigit() else None


class OnuView(CsvExportMixin, FachoModelView):
    csv_kind = "onus"
    csv_columns = csv_export.ONU_COLUMNS
    can_create = False
    can_edit = False
    can_delete = False          # Flask-Admin's own delete: per-row ORM and not audited
    list_template = "admin/onus/list.html"
    count_noun = "ONUs"
    scale_sortable = ("serial",)     # and the default order (ix_onus_position)
    form_ajax_refs = {"olt": olt_ref()}

    column_list = ("olt", "name", "serial", "descripcion", "status", "present", "rx_power",
                   "distance_km", "last_seen_at")
    column_details_list = ("olt", "name", "raw_index", "slot", "port", "onu_id", "serial",
                           "descripcion", "status", "present", "consecutive_misses",
                           "distance_km", "rx_power", "tx_power", "mac", "plan", "modelo",
                           "first_seen_at", "last_seen_at", "last_execution_id")
    column_default_sort = [("olt_id", False), ("slot", False), ("port", False),
                           ("onu_id", False)]
    column_sortable_list = ("name", "serial", "status", "present", "rx_power", "distance_km",
                            "last_seen_at", ("olt", "olt.abreviatura"))
    column_searchable_list = ("serial", "descripcion")
    column_filters = (
        AjaxEqualFilter(m.Onu.olt_id, "OLT", ref="olt"),
        IntEqualFilter(m.Onu.slot, "Slot"),
        IntEqualFilter(m.Onu.port, "Puerto"),
        FilterEqual(m.Onu.status, "Estado", options=_onu_status_options),
        BooleanEqualFilter(m.Onu.present, "Presente"),
    )
    column_formatters = {"name": _onu_link, "rx_power": _dbm, "tx_power": _dbm, "distance_km": _km,
                         "status": fmt.column(fmt.onu_status_badge)}
    column_formatters_detail = column_formatters
    column_labels = {
        "olt": "OLT", "name": "ONU", "raw_index": "Índice SNMP", "slot": "Slot",
        "port": "Puerto", "onu_id": "ID ONU", "serial": "Serie", "descripcion": "Descripción",
        "status": "Estado", "present": "Presente", "consecutive_misses": "Ausencias seguidas",
        "distance_km": "Distancia", "rx_power": "Potencia RX", "tx_power": "Potencia TX",
        "mac": "MAC", "plan": "Plan", "modelo": "Modelo", "first_seen_at": "Vista por primera vez",
        "last_seen_at": "Vista por última vez", "last_execution_id": "Última ejecución",
    }
    column_descriptions = {
        "present": "No: la ONU dejó de aparecer en los últimos descubrimientos.",
    }

    # --- search: the trigram-indexed text of facho.inventory.search ---------------------

    def _apply_search(self, query, count_query, joins, count_joins, search_term):
        """Each word (all must match) in serial, description or name, any case: on
        PostgreSQL the expression of the trigram index, so a search at 1 M ONUs reads the
        index instead of every row (Flask-Admin's per-column ILIKE scanned: 3-4 s)."""
        for word in search_term.split():
            match = search.search_text().ilike(search.like_pattern(word), escape="\\")
            query = query.filter(match)
            count_query = count_query.filter(match) if count_query is not None else None
        return query, count_query, joins, count_joins

    # --- list: the "purgar" link when filtered by one OLT ------------------------------

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["purge_olt"] = None
            olt_id = olt_filter_value(self, kwargs.get("active_filters"))
            olt = db.session.get(m.Olt, olt_id) if olt_id is not None else None
            if olt is not None:
                kwargs["purge_olt"] = {"id": olt.id, "name": olt.abreviatura,
                                       "absent": cleanup.absent_count(olt.id)}
            kwargs["delete_confirmation"] = {"one": DELETE_CONFIRMATION_ONE,
                                             "many": DELETE_CONFIRMATION_MANY}
        return super().render(template, **kwargs)

    # --- "Eliminar seleccionadas" ------------------------------------------------------

    @action(DELETE_ACTION, "Eliminar seleccionadas", DELETE_CONFIRMATION)
    def action_delete_selected(self, ids):
        """Staff only (the view's access rule) and CSRF-checked (Flask-WTF and the action
        form) before this runs."""
        olt_names = cleanup.olt_names_of(ids)
        try:
            count = cleanup.delete_onus(ids, current_user.username)
        except Exception as exc:  # noqa: BLE001 - rolled back; reported in Spanish
            db.session.rollback()
            self.handle_view_exception(exc)
            return
        if count:
            flash(deleted_message(count, olt_names), "success")
        else:
            flash("No se eliminó ninguna ONU: las seleccionadas ya no existen.", "warning")

    # --- "Purgar ausentes de esta OLT" -------------------------------------------------

    @expose("/purgar-ausentes/", methods=("GET", "POST"))
    def purge_absent_view(self):
        """GET: what would go (count and first names) and the confirmation form; POST
        (CSRF-checked): purge, one audit row, back to the list of that OLT."""
        form = PurgeAbsentForm(get_form_data(), olt=request.args.get("olt", ""))
        raw = str(form.olt.data or "").strip()
        olt = db.session.get(m.Olt, int(raw)) if raw.isdigit() else None
        if olt is None:
            flash("Elija una OLT existente (filtre la lista por OLT) para purgar sus "
                  "ONUs ausentes.", "error")
            return redirect(self.get_url(".index_view"))
        back = self.get_url(".index_view", flt0_olt_igual_a=olt.id)
        if request.method == "POST":
            if form.validate():
                name = olt.abreviatura
                try:
                    count = cleanup.purge_absent(olt.id, current_user.username)
                except Exception as exc:  # noqa: BLE001 - rolled back; reported in Spanish
                    db.session.rollback()
                    self.handle_view_exception(exc)
                    return redirect(back)
                if count:
                    flash(deleted_message(count, [name]), "success")
                else:
                    flash(f"{name} no tiene ONUs ausentes: no se eliminó nada.", "info")
                return redirect(back)
            if "csrf_token" in form and form.csrf_token.errors:
                flash(CSRF_MESSAGE, "error")
        absent = cleanup.absent_count(olt.id)
        present = db.session.scalar(sa.select(sa.func.count()).select_from(m.Onu).where(
            m.Onu.olt_id == olt.id, m.Onu.present.is_(True))) or 0
        return self.render("admin/onus/purge.html", form=form, olt=olt, absent=absent,
                           present=present, names=cleanup.absent_names(olt.id),
                           return_url=back)
