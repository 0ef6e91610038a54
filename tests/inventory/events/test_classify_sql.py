"""The SQL twins of the state rule agree with it on every label Facho ships (both
databases): the PON counts and the ONU page never disagree about an ONU."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.events.classify import (OFFLINE, ONLINE, is_offline_sql, is_online_sql,
                                             state_class)
from facho.inventory.value_rules import STATE_LABELS
from facho.labels import ONU_STATUS_NAMES
from facho.models import Onu
from tests.factories import add_brand, add_olt, add_onus

pytestmark = pytest.mark.usefixtures("redis_url")
LABELS = sorted({label for labels in STATE_LABELS.values() for label in labels.values()}
                | set(ONU_STATUS_NAMES))


def test_every_shipped_state_label_is_classified_the_same_in_sql(any_app):
    olt = add_olt(any_app, add_brand(any_app))
    for n, label in enumerate(LABELS, start=1):
        add_onus(any_app, olt, 1, first=n, status=label)
    with any_app.app_context():
        rows = db.session.execute(sa.select(Onu.status, is_online_sql(Onu.status),
                                            is_offline_sql(Onu.status))).all()
    assert len(rows) == len(LABELS)
    for status, online, offline in rows:
        expected = state_class(status)
        assert (bool(online), bool(offline)) == (expected == ONLINE, expected == OFFLINE), \
            status
