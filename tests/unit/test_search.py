"""Search across transcripts on SQLite (FTS5); tests/test_search_postgres.py runs the same
checks on PostgreSQL."""

from __future__ import annotations

from kazru_stt.domain.search_text import fold, marked, query_terms
from tests.api_app import ApiApp
from tests.search_checks import check_search, check_shared_search


def test_search_on_sqlite(tmp_path):
    check_search(ApiApp(tmp_path))


def test_search_through_workspaces_and_filters_on_sqlite(tmp_path):
    check_shared_search(ApiApp(tmp_path))


def test_folding_keeps_kazakh_letters():
    assert fold("ЁЛКА Қазақ ӘЖЕ") == "елка қазақ әже"
    assert fold("е\u0308") == "е"  # ё typed as е and a combining diaeresis
    assert query_terms('«Договор»,  "ещё"; OR *') == ["договор", "еще", "or"]
    assert marked("Договор аренды, договора нет", ["договор"]) == [
        ("Договор", True),
        (" аренды, ", False),
        ("договора", True),
        (" нет", False),
    ]
