"""Panel views (registered in `admin.init_app`)."""
from __future__ import annotations

from flask_admin.form import SecureForm

from admin.security import StaffModelView
from facho.extensions import db
from facho import models as m


class SecureView(StaffModelView):
    form_base_class = SecureForm


def register(panel) -> None:
    panel.add_view(SecureView(m.Brand, db.session, name="Marcas", endpoint="brands"))
    panel.add_view(SecureView(m.Olt, db.session, name="OLTs", endpoint="olts"))
    panel.add_view(SecureView(m.Oid, db.session, name="OIDs", endpoint="oids"))
    panel.add_view(SecureView(m.IndexFormula, db.session, name="Fórmulas de índice",
                              endpoint="index_formulas"))
    panel.add_view(SecureView(m.SnmpJob, db.session, name="Tareas SNMP", endpoint="snmp_jobs"))
    panel.add_view(SecureView(m.Execution, db.session, name="Ejecuciones", endpoint="executions"))
    panel.add_view(SecureView(m.Onu, db.session, name="ONUs", endpoint="onus"))
