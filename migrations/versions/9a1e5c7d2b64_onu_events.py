"""Issue 12 part 2: ONU events (state, presence, power, moves) and the vendor's last down
cause: onu_events, onus.last_down_cause, an index of executions by OLT and end;
oids.espacio may be 'causa_caida'

Revision ID: 9a1e5c7d2b64
Revises: 5d2f8a1c3e47
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa

OLD_ESPACIOS = ("espacio IN ('descubrimiento', 'descripcion', 'serial', 'estado', 'mac', "
                "'plan_onu', 'distancia_onu', 'modelo_onu', 'rx_power', 'tx_power', "
                "'metrica')")
NEW_ESPACIOS = OLD_ESPACIOS[:-1] + ", 'causa_caida')"

revision = "9a1e5c7d2b64"
down_revision = "5d2f8a1c3e47"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "onu_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onu_id", sa.Integer(), nullable=False),
        sa.Column("olt_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("old_value", sa.String(120), nullable=True),
        sa.Column("new_value", sa.String(120), nullable=True),
        sa.Column("cause", sa.String(80), nullable=True),
        sa.Column("execution_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["onu_id"], ["onus.id"], name=op.f("fk_onu_events_onu_id_onus"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["olt_id"], ["olts.id"], name=op.f("fk_onu_events_olt_id_olts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"],
                                name=op.f("fk_onu_events_execution_id_executions"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onu_events")),
    )
    op.create_index("ix_onu_events_onu_id_at", "onu_events", ["onu_id", "at"])
    op.create_index("ix_onu_events_olt_id_at", "onu_events", ["olt_id", "at"])
    op.create_index("ix_onu_events_at", "onu_events", ["at"])
    op.create_index("ix_executions_olt_finished", "executions", ["olt_id", "finished_at"])
    with op.batch_alter_table("onus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_down_cause", sa.String(80), nullable=True))
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_oids_espacio"), type_="check")
        batch_op.create_check_constraint("espacio", NEW_ESPACIOS)


def downgrade():
    op.execute("DELETE FROM snmp_job_oids WHERE oid_id IN (SELECT id FROM oids "
               "WHERE espacio = 'causa_caida')")
    op.execute("DELETE FROM oids WHERE espacio = 'causa_caida'")
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_oids_espacio"), type_="check")
        batch_op.create_check_constraint("espacio", OLD_ESPACIOS)
    op.drop_index("ix_executions_olt_finished", table_name="executions")
    with op.batch_alter_table("onus", schema=None) as batch_op:
        batch_op.drop_column("last_down_cause")
    for name in ("ix_onu_events_at", "ix_onu_events_olt_id_at", "ix_onu_events_onu_id_at"):
        op.drop_index(name, table_name="onu_events")
    op.drop_table("onu_events")
