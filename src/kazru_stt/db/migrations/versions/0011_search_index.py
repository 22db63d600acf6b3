"""the full-text index of transcripts (db/search_index), filled from the segments there are

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from kazru_stt.domain.search_text import fold

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        # Words as Unicode letters and digits, case-folded, with their marks kept (й, ә, қ are
        # letters of their own): the text is folded before it gets here in any case.
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "body, who, lang, tokenize = 'unicode61 remove_diacritics 0')"
        )
        insert = "INSERT INTO search_index(rowid, body, who, lang) VALUES (:id, :body, :who, :lang)"
    else:
        op.execute(
            "CREATE TABLE search_index ("
            " segment_id integer PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,"
            " body text NOT NULL, who text NOT NULL, lang varchar(8),"
            " tsv tsvector GENERATED ALWAYS AS ("
            "  setweight(to_tsvector('simple', body), 'D')"
            "  || setweight(to_tsvector('simple', who), 'A')) STORED)"
        )
        op.execute("CREATE INDEX search_index_tsv ON search_index USING gin (tsv)")
        insert = (
            "INSERT INTO search_index(segment_id, body, who, lang) VALUES (:id, :body, :who, :lang)"
        )
    rows = bind.execute(
        sa.text(
            "SELECT s.id, s.text, s.language, j.owner_id FROM segments s "
            "JOIN jobs j ON j.id = s.job_id WHERE s.text <> ''"
        )
    )
    while batch := rows.fetchmany(BATCH):
        bind.execute(
            sa.text(insert),
            [
                {
                    "id": seg_id,
                    "body": fold(body),
                    "who": f"o{owner}" if owner is not None else "",
                    "lang": lang,
                }
                for seg_id, body, lang, owner in batch
            ],
        )


def downgrade() -> None:
    op.execute("DROP TABLE search_index")
