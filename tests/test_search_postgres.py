"""Search across transcripts on PostgreSQL (a tsvector with a GIN index): the checks the
SQLite test makes (tests/search_checks.py), on a database of this test's own."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.api_app import ApiApp
from tests.search_checks import check_search, check_shared_search
from tests.service_harness import PG_ADMIN_URL, need_servers


@pytest.fixture
def postgres_url():
    need_servers(postgres=True)
    name = f"kazru_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_search_on_postgres(tmp_path, postgres_url):
    check_search(ApiApp(tmp_path, database_url=postgres_url))


def test_search_through_workspaces_and_filters_on_postgres(tmp_path, postgres_url):
    check_shared_search(ApiApp(tmp_path, database_url=postgres_url))


def test_an_index_from_before_the_word_list_finds_word_starts_on_postgres(postgres_url):
    """Migration 0015 fills the list of the index's lexemes from the index itself."""
    from sqlalchemy import text

    from kazru_stt.db.migrate import upgrade
    from kazru_stt.db.session import get_engine, session_scope

    upgrade(postgres_url, "0014")
    with session_scope(postgres_url) as db:
        db.execute(
            text(
                "INSERT INTO users(id, email, role, is_active, created_at, remember_voices)"
                " VALUES (1, 'a@example.kz', 'admin', true, now(), false)"
            )
        )
        db.execute(
            text(
                "INSERT INTO jobs(id, owner_id, status, progress, engine, language, options,"
                " filename, size_bytes, attempts, webhook_attempts, created_at, eval_consent)"
                " VALUES ('j', 1, 'completed', 100, 'local', 'ru', '{}', 'a.wav', 0, 0, 0,"
                " now(), false)"
            )
        )
        db.execute(
            text(
                'INSERT INTO segments(id, job_id, idx, start, "end", text, edited,'
                " low_confidence) VALUES (1, 'j', 0, 0, 1, 'Договор аренды', false, false)"
            )
        )
        db.execute(
            text(
                "INSERT INTO search_index(segment_id, body, who, lang)"
                " VALUES (1, 'договор аренды', 'o1', 'ru')"
            )
        )
    upgrade(postgres_url)
    with session_scope(postgres_url) as db:
        words = set(db.scalars(text("SELECT term FROM search_terms")))
    get_engine(postgres_url).dispose()
    assert {"договор", "аренды"} <= words
