"""audio minutes as a ledger: one row per accepted recording, kept when the job is deleted
(the monthly quota was the sum over jobs that still existed, so deleting gave minutes back);
filled from the jobs there are

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audio_usage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audio_usage_user_id", "audio_usage", ["user_id"])
    op.create_index("ix_audio_usage_created_at", "audio_usage", ["created_at"])
    op.execute(
        "INSERT INTO audio_usage (user_id, job_id, seconds, created_at) "
        "SELECT owner_id, id, duration_s, created_at FROM jobs "
        "WHERE owner_id IS NOT NULL AND duration_s IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_audio_usage_created_at", "audio_usage")
    op.drop_index("ix_audio_usage_user_id", "audio_usage")
    op.drop_table("audio_usage")
