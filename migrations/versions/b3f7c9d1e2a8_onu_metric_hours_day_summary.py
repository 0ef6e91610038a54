"""onu_metric_hours: the day folded into (min, avg, max, count), so a year's chart of an ONU
reads 365 numbers per series instead of decoding 8,760 hourly roll-ups (issue 12 scale)

Rows rolled up before this revision keep NULLs: the reader folds their hours as before, so
nothing is rewritten here (a year of roll-ups at the target is ~200 M rows).

Revision ID: b3f7c9d1e2a8
Revises: e3b7c1d9a5f2
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "b3f7c9d1e2a8"
down_revision = "e3b7c1d9a5f2"
branch_labels = None
depends_on = None

COLUMNS = (("day_min", sa.Float), ("day_avg", sa.Float), ("day_max", sa.Float),
           ("day_count", sa.Integer))


def upgrade():
    with op.batch_alter_table("onu_metric_hours", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind(), nullable=True))


def downgrade():
    with op.batch_alter_table("onu_metric_hours", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
