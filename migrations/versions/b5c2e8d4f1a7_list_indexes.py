"""Panel lists at ISP scale (issue 15, part 5): indexes that serve the executions list
filtered by OLT and the ONU list's order (whole, by state, absent ones)

Revision ID: b5c2e8d4f1a7
Revises: 9a6e3d2b1c44
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "b5c2e8d4f1a7"
down_revision = "9a6e3d2b1c44"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_executions_olt_created", "executions", ["olt_id", "created_at"])
    op.create_index("ix_onus_position", "onus", ["olt_id", "slot", "port", "onu_id"])
    op.create_index("ix_onus_status_position", "onus",
                    ["status", "olt_id", "slot", "port", "onu_id"])
    op.create_index("ix_onus_absent_position", "onus", ["olt_id", "slot", "port", "onu_id"],
                    sqlite_where=sa.text("NOT present"), postgresql_where=sa.text("NOT present"))


def downgrade():
    op.drop_index("ix_onus_absent_position", table_name="onus")
    op.drop_index("ix_onus_status_position", table_name="onus")
    op.drop_index("ix_onus_position", table_name="onus")
    op.drop_index("ix_executions_olt_created", table_name="executions")
