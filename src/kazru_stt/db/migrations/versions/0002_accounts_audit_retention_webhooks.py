"""accounts (roles, active flag, quotas), browser sessions, audit log, instance secrets,
retention and webhook delivery state on jobs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="user"))
        batch.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("quota_active_jobs", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quota_monthly_minutes", sa.Float(), nullable=True))
    op.execute("UPDATE users SET role = 'admin' WHERE is_admin")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")

    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("audio_deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("webhook_state", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("webhook_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("webhook_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("webhook_error", sa.String(255), nullable=True))
        batch.add_column(
            sa.Column("webhook_delivered_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_jobs_webhook_state", ["webhook_state"])

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor_id"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("instance_secrets")
    op.drop_table("audit_log")
    op.drop_table("web_sessions")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_webhook_state")
        for column in (
            "webhook_delivered_at",
            "webhook_error",
            "webhook_next_at",
            "webhook_attempts",
            "webhook_state",
            "audio_deleted_at",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default="0"))
    op.execute("UPDATE users SET is_admin = (role = 'admin')")
    with op.batch_alter_table("users") as batch:
        for column in ("quota_monthly_minutes", "quota_active_jobs", "last_login_at"):
            batch.drop_column(column)
        batch.drop_column("is_active")
        batch.drop_column("role")
