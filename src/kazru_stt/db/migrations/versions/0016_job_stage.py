"""a job's stage while one runs apart (speakers found again on a completed job); the
recipe of its text, so the same recording is not recognised twice (services/reuse); the
models each worker holds (GET /api/v1/admin/workers)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("stage", sa.String(16), nullable=True))
    op.add_column("jobs", sa.Column("recipe", sa.String(64), nullable=True))
    op.create_index("ix_jobs_sha256_recipe", "jobs", ["sha256", "recipe"])
    op.add_column("workers", sa.Column("models", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("models")
    op.drop_index("ix_jobs_sha256_recipe", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("recipe")
        batch.drop_column("stage")
