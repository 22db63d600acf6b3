"""The anonymised copy (`redact=pii`): each kind of personal number is found in digits and
spoken in Russian or Kazakh, checked as its kind is checked (so sums and dates stay), and
replaced by a marker in the reader's language; the original export still has it."""

from __future__ import annotations

import pytest

from kazru_stt.domain.transcript import Segment, Transcript, Word
from kazru_stt.exporters import export
from kazru_stt.exporters.redaction import (
    MARKERS,
    Redactions,
    Redactor,
    iban_valid,
    iin_valid,
    kind_of_number,
    luhn_valid,
)

pytestmark = pytest.mark.unit

IIN = "900101300007"  # check digit 7 by the registry's two-pass rule
CARD = "4111 1111 1111 1111"


def _text(text: str, terms=()) -> tuple[str, dict]:
    found = Redactions(terms=list(terms))
    return Redactor(lambda m: m, found).text(text), dict(found.counts)


def test_checks_of_each_kind():
    assert iin_valid(IIN) and not iin_valid("900101300008") and not iin_valid("90010130000")
    assert luhn_valid(CARD.replace(" ", "")) and not luhn_valid("4111111111111112")
    assert iban_valid("KZ86125KZT5004100100") and iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("KZ87125KZT5004100100")
    assert kind_of_number("+7 (701) 234-56-78") == "phone"
    assert kind_of_number("8 727 250 00 00") == "phone"
    assert kind_of_number("15 000 000") is None  # a sum of money
    assert kind_of_number("4111 1111 1111 1112") is None  # not Luhn: a card misheard?


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        (f"Мой ИИН {IIN}, запишите.", "iin"),
        (f"Карта {CARD}, срок до мая.", "card"),
        ("Телефон +7 701 234 56 78.", "phone"),
        ("Звоните 8-701-234-56-78!", "phone"),
        ("Счёт KZ86 125K ZT50 0410 0100 в банке.", "iban"),
        ("Пишите на a.sultanova@mail.kz сегодня.", "email"),
        # Spoken: groups as people say them, in Russian and in Kazakh.
        (
            "Номер восемь семьсот один двести тридцать четыре пятьдесят шесть семьдесят восемь.",
            "phone",
        ),
        ("плюс семь семьсот семь сто двадцать три сорок пять шестьдесят семь", "phone"),
        ("нөмірім сегіз жеті жүз бір екі жүз отыз төрт елу алты жетпіс сегіз", "phone"),
        (
            "карта четыре " + "один " * 15,
            "card",
        ),
        ("ИИН девяносто ноль один ноль один три ноль ноль ноль ноль семь", "iin"),
    ],
)
def test_found_and_replaced(said, kind):
    text, counts = _text(said)
    assert counts == {kind: 1}, (text, counts)
    assert MARKERS[kind] in text
    digits = [c for c in text if c.isdigit()]
    assert len(digits) < 4, text  # nothing of the number is left


@pytest.mark.parametrize(
    "said",
    [
        "В 2019 году бюджет составил 15 000 000 тенге.",
        "Заседание 12.03.2024 в 10:30, зал 4.",
        "сто двадцать три рубля и сорок пять копеек",
        "Он сказал, что придёт.",
        "Номер дела 2-1234/2024.",
    ],
)
def test_sums_dates_and_case_numbers_stay(said):
    assert _text(said) == (said, {})


def test_marked_names_whole_words_any_case():
    text, counts = _text("Айгүл Серікова и АЙГҮЛ СЕРІКОВА, Айгүлжан.", ["Айгүл Серікова", " "])
    assert text == "[name] и [name], Айгүлжан." and counts == {"name": 2}


def test_marked_names_with_their_case_endings():
    said = (
        "Передайте Ахметову и Ахметовой, спросите Анну и Сергея. Нұрланға, Ахметовтың "
        "інісіне. Антон, Аннаполис и Сергеевич остаются."
    )
    text, counts = _text(said, ["Ахметов", "Анна", "Сергей", "Нұрлан"])
    assert text == (
        "Передайте [name] и [name], спросите [name] и [name]. [name], [name] "
        "інісіне. Антон, Аннаполис и Сергеевич остаются."
    )
    assert counts == {"name": 6}


def test_marked_kazakh_names_with_possessive_and_plural_endings():
    said = "Айгүлім келді, Айгүліміздің ағасы, Нұрландар мен Нұрланыңа айт. Айгүлжан қалады."
    text, counts = _text(said, ["Айгүл", "Нұрлан"])
    assert text == "[name] келді, [name] ағасы, [name] мен [name] айт. Айгүлжан қалады."
    assert counts == {"name": 4}


def test_an_export_hides_them_in_every_format_and_the_original_keeps_them():
    said = (
        f"Мой ИИН {IIN}, телефон восемь семьсот один двести тридцать четыре пятьдесят шесть "
        "семьдесят восемь"
    )
    words = [Word(i * 0.3, i * 0.3 + 0.25, w) for i, w in enumerate(said.split())]
    t = Transcript(duration=10, segments=[Segment(0, 0, 9, said, "ru", words=words)])
    for fmt in ("txt", "srt", "vtt", "json", "docx"):
        found = Redactions()
        data = export(t, fmt, redactions=found, lang="ru")
        if fmt != "docx":
            assert IIN not in data.decode() and "семьсот" not in data.decode(), fmt
            assert "[ИИН]" in data.decode() and "[телефон]" in data.decode(), fmt
        assert dict(found.counts) == {"iin": 1, "phone": 1}
    assert IIN in export(t, "txt").decode()
