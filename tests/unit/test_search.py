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
