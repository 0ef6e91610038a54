"""The API's SELECTs (facho.api.queries): the search text never matches across two fields.
(That PostgreSQL serves it from the migration's trigram index: tests/test_migrations.py.)"""
from __future__ import annotations

from facho.api import queries
from facho.extensions import db
from tests.factories import add_brand, add_olt, add_onus


def test_a_search_matches_within_one_field_never_across_two(any_app):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-1")
    add_onus(any_app, olt, 1, serial="ABC", descripcion="DEF")
    with any_app.app_context():
        def found(q):
            return db.session.execute(queries.onu_select(queries.OnuFilter(q=q))).all()
        assert len(found("abc")) == 1 and len(found("def")) == 1 and len(found("0/1/1:1")) == 1
        assert found("CDE") == [] and found("ABCDEF") == []
