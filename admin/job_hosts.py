"""Tareas por OLT: one row per job and OLT (job host). Rows are created and removed from
the job's form; here an operator switches one pair off (an OLT under maintenance) without
touching the job or the OLT, and sees how each pair is doing."""
from __future__ import annotations

from flask_admin.contrib.sqla.filters import BooleanEqualFilter

from admin.base import FachoModelView, ToggleActionsMixin
from admin.lists import AjaxEqualFilter, job_ref, olt_ref
from facho import models as m


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
    count_noun = "tareas por OLT"
    form_ajax_refs = {"job": job_ref(), "olt": olt_ref()}
    column_filters = (
        AjaxEqualFilter(m.SnmpJobHost.job_id, "Tarea", ref="job"),
        AjaxEqualFilter(m.SnmpJobHost.olt_id, "OLT", ref="olt"),
        BooleanEqualFilter(m.SnmpJobHost.enabled, "Habilitada"),
    )
    column_labels = {
        "job": "Tarea", "olt": "OLT", "enabled": "Habilitada",
        "last_success_at": "Último éxito", "last_failure_at": "Último fallo",
        "consecutive_failures": "Fallos seguidos",
    }
    form_columns = ("enabled",)
