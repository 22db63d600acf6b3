"""The full-text index of transcripts: one entry per segment, keyed by the segment's id, in
the same database and the same transaction as the segment (a correction is found by its new
words at once, and never by the old). SQLite: an FTS5 table; PostgreSQL: a table with a
`tsvector` column and a GIN index (migration 0011).

Each entry holds the segment's words folded (domain/search_text), its language, and who may
see it as tokens of their own (`o<owner id>`), so a query matches words and visibility in one
index lookup however many transcripts others have. Newest first: larger segment ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from kazru_stt.db.models import SegmentRow
from kazru_stt.domain.search_text import fold


def _sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def _key(db: Session) -> str:
    """The column an entry is keyed by: the segment's id (FTS5 keeps it as the rowid)."""
    return "rowid" if _sqlite(db) else "segment_id"


def owner_token(owner_id: int | None) -> str:
    return f"o{owner_id}" if owner_id is not None else ""


def index_segments(db: Session, rows: Sequence[SegmentRow], owner_id: int | None) -> None:
    """Index rows already flushed (their ids assigned)."""
    entries = [
        {"id": r.id, "body": fold(r.text or ""), "who": owner_token(owner_id), "lang": r.language}
        for r in rows
        if r.text
    ]
    if not entries:
        return
    statement = (
        f"INSERT INTO search_index({_key(db)}, body, who, lang) VALUES (:id, :body, :who, :lang)"
    )
    db.execute(text(statement), entries)


def unindex_segments(db: Session, segment_ids: Iterable[int]) -> None:
    ids = list(segment_ids)
    if not ids:
        return
    db.execute(
        text(f"DELETE FROM search_index WHERE {_key(db)} IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )


def unindex_jobs(db: Session, job_ids: Iterable[str]) -> None:
    """Before the jobs' segments are deleted."""
    ids = list(job_ids)
    if ids:
        unindex_segments(db, db.scalars(select(SegmentRow.id).where(SegmentRow.job_id.in_(ids))))


def _fts5_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"*'


def matching(
    db: Session,
    terms: list[str],
    owner_id: int | None,
    language: str | None,
    limit: int,
    offset: int,
) -> list[int]:
    """Segment ids whose words start with every term (newest first), of `owner_id`'s jobs
    (None: everyone's), in `language` if given."""
    if not terms:
        return []
    if not _sqlite(db):
        return _matching_postgres(db, terms, owner_id, language, limit, offset)
    query = "body : (" + " AND ".join(_fts5_phrase(t) for t in terms) + ")"
    if owner_id is not None:
        query += f' AND who : "{owner_token(owner_id)}"'
    if language:
        query += ' AND lang : "' + language.replace('"', "") + '"'
    statement = (
        "SELECT rowid FROM search_index WHERE search_index MATCH :q "
        "ORDER BY rowid DESC LIMIT :limit OFFSET :offset"
    )
    params = {"q": query, "limit": limit, "offset": offset}
    return [int(r[0]) for r in db.execute(text(statement), params)]


# PostgreSQL's planner cannot tell a common word from a rare one by its start (it reads 3.6
# million rows backwards for a word said nowhere: 1.7 s in benchmarks/search_speed.py), so
# the three ways are tried cheapest first: the newest RECENT_ROWS entries (a common word
# fills a page there), then up to FEW_MATCHES matches read through the GIN index and sorted
# here (a rare one has no more), then every entry backwards by id until the page is full.
RECENT_ROWS = 5000
FEW_MATCHES = 2000


def _matching_postgres(
    db: Session,
    terms: list[str],
    owner_id: int | None,
    language: str | None,
    limit: int,
    offset: int,
) -> list[int]:
    # Words weigh D (to_tsvector's default), visibility tokens A: a word said aloud never
    # passes for a token.
    parts = [_pg_prefix(t) for t in terms]
    if owner_id is not None:
        parts.append(f"{owner_token(owner_id)}:A")
    params: dict = {"q": " & ".join(parts), "lang": language, "limit": limit, "offset": offset}
    where = "tsv @@ to_tsquery('simple', :q)" + (" AND lang = :lang" if language else "")
    want = offset + limit
    recent = [
        int(r[0])
        for r in db.execute(
            text(
                "SELECT segment_id FROM (SELECT segment_id, tsv, lang FROM search_index "
                f"ORDER BY segment_id DESC LIMIT {RECENT_ROWS}) recent WHERE {where} LIMIT :want"
            ),
            {**params, "want": want},
        )
    ]
    if len(recent) == want:
        return recent[offset:]
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_indexscan = off"))  # the GIN index, as a bitmap
    few = [
        int(r[0])
        for r in db.execute(
            text(f"SELECT segment_id FROM search_index WHERE {where} LIMIT {FEW_MATCHES + 1}"),
            params,
        )
    ]
    db.execute(text("SET LOCAL enable_seqscan = on"))
    db.execute(text("SET LOCAL enable_indexscan = on"))
    if len(few) <= FEW_MATCHES:
        return sorted(few, reverse=True)[offset : offset + limit]
    statement = (
        f"SELECT segment_id FROM search_index WHERE {where} "
        "ORDER BY segment_id DESC LIMIT :limit OFFSET :offset"
    )
    return [int(r[0]) for r in db.execute(text(statement), params)]


def _pg_prefix(term: str) -> str:
    # A query term is \w+ (domain/search_text), so it holds no tsquery operator; quoted all
    # the same, and matched as the start of a word.
    return "'" + term.replace("'", "''").replace("\\", "") + "':*D"
