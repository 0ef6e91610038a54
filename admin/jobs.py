"""SNMP jobs: what runs, where (its OLTs, stored as job hosts) and when (interval or cron).

A job belongs to one brand, and so do its OLTs and OIDs (an OID without a brand fits any).
The form offers everything and the page's script greys out what does not fit the chosen
brand; the server checks again on submit, since the script is only a convenience.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app, g, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectMultipleField
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from flask_admin.form import Select2Widget
from flask_login import current_user
from wtforms.validators import NumberRange, Optional

from admin.base import FachoModelView, ToggleActionsMixin, brand_options
from admin.forms import checked
from admin.formatters import JOB_TYPE_LABELS, local_time, since_now
from admin.probe import olt_choices
from facho.scheduling import edits as lifecycle
from facho.scheduling import schedule
from facho.scheduling import upcoming
from facho import models as m
from facho.extensions import db
from facho.executions.manual_run import listed, run_jobs_now
from facho.validation import (validate_cron, validate_interval, validate_job_oids,
                              validate_name, validate_schedule_choice, validate_timezone)

log = logging.getLogger(__name__)

JOB_TYPE_CHOICES = list(JOB_TYPE_LABELS.items())
OVERLAP_POLICY = ("Si al llegar un turno la ejecución anterior de esta tarea sigue en curso "
                  "en esa OLT, ese turno se omite (queda «Omitida» con el motivo) y no se "
                  "encola otra: nunca corren dos a la vez en la misma OLT.")
MAX_OLTS_LISTED = 5
RUN_ACTION = "ejecutar"
RUN_CONFIRMATION = ("¿Ejecutar ahora las tareas seleccionadas? Se creará y encolará una "
                    "ejecución por cada OLT habilitada de cada tarea habilitada. "
                    "La programación de las tareas no cambia.")


def describe_job(job: m.SnmpJob) -> str:
    try:
        return schedule.describe(schedule.Schedule.build(
            interval_raw=job.interval_raw, cron_expr=job.cron_expr, cron_tz=job.cron_tz,
            anchor=job.anchor_at or m.utcnow()))
    except ValueError:  # a row written around the panel; show it as stored
        return job.interval_raw or job.cron_expr or "—"


def olt_names_by_job(job_ids: list[int]) -> dict[int, tuple[list[str], int]]:
    """{job id: (its first OLT names in order, how many OLTs it has)} in one query, so a
    list page costs the same with 5 or 2,000 OLTs per job (no query per job host)."""
    if not job_ids:
        return {}
    h, o = m.SnmpJobHost, m.Olt
    ranked = (sa.select(h.job_id, o.abreviatura,
                        sa.func.row_number().over(partition_by=h.job_id,
                                                  order_by=o.abreviatura).label("n"),
                        sa.func.count().over(partition_by=h.job_id).label("total"))
              .join(o, o.id == h.olt_id).where(h.job_id.in_(job_ids)).subquery())
    out: dict[int, tuple[list[str], int]] = {}
    for job_id, name, _, total in db.session.execute(
            sa.select(ranked).where(ranked.c.n <= MAX_OLTS_LISTED)
            .order_by(ranked.c.job_id, ranked.c.n)):
        out.setdefault(job_id, ([], total))[0].append(name)
    return out


def _olt_names(job: m.SnmpJob) -> str:
    on_page = job.id in g.get("job_ids_listed", ())
    by_job = g.job_olt_names if on_page else olt_names_by_job([job.id])
    names, total = by_job.get(job.id, ([], 0))
    return listed(names, total) if names else "(ninguna)"


def next_slot(job: m.SnmpJob):
    """The next slot of the job that has not run yet (facho.scheduling.upcoming)."""
    on_page = job.id in g.get("job_ids_listed", ())
    pending = (g.job_next_pending if on_page else upcoming.pending_by_job([job.id])).get(job.id)
    return upcoming.next_slot(job.next_run_at, pending)


def _next_run(view, context, job, name):
    return local_time(next_slot(job)) if job.enabled else "—"


def _remaining(view, context, job, name):
    return since_now(next_slot(job)) if job.enabled else "deshabilitada"


def _olt_label(olt: m.Olt) -> str:
    return f"{olt.abreviatura} ({olt.brand.nombre})"


class OltSelectionField(QuerySelectMultipleField):
    """The job's OLTs. Not a model attribute: on_model_change turns it into job hosts."""

    def populate_obj(self, obj, name):
        pass


def min_interval_s() -> int:
    return current_app.config["FACHO"].min_interval_s


def claim_after_save(job_ids: list[int]) -> None:
    """After the edit committed: claim the jobs' slots that fall before the next minute
    tick now (and send what is due), so a new or edited job does not wait for it. A
    failure here loses nothing: the tick claims them, late but inside its catch-up window."""
    from facho.scheduling import claim
    try:
        claim.claim_jobs(job_ids, m.utcnow())
    except Exception as exc:  # noqa: BLE001 - Redis or database trouble: the tick catches up
        db.session.rollback()
        log.warning("event=claim_after_save_failed jobs=%s error=%r", job_ids, exc)


class JobView(ToggleActionsMixin, FachoModelView):
    toggle_attribute = "enabled"
    toggle_nouns = ("tarea", "tareas")
    create_template = "admin/jobs/create.html"
    edit_template = "admin/jobs/edit.html"

    column_list = ("nombre", "brand", "job_type", "schedule", "olts", "enabled",
                   "next_run_at", "remaining", "last_run_at")
    column_details_list = ("nombre", "descripcion", "brand", "job_type", "oids", "olts",
                           "schedule", "interval_raw", "cron_expr", "cron_tz", "enabled",
                           "max_retries", "retry_delay_seconds", "anchor_at", "next_run_at",
                           "remaining", "last_run_at", "missed_slots", "created_at",
                           "updated_at")
    column_default_sort = "nombre"
    column_searchable_list = ("nombre", "descripcion")
    column_filters = (
        IntEqualFilter(m.SnmpJob.brand_id, "Marca", options=brand_options()),
        FilterEqual(m.SnmpJob.job_type, "Tipo", options=JOB_TYPE_CHOICES),
        BooleanEqualFilter(m.SnmpJob.enabled, "Habilitada"),
    )
    column_formatters = {
        "schedule": lambda v, c, job, n: describe_job(job),
        "olts": lambda v, c, job, n: _olt_names(job),
        "job_type": lambda v, c, job, n: JOB_TYPE_LABELS.get(job.job_type, job.job_type),
        "remaining": _remaining,
        "next_run_at": _next_run,
        "oids": lambda v, c, job, n: ", ".join(str(oid) for oid in job.oids) or "—",
    }
    column_formatters_detail = column_formatters
    column_labels = {
        "nombre": "Nombre", "descripcion": "Descripción", "brand": "Marca",
        "job_type": "Tipo", "oids": "OIDs", "olts": "OLTs", "schedule": "Programación",
        "interval_raw": "Intervalo", "cron_expr": "Expresión cron",
        "cron_tz": "Zona horaria (cron)", "enabled": "Habilitada",
        "max_retries": "Reintentos máximos", "retry_delay_seconds": "Espera entre reintentos (s)",
        "anchor_at": "Ancla de la programación", "next_run_at": "Próxima ejecución",
        "remaining": "Falta", "last_run_at": "Última ejecución",
        "missed_slots": "Ejecuciones perdidas", "created_at": "Creada",
        "updated_at": "Modificada",
    }
    column_descriptions = {
        "next_run_at": "Hora local del operador: el próximo turno que aún no se ejecutó.",
        "missed_slots": "Turnos que no corrieron (planificador detenido) y se agruparon.",
    }

    form_columns = ("nombre", "descripcion", "brand", "job_type", "olts", "oids",
                    "interval_raw", "cron_expr", "cron_tz", "enabled", "max_retries",
                    "retry_delay_seconds")
    form_extra_fields = {
        "olts": OltSelectionField(
            "OLTs",
            query_factory=lambda: db.session.scalars(
                sa.select(m.Olt).order_by(m.Olt.abreviatura)).all(),
            get_label=_olt_label, widget=Select2Widget(multiple=True),
            description="Solo OLTs de la marca elegida."),
    }
    form_choices = {"job_type": JOB_TYPE_CHOICES}
    form_args = {
        "nombre": {"validators": [checked(lambda v: validate_name(v, "Nombre", 120))]},
        "descripcion": {"validators": [Optional()]},
        "oids": {"description": "Solo OIDs de la marca elegida o sin marca."},
        "interval_raw": {"validators": [Optional(), checked(
                             lambda v: validate_interval(v, min_interval_s()))],
                         "description": "Número y unidad: 30s, 5m, 2h, 1d (mínimo "
                                        "FACHO_MIN_INTERVAL_S, 10 s por omisión). "
                                        "Déjelo vacío si usa una expresión cron. "
                                        + OVERLAP_POLICY},
        "cron_expr": {"validators": [Optional()],
                      "description": "5 campos: minuto hora día mes día-semana "
                                     "(por ejemplo 0 2 * * *)."},
        "cron_tz": {"validators": [checked(validate_timezone)]},
        "max_retries": {"validators": [NumberRange(0, 10, "Debe estar entre 0 y 10.")]},
        "retry_delay_seconds": {
            "validators": [NumberRange(0, 3600, "Debe estar entre 0 y 3600 segundos.")]},
    }
    form_widget_args = {"descripcion": {"rows": 2}}
    unique_messages = {"nombre": "Ya existe una tarea con este nombre."}

    def get_list(self, *args, **kwargs):
        count, jobs = super().get_list(*args, **kwargs)
        # the page's OLT names in one query (the formatter would load every job host)
        g.job_ids_listed = {job.id for job in jobs}
        g.job_olt_names = olt_names_by_job(sorted(g.job_ids_listed))
        g.job_next_pending = upcoming.pending_by_job(g.job_ids_listed)
        return count, jobs

    # --- run now (DESIGN 6) -------------------------------------------------------------

    @action(RUN_ACTION, "🚀 Ejecutar tareas seleccionadas", RUN_CONFIRMATION)
    def action_run_now(self, ids):
        """Staff only (the view's access rule) and CSRF-checked (the action form and
        Flask-WTF) before this runs; every outcome is flashed in the seeds' words."""
        keys = [int(i) for i in ids if str(i).isdigit()]
        self.flash_report(lambda: run_jobs_now(keys, current_user.id))

    def init_actions(self):
        super().init_actions()
        # Flask-Admin lists actions by method name; the operator's main action goes first.
        self._actions.sort(key=lambda item: item[0] != RUN_ACTION)

    # --- form -------------------------------------------------------------------------

    def on_form_prefill(self, form, id):
        if request.method == "GET":  # after a failed submit, keep what the operator chose
            # one query, not one per job host (a job may run on thousands of OLTs)
            form.olts.data = db.session.scalars(
                sa.select(m.Olt).join(m.SnmpJobHost, m.SnmpJobHost.olt_id == m.Olt.id)
                .where(m.SnmpJobHost.job_id == int(id)).order_by(m.Olt.abreviatura)).all()

    def check_form(self, form) -> None:
        interval = (form.interval_raw.data or "").strip()
        cron = (form.cron_expr.data or "").strip()
        try:
            validate_schedule_choice(interval, cron)
        except ValueError as exc:
            form.interval_raw.errors.append(str(exc))
            form.cron_expr.errors.append(str(exc))
        if cron and not form.cron_tz.errors:
            zone = (form.cron_tz.data or "").strip() or current_app.config["FACHO"].timezone
            try:
                form.cron_expr.data, form.cron_tz.data = validate_cron(cron, zone)
            except ValueError as exc:
                form.cron_expr.errors.append(str(exc))
        for problem in validate_job_oids(form.job_type.data, form.oids.data):
            form.oids.errors.append(problem)
        brand = form.brand.data
        if brand is None:
            return
        for olt in form.olts.data or ():
            if olt.brand_id != brand.id:
                form.olts.errors.append(
                    f"La OLT {olt.abreviatura} es de la marca {olt.brand.nombre}, "
                    f"no de {brand.nombre}: quítela o cambie la marca de la tarea.")
        for oid in form.oids.data or ():
            if oid.brand_id is not None and oid.brand_id != brand.id:
                form.oids.errors.append(
                    f"El OID {oid.nombre} es de la marca {oid.brand.nombre}, "
                    f"no de {brand.nombre}.")

    def create_model(self, form):
        # Loading a relationship while the form is copied would autoflush and wipe the
        # attribute history plan_job reads to see whether the schedule changed.
        with db.session.no_autoflush:
            return super().create_model(form)

    def update_model(self, form, model):
        with db.session.no_autoflush:
            return super().update_model(form, model)

    def on_model_change(self, form, job, is_created):
        # The database allows exactly one of interval/cron and stores absence as NULL.
        job.interval_raw = (job.interval_raw or "").strip() or None
        job.cron_expr = (job.cron_expr or "").strip() or None
        job.cron_tz = (job.cron_tz or "").strip() or current_app.config["FACHO"].timezone
        lifecycle.plan_job(job, created=is_created)
        self._sync_job_hosts(job, form.olts.data or [])

    @staticmethod
    def _sync_job_hosts(job: m.SnmpJob, olts: list[m.Olt]) -> None:
        """Job hosts follow the OLT selection; kept ones keep their state and counters."""
        wanted = {olt.id: olt for olt in olts}
        for host in list(job.job_hosts):
            if host.olt_id not in wanted:
                job.job_hosts.remove(host)
                if sa.inspect(host).persistent:
                    db.session.delete(host)  # explicit, so the lifecycle listener sees it
        present = {host.olt_id for host in job.job_hosts}
        for olt_id, olt in wanted.items():
            if olt_id not in present:
                job.job_hosts.append(m.SnmpJobHost(olt=olt, enabled=True))

    def after_model_change(self, form, job, is_created):
        super().after_model_change(form, job, is_created)
        if job.enabled:
            claim_after_save([job.id])

    def set_flag(self, ids, value: bool) -> None:
        super().set_flag(ids, value)
        if value:
            claim_after_save([int(i) for i in ids if str(i).isdigit()])

    def on_toggled(self, jobs, value: bool) -> None:
        if value:  # time spent disabled is not "missed": start again from the grid
            for job in jobs:
                lifecycle.plan_job(job, created=False)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        brand_id = getattr(obj, "brand_id", None)
        if brand_id is not None:
            # Only OIDs that fit the job's brand (or any brand): the help says so, and
            # one brand's catalogue can hold hundreds of another's OIDs.
            form.oids.query_factory = lambda: db.session.scalars(
                sa.select(m.Oid).where(sa.or_(m.Oid.brand_id == brand_id,
                                              m.Oid.brand_id.is_(None)))
                .order_by(m.Oid.id)).all()
        return form

    def render(self, template, **kwargs):
        if template in (self.create_template, self.edit_template):
            kwargs["probar_url"] = url_for("probar.job")
            kwargs["probar_olts"] = olt_choices()
            kwargs["brand_map"] = {
                "olts": dict(db.session.execute(sa.select(m.Olt.id, m.Olt.brand_id)).all()),
                "oids": dict(db.session.execute(sa.select(m.Oid.id, m.Oid.brand_id)).all()),
            }
        return super().render(template, **kwargs)
