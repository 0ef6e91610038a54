"""Which views the panel has, in menu order (registered in `admin.init_app`)."""
from __future__ import annotations

from admin.api_tokens import ApiCallView, ApiTokenView
from admin.alerts import AlertRuleView, NotificationChannelView
from admin.audit import AuditEventView
from admin.incidents import IncidentView, open_incidents_badge
from admin.catalog import BrandView, IndexFormulaView, OidView
from admin.executions import ExecutionView
from admin.inventory import OnuView
from admin.job_hosts import JobHostView
from admin.network import NetworkView
from admin.jobs import JobView
from admin.olts import OltView
from admin.probe import ProbeView
from facho import models as m

CONFIG = "Configuración"
ADMINISTRATION = "Administración"


def register(panel) -> None:
    panel.add_view(JobView(m.SnmpJob, name="Tareas SNMP", endpoint="snmp_jobs"))
    panel.add_view(ExecutionView(m.Execution, name="Ejecuciones", endpoint="executions"))
    panel.add_view(OltView(m.Olt, name="OLTs", endpoint="olts"))
    panel.add_view(OnuView(m.Onu, name="ONUs", endpoint="onus"))
    panel.add_view(NetworkView(name="Red", endpoint="red", url="/admin/red"))
    panel.add_view(IncidentView(m.Incident, name="Incidentes", endpoint="incidentes"))
    panel.add_view(AlertRuleView(m.AlertRule, name="Reglas de alerta", endpoint="reglas",
                                 category=CONFIG))
    panel.add_view(NotificationChannelView(m.NotificationChannel, name="Canales de aviso",
                                           endpoint="canales", category=CONFIG))
    panel.app.jinja_env.globals["open_incidents_badge"] = open_incidents_badge
    panel.add_view(JobHostView(m.SnmpJobHost, name="Tareas por OLT", endpoint="job_hosts",
                               category=CONFIG))
    panel.add_view(BrandView(m.Brand, name="Marcas", endpoint="brands", category=CONFIG))
    panel.add_view(OidView(m.Oid, name="OIDs", endpoint="oids", category=CONFIG))
    panel.add_view(IndexFormulaView(m.IndexFormula, name="Fórmulas de índice",
                                    endpoint="index_formulas", category=CONFIG))
    panel.add_view(AuditEventView(m.AuditEvent, name="Auditoría", endpoint="audit_events",
                                  category=ADMINISTRATION))
    panel.add_view(ApiTokenView(m.ApiToken, name="Tokens de API", endpoint="api_tokens",
                                category=ADMINISTRATION))
    panel.add_view(ApiCallView(m.ApiCall, name="Llamadas a la API", endpoint="api_calls",
                               category=ADMINISTRATION))
    panel.add_view(ProbeView(name="Probar", endpoint="probar", url="/admin/probar"))
