"""every word the search index holds, in a table of its own, so a query's word start is
asked as the words it begins (db/search_index.py); filled from the index there is

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID")
        op.execute(
            "CREATE VIRTUAL TABLE temp.search_vocab USING fts5vocab(main, search_index, 'col')"
        )
        op.execute(
            "INSERT OR IGNORE INTO search_terms(term) "
            "SELECT DISTINCT term FROM temp.search_vocab WHERE col = 'body'"
        )
        op.execute("DROP TABLE temp.search_vocab")
        return
    # Byte order ("C"): a word start's words are one range of the key.
    op.execute('CREATE TABLE search_terms (term text COLLATE "C" PRIMARY KEY)')
    op.execute(
        "INSERT INTO search_terms(term) SELECT word FROM ts_stat("
        "'SELECT to_tsvector(''simple'', body) FROM search_index') ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DROP TABLE search_terms")
