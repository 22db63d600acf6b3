"""workspaces with members and roles, a job's workspace, tags on jobs, the workspace an
audio minute was charged to (services/workspaces, services/tags)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quota_monthly_minutes", sa.Float(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "workspace_members",
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
    )
    op.create_index("ix_workspace_members_user_id", "workspace_members", ["user_id"])
    op.create_table(
        "job_tags",
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("folded", sa.String(64), primary_key=True),
        sa.Column("tag", sa.String(64), nullable=False),
    )
    op.create_index("ix_job_tags_folded", "job_tags", ["folded"])
    # (kazru_stt.db.migrate turns SQLite's foreign keys off while migrating: rebuilding the
    # jobs table must not cascade into its children.)
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_jobs_workspace_id", "workspaces", ["workspace_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_jobs_workspace_id", ["workspace_id"])
    with op.batch_alter_table("audio_usage") as batch:
        batch.add_column(sa.Column("workspace_id", sa.Integer(), nullable=True))
        batch.create_index("ix_audio_usage_workspace_id", ["workspace_id"])


def downgrade() -> None:
    with op.batch_alter_table("audio_usage") as batch:
        batch.drop_index("ix_audio_usage_workspace_id")
        batch.drop_column("workspace_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_workspace_id")
        batch.drop_constraint("fk_jobs_workspace_id", type_="foreignkey")
        batch.drop_column("workspace_id")
    op.drop_table("job_tags")
    op.drop_table("workspace_members")
    op.drop_table("workspaces")
