"""ONUs: the inventory discovery jobs keep. Read-only: the OLT is the source of truth and
the next discovery would overwrite any hand edit."""
from __future__ import annotations

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import (BooleanEqualFilter, FilterEqual,
                                              IntEqualFilter)

from admin import formatters as fmt
from admin.base import FachoModelView
from admin.job_hosts import olt_options
from facho import models as m


def _dbm(view, context, onu, name):
    value = getattr(onu, name)
    return "—" if value is None else f"{value:.2f} dBm"


def _km(view, context, onu, name):
    return "—" if onu.distance_km is None else f"{onu.distance_km:.3f} km"


def _onu_status_options():
    """The states present in the inventory, labelled in Spanish (the value stays the code);
    nothing while Flask-Admin builds the view outside any app (see options_from)."""
    from flask import has_app_context
    from facho.extensions import db
    if not has_app_context():
        return []
    codes = db.session.execute(sa.select(m.Onu.status).where(m.Onu.status.isnot(None))
                               .distinct().order_by(m.Onu.status)).scalars().all()
    return [(code, fmt.onu_status_label(code)) for code in codes]


class OnuView(FachoModelView):
    can_create = False
    can_edit = False
    can_delete = False

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
        IntEqualFilter(m.Onu.olt_id, "OLT", options=olt_options()),
        IntEqualFilter(m.Onu.slot, "Slot"),
        IntEqualFilter(m.Onu.port, "Puerto"),
        FilterEqual(m.Onu.status, "Estado", options=_onu_status_options),
        BooleanEqualFilter(m.Onu.present, "Presente"),
    )
    column_formatters = {"rx_power": _dbm, "tx_power": _dbm, "distance_km": _km,
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
