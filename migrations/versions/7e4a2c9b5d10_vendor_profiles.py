"""Issue 11: SNMPv3 per OLT, value rules per OID, string index formulas, audit events,
ONU states as long as the vendors' Spanish labels, raw indexes as long as a serial key

Revision ID: 7e4a2c9b5d10
Revises: 3b9c1f0d7a21
Create Date: 2026-12-07 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "7e4a2c9b5d10"
down_revision = "3b9c1f0d7a21"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('linear', 'bitshift', 'dotted')"
NEW_KINDS = "kind IN ('linear', 'bitshift', 'dotted', 'string')"
OLD_VERSIONS = "snmp_version IN ('v1', 'v2c')"
NEW_VERSIONS = "snmp_version IN ('v1', 'v2c', 'v3')"


def _text(name, length):
    return sa.Column(name, sa.String(length), nullable=False, server_default="")


def upgrade():
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.add_column(_text("v3_usuario", 80))
        batch_op.add_column(_text("v3_auth_proto", 10))
        batch_op.add_column(_text("v3_auth_clave", 255))
        batch_op.add_column(_text("v3_priv_proto", 10))
        batch_op.add_column(_text("v3_priv_clave", 255))
        batch_op.drop_constraint(op.f("ck_olts_snmp_version"), type_="check")
        batch_op.create_check_constraint("snmp_version", NEW_VERSIONS)
        batch_op.create_check_constraint("v3_auth_proto", "v3_auth_proto IN ('', 'md5', 'sha1')")
        batch_op.create_check_constraint("v3_priv_proto", "v3_priv_proto IN ('', 'des', 'aes')")
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regex", sa.String(255), nullable=True))
        batch_op.add_column(_text("sin_valor", 255))
        batch_op.add_column(_text("unidad", 20))
        batch_op.add_column(sa.Column("escala", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("desplazamiento", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("decimales", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("etiquetas", sa.JSON(), nullable=True))
        batch_op.create_check_constraint("unidad", "unidad IN ('', 'mw', 'uw', 'decimas_uw')")
    with op.batch_alter_table("index_formulas", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_index_formulas_kind"), type_="check")
        batch_op.create_check_constraint("kind", NEW_KINDS)
    with op.batch_alter_table("onus", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(20), type_=sa.String(40))
        batch_op.alter_column("raw_index", existing_type=sa.String(64), type_=sa.String(255),
                              existing_nullable=False)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(120), nullable=False, server_default=""),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
    with op.batch_alter_table("onus", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(40), type_=sa.String(20))
        batch_op.alter_column("raw_index", existing_type=sa.String(255), type_=sa.String(64),
                              existing_nullable=False)
    with op.batch_alter_table("index_formulas", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_index_formulas_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_KINDS)
    with op.batch_alter_table("oids", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_oids_unidad"), type_="check")
        for column in ("etiquetas", "decimales", "desplazamiento", "escala", "unidad",
                       "sin_valor", "regex"):
            batch_op.drop_column(column)
    with op.batch_alter_table("olts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_olts_v3_priv_proto"), type_="check")
        batch_op.drop_constraint(op.f("ck_olts_v3_auth_proto"), type_="check")
        batch_op.drop_constraint(op.f("ck_olts_snmp_version"), type_="check")
        batch_op.create_check_constraint("snmp_version", OLD_VERSIONS)
        for column in ("v3_priv_clave", "v3_priv_proto", "v3_auth_clave", "v3_auth_proto",
                       "v3_usuario"):
            batch_op.drop_column(column)
