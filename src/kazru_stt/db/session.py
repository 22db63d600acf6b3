"""Engines and sessions. SQLite gets WAL, foreign keys and a busy timeout, so the API and
the workers can write to one file at once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from kazru_stt.config import get_settings

# A server that does not answer a new connection in this long counts as down (psycopg
# would otherwise wait for the operating system's TCP timeout, minutes).
CONNECT_TIMEOUT_S = 5


def normalize_url(url: str) -> str:
    # Users write postgresql://; we ship psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _pool_options() -> dict:
    """Every session is opened and closed inside one call on one thread, so a thread holds
    at most one connection: a pool as large as the API's thread count (plus a few for the
    worker's heartbeat, sweep and webhook threads) means no thread waits for a connection;
    `pool_timeout` bounds the wait should that ever change."""
    threads = get_settings().api_threads
    return {"pool_size": 10, "max_overflow": threads + 10, "pool_timeout": 10}


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **_pool_options()
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,  # a pooled connection broken by a restart is replaced, not used
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        **_pool_options(),
    )


@lru_cache(maxsize=8)
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = _factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (SQLAlchemy types `Session.execute` as a
    `Result`; for these statements it is a `CursorResult`, which counts them)."""
    return cast(CursorResult[Any], result).rowcount


def database_down(exc: BaseException) -> bool:
    """Whether an error means the database cannot be reached (restarting, failing over,
    every connection in use), as opposed to a fault in what was asked of it."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def log_step_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A failed step of a loop that goes on (a beat, a sweep, a dispatch): while the database
    is down one line, every time (an outage, not a fault here); else the traceback."""
    if database_down(exc):
        logger.warning("%s skipped: the database is unavailable", what)
    else:
        logger.error("%s failed", what, exc_info=exc)
