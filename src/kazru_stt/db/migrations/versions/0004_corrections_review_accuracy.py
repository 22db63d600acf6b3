"""the machine's text kept beside edits, edit history, reviews and their error counts

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("machine", sa.JSON(), nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("eval_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "transcript_edits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("first_idx", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_transcript_edits_job_id", "transcript_edits", ["job_id"])
    op.create_table(
        "review_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("word_errors", sa.Integer(), nullable=False),
        sa.Column("ref_words", sa.Integer(), nullable=False),
        sa.Column("char_errors", sa.Integer(), nullable=False),
        sa.Column("ref_chars", sa.Integer(), nullable=False),
        sa.Column("language_right_s", sa.Float(), nullable=False),
    )
    op.create_index("ix_review_scores_job_id", "review_scores", ["job_id"])
    op.create_index("ix_review_scores_owner_id", "review_scores", ["owner_id"])
    op.create_index("ix_review_scores_reviewed_at", "review_scores", ["reviewed_at"])


def downgrade() -> None:
    op.drop_table("review_scores")
    op.drop_table("transcript_edits")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("eval_consent")
        batch.drop_column("reviewed_by")
        batch.drop_column("reviewed_at")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("machine")
