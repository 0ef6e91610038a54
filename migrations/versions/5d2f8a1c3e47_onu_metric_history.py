"""Issue 12 part 1: ONU readings as a time series: onu_metric_days (a day of raw samples
per ONU and metric) and onu_metric_hours (a day of hourly roll-ups) replace onu_readings
(a table of strings; its rows are not converted: they were text, with no metric rules);
oids.espacio may be 'metrica' (a numeric value kept only in the history)

Revision ID: 5d2f8a1c3e47
Revises: 7e4a2c9b5d10
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa

OLD_ESPACIOS = ("espacio IN ('descubrimiento', 'descripcion', 'serial', 'estado', 'mac', "
                "'plan_onu', 'distancia_onu', 'modelo_onu', 'rx_power', 'tx_power')")
NEW_ESPACIOS = OLD_ESPACIOS[:-1] + ", 'metrica')"

revision = "5d2f8a1c3e47"
down_revision = "7e4a2c9b5d10"
branch_labels = None
depends_on = None


def _series_table(name, blob):
    op.create_table(
        name,
        sa.Column("onu_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(blob, sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["onu_id"], ["onus.id"], name=op.f(f"fk_{name}_onu_id_onus"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("onu_id", "metric", "day", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_day"), name, ["day"], unique=False)


def upgrade():
    _series_table("onu_metric_days", "samples")
    _series_table("onu_metric_hours", "hours")
    if op.get_bind().dialect.name == "postgresql":
        # every append rewrites its day row: free room on the page lets PostgreSQL keep the
        # new version there (HOT) and prune the old one without waiting for VACUUM; measured
        # on 1,000 ONUs x 3 metrics x 2 days: 13.6 bytes/sample instead of 36.9
        op.execute("ALTER TABLE onu_metric_days SET (fillfactor = 50)")
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_oids_espacio"), type_="check")
        batch_op.create_check_constraint("espacio", NEW_ESPACIOS)
    with op.batch_alter_table("onu_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onu_readings_read_at"))
    op.drop_table("onu_readings")


def downgrade():
    op.execute("DELETE FROM snmp_job_oids WHERE oid_id IN (SELECT id FROM oids "
               "WHERE espacio = 'metrica')")
    op.execute("DELETE FROM oids WHERE espacio = 'metrica'")
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_oids_espacio"), type_="check")
        batch_op.create_check_constraint("espacio", OLD_ESPACIOS)
    op.create_table(
        "onu_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onu_id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.Integer(), nullable=True),
        sa.Column("espacio", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"],
                                name=op.f("fk_onu_readings_execution_id_executions"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["onu_id"], ["onus.id"], name=op.f("fk_onu_readings_onu_id_onus"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onu_readings")),
    )
    with op.batch_alter_table("onu_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_onu_readings_read_at"), ["read_at"], unique=False)
    for name in ("onu_metric_hours", "onu_metric_days"):
        op.drop_index(op.f(f"ix_{name}_day"), table_name=name)
        op.drop_table(name)
