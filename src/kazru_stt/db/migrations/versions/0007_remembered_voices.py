"""voice memory: a per-user switch (off by default), each job speaker's voice and suggested
name (kept only when the owner turned memory on), and the voices users named

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("remember_voices", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("speakers") as batch:
        batch.add_column(sa.Column("voice", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("suggested_name", sa.String(100), nullable=True))
    op.create_table(
        "voices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.create_index("ix_voices_user_id", "voices", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_voices_user_id", "voices")
    op.drop_table("voices")
    with op.batch_alter_table("speakers") as batch:
        batch.drop_column("suggested_name")
        batch.drop_column("voice")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("remember_voices")
