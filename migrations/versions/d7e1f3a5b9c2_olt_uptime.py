"""An OLT's uptime as last read and the last reboot it showed (olts.uptime_s, uptime_at,
rebooted_at): the alerts' settle period after a reboot

Revision ID: d7e1f3a5b9c2
Revises: c4d8e2a6f913
Create Date: 2026-12-07 17:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "d7e1f3a5b9c2"
down_revision = "c4d8e2a6f913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uptime_s", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("uptime_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("rebooted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.drop_column("rebooted_at")
        batch_op.drop_column("uptime_at")
        batch_op.drop_column("uptime_s")
