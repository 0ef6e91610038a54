"""onus: finer planner statistics for the search expression (issue 14 benchmark)

The search (`q`) is `search_text ILIKE '%…%' ORDER BY id LIMIT n`. PostgreSQL chooses
between the trigram index (then a sort) and walking the primary key until n rows match,
from its estimate of how many rows match, taken from the histogram of the indexed
expression. With the default 100 histogram buckets one sampled serial that happens to
match makes a rare piece of a serial look like 1 % of the table, and the primary-key walk
then filtered 441,000 rows for 101 (1.4 s at 1M ONUs). With 1,000 buckets the estimate of
a rare piece stays rare (trigram index: 5 ms) and a common word still takes the walk.
ANALYZE of `onus` samples 300,000 rows instead of 30,000 (about 10 s at 1M ONUs); the
new target counts from the next one (autovacuum's), not run by the migration.

Revision ID: e3b7c1d9a5f2
Revises: b5c2e8d4f1a7
Create Date: 2026-12-07 19:40:00
"""
from alembic import op

revision = "e3b7c1d9a5f2"
down_revision = "b5c2e8d4f1a7"
branch_labels = None
depends_on = None

STATISTICS = 1000


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # used from the next ANALYZE of onus: autovacuum's, soon on a table the polling
    # rewrites (or `ANALYZE onus` by hand); not run here, so the migration stays instant
    op.execute(f"ALTER INDEX ix_onus_search_trgm ALTER COLUMN 1 SET STATISTICS {STATISTICS}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_onus_search_trgm ALTER COLUMN 1 SET STATISTICS -1")
