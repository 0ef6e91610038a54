"""A PON of an OLT whose ONUs the tests move up and down as a walk would leave them (state,
last down cause and an `estado` event at the walk's time), executions of the OLT, alert rules
and channels: rows through the factory module, times explicit (UTC)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from facho.extensions import db
from facho.models import (AlertRule, Incident, NotificationChannel, NotificationOutbox, Onu,
                          OnuEvent)
from facho.monitoring import evaluate, outbox
from tests import factories

UTC = timezone.utc
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PUBLIC = "https://noc.ejemplo.pe"
CAUSES = {"los": "LOS", "dying_gasp": "dying gasp"}


class Network:
    def __init__(self, app, onus=32, olt="OLT-NORTE", port=1):
        self.app = app
        self.brand_id = factories.add_brand(app)
        self.olt_id = factories.add_olt(app, self.brand_id, olt)
        self.onu_ids = factories.add_onus(app, self.olt_id, onus, port=port,
                                          status="en línea", rx_power=-20.0)
        self.job_id = factories.add_job(app, self.brand_id, [self.olt_id])

    def go_down(self, onu_ids, at, cause="los"):
        self._state(onu_ids, at, "desconectada", CAUSES.get(cause, cause))

    def come_back(self, onu_ids, at):
        self._state(onu_ids, at, "en línea", None)

    def _state(self, onu_ids, at, status, cause):
        with self.app.app_context():
            for onu in db.session.execute(sa.select(Onu).where(Onu.id.in_(onu_ids))).scalars():
                db.session.add(OnuEvent(onu_id=onu.id, olt_id=onu.olt_id, slot=onu.slot,
                                        port=onu.port, at=at, kind="estado",
                                        old_value=onu.status, new_value=status, cause=cause))
                onu.status = status
                if cause:
                    onu.last_down_cause = cause
            db.session.commit()

    def execution(self, status, at):
        return factories.add_execution(self.app, self.job_id, self.olt_id, status=status,
                                       started_at=at - timedelta(seconds=5), finished_at=at)

    def channel(self, url, nombre="Guardia"):
        return factories.add(self.app, NotificationChannel(nombre=nombre, url=url))

    def rule(self, kind, channel_ids=(), nombre=None, scope="todas", **params):
        with self.app.app_context():
            rule = AlertRule(nombre=nombre or kind, kind=kind, scope=scope, params=params,
                             severity=params.pop("severity", "critico"),
                             min_severity="aviso")
            if scope == "olt":
                rule.olt_id = self.olt_id
            rule.channels = [db.session.get(NotificationChannel, c) for c in channel_ids]
            db.session.add(rule)
            db.session.commit()
            return rule.id

    def evaluate(self, at, time_based_only=False):
        with self.app.app_context():
            return evaluate.evaluate_olt(self.olt_id, at, PUBLIC, time_based_only)

    def deliver(self, at=None):
        with self.app.app_context():
            return outbox.deliver_due(at)

    def incidents(self, **where):
        with self.app.app_context():
            rows = db.session.execute(sa.select(Incident).filter_by(**where)
                                      .order_by(Incident.id)).scalars().all()
            db.session.expunge_all()
            return rows

    def outbox(self):
        with self.app.app_context():
            rows = db.session.execute(sa.select(NotificationOutbox)
                                      .order_by(NotificationOutbox.id)).scalars().all()
            db.session.expunge_all()
            return rows
