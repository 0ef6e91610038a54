"""The API's SELECTs (facho.api.queries): on PostgreSQL the ONU search is the expression of
the migration's trigram index, so at 1M ONUs it is an index scan, not seconds of sequential
scan; the search text never matches across two fields."""
from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from facho.api import queries
from facho.extensions import db
from facho.models import Onu
from tests.conftest import make_test_app
from tests.factories import add_brand, add_olt, add_onus


def _empty(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def test_the_search_uses_the_trigram_index_on_postgresql(pg_database_url, tmp_path, redis_url):
    app = make_test_app(pg_database_url, tmp_path)
    _empty(app)
    try:
        with app.app_context():
            upgrade(directory="migrations")
            stmt = queries.onu_select(queries.OnuFilter(q="HWTC00")).order_by(Onu.id).limit(10)
            with db.engine.connect() as conn:
                conn.execute(sa.text("SET enable_seqscan = off"))
                plan = "\n".join(conn.execute(sa.text("EXPLAIN " + str(stmt.compile(
                    conn, compile_kwargs={"literal_binds": True})))).scalars())
        assert "ix_onus_search_trgm" in plan
    finally:
        _empty(app)
        with app.app_context():
            db.engine.dispose()


def test_a_search_matches_within_one_field_never_across_two(any_app):
    brand = add_brand(any_app)
    olt = add_olt(any_app, brand, "OLT-1")
    add_onus(any_app, olt, 1, serial="ABC", descripcion="DEF")
    with any_app.app_context():
        def found(q):
            return db.session.execute(queries.onu_select(queries.OnuFilter(q=q))).all()
        assert len(found("abc")) == 1 and len(found("def")) == 1 and len(found("0/1/1:1")) == 1
        assert found("CDE") == [] and found("ABCDEF") == []
