"""settings an administrator changes while the service runs (services/runtime_settings);
their history is the audit log's; the stages each worker runs (`kazru worker --stages`);
the transcripts a job had before it was recognised again (services/versions)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(1000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
    )
    op.add_column("workers", sa.Column("stages", sa.String(32), nullable=True))
    op.create_table(
        "transcript_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("model", sa.String(255), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.UniqueConstraint("job_id", "number"),
    )
    op.create_index("ix_transcript_versions_job_id", "transcript_versions", ["job_id"])


def downgrade() -> None:
    op.drop_table("transcript_versions")
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("stages")
    op.drop_table("runtime_settings")
