"""The full-text index of transcripts: one entry per segment, keyed by the segment's id, in
the same database and the same transaction as the segment (a correction is found by its new
words at once, and never by the old). SQLite: an FTS5 table; PostgreSQL: a table with a
`tsvector` column and a GIN index (migration 0011).

Each entry holds the segment's words folded (domain/search_text), its language, and who may
see it as tokens of their own (`o<owner id>`, and `w<workspace id>` where the job is filed),
so a query matches words and visibility in one index lookup however many transcripts others
have; moving a job rewrites its entries' tokens. Newest first: larger segment ids. Beside
it, the list of the words it holds (`search_terms`, migration 0015): a query's word start is
asked as those words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import column, delete, func, literal_column, select, table, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from kazru_stt.db.models import Job, SegmentRow
from kazru_stt.domain.search_text import fold, matches


def _sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def _key(db: Session) -> str:
    """The column an entry is keyed by: the segment's id (FTS5 keeps it as the rowid)."""
    return "rowid" if _sqlite(db) else "segment_id"


def owner_token(owner_id: int) -> str:
    return f"o{owner_id}"


def workspace_token(workspace_id: int) -> str:
    return f"w{workspace_id}"


def who_of(job: Job) -> str:
    tokens = []
    if job.owner_id is not None:
        tokens.append(owner_token(job.owner_id))
    if job.workspace_id is not None:
        tokens.append(workspace_token(job.workspace_id))
    return " ".join(tokens)


def index_segments(db: Session, rows: Sequence[SegmentRow], job: Job) -> None:
    """Index rows already flushed (their ids assigned)."""
    who = who_of(job)
    entries = [
        {"id": r.id, "body": fold(r.text or ""), "who": who, "lang": r.language}
        for r in rows
        if r.text
    ]
    if not entries:
        return
    statement = (
        f"INSERT INTO search_index({_key(db)}, body, who, lang) VALUES (:id, :body, :who, :lang)"
    )
    db.execute(text(statement), entries)
    bodies = [str(e["body"]) for e in entries]
    if _sqlite(db):
        words = sorted({w for body in bodies for w in _TOKEN.findall(body)})
        db.execute(
            text("INSERT OR IGNORE INTO search_terms(term) VALUES (:term)"),
            [{"term": w} for w in words],
        )
    else:  # the lexemes PostgreSQL made of them, in one order (concurrent writers never deadlock)
        db.execute(
            text(
                "INSERT INTO search_terms(term) SELECT DISTINCT w"
                " FROM unnest(CAST(:bodies AS text[])) AS b,"
                " unnest(tsvector_to_array(to_tsvector('simple', b))) AS w"
                " ORDER BY w ON CONFLICT DO NOTHING"
            ),
            {"bodies": bodies},
        )


# Every word the index holds, in `search_terms` (SQLite: as FTS5's unicode61 tokenizer cuts
# them, letters and digits; PostgreSQL: its lexemes). A query's word start is looked up there
# and asked as the words it begins: both indexes answer a few whole words newest first at
# once, but a prefix makes them gather every posting of every word it begins first (FTS5:
# 130 ms for a common word start among 3.6 M passages, against 0.4 ms as an OR of its 10
# words; PostgreSQL's GIN: p95 78 against 30 ms at 1.4 M). A start of more than
# MAX_EXPANSION words is asked as a prefix all the same. A word only removed passages held
# leaves the list with them (unindex_segments).
_TOKEN = re.compile(r"[^\W_]+")
MAX_EXPANSION = 64


def _words_begun(db: Session, term: str) -> list[str] | None:
    """The index's words `term` begins ([]: none); None when they are too many to list."""
    words = list(
        db.scalars(
            text(
                "SELECT term FROM search_terms WHERE term >= :start AND term < :end "
                "ORDER BY term LIMIT :n"
            ).bindparams(start=term, end=term + "\U0010ffff", n=MAX_EXPANSION + 1)
        )
    )
    return None if len(words) > MAX_EXPANSION else words


def _fts5_term(db: Session, term: str) -> str | None:
    """The FTS5 query for one query term: its words, or its prefix; None if no word of the
    index begins with it."""
    if not _TOKEN.fullmatch(term):
        return _fts5_phrase(term)
    words = _words_begun(db, term)
    if words is None:
        return _fts5_phrase(term)
    if not words:
        return None
    return "(" + " OR ".join(_fts5_word(w) for w in words) + ")"


def _pg_term(db: Session, term: str) -> str | None:
    """The tsquery for one query term (words weigh D): its lexemes, or its prefix; None if
    no lexeme of the index begins with it."""
    words = _words_begun(db, term) if _TOKEN.fullmatch(term) else None
    if words is None:
        return _pg_prefix(term)
    if not words:
        return None
    return "(" + " | ".join(_pg_word(w) + ":D" for w in words) + ")"


def _pg_query(db: Session, terms: list[str]) -> str | None:
    asked = [_pg_term(db, t) for t in terms]
    return None if None in asked else " & ".join(a for a in asked if a)


def unindex_segments(db: Session, segment_ids: Iterable[int]) -> None:
    """Their entries, and the words only they held (a name said in an erased recording must
    not outlive it in the word list)."""
    ids = list(segment_ids)
    if not ids:
        return
    entries = table("search_index", column(_key(db)), column("body"))
    chosen = entries.c[_key(db)].in_(ids)
    if _sqlite(db):
        bodies = db.scalars(select(entries.c.body).where(chosen))
        words = sorted({w for body in bodies for w in _TOKEN.findall(body or "")})
    else:
        lexemes = text("unnest(tsvector_to_array(to_tsvector('simple', body)))")
        words = list(db.scalars(select(lexemes).select_from(entries).where(chosen).distinct()))
    db.execute(delete(entries).where(chosen))
    gone = [w for w in words if not _still_said(db, w)]
    if gone:
        known = table("search_terms", column("term"))
        db.execute(delete(known).where(known.c.term.in_(gone)))


def _still_said(db: Session, word: str) -> bool:
    """Does any entry still hold this exact word (one index lookup)?"""
    if _sqlite(db):
        asked = "body : " + _fts5_word(word)
        found = db.execute(
            text("SELECT 1 FROM search_index WHERE search_index MATCH :q LIMIT 1"), {"q": asked}
        )
    else:
        asked = _pg_word(word) + ":D"
        found = db.execute(
            text("SELECT 1 FROM search_index WHERE tsv @@ to_tsquery('simple', :q) LIMIT 1"),
            {"q": asked},
        )
    return found.first() is not None


def unindex_jobs(db: Session, job_ids: Iterable[str]) -> None:
    """Before the jobs' segments are deleted."""
    ids = list(job_ids)
    if ids:
        unindex_segments(db, db.scalars(select(SegmentRow.id).where(SegmentRow.job_id.in_(ids))))


def refile_jobs(db: Session, job_ids: list[str]) -> None:
    """After jobs moved to another workspace (or out of one): their entries' tokens anew."""
    entries = table("search_index", column(_key(db)), column("who"))
    for job in db.scalars(select(Job).where(Job.id.in_(job_ids))):
        segment_ids = select(SegmentRow.id).where(SegmentRow.job_id == job.id)
        db.execute(
            update(entries).where(entries.c[_key(db)].in_(segment_ids)).values(who=who_of(job))
        )


# SQLite: the recordings' passages are read and their words matched here when they are at
# most this many (about 4 ms per 1,000 on this machine; FTS5 cannot intersect a common word
# with a few recordings cheaply: asked per passage, it reads the word's whole list each time).
FEW_PASSAGES = 5000


def matching_among(
    db: Session,
    terms: list[str],
    job_ids: list[str],
    language: str | None,
    said_by: ColumnElement[bool] | None,
    limit: int,
    offset: int,
) -> list[int] | None:
    """As `matching`, among the passages of these recordings (the caller may see them all),
    said by `said_by` if given; None where this way would be slow (SQLite, more than
    FEW_PASSAGES): the caller asks `matching` instead."""
    if not terms or not job_ids:
        return []
    where: list[ColumnElement[bool]] = [SegmentRow.job_id.in_(job_ids)]
    if said_by is not None:
        where.append(said_by)
    if language:
        where.append(SegmentRow.language == language)
    if not _sqlite(db):
        # From the recordings' passages (their index), each checked against its entry.
        query = _pg_query(db, terms)
        if query is None:
            return []
        entries = table("search_index", column("segment_id"), column("tsv"))
        statement = (
            select(SegmentRow.id)
            .join(entries, entries.c.segment_id == SegmentRow.id)
            .where(*where, text("tsv @@ to_tsquery('simple', :q)").bindparams(q=query))
            .order_by(SegmentRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [int(r[0]) for r in db.execute(statement)]
    if (db.scalar(select(func.count()).where(*where)) or 0) > FEW_PASSAGES:
        return None
    rows = db.execute(select(SegmentRow.id, SegmentRow.text).where(*where)).all()
    found = sorted((r[0] for r in rows if matches(r[1] or "", terms)), reverse=True)
    return found[offset : offset + limit]


def _fts5_word(word: str) -> str:
    """A word as an FTS5 string: quoted, so nothing in it is query syntax."""
    return '"' + word.replace('"', '""') + '"'


def _fts5_phrase(term: str) -> str:
    return _fts5_word(term) + "*"


def matching(
    db: Session,
    terms: list[str],
    tokens: list[str] | None,
    language: str | None,
    limit: int,
    offset: int,
    within: Select | None = None,
) -> list[int]:
    """Segment ids whose words start with every term (newest first), of jobs carrying one
    of the visibility `tokens` (None: everyone's), in `language` if given, and among the
    segment ids `within` selects if given (the search's other filters)."""
    if not terms or tokens == []:
        return []
    if not _sqlite(db):
        return _matching_postgres(db, terms, tokens, language, limit, offset, within)
    asked = [_fts5_term(db, t) for t in terms]
    if None in asked:
        return []  # a word start no passage holds
    query = "body : (" + " AND ".join(a for a in asked if a) + ")"
    if tokens is not None:
        query += " AND who : (" + " OR ".join(f'"{t}"' for t in tokens) + ")"
    if language:
        query += ' AND lang : "' + language.replace('"', "") + '"'
    rowid: ColumnElement = literal_column("rowid")
    statement = (
        select(rowid)
        .select_from(table("search_index"))
        .where(text("search_index MATCH :q").bindparams(q=query))
        .order_by(rowid.desc())
        .limit(limit)
        .offset(offset)
    )
    if within is not None:
        # "+rowid": a filter on the index's hits in their order, never a rowid to look up
        # (FTS5 would read the word's whole list again for each one).
        statement = statement.where(literal_column("+rowid").in_(within))
    return [int(r[0]) for r in db.execute(statement)]


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
    tokens: list[str] | None,
    language: str | None,
    limit: int,
    offset: int,
    within: Select | None,
) -> list[int]:
    # Planned for these words each time: a plan cached for any words (psycopg prepares a
    # statement run often) cannot tell a common word from a rare one.
    db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    # Words weigh D (to_tsvector's default), visibility tokens A: a word said aloud never
    # passes for a token.
    query = _pg_query(db, terms)
    if query is None:
        return []  # a word start no passage holds
    if tokens is not None:
        query += " & (" + " | ".join(f"{t}:A" for t in tokens) + ")"
    key: ColumnElement = literal_column("segment_id")
    where: list = [text("tsv @@ to_tsquery('simple', :q)").bindparams(q=query)]
    if language:
        where.append(text("lang = :lang").bindparams(lang=language))
    if within is not None:
        where.append(key.in_(within))
    want = offset + limit
    newest = (
        select(key, literal_column("tsv"), literal_column("lang"))
        .select_from(table("search_index"))
        .order_by(key.desc())
        .limit(RECENT_ROWS)
        .subquery("recent")
    )
    recent = [
        int(r[0]) for r in db.execute(select(key).select_from(newest).where(*where).limit(want))
    ]
    if len(recent) == want:
        return recent[offset:]
    every = select(key).select_from(table("search_index")).where(*where)
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_indexscan = off"))  # the GIN index, as a bitmap
    few = [int(r[0]) for r in db.execute(every.limit(FEW_MATCHES + 1))]
    db.execute(text("SET LOCAL enable_seqscan = on"))
    db.execute(text("SET LOCAL enable_indexscan = on"))
    if len(few) <= FEW_MATCHES:
        return sorted(few, reverse=True)[offset : offset + limit]
    return [int(r[0]) for r in db.execute(every.order_by(key.desc()).limit(limit).offset(offset))]


def _pg_word(word: str) -> str:
    r"""A word as a tsquery lexeme: quoted, so nothing in it is query syntax (a query term is
    \w+ in any case, domain/search_text)."""
    return "'" + word.replace("'", "''").replace("\\", "") + "'"


def _pg_prefix(term: str) -> str:
    return _pg_word(term) + ":*D"  # the start of a word
