"""Tareas por OLT: one row per job and OLT (job host). Rows are created and removed from
the job's form; here an operator switches one pair off (an OLT under maintenance) without
touching the job or the OLT, and sees how each pair is doing."""
from __future__ import annotations

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, IntEqualFilter

from admin.base import FachoModelView, ToggleActionsMixin, options_from
from facho import models as m


def olt_options():
    return options_from(lambda: sa.select(m.Olt.id, m.Olt.abreviatura).order_by(m.Olt.abreviatura))


def job_options():
    return options_from(lambda: sa.select(m.SnmpJob.id, m.SnmpJob.nombre)
                        .order_by(m.SnmpJob.nombre))


class JobHostView(ToggleActionsMixin, FachoModelView):
    toggle_attribute = "enabled"
    toggle_nouns = ("tarea por OLT", "tareas por OLT")
    can_create = False   # the job's form owns the OLT selection
    can_delete = False

    column_list = ("job", "olt", "enabled", "last_success_at", "last_failure_at",
                   "consecutive_failures")
    column_details_list = column_list
    column_sortable_list = ("enabled", "last_success_at", "last_failure_at",
                            "consecutive_failures", ("job", "job.nombre"),
                            ("olt", "olt.abreviatura"))
    column_default_sort = "id"
    column_filters = (
        IntEqualFilter(m.SnmpJobHost.job_id, "Tarea", options=job_options()),
        IntEqualFilter(m.SnmpJobHost.olt_id, "OLT", options=olt_options()),
        BooleanEqualFilter(m.SnmpJobHost.enabled, "Habilitada"),
    )
    column_labels = {
        "job": "Tarea", "olt": "OLT", "enabled": "Habilitada",
        "last_success_at": "Último éxito", "last_failure_at": "Último fallo",
        "consecutive_failures": "Fallos seguidos",
    }
    form_columns = ("enabled",)
