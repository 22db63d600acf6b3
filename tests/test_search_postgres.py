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
