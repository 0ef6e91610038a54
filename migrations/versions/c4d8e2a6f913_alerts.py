"""Issue 13: alert rules, incidents, notification channels and their outbox

Revision ID: c4d8e2a6f913
Revises: 8c4e1b7a9f20
Create Date: 2026-12-07 16:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = "c4d8e2a6f913"
down_revision = "8c4e1b7a9f20"
branch_labels = None
depends_on = None

KINDS = ("kind IN ('onu_desconectada', 'rx_baja', 'degradacion', 'olt_inalcanzable', "
         "'pon_caida', 'pon_degradada')")
OPEN = "state IN ('abierto', 'reconocido')"


def upgrade():
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(80), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("resumen_diario", sa.Boolean(), server_default=sa.text("false"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("nombre", name=op.f("uq_notification_channels_nombre")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=True),
        sa.Column("olt_id", sa.Integer(), nullable=True),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(10), server_default="aviso", nullable=False),
        sa.Column("min_severity", sa.String(10), server_default="aviso", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_alert_rules_kind")),
        sa.CheckConstraint("scope IN ('todas', 'marca', 'olt', 'pon')",
                           name=op.f("ck_alert_rules_scope")),
        sa.CheckConstraint("severity IN ('aviso', 'critico')",
                           name=op.f("ck_alert_rules_severity")),
        sa.CheckConstraint("min_severity IN ('aviso', 'critico')",
                           name=op.f("ck_alert_rules_min_severity")),
        sa.CheckConstraint(
            "(scope = 'todas') OR (scope = 'marca' AND brand_id IS NOT NULL) OR "
            "(scope = 'olt' AND olt_id IS NOT NULL) OR "
            "(scope = 'pon' AND olt_id IS NOT NULL AND slot IS NOT NULL AND port IS NOT NULL)",
            name=op.f("ck_alert_rules_scope_keys")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"],
                                name=op.f("fk_alert_rules_brand_id_brands"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["olt_id"], ["olts.id"],
                                name=op.f("fk_alert_rules_olt_id_olts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("nombre", name=op.f("uq_alert_rules_nombre")),
    )
    op.create_table(
        "alert_rule_channels",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"],
                                name=op.f("fk_alert_rule_channels_rule_id_alert_rules"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["notification_channels.id"],
            name=op.f("fk_alert_rule_channels_channel_id_notification_channels"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id", "channel_id", name=op.f("pk_alert_rule_channels")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("severity", sa.String(10), server_default="aviso", nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("state", sa.String(12), server_default="abierto", nullable=False),
        sa.Column("olt_id", sa.Integer(), nullable=True),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("onu_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(255), server_default="", nullable=False),
        sa.Column("cause", sa.String(80), nullable=True),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("onus_included", sa.Integer(), server_default="0", nullable=False),
        sa.Column("onus_suppressed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("flapping_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("clear_since", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(80), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(80), nullable=True),
        sa.CheckConstraint("state IN ('abierto', 'reconocido', 'resuelto')",
                           name=op.f("ck_incidents_state")),
        sa.CheckConstraint(KINDS, name=op.f("ck_incidents_kind")),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"],
                                name=op.f("fk_incidents_rule_id_alert_rules"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["olt_id"], ["olts.id"], name=op.f("fk_incidents_olt_id_olts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["onu_id"], ["onus.id"], name=op.f("fk_incidents_onu_id_onus"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["parent_id"], ["incidents.id"],
                                name=op.f("fk_incidents_parent_id_incidents"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("uq_incidents_open_dedupe", "incidents", ["dedupe_key"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_incidents_dedupe_resolved", "incidents", ["dedupe_key", "resolved_at"])
    op.create_index("ix_incidents_state_olt", "incidents", ["state", "olt_id"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("transition", sa.String(20), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("title", sa.String(255), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(12), server_default="pendiente", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pendiente', 'enviando', 'enviado', 'fallido')",
                           name=op.f("ck_notification_outbox_status")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_notification_outbox_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["notification_channels.id"],
            name=op.f("fk_notification_outbox_channel_id_notification_channels"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("idempotency_key",
                            name=op.f("uq_notification_outbox_idempotency_key")),
    )
    op.create_index("ix_notification_outbox_status_next", "notification_outbox",
                    ["status", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_notification_outbox_status_next", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    for name in ("ix_incidents_opened_at", "ix_incidents_state_olt",
                 "ix_incidents_dedupe_resolved", "uq_incidents_open_dedupe"):
        op.drop_index(name, table_name="incidents")
    op.drop_table("incidents")
    op.drop_table("alert_rule_channels")
    op.drop_table("alert_rules")
    op.drop_table("notification_channels")
