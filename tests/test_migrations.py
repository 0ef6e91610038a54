"""Alembic migrations build the schema from empty, on SQLite and on PostgreSQL, and
match the models (a model change without its migration fails here)."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from facho.extensions import db
from facho.models import include_in_autogenerate
from tests.conftest import make_test_app


def _empty(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path, redis_url):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    app = make_test_app(url, tmp_path)
    _empty(app)
    yield app
    _empty(app)
    with app.app_context():
        db.engine.dispose()


def test_upgrade_from_empty_creates_every_table_with_named_constraints(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        inspector = sa.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert set(db.metadata.tables) <= tables
        uniques = {u["name"] for u in inspector.get_unique_constraints("executions")}
        assert "uq_executions_job_id_olt_id_scheduled_for" in uniques


def test_migrations_match_the_models(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": False, "include_object": include_in_autogenerate})
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_downgrade_to_base_and_up_again(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        downgrade(directory="migrations", revision="base")
        assert "executions" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory="migrations")
        assert "executions" in sa.inspect(db.engine).get_table_names()


# fillfactor is a PostgreSQL storage parameter: this one runs on PostgreSQL only
@pytest.mark.parametrize("empty_app", ["postgresql"], indirect=True)
def test_the_day_rows_of_the_time_series_leave_room_for_appends_on_postgresql(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        assert db.engine.dialect.name == "postgresql"
        with db.engine.connect() as conn:
            options = conn.execute(sa.text(
                "SELECT reloptions FROM pg_class WHERE relname = 'onu_metric_days'")).scalar()
        assert "fillfactor=50" in options


# the trigram index of the API's ONU search is created on PostgreSQL only
@pytest.mark.parametrize("empty_app", ["postgresql"], indirect=True)
def test_the_api_onu_search_is_served_by_the_trigram_index_on_postgresql(empty_app):
    from facho.api import queries
    from facho.models import Onu
    with empty_app.app_context():
        upgrade(directory="migrations")
        stmt = queries.onu_select(queries.OnuFilter(q="HWTC00")).order_by(Onu.id).limit(10)
        with db.engine.connect() as conn:
            conn.execute(sa.text("SET enable_seqscan = off"))   # a small table would scan
            plan = "\n".join(conn.execute(sa.text("EXPLAIN " + str(stmt.compile(
                conn, compile_kwargs={"literal_binds": True})))).scalars())
        assert "ix_onus_search_trgm" in plan
