"""CSV export streamed in bounded memory: ONU inventory and executions.

Rows are read in keyset batches on the primary key (`BATCH` rows per query, plain column
tuples, nothing kept in the session's identity map), and written as CSV text chunks a
response streams out: memory holds one batch whatever the table's size, and no
transaction stays open between batches. Columns are an explicit list: an OLT's
community and SNMPv3 keys have no column here and cannot be exported.

UTF-8 with a BOM so a spreadsheet opens the accents right; times in UTC ISO 8601.
"""
from __future__ import annotations

import csv
import io
from typing import Callable, Iterable, Iterator

import sqlalchemy as sa
from flask import Response, stream_with_context

from facho.extensions import db
from facho.labels import STATUS_NAMES
from facho.models import Execution, Incident, Olt, Onu, SnmpJob, User, utcnow

BATCH = 2000
BOM = "\ufeff"


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    return str(value)


def _olt_name(model, model_olt_id):
    # correlated to the exported table only: a panel query that joined olts (its sort)
    # must not turn this into the outer row's join
    return (sa.select(Olt.abreviatura).where(Olt.id == model_olt_id).correlate(model)
            .scalar_subquery())


# (header, SQL expression, formatter)
ONU_COLUMNS = [
    ("id", Onu.id, _text), ("olt", _olt_name(Onu, Onu.olt_id), _text), ("onu", Onu.name, _text),
    ("indice", Onu.raw_index, _text), ("slot", Onu.slot, _text), ("puerto", Onu.port, _text),
    ("onu_id", Onu.onu_id, _text), ("serie", Onu.serial, _text),
    ("descripcion", Onu.descripcion, _text), ("estado", Onu.status, _text),
    ("presente", Onu.present, _text), ("distancia_km", Onu.distance_km, _text),
    ("rx_dbm", Onu.rx_power, _text), ("tx_dbm", Onu.tx_power, _text), ("mac", Onu.mac, _text),
    ("plan", Onu.plan, _text), ("modelo", Onu.modelo, _text),
    ("vista_primera_vez", Onu.first_seen_at, _iso), ("vista_ultima_vez", Onu.last_seen_at, _iso),
]

INCIDENT_COLUMNS = [
    ("id", Incident.id, _text), ("estado", Incident.state, _text),
    ("severidad", Incident.severity, _text), ("tipo", Incident.kind, _text),
    ("titulo", Incident.title, _text), ("olt", _olt_name(Incident, Incident.olt_id), _text),
    ("slot", Incident.slot, _text), ("puerto", Incident.port, _text),
    ("causa", Incident.cause, _text), ("onus_incluidas", Incident.onus_included, _text),
    ("alertas_suprimidas", Incident.onus_suppressed, _text),
    ("reaperturas", Incident.flapping_count, _text), ("abierto", Incident.opened_at, _iso),
    ("reconocido", Incident.acknowledged_at, _iso),
    ("reconocido_por", Incident.acknowledged_by, _text), ("nota", Incident.ack_note, _text),
    ("resuelto", Incident.resolved_at, _iso), ("resuelto_por", Incident.resolved_by, _text),
]

EXECUTION_COLUMNS = [
    ("id", Execution.id, _text),
    ("tarea", sa.select(SnmpJob.nombre).where(SnmpJob.id == Execution.job_id)
     .correlate(Execution).scalar_subquery(), _text),
    ("olt", _olt_name(Execution, Execution.olt_id), _text),
    ("estado", Execution.status, lambda v: STATUS_NAMES.get(v, _text(v))),
    ("turno", Execution.scheduled_for, lambda v: _iso(v) if v is not None else "manual"),
    ("solicitada_por", sa.select(User.username).where(User.id == Execution.requested_by_id)
     .correlate(Execution).scalar_subquery(), _text),
    ("intento", Execution.attempt, _text), ("creada", Execution.created_at, _iso),
    ("inicio", Execution.started_at, _iso), ("fin", Execution.finished_at, _iso),
    ("duracion_ms", Execution.duration_ms, _text), ("error", Execution.error_message, _text),
]


def batches(fetch: Callable[[int | None, int], list], batch: int = BATCH) -> Iterator[list]:
    """Keyset batches: `fetch(after_id, limit)` returns rows whose first value is the id,
    ascending; stops at the first short batch."""
    after = None
    while True:
        rows = fetch(after, batch)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def select_fetcher(columns, id_column, conditions=()) -> Callable[[int | None, int], list]:
    """A fetcher over a Core SELECT of `columns` filtered by `conditions` (the API)."""
    def fetch(after, limit):
        stmt = sa.select(*[expr for _, expr, _ in columns]).where(*conditions)
        if after is not None:
            stmt = stmt.where(id_column > after)
        rows = db.session.execute(stmt.order_by(id_column).limit(limit)).all()
        db.session.rollback()   # end the read transaction between batches
        return rows
    return fetch


def query_fetcher(query, columns, id_column) -> Callable[[int | None, int], list]:
    """A fetcher over an ORM query already filtered (the panel list's own filters)."""
    base = query.with_entities(*[expr for _, expr, _ in columns]).order_by(None)

    def fetch(after, limit):
        q = base if after is None else base.filter(id_column > after)
        rows = q.order_by(id_column).limit(limit).all()
        db.session.rollback()
        return rows
    return fetch


def csv_chunks(columns, row_batches: Iterable[list]) -> Iterator[str]:
    """The CSV text: a BOM and the header, then one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _, _ in columns])
    yield BOM + buffer.getvalue()
    formats = [fmt for _, _, fmt in columns]
    for rows in row_batches:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([fmt(value) for fmt, value in zip(formats, row)])
        yield buffer.getvalue()


def filename(kind: str, now) -> str:
    return f"facho-{kind}-{now:%Y%m%d-%H%M%S}.csv"


def streamed_response(kind: str, columns, fetch) -> Response:
    """The download answer of the API and the panel lists: `fetch`'s rows streamed in
    batches, named after `kind` and the UTC time."""
    body = stream_with_context(csv_chunks(columns, batches(fetch)))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename(kind, utcnow())}"')
    return response
