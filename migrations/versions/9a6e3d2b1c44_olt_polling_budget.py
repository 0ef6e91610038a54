"""olts: the polling budget (max_repetitions, max_requests_per_second, request_pause_ms,
getnext_only) (issue 15)

Revision ID: 9a6e3d2b1c44
Revises: d7e1f3a5b9c2
Create Date: 2026-12-07 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "9a6e3d2b1c44"
down_revision = "d7e1f3a5b9c2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_repetitions", sa.Integer(), server_default="25",
                                      nullable=False))
        batch_op.add_column(sa.Column("max_requests_per_second", sa.Integer(),
                                      server_default="0", nullable=False))
        batch_op.add_column(sa.Column("request_pause_ms", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("getnext_only", sa.Boolean(),
                                      server_default=sa.text("false"), nullable=False))
        batch_op.create_check_constraint("max_repetitions_range",
                                         "max_repetitions BETWEEN 1 AND 100")
        batch_op.create_check_constraint("max_requests_per_second_positive",
                                         "max_requests_per_second >= 0")
        batch_op.create_check_constraint("request_pause_ms_positive", "request_pause_ms >= 0")


def downgrade():
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_olts_request_pause_ms_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_olts_max_requests_per_second_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_olts_max_repetitions_range"), type_="check")
        batch_op.drop_column("getnext_only")
        batch_op.drop_column("request_pause_ms")
        batch_op.drop_column("max_requests_per_second")
        batch_op.drop_column("max_repetitions")
