"""marshmallow schemas of the API: the parameters it accepts (validated, Spanish errors)
and the bodies it answers (they document the OpenAPI description)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f

from facho.api.fields import (Bool, Float, Instant, Int, IntList, Schema, Str, between,
                              length, one_of)
from facho.inventory.events.kinds import KINDS as EVENT_KINDS
from facho.models import ALERT_KINDS, INCIDENT_STATES, STATUSES

MAX_LIMIT = 1000   # see Config.api_page_max; the schema's own ceiling for the docs


# --- parameters --------------------------------------------------------------------------

class PageArgs(Schema):
    despues_de = Int(validate=between(0, 2**31 - 1), metadata={
        "description": "Cursor: el valor `siguiente` de la página anterior."})
    limite = Int(load_default=100, validate=between(1, MAX_LIMIT),
                 metadata={"description": "Filas por página (1-1000; por omisión 100)."})


class OnuFilterArgs(Schema):
    q = Str(validate=length(1, 100), metadata={
        "description": "Texto en la serie, la descripción o el nombre (todas las OLTs)."})
    olt = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la OLT."})
    slot = Int(validate=between(0, 100000), metadata={"description": "PON: slot."})
    puerto = Int(validate=between(0, 100000), metadata={"description": "PON: puerto."})
    estado = Str(validate=length(1, 40), metadata={"description": "Estado tal como se "
                                                                  "guarda (online, offline…)."})
    presente = Bool(metadata={"description": "true: presentes; false: ausentes."})
    rx_min = Float(validate=between(-100, 100), metadata={"description": "dBm, inclusive."})
    rx_max = Float(validate=between(-100, 100), metadata={"description": "dBm, inclusive."})

    @ma.validates_schema
    def _range(self, data, **kwargs):
        low, high = data.get("rx_min"), data.get("rx_max")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("Debe ser menor o igual que rx_max.", "rx_min")


class OnuListArgs(OnuFilterArgs, PageArgs):
    pass


class HistoryArgs(Schema):
    metrica = Str(load_default="rx_power", validate=length(1, 64), metadata={
        "description": "rx_power, tx_power, distancia_onu u otra métrica guardada."})
    desde = Instant(metadata={"description": "Inicio (UTC si no lleva zona); por omisión "
                                             "24 h antes de `hasta`."})
    hasta = Instant(metadata={"description": "Fin, excluido; por omisión ahora."})
    resolucion = Str(load_default="raw", validate=one_of(("raw", "hour")), metadata={
        "description": "raw: cada lectura; hour: min/prom/max por hora."})


class ExecutionFilterArgs(Schema):
    estado = Str(validate=one_of(STATUSES))
    tarea = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la tarea."})
    olt = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la OLT."})
    solicitada_por = Int(validate=between(1, 2**31 - 1),
                         metadata={"description": "Id del usuario."})
    origen = Str(validate=one_of(("manual", "programada")))
    desde = Instant(metadata={"description": "Creada desde (inclusive)."})
    hasta = Instant(metadata={"description": "Creada hasta (inclusive)."})

    @ma.validates_schema
    def _range(self, data, **kwargs):
        if data.get("desde") and data.get("hasta") and data["desde"] > data["hasta"]:
            raise ma.ValidationError("Debe ser anterior o igual a «hasta».", "desde")


class ExecutionListArgs(ExecutionFilterArgs, PageArgs):
    pass


class EventFilterArgs(Schema):
    olt = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la OLT."})
    slot = Int(validate=between(0, 100000), metadata={"description": "PON: slot."})
    puerto = Int(validate=between(0, 100000), metadata={"description": "PON: puerto."})
    onu = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la ONU."})
    tipo = Str(validate=one_of(EVENT_KINDS), metadata={
        "description": "estado, presencia, potencia o movida."})
    desde = Instant(metadata={"description": "Ocurridos desde (inclusive, UTC si no lleva "
                                             "zona)."})


class EventListArgs(EventFilterArgs, PageArgs):
    pass


class IncidentFilterArgs(Schema):
    estado = Str(validate=one_of(INCIDENT_STATES))
    olt = Int(validate=between(1, 2**31 - 1), metadata={"description": "Id de la OLT."})
    tipo = Str(validate=one_of(ALERT_KINDS))
    desde = Instant(metadata={"description": "Abiertos desde (inclusive)."})


class IncidentListArgs(IncidentFilterArgs, PageArgs):
    pass


class AckBody(Schema):
    nota = Str(validate=length(0, 1000), metadata={"description": "Nota opcional."})


class JobListArgs(Schema):
    habilitada = Bool()
    tipo = Str(validate=one_of(("descubrimiento", "get")))


class RunBody(Schema):
    tareas = IntList(required=True, validate=length(1, 1000), metadata={
        "description": "Ids de las tareas a ejecutar ahora (como «Ejecutar» del panel)."})


# --- answers -----------------------------------------------------------------------------

class Ref(ma.Schema):
    id = f.Integer()
    abreviatura = f.String(allow_none=True)


class Counts(ma.Schema):
    total = f.Integer()
    presentes = f.Integer()
    ausentes = f.Integer()
    por_estado = f.Dict(keys=f.String(), values=f.Integer())


class OltOut(ma.Schema):
    id = f.Integer()
    abreviatura = f.String()
    ip = f.String()
    puerto_snmp = f.Integer()
    version_snmp = f.String()
    marca = f.String(allow_none=True)
    modelo = f.String()
    descripcion = f.String()
    habilitada = f.Boolean()
    onus = f.Nested(Counts)


class OltList(ma.Schema):
    items = f.List(f.Nested(OltOut))
    contadas_en = f.String(metadata={
        "description": "Cuándo se contaron las ONUs de `onus` (UTC, ISO 8601): las "
                       "cantidades se recuentan a lo sumo cada 30 s."})


class OnuOut(ma.Schema):
    id = f.Integer()
    olt = f.Nested(Ref)
    nombre = f.String(allow_none=True)
    indice = f.String()
    slot = f.Integer(allow_none=True)
    puerto = f.Integer(allow_none=True)
    onu_id = f.Integer(allow_none=True)
    serie = f.String(allow_none=True)
    descripcion = f.String(allow_none=True)
    estado = f.String(allow_none=True)
    presente = f.Boolean()
    distancia_km = f.Float(allow_none=True)
    rx_dbm = f.Float(allow_none=True)
    tx_dbm = f.Float(allow_none=True)
    mac = f.String(allow_none=True)
    plan = f.String(allow_none=True)
    modelo = f.String(allow_none=True)
    vista_primera_vez = f.String(allow_none=True)
    vista_ultima_vez = f.String(allow_none=True)


class OnuPage(ma.Schema):
    items = f.List(f.Nested(OnuOut))
    siguiente = f.Integer(allow_none=True, metadata={
        "description": "Cursor de la página siguiente (`despues_de`); null en la última."})


class History(ma.Schema):
    metrica = f.String()
    resolucion = f.String()
    desde = f.String()
    hasta = f.String()
    puntos = f.List(f.Dict(), metadata={
        "description": "raw: {t, valor}; hour: {t, min, prom, max, n}. t en UTC."})


class OnuDetail(ma.Schema):
    onu = f.Nested(OnuOut)
    metricas = f.List(f.String(), metadata={"description": "Métricas con historial."})
    historial = f.Nested(History)


class JobRef(ma.Schema):
    id = f.Integer()
    nombre = f.String(allow_none=True)
    tipo = f.String(allow_none=True)


class ExecutionOut(ma.Schema):
    id = f.Integer()
    tarea = f.Nested(JobRef)
    olt = f.Nested(Ref)
    estado = f.String()
    estado_texto = f.String()
    turno = f.String(allow_none=True)
    manual = f.Boolean()
    solicitada_por = f.String(allow_none=True)
    intento = f.Integer()
    creada = f.String(allow_none=True)
    inicio = f.String(allow_none=True)
    fin = f.String(allow_none=True)
    duracion_ms = f.Integer(allow_none=True)
    error = f.String(allow_none=True)
    resultado = f.Raw(allow_none=True)


class ExecutionPage(ma.Schema):
    items = f.List(f.Nested(ExecutionOut))
    siguiente = f.Integer(allow_none=True)


class OnuRef(ma.Schema):
    id = f.Integer()
    nombre = f.String(allow_none=True)


class EventOut(ma.Schema):
    id = f.Integer()
    onu = f.Nested(OnuRef)
    olt = f.Nested(Ref)
    pon = f.String(allow_none=True)
    t = f.String()
    tipo = f.String()
    anterior = f.String(allow_none=True)
    nuevo = f.String(allow_none=True)
    causa = f.String(allow_none=True)
    texto = f.String()
    ejecucion = f.Integer(allow_none=True)


class EventPage(ma.Schema):
    items = f.List(f.Nested(EventOut))
    siguiente = f.Integer(allow_none=True)


class IncidentOut(ma.Schema):
    id = f.Integer()
    tipo = f.String()
    severidad = f.String()
    estado = f.String()
    titulo = f.String()
    causa = f.String(allow_none=True)
    olt = f.Nested(Ref)
    pon = f.String(allow_none=True)
    onu = f.Integer(allow_none=True)
    onus_incluidas = f.Integer()
    alertas_suprimidas = f.Integer()
    abierto = f.String()
    reconocido = f.String(allow_none=True)
    reconocido_por = f.String(allow_none=True)
    nota = f.String(allow_none=True)
    resuelto = f.String(allow_none=True)
    resuelto_por = f.String(allow_none=True)


class IncidentPage(ma.Schema):
    items = f.List(f.Nested(IncidentOut))
    siguiente = f.Integer(allow_none=True)


class JobOut(ma.Schema):
    id = f.Integer()
    nombre = f.String()
    descripcion = f.String()
    tipo = f.String()
    tipo_texto = f.String()
    marca = f.String(allow_none=True)
    intervalo = f.String(allow_none=True)
    cron = f.String(allow_none=True)
    zona_cron = f.String(allow_none=True)
    habilitada = f.Boolean()
    olts = f.Integer()
    proxima_ejecucion = f.String(allow_none=True)
    ultima_ejecucion = f.String(allow_none=True)
    turnos_perdidos = f.Integer()


class JobList(ma.Schema):
    items = f.List(f.Nested(JobOut))


class Message(ma.Schema):
    tipo = f.String(metadata={"description": "success, info, warning o error"})
    texto = f.String()


class RunOut(ma.Schema):
    ejecuciones = f.List(f.Integer(), metadata={"description": "Ids creados y encolados."})
    tareas = f.List(f.String(), metadata={"description": "Tareas que se encolaron."})
    mensajes = f.List(f.Nested(Message), metadata={
        "description": "Los mismos mensajes que muestra el panel, en el mismo orden."})


class FieldError(ma.Schema):
    campo = f.String()
    ubicacion = f.String()
    mensaje = f.String()


class Problem(ma.Schema):
    """RFC 9457 problem details (application/problem+json)."""

    type = f.String()
    title = f.String()
    status = f.Integer()
    detail = f.String()
    instance = f.String()
    errores = f.List(f.Nested(FieldError))
    mensajes = f.List(f.Nested(Message))
