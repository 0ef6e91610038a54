"""Alembic migrations build the schema from empty, on SQLite and on PostgreSQL, and
match the models (a model change without its migration fails here)."""
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from facho.extensions import db
from facho.models import include_in_autogenerate
from facho.inventory.history import compact, partitions, samples, store
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
                "compare_type": False, "include_object": include_in_autogenerate,
                "include_name": lambda name, type_, _: not (
                    type_ == "table" and partitions.is_partition(name))})
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_downgrade_to_base_and_up_again(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        downgrade(directory="migrations", revision="base")
        assert "executions" not in sa.inspect(db.engine).get_table_names()
        upgrade(directory="migrations")
        assert "executions" in sa.inspect(db.engine).get_table_names()


# partitions and fillfactor are PostgreSQL's: this one runs on PostgreSQL only
@pytest.mark.parametrize("empty_app", ["postgresql"], indirect=True)
def test_raw_days_are_partitioned_by_day_and_open_ones_leave_room_for_appends(
        empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations")
        assert db.engine.dialect.name == "postgresql"
        created = partitions.prepare(db.engine, date(2026, 12, 7))
        assert created == partitions.AHEAD + 1
        with db.engine.connect() as conn:
            assert partitions.partitioned(conn, "onu_metric_days")
            assert not partitions.partitioned(conn, "onu_metric_hours")
            options = conn.execute(sa.text(
                "SELECT reloptions FROM pg_class WHERE relname = 'onu_metric_days_p20261207'")
            ).scalar()
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


BEFORE = "8c4e1b7a9f20-1"     # the revision before the history's day partitions


def _onu_at_an_old_revision(app) -> int:
    """One ONU written with the columns every revision has (the models may hold columns a
    later migration adds); its id."""
    created = datetime(2026, 11, 30, tzinfo=UTC).replace(tzinfo=None)
    with app.app_context(), db.engine.begin() as conn:
        brand = conn.execute(sa.text("INSERT INTO brands (nombre) VALUES ('Huawei') "
                                     "RETURNING id")).scalar()
        olt = conn.execute(sa.text(
            "INSERT INTO olts (abreviatura, ip_address, comunidad, brand_id, created_at) "
            "VALUES ('OLT-1', '10.0.0.1', 'publica', :brand, :at) RETURNING id"),
            {"brand": brand, "at": created}).scalar()
        return conn.execute(sa.text(
            "INSERT INTO onus (olt_id, raw_index, first_seen_at) VALUES (:olt, '1.1.1', :at) "
            "RETURNING id"), {"olt": olt, "at": created}).scalar()


def test_history_rows_survive_partitioning_and_rolled_up_days_read_back_after_downgrade(
        empty_app):
    """Rows written before the partitioning migration land in their day partitions; days
    re-encoded after it are written back as 7-byte records by its downgrade."""
    t0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
    with empty_app.app_context():
        upgrade(directory="migrations", revision=BEFORE)
    onu = _onu_at_an_old_revision(empty_app)
    written = [(t0 + timedelta(hours=7 * i), -20.0 - i / 100) for i in range(10)]
    with empty_app.app_context():
        store.append([(onu, "rx_power", t, v) for t, v in written])
        db.session.commit()
        db.session.remove()
        upgrade(directory="migrations")
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "postgresql":
                assert set(partitions.existing(conn, "onu_metric_days")) == {
                    t.date() for t, _ in written}
        assert store.series(onu, "rx_power", t0, t0 + timedelta(days=5)) == written
        assert store.roll_up(t0 + timedelta(days=5)) == len({t.date() for t, _ in written})
        blobs = db.session.scalars(sa.text("SELECT samples FROM onu_metric_days")).all()
        assert all(compact.is_compact(b) for b in blobs)
        db.session.remove()
        downgrade(directory="migrations", revision=BEFORE)
        blobs = db.session.scalars(sa.text("SELECT samples FROM onu_metric_days")).all()
        assert not any(compact.is_compact(b) for b in blobs)
        assert sorted(r for b in blobs for r in samples.unpack(b)) == sorted(
            samples.bucket(t)[1:] + (v,) for t, v in written)
        db.session.remove()
BUDGET_BEFORE = "9a6e3d2b1c44-1"   # the revision before the polling budget


def test_the_polling_budget_migration_gives_existing_olts_the_plain_budget(empty_app):
    with empty_app.app_context():
        upgrade(directory="migrations", revision=BUDGET_BEFORE)
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
        downgrade(directory="migrations", revision=BUDGET_BEFORE)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("olts")}
        assert "max_repetitions" not in columns and "getnext_only" not in columns
