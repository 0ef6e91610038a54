"""Alembic migrations build the schema from empty, on SQLite and on PostgreSQL, and
match the models (a model change without its migration fails here)."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from facho.extensions import db
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
            context = MigrationContext.configure(conn, opts={"compare_type": False})
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


def test_the_polling_budget_migration_gives_existing_olts_the_plain_budget(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations", revision="5d2f8a1c3e47")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO brands (id, nombre) VALUES (1, 'Huawei')"))
            conn.execute(sa.text(
                "INSERT INTO olts (abreviatura, ip_address, comunidad, brand_id, created_at) "
                "VALUES ('OLT-VIEJA', '10.0.0.1', 'c', 1, CURRENT_TIMESTAMP)"))
        upgrade(directory="migrations")
        with db.engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT max_repetitions, max_requests_per_second, request_pause_ms, "
                "getnext_only FROM olts")).one()
        assert tuple(row) == (25, 0, 0, False)
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE olts SET max_repetitions = 0"))
        downgrade(directory="migrations", revision="5d2f8a1c3e47")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("olts")}
        assert "max_repetitions" not in columns and "getnext_only" not in columns
