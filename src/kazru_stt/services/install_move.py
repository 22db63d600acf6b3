"""`kazru migrate --to postgresql://… [--storage s3://…]`: an embedded install (SQLite and
local files) copied into PostgreSQL (and S3), so the same users, keys, jobs, transcripts,
corrections, voices and recordings are served from there.

Every table is copied with its ids (rows the target already holds are left as they are), its
sequences set after; the search index is rebuilt from the copied passages (SQLite's FTS5 table
does not exist in PostgreSQL); each recording is copied under its own key and read back to
check its SHA-256. Nothing is deleted from the source. Run again after an interruption, it
copies only what is missing; `dry_run` reads both sides and writes nothing. The report says,
per table and for the files, what the source holds, what the target holds, and what this
run copied."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Integer, Table, func, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from kazru_stt.config import Settings
from kazru_stt.db import search_index
from kazru_stt.db.migrate import upgrade
from kazru_stt.db.models import Base, Job, SegmentRow, User
from kazru_stt.db.session import get_engine, session_scope
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.storage.base import CHUNK_BYTES, Storage, StorageError
from kazru_stt.storage.factory import get_storage

# The live workers' heartbeats: the new install's workers write their own.
NOT_MOVED = frozenset({"workers"})
BATCH = 1000


@dataclass
class TableCount:
    name: str
    source: int
    target: int  # after the run (before it, on a dry run)
    copied: int = 0


@dataclass
class FileCount:
    source: int = 0  # recordings the jobs name
    present: int = 0  # already in the target, checked
    copied: int = 0
    missing: list[str] = field(default_factory=list)  # named by a job, not in the source
    mismatched: list[str] = field(default_factory=list)  # in the target, other bytes
    stay: bool = False  # no --storage: the files stay where they are


@dataclass
class MoveReport:
    dry_run: bool
    tables: list[TableCount]
    files: FileCount

    @property
    def complete(self) -> bool:
        """Every row and file of the source is in the target, as it is in the source."""
        return (
            all(t.target >= t.source for t in self.tables)
            and not self.files.missing
            and not self.files.mismatched
            and (self.files.stay or self.files.present + self.files.copied == self.files.source)
        )


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_MOVED]


def _count(engine: Engine, table: Table) -> int:
    if not inspect(engine).has_table(table.name):
        return 0
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _check_target(source: Engine, target: Engine) -> None:
    """The target is new, or this install's own copy: never another install's database."""
    if not inspect(target).has_table(User.__tablename__):
        return
    with source.connect() as conn:
        ours = dict(conn.execute(select(User.id, User.email)).all())
    with target.connect() as conn:
        theirs = dict(conn.execute(select(User.id, User.email)).all())
    other = [email for uid, email in theirs.items() if ours.get(uid) != email]
    if other:
        raise InvalidOptionError(
            f"the target database holds accounts this install does not have ({len(other)}); "
            "move into an empty database"
        )


def _copy_table(source: Engine, target: Engine, table: Table) -> None:
    order = list(table.primary_key.columns)
    with source.connect() as src, target.begin() as dst:
        rows = src.execution_options(stream_results=True).execute(select(table).order_by(*order))
        while batch := rows.fetchmany(BATCH):
            dst.execute(
                pg_insert(table).on_conflict_do_nothing(), [dict(r._mapping) for r in batch]
            )


def _set_sequences(target: Engine, tables: list[Table]) -> None:
    """The next id of each table past the copied ones (the rows kept their ids)."""
    with target.begin() as conn:
        for table in tables:
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, Integer):
                continue
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f'(SELECT COALESCE(MAX("{keys[0].name}"), 0) + 1 FROM "{table.name}"), false)'
                    " WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
                ),
                {"t": table.name, "c": keys[0].name},
            )


def _rebuild_search(target_url: str) -> None:
    with session_scope(target_url) as db:
        db.execute(text("DELETE FROM search_index"))
        db.execute(text("DELETE FROM search_terms"))
        for job in db.scalars(select(Job).where(Job.segments.any())):
            rows = list(db.scalars(select(SegmentRow).where(SegmentRow.job_id == job.id)))
            search_index.index_segments(db, rows, job)


def _sha256(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _move_files(source_url: str, source: Storage, target: Storage, dry_run: bool, say) -> FileCount:
    counts = FileCount()
    with session_scope(source_url) as db:
        named = db.scalars(select(Job.storage_key).where(Job.storage_key.is_not(None)))
        keys = sorted({key for key in named if key})
    counts.source = len(keys)
    for key in keys:
        if not source.exists(key):
            counts.missing.append(key)
            continue
        if target.exists(key):
            if _sha256(target, key) == _sha256(source, key):
                counts.present += 1
            else:
                counts.mismatched.append(key)
            continue
        if dry_run:
            continue
        with source.open(key) as fh:
            stored = target.save(fh, key=key)
        if _sha256(target, key) != stored.sha256:
            counts.mismatched.append(key)
        else:
            counts.copied += 1
        if counts.copied % 100 == 0:
            say(f"files: {counts.copied} copied")
    return counts


def move_install(
    settings: Settings,
    to_url: str,
    storage_url: str | None = None,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda _line: None,
) -> MoveReport:
    """Copy the install `settings` names into `to_url` (PostgreSQL) and `storage_url`."""
    if not to_url.startswith(("postgresql:", "postgresql+psycopg:", "postgres:")):
        raise InvalidOptionError("--to must be a PostgreSQL URL (postgresql://…)")
    source_url = settings.resolved_database_url
    if source_url == to_url:
        raise InvalidOptionError("--to names the database this install already uses")
    source, target = get_engine(source_url), get_engine(to_url)
    try:
        with target.connect():
            pass
    except OperationalError as exc:
        raise InvalidOptionError(f"cannot connect to --to: {exc.orig}") from exc
    if not dry_run:
        upgrade(source_url)  # the source at the release's schema, as `kazru serve` would
        upgrade(to_url)
    _check_target(source, target)
    tables = []
    for table in _tables():
        count = TableCount(table.name, _count(source, table), _count(target, table))
        if not dry_run and count.source:
            _copy_table(source, target, table)
            before, count.target = count.target, _count(target, table)
            count.copied = count.target - before
            say(f"{table.name}: {count.copied} of {count.source} rows copied")
        tables.append(count)
    if not dry_run:
        _set_sequences(target, _tables())
        _rebuild_search(to_url)
    if storage_url is None:
        files = FileCount(stay=True)
    else:
        from_storage = get_storage(settings)
        to_storage = get_storage(settings.model_copy(update={"storage_url": storage_url}))
        if not dry_run:
            try:
                to_storage.check()
            except StorageError as exc:
                raise InvalidOptionError(f"--storage cannot be written: {exc}") from exc
        files = _move_files(source_url, from_storage, to_storage, dry_run, say)
    return MoveReport(dry_run=dry_run, tables=tables, files=files)
