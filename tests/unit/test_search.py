"""Search across transcripts on SQLite (FTS5); tests/test_search_postgres.py runs the same
checks on PostgreSQL."""

from __future__ import annotations

from kazru_stt.domain.search_text import fold, marked, matches, query_terms
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


def test_matching_a_passage_as_the_index_does():
    assert matches("Договор аренды", ["догов", "аренд"])
    assert not matches("Переговоры", ["говор"])  # the start of a word, not its middle
    assert matches("по-договору", ["договор"])
    assert matches("ҚАЗАҚ тілі, ещё", ["қазақ", "тіл", "еще"])
    assert not matches("казак", ["қазақ"])
    assert not matches("Договор", [])


def test_an_index_from_before_the_word_list_finds_word_starts(tmp_path):
    """Migration 0015 fills SQLite's list of the index's words from the index itself."""
    from sqlalchemy import text

    from kazru_stt.db.migrate import upgrade
    from kazru_stt.db.session import session_scope

    url = f"sqlite:///{tmp_path}/kazru.db"
    upgrade(url, "0014")
    with session_scope(url) as db:
        db.execute(
            text("INSERT INTO search_index(rowid, body, who, lang) VALUES (1, :b, 'o1', 'ru')"),
            {"b": "договор аренды подписан"},
        )
    upgrade(url)
    with session_scope(url) as db:
        words = set(db.scalars(text("SELECT term FROM search_terms")))
    assert {"договор", "аренды", "подписан"} == words  # the body's words, not "o1" or "ru"
