"""snmp_jobs.schedule_version: the tick's claim compares it (issue 9)

Revision ID: 3b9c1f0d7a21
Revises: ca18576e1f58
Create Date: 2026-11-25 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "3b9c1f0d7a21"
down_revision = "ca18576e1f58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("snmp_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_version", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade():
    with op.batch_alter_table("snmp_jobs", schema=None) as batch_op:
        batch_op.drop_column("schedule_version")
