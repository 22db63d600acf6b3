"""account ids are never reused, and each account has a random salt for its derived
secrets: on SQLite the users table is rebuilt with AUTOINCREMENT, counting on from the
highest id any account ever had (the audit trail remembers erased ones); PostgreSQL's
sequence never goes back

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # (kazru_stt.db.migrate turns SQLite's foreign keys off while migrating: rebuilding the
    # users table must not cascade into its children.)
    with op.batch_alter_table(
        "users",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True} if sqlite else {},
    ) as batch:
        batch.add_column(sa.Column("secret_salt", sa.String(32), nullable=True))
    if sqlite:
        op.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'users', 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users')"
        )
        op.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, "
            "coalesce((SELECT max(id) FROM users), 0), "
            "coalesce((SELECT max(actor_id) FROM audit_log), 0)) WHERE name = 'users'"
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("secret_salt")
