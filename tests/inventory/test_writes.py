"""Inventory writers of one OLT take its write lock before they read what exists, so two
discoveries of the same OLT never both see "no ONUs" and collide on insert."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from facho.extensions import db
from facho.inventory.writes import lock_olt
from tests.factories import make_olt, seed_catalog


def _other_writer_is_refused(app, olt_id) -> bool:
    """True when a second connection cannot take the OLT's write lock without waiting."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        finally:
            other.close()
    olts = sa.table("olts", sa.column("id"))
    with db.engine.connect() as other:
        try:
            other.execute(sa.select(olts.c.id).where(olts.c.id == olt_id)
                          .with_for_update(key_share=True, nowait=True))
            return False
        except sa.exc.OperationalError as exc:
            assert "could not obtain lock" in str(exc)
            return True
        finally:
            other.rollback()


def test_locking_an_olt_keeps_a_second_writer_out_until_the_first_commits(any_app):
    with any_app.app_context():
        seed_catalog()
        olt_id = make_olt("OLT-LOCK", 16100, "publica")
        db.session.commit()
        assert not _other_writer_is_refused(any_app, olt_id)
        lock_olt(olt_id)
        assert _other_writer_is_refused(any_app, olt_id)
        db.session.commit()
        assert not _other_writer_is_refused(any_app, olt_id)


pytestmark = pytest.mark.usefixtures("redis_url")
