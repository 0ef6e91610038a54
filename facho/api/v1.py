"""`/api/v1/`: the REST API blueprint (flask-smorest), its token check, rate limit, call
log and problem-details errors. Registered by the app factory (app.py) only.

Every request of this blueprint: a bearer token (`facho.api.tokens`; a panel session
cookie is never looked at), then the token's rate limit (`facho.api.ratelimit`), then the
route's scope; the answer, error or not, is logged (`facho.api.calls`). The reads and
actions call the same domain functions as the panel (`executions.manual_run`).

The OpenAPI description (`/api/v1/openapi.json`) and its browsable page
(`/api/v1/docs`, Swagger UI served from the `swagger_ui_bundle` package) are public: they
describe the API and hold no data.
"""
from __future__ import annotations

import functools
import logging
import time
from datetime import UTC, datetime, timedelta

import marshmallow as ma
import redis as redis_lib
import sqlalchemy as sa
from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, g, jsonify, request, send_from_directory
from flask_smorest import Api, Blueprint
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from facho.api import calls, csv_export, metrics, olt_counts, problems, queries, ratelimit
from facho.api import schemas
from facho.api import serialize, tokens
from facho.extensions import db
from facho.executions.manual_run import rerun_pairs, run_jobs_now
from facho.inventory import onu_page
from facho.inventory.history import store as history
from facho.models import (FAILED, Brand, Execution, Incident, Olt, Onu, OnuEvent, SnmpJob,
                          User, utcnow)
from facho.monitoring import incidents
from facho.monitoring import trigger as alert_trigger
from facho.redis_conn import get_redis
from facho.scheduling import upcoming

log = logging.getLogger("facho.api")

PREFIX = "/api/v1"
READ, RUN, ADMIN = "lectura", "ejecutar", "administrar"
RAW_MAX_DAYS = 31
HOUR_MAX_DAYS = 400
DEFAULT_SPAN = timedelta(hours=24)

bp = Blueprint("api_v1", __name__, url_prefix=PREFIX,
               description="API REST de Facho (tokens de API; errores RFC 9457 en español).")

# Swagger UI's files, from the swagger_ui_bundle wheel (Apache-2.0), so the docs page works
# without Internet access.
assets = FlaskBlueprint("api_docs_assets", __name__, url_prefix=f"{PREFIX}/docs/assets")

SETTINGS = {
    "API_TITLE": "Facho API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": f"{PREFIX}/docs/assets/",
    "API_SPEC_OPTIONS": {
        "security": [{"token": []}],
        "components": {"securitySchemes": {"token": {
            "type": "http", "scheme": "bearer",
            "description": "Token de API creado en el panel (Administración > Tokens de "
                           "API): `Authorization: Bearer facho_…`."}}},
        "info": {"description": "Inventario de ONUs, OLTs, ejecuciones y tareas de Facho. "
                                "Errores: application/problem+json (RFC 9457) en español."},
    },
}
PUBLIC_BLUEPRINTS = ("api-docs", "api_docs_assets")


class FachoApi(Api):
    """flask-smorest's Api, except that errors are handled by the API blueprint only: the
    default handler would turn the panel's own 403/404 pages into JSON."""

    ERROR_SCHEMA = schemas.Problem

    def _register_error_handlers(self):
        pass


@assets.route("/<path:filename>")
def swagger_asset(filename):
    from swagger_ui_bundle import swagger_ui_path
    return send_from_directory(str(swagger_ui_path), filename, max_age=86400)


# --- errors ------------------------------------------------------------------------------

class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, *, kind: str | None = None,
                 errors: list[dict] | None = None, headers: dict | None = None,
                 messages: list[dict] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.errors, self.headers, self.messages = errors, headers or {}, messages


def problem_response(status: int, detail: str, *, kind=None, errors=None, headers=None,
                     messages=None) -> Response:
    body = problems.problem(status, detail, instance=request.path, errors=errors, kind=kind)
    if messages:
        body["mensajes"] = messages
    response = Response(problems.dumps(body), status=status, mimetype=problems.MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.errorhandler(ApiProblem)
def _on_problem(exc: ApiProblem):
    return problem_response(exc.status, exc.detail, kind=exc.kind, errors=exc.errors,
                            headers=exc.headers, messages=exc.messages)


HTTP_DETAILS = {
    400: "La solicitud no se pudo leer (¿JSON mal formado?).",
    404: "No existe ese recurso en la API. Vea /api/v1/docs.",
    405: "Método no permitido en esta ruta.",
    415: "Envíe el cuerpo como application/json.",
}


@bp.errorhandler(HTTPException)
def _on_http(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    headers = dict(data.get("headers") or {})
    messages = data.get("messages") or data.get("errors")
    if exc.code in (400, 422) and messages:
        errors = problems.field_errors(messages)
        return problem_response(422, problems.detail_for_fields(errors), kind="datos-invalidos",
                                errors=errors, headers=headers)
    detail = HTTP_DETAILS.get(exc.code, problems.TITLES.get(exc.code or 500, "Error"))
    return problem_response(exc.code or 500, detail, headers=headers)


@bp.errorhandler(Exception)
def _on_error(exc: Exception):
    db.session.rollback()
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        log.warning("event=api_database_down error=%s", type(exc).__name__)
        return problem_response(503, "La base de datos no responde. Qué hacer: reintente "
                                     "en unos segundos (Retry-After); si sigue, avise al "
                                     "administrador de Facho.",
                                headers={"Retry-After": "30"})
    if isinstance(exc, redis_lib.RedisError):
        log.warning("event=api_redis_down error=%s", type(exc).__name__)
        return problem_response(503, "Redis no responde. Qué hacer: reintente en unos "
                                     "segundos (Retry-After); si sigue, avise al "
                                     "administrador de Facho.",
                                headers={"Retry-After": "30"})
    log.exception("event=api_error route=%s", request.path)
    return problem_response(500, "Error interno: el detalle quedó registrado en el servidor.")


# --- every request: token, rate limit, scope; then the call log ------------------------

def needs(scope: str):
    """The scope a route requires (`administrar` grants every scope)."""
    def mark(view):
        view.api_scope = scope
        return view
    return mark


@bp.before_request
def _authenticate():
    g.api_started = time.monotonic()
    g.api_token = None
    found = tokens.authenticate(tokens.bearer_of(request.headers.get("Authorization")))
    if isinstance(found, tokens.Refusal):
        db.session.rollback()
        raise ApiProblem(401, found.detail, kind="token-invalido",
                         headers={"WWW-Authenticate": 'Bearer realm="facho"'})
    g.api_token = found
    user_id, token_id, scopes = found.user_id, found.id, found.scope_set
    db.session.commit()   # last_used_at
    limit = current_app.config["FACHO"].api_rate_per_minute
    verdict = ratelimit.check(get_redis(), token_id, limit)
    g.api_rate = verdict
    if not verdict.allowed:
        raise ApiProblem(429, f"Se superó el límite de {limit} solicitudes por minuto de este "
                              f"token; reintente en {verdict.retry_after_s} s.",
                         kind="limite-de-solicitudes",
                         headers={"Retry-After": str(verdict.retry_after_s)})
    view = current_app.view_functions.get(request.endpoint)
    needed = getattr(view, "api_scope", ADMIN)   # a route without a scope: admins only
    if not tokens.grants(scopes, needed):
        raise ApiProblem(403, f"El token no tiene el alcance «{needed}» que requiere esta "
                              f"ruta (tiene: {', '.join(sorted(scopes))}).",
                         kind="alcance-insuficiente")
    g.api_user_id = user_id


@bp.after_request
def _log_call(response):
    verdict = g.get("api_rate")
    if verdict is not None and verdict.limit:
        response.headers["X-RateLimit-Limit"] = str(verdict.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, verdict.limit - verdict.used))
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    if request.endpoint == "api_v1.not_found":
        rule = request.path
    elapsed = time.monotonic() - g.get("api_started", time.monotonic())
    calls.record(g.get("api_token"), request.method, rule, response.status_code,
                 int(elapsed * 1000))
    return response


def _not_found(rest=None):
    raise ApiProblem(404, HTTP_DETAILS[404])


_not_found.api_scope = READ
# a plain Flask rule (not in the OpenAPI description): unknown paths under /api/v1 answer
# a problem document instead of the panel's HTML 404
FlaskBlueprint.add_url_rule(bp, "/<path:rest>", "not_found", _not_found,
                            methods=["GET", "POST", "PUT", "PATCH", "DELETE"])

ERRORS = {401: "Falta el token, o es inválido, revocado o vencido.",
          403: "El token no tiene el alcance necesario.",
          429: "Límite de solicitudes del token superado (vea Retry-After)."}


def documented(*codes):
    """Document the problem answers a route may give besides 401/403/429."""
    def wrap(view):
        for code in sorted({401, 403, 429, *codes}):
            view = bp.alt_response(code, schema=schemas.Problem,
                                   description=ERRORS.get(code, problems.TITLES[code]),
                                   content_type=problems.MEDIA_TYPE)(view)
        return view
    return wrap


def limit_of(args) -> int:
    return min(args["limite"], current_app.config["FACHO"].api_page_max)


# --- reads -------------------------------------------------------------------------------

@bp.route("/olts")
@bp.response(200, schemas.OltList)
@documented()
@needs(READ)
def list_olts():
    """OLTs con sus cantidades de ONUs (total, presentes, ausentes, por estado), contadas
    hace a lo sumo 30 s (`contadas_en`)."""
    counted_at, counts = olt_counts.current(get_redis())
    rows = db.session.execute(
        sa.select(Olt.id, Olt.abreviatura, Olt.ip_address, Olt.snmp_port, Olt.snmp_version,
                  Olt.modelo, Olt.descripcion, Olt.habilitar_olt, Brand.nombre)
        .outerjoin(Brand, Brand.id == Olt.brand_id).order_by(Olt.abreviatura)).all()
    # answered as built, not dumped again through OltList: the dicts have the schema's
    # fields and types already (serialize), and at 1,000 OLTs the second pass cost more
    # than everything else (the OpenAPI client test validates this answer on the schema)
    return jsonify({"items": [serialize.olt(o, o.nombre, counts.get(o.id)) for o in rows],
                    "contadas_en": serialize.iso(datetime.fromtimestamp(counted_at, UTC))})


def _onu_filter(args) -> queries.OnuFilter:
    return queries.OnuFilter(q=args.get("q"), olt=args.get("olt"), slot=args.get("slot"),
                             port=args.get("puerto"), status=args.get("estado"),
                             present=args.get("presente"), rx_min=args.get("rx_min"),
                             rx_max=args.get("rx_max"))


@bp.route("/onus")
@bp.arguments(schemas.OnuListArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.OnuPage)
@documented(422)
@needs(READ)
def list_onus(args):
    """ONUs de todas las OLTs: búsqueda, filtros y paginación por cursor (`siguiente`)."""
    rows, cursor = queries.page_of(queries.onu_select(_onu_filter(args)), Onu.id,
                                   args.get("despues_de"), limit_of(args))
    return {"items": [serialize.onu(row.Onu, row.olt_name) for row in rows],
            "siguiente": cursor}


@bp.route("/onus.csv")
@bp.arguments(schemas.OnuFilterArgs, location="query", unknown=ma.RAISE)
@bp.response(200, description="CSV (UTF-8) de las ONUs filtradas, en flujo.",
             content_type="text/csv")
@documented(422)
@needs(READ)
def export_onus(args):
    """Inventario de ONUs en CSV (mismos filtros que /onus, sin paginar)."""
    fetch = csv_export.select_fetcher(csv_export.ONU_COLUMNS, Onu.id,
                                      queries.onu_conditions(_onu_filter(args)))
    return csv_export.streamed_response("onus", csv_export.ONU_COLUMNS, fetch)


@bp.route("/onus/<int:onu_id>")
@bp.arguments(schemas.HistoryArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.OnuDetail)
@documented(404, 422)
@needs(READ)
def get_onu(args, onu_id):
    """Una ONU con el historial de una métrica (lecturas o resúmenes por hora)."""
    row = db.session.execute(queries.onu_select(queries.OnuFilter())
                             .where(Onu.id == onu_id)).first()
    if row is None:
        raise ApiProblem(404, f"No existe la ONU {onu_id}.")
    end = args.get("hasta") or utcnow()
    start = args.get("desde") or end - DEFAULT_SPAN
    resolution = args["resolucion"]
    limit_days = RAW_MAX_DAYS if resolution == "raw" else HOUR_MAX_DAYS
    field_error = None
    if start >= end:
        field_error = ("desde", "Debe ser anterior a «hasta».")
    elif end - start > timedelta(days=limit_days):
        field_error = ("desde", f"Con resolucion={resolution} el rango admite hasta "
                                f"{limit_days} días" + (" (use resolucion=hour)."
                                                        if resolution == "raw" else "."))
    if field_error:
        errors = [{"campo": field_error[0], "ubicacion": "consulta", "mensaje": field_error[1]}]
        raise ApiProblem(422, problems.detail_for_fields(errors), kind="datos-invalidos",
                         errors=errors)
    points = history.series(onu_id, args["metrica"], start, end, resolution)
    if resolution == "raw":
        out = [{"t": serialize.iso(t), "valor": v} for t, v in points]
    else:
        out = [{"t": serialize.iso(t), "min": lo, "prom": avg, "max": hi, "n": n}
               for t, lo, avg, hi, n in points]
    return {"onu": serialize.onu(row.Onu, row.olt_name), "metricas": onu_page.metrics_of(onu_id),
            "historial": {"metrica": args["metrica"], "resolucion": resolution,
                          "desde": serialize.iso(start), "hasta": serialize.iso(end),
                          "puntos": out}}


@bp.route("/eventos")
@bp.arguments(schemas.EventListArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.EventPage)
@documented(422)
@needs(READ)
def list_events(args):
    """Eventos de las ONUs (cambios de estado con su causa, apariciones y ausencias, saltos
    de potencia, movidas), del más nuevo al más viejo; paginación por cursor."""
    where = queries.EventFilter(olt=args.get("olt"), slot=args.get("slot"),
                                port=args.get("puerto"), onu=args.get("onu"),
                                kind=args.get("tipo"), since=args.get("desde"))
    rows, cursor = queries.page_of(queries.event_select(where), OnuEvent.id,
                                   args.get("despues_de"), limit_of(args), descending=True)
    return {"items": [serialize.event(row.OnuEvent, row.onu_name, row.olt_name)
                      for row in rows], "siguiente": cursor}


def _execution_filter(args) -> queries.ExecutionFilter:
    return queries.ExecutionFilter(
        status=args.get("estado"), job=args.get("tarea"), olt=args.get("olt"),
        requested_by=args.get("solicitada_por"), origin=args.get("origen"),
        created_from=args.get("desde"), created_to=args.get("hasta"))


def _execution_out(row) -> dict:
    return serialize.execution(row.Execution, row.job_name, row.olt_name, row.username,
                               row.job_type)


@bp.route("/ejecuciones")
@bp.arguments(schemas.ExecutionListArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.ExecutionPage)
@documented(422)
@needs(READ)
def list_executions(args):
    """Ejecuciones, las más nuevas primero (filtros como en el panel)."""
    rows, cursor = queries.page_of(queries.execution_select(_execution_filter(args)),
                                   Execution.id, args.get("despues_de"), limit_of(args),
                                   descending=True)
    return {"items": [_execution_out(row) for row in rows], "siguiente": cursor}


@bp.route("/ejecuciones.csv")
@bp.arguments(schemas.ExecutionFilterArgs, location="query", unknown=ma.RAISE)
@bp.response(200, description="CSV (UTF-8) de las ejecuciones filtradas, en flujo.",
             content_type="text/csv")
@documented(422)
@needs(READ)
def export_executions(args):
    """Ejecuciones en CSV (mismos filtros que /ejecuciones, sin paginar)."""
    fetch = csv_export.select_fetcher(
        csv_export.EXECUTION_COLUMNS, Execution.id,
        queries.execution_conditions(_execution_filter(args)))
    return csv_export.streamed_response("ejecuciones", csv_export.EXECUTION_COLUMNS, fetch)


@bp.route("/ejecuciones/<int:execution_id>")
@bp.response(200, schemas.ExecutionOut)
@documented(404)
@needs(READ)
def get_execution(execution_id):
    """Una ejecución, con su resultado."""
    row = db.session.execute(queries.execution_select(queries.ExecutionFilter())
                             .where(Execution.id == execution_id)).first()
    if row is None:
        raise ApiProblem(404, f"No existe la ejecución {execution_id}.")
    return _execution_out(row)


@bp.route("/tareas")
@bp.arguments(schemas.JobListArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.JobList)
@documented(422)
@needs(READ)
def list_jobs(args):
    """Tareas SNMP con su programación y cuántas OLTs tienen."""
    stmt = sa.select(SnmpJob).order_by(SnmpJob.nombre)
    if args.get("habilitada") is not None:
        stmt = stmt.where(SnmpJob.enabled.is_(args["habilitada"]))
    if args.get("tipo"):
        stmt = stmt.where(SnmpJob.job_type == args["tipo"])
    hosts = queries.host_counts()
    jobs = db.session.execute(stmt).scalars().all()
    next_at = upcoming.next_slots(jobs)
    return {"items": [serialize.job(j, hosts.get(j.id, 0), next_at[j.id]) for j in jobs]}


# --- actions -----------------------------------------------------------------------------

def _report_answer(report, what: str):
    """A manual_run.RunReport as the answer: 202 when something was queued; 503 when the
    broker refused everything; 409 when nothing could be queued (the messages say why)."""
    messages = [{"tipo": kind, "texto": text} for kind, text in report.messages()]
    if report.created:
        return {"ejecuciones": report.created, "tareas": report.jobs_run,
                "mensajes": messages}, 202
    if report.error:
        raise ApiProblem(503, report.error, messages=messages, headers={"Retry-After": "30"})
    detail = "; ".join(m["texto"] for m in messages if m["tipo"] == "warning") or what
    raise ApiProblem(409, detail, kind="nada-encolado", messages=messages)


def _session_safe(run):
    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise
    return wrapper


@bp.route("/tareas/ejecutar", methods=["POST"])
@bp.arguments(schemas.RunBody, unknown=ma.RAISE)
@bp.response(202, schemas.RunOut)
@documented(404, 409, 422, 503)
@needs(RUN)
@_session_safe
def run_now(body):
    """Ejecutar ahora (lo mismo que «🚀 Ejecutar tareas seleccionadas» del panel; la
    ejecución queda solicitada por el dueño del token)."""
    ids = sorted(set(body["tareas"]))
    found = set(db.session.execute(sa.select(SnmpJob.id).where(SnmpJob.id.in_(ids)))
                .scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApiProblem(404, "No existen las tareas: " + ", ".join(map(str, missing)) + ".",
                         errors=[{"campo": "tareas", "ubicacion": "cuerpo",
                                  "mensaje": f"No existe la tarea {i}."} for i in missing])
    return _report_answer(run_jobs_now(ids, g.api_user_id), "No se crearon ejecuciones.")


@bp.route("/ejecuciones/<int:execution_id>/reejecutar", methods=["POST"])
@bp.response(202, schemas.RunOut)
@documented(404, 409, 503)
@needs(RUN)
@_session_safe
def rerun(execution_id):
    """Re-ejecutar una ejecución fallida (como «🔁 Re-ejecutar» del panel)."""
    row = db.session.get(Execution, execution_id)
    if row is None:
        raise ApiProblem(404, f"No existe la ejecución {execution_id}.")
    if row.status != FAILED:
        raise ApiProblem(409, f"Solo se re-ejecutan ejecuciones fallidas; la {execution_id} "
                              f"está {row.status}.", kind="no-fallida")
    report = rerun_pairs({(row.job_id, row.olt_id)}, g.api_user_id)
    return _report_answer(report, "No se crearon ejecuciones.")


def _incident_filter(args) -> queries.IncidentFilter:
    return queries.IncidentFilter(state=args.get("estado"), olt=args.get("olt"),
                                  kind=args.get("tipo"), since=args.get("desde"))


@bp.route("/incidentes")
@bp.arguments(schemas.IncidentListArgs, location="query", unknown=ma.RAISE)
@bp.response(200, schemas.IncidentPage)
@documented(422)
@needs(READ)
def list_incidents(args):
    """Incidentes (los más nuevos primero), con los filtros del panel."""
    rows, cursor = queries.page_of(queries.incident_select(_incident_filter(args)), Incident.id,
                                   args.get("despues_de"), limit_of(args), descending=True)
    return {"items": [serialize.incident(row.Incident, row.olt_name) for row in rows],
            "siguiente": cursor}


@bp.route("/incidentes.csv")
@bp.arguments(schemas.IncidentFilterArgs, location="query", unknown=ma.RAISE)
@bp.response(200, description="CSV (UTF-8) de los incidentes filtrados, en flujo.",
             content_type="text/csv")
@documented(422)
@needs(READ)
def export_incidents(args):
    """Incidentes en CSV (mismos filtros que /incidentes, sin paginar)."""
    fetch = csv_export.select_fetcher(csv_export.INCIDENT_COLUMNS, Incident.id,
                                      queries.incident_conditions(_incident_filter(args)))
    return csv_export.streamed_response("incidentes", csv_export.INCIDENT_COLUMNS, fetch)


@bp.route("/incidentes/<int:incident_id>/reconocer", methods=["POST"])
@bp.arguments(schemas.AckBody, unknown=ma.RAISE)
@bp.response(200, schemas.IncidentOut)
@documented(404, 409, 422)
@needs(RUN)
@_session_safe
def acknowledge_incident(body, incident_id):
    """Reconocer un incidente abierto (lo mismo que «Reconocer» del panel: queda a nombre
    del dueño del token y avisa por los canales de su regla)."""
    row = db.session.get(Incident, incident_id)
    if row is None:
        raise ApiProblem(404, f"No existe el incidente {incident_id}.")
    user = db.session.get(User, g.api_user_id)
    note = (body.get("nota") or "").strip() or None
    if not incidents.acknowledge(incident_id, user.username, note, utcnow(),
                                 current_app.config["FACHO"].public_url):
        db.session.rollback()
        raise ApiProblem(409, f"El incidente {incident_id} no está abierto (está "
                              f"{db.session.get(Incident, incident_id).state}).",
                         kind="no-abierto")
    db.session.commit()
    alert_trigger.wake_delivery()
    row = db.session.get(Incident, incident_id, populate_existing=True)
    olt = db.session.get(Olt, row.olt_id) if row.olt_id else None
    return serialize.incident(row, olt.abreviatura if olt else None)


# --- Prometheus --------------------------------------------------------------------------

@bp.route("/metrics")
@bp.response(200, description="Métricas en formato de texto de Prometheus.",
             content_type="text/plain")
@documented()
@needs(READ)
def prometheus_metrics():
    """Métricas para Prometheus (un token con alcance «lectura»)."""
    return Response(metrics.render(get_redis()), mimetype=None,
                    content_type=metrics.CONTENT_TYPE)
