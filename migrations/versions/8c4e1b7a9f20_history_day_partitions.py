"""Issue 12 scale: on PostgreSQL onu_metric_days becomes partitioned by range of day (one
partition per UTC day, created by the hourly retention, plus a DEFAULT partition), so
retention drops a day's partition and a closed day is rewritten dense; the existing rows are
copied into partitions of their days. SQLite: nothing changes (the same logical schema;
retention deletes whole days). The hourly roll-ups stay one table (see
facho.inventory.history.partitions).

Revision ID: 8c4e1b7a9f20
Revises: 9a41c7e2b6d3
Create Date: 2026-12-07 16:00:00
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

revision = "8c4e1b7a9f20"
down_revision = "9a41c7e2b6d3"
branch_labels = None
depends_on = None

TABLES = {"onu_metric_days": ("samples", 50)}


def _create(name, blob, partitioned):
    op.create_table(
        name,
        sa.Column("onu_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(blob, sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["onu_id"], ["onus.id"], name=op.f(f"fk_{name}_onu_id_onus"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("onu_id", "metric", "day", name=op.f(f"pk_{name}")),
        **({"postgresql_partition_by": "RANGE (day)"} if partitioned else {}),
    )
    op.create_index(op.f(f"ix_{name}_day"), name, ["day"], unique=False)


def _set_aside(name):
    """Rename a table and its constraints and drop its day index: the new table takes the
    names."""
    op.execute(f"ALTER TABLE {name} RENAME TO {name}_old")
    op.execute(f"ALTER TABLE {name}_old RENAME CONSTRAINT pk_{name} TO pk_{name}_old")
    op.execute(f"ALTER TABLE {name}_old RENAME CONSTRAINT fk_{name}_onu_id_onus "
               f"TO fk_{name}_old_onu_id_onus")
    op.execute(f"DROP INDEX ix_{name}_day")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    conn = op.get_bind()
    for name, (blob, fillfactor) in TABLES.items():
        _set_aside(name)
        _create(name, blob, partitioned=True)
        op.execute(f"CREATE TABLE {name}_default PARTITION OF {name} DEFAULT")
        days = conn.execute(sa.text(f"SELECT DISTINCT day FROM {name}_old ORDER BY day")
                            ).scalars().all()
        for day in days:
            op.execute(f"CREATE TABLE {name}_p{day:%Y%m%d} PARTITION OF {name} FOR VALUES "
                       f"FROM ('{day}') TO ('{day + timedelta(days=1)}') "
                       f"WITH (fillfactor = {fillfactor})")
        op.execute(f"INSERT INTO {name} SELECT onu_id, metric, day, {blob} FROM {name}_old")
        op.drop_table(f"{name}_old")


def _raw_again():
    """Rows re-encoded by rolled-up days (a format the previous revision's code does not
    read) written back as 7-byte records. The one migration that needs the codec: it is
    imported here, not copied, so it decodes exactly what the code wrote."""
    from facho.inventory.history import compact, samples
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT onu_id, metric, day, samples FROM onu_metric_days")
                        ).all()
    for r in rows:
        if compact.is_compact(r.samples):
            conn.execute(sa.text("UPDATE onu_metric_days SET samples = :s WHERE onu_id = :o "
                                 "AND metric = :m AND day = :d"),
                         {"s": samples.pack_many(samples.unpack(r.samples)), "o": r.onu_id,
                          "m": r.metric, "d": r.day})


def downgrade():
    _raw_again()
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (blob, fillfactor) in TABLES.items():
        _set_aside(name)
        _create(name, blob, partitioned=False)
        if fillfactor != 100:
            op.execute(f"ALTER TABLE {name} SET (fillfactor = {fillfactor})")
        op.execute(f"INSERT INTO {name} SELECT onu_id, metric, day, {blob} FROM {name}_old")
        op.drop_table(f"{name}_old")      # its partitions go with it
