"""Exporters on hand-built transcripts: subtitle limits, Kazakh letters, DOCX round trip."""

from __future__ import annotations

import io
import json
import re

import docx
import pytest

from kazru_stt.domain.transcript import Segment, Speaker, Transcript, Word
from kazru_stt.exporters import FORMATS, export
from kazru_stt.exporters.subtitles import MAX_CUE_S, MAX_LINE, MAX_LINES, build_cues

KAZAKH = "Әкем ғалым, қызым ңғ өнер ұстазы, үй һәм ілім"


def _words(text: str, start: float, step: float) -> list[Word]:
    return [
        Word(start + i * step, start + (i + 1) * step - 0.05, w, 0.9)
        for i, w in enumerate(text.split())
    ]


def sample(speakers: bool = False) -> Transcript:
    long_ru = " ".join(["сегодня на заседании обсуждали бюджет города и новые школы"] * 3)
    segs = [
        Segment(
            0, 0.5, 0.5 + 0.4 * len(KAZAKH.split()), KAZAKH, "kk", words=_words(KAZAKH, 0.5, 0.4)
        ),
        Segment(
            1, 6.0, 6.0 + 0.3 * len(long_ru.split()), long_ru, "ru", words=_words(long_ru, 6.0, 0.3)
        ),
    ]
    t = Transcript(duration=20.0, segments=segs, engine="local", model="whisper-base")
    if speakers:
        segs[0].speaker, segs[1].speaker = "SPEAKER_1", "SPEAKER_2"
        t.speakers = [Speaker("SPEAKER_1", "Айгүл"), Speaker("SPEAKER_2")]
    return t


@pytest.mark.parametrize("speakers", [False, True])
def test_subtitle_cues_respect_limits(speakers):
    cues = build_cues(sample(speakers))
    assert len(cues) >= 3
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(len(line) <= MAX_LINE for line in cue.lines)
        assert cue.end - cue.start <= MAX_CUE_S + 1e-6
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end <= b.start
    # Every word survives, in order.
    text = " ".join(" ".join(c.lines) for c in cues)
    assert "Айгүл: Әкем" in text if speakers else text.startswith("Әкем")


def test_srt_and_vtt_shapes():
    srt = export(sample(), "srt").decode()
    assert re.match(r"1\n00:00:00,500 --> 00:00:0\d,\d{3}\n", srt)
    vtt = export(sample(), "vtt").decode()
    assert vtt.startswith("WEBVTT\n\n00:00:00.500 --> ")


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_kazakh_letters_intact_in_text_formats(fmt):
    data = export(sample(True), fmt).decode("utf-8")
    for letter in "әғқңөұүһіӘ":
        assert letter in data
    if fmt == "json":
        parsed = json.loads(data)
        assert parsed["languages"] == ["ru", "kk"]
        assert parsed["segments"][0]["language"] == "kk"
        assert parsed["speakers"][0] == {
            "label": "SPEAKER_1",
            "name": "Айгүл",
            "suggested_name": None,
        }


def test_txt_plain_and_with_timestamps_and_speakers():
    plain = export(sample(), "txt").decode()
    assert plain.splitlines()[0] == KAZAKH
    stamped = export(sample(True), "txt", timestamps=True).decode()
    assert stamped.splitlines()[0] == f"[0:00:00] Айгүл: {KAZAKH}"
    # An unnamed speaker in the reader's language (here the transcript's: Russian).
    assert stamped.splitlines()[1].startswith("[0:00:06] Спикер 2: сегодня")
    assert "Speaker 2: сегодня" in export(sample(True), "txt", lang="en").decode()
    assert '"SPEAKER_2"' in export(sample(True), "json").decode()  # programs keep the label


def test_docx_round_trip_keeps_kazakh_and_turns():
    data = export(sample(True), "docx", title="Отырыс.wav")
    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Отырыс.wav"
    assert any(KAZAKH in t and "Айгүл:" in t for t in texts)
    facts = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert facts["Языки"] == "Русский, Казахский"  # the transcript's language: Russian
    assert doc.core_properties.title == "Отырыс.wav"


def test_docx_for_a_kazakh_reader_is_a4_in_local_time():
    """Headers, language names and unnamed speakers in Kazakh; A4; the upload's time in
    Almaty with its zone; a paragraph per speaker turn, or per passage without speakers."""
    from datetime import UTC, datetime

    t = sample(True)
    t.segments.append(Segment(2, 14.0, 15.0, "тағы да", "kk", speaker="SPEAKER_2"))
    created = datetime(2026, 3, 1, 19, 30, tzinfo=UTC)
    data = export(t, "docx", lang="kk", created=created, timezone="Asia/Almaty")
    doc = docx.Document(io.BytesIO(data))
    facts = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert facts["Тілдер"] == "Орыс тілі, Қазақ тілі"
    assert facts["Сөйлеушілер"] == "Айгүл, Сөйлеуші 2"
    assert facts["Құрылған уақыты"] == "02.03.2026 00:30 (Asia/Almaty, UTC+05:00)"
    assert "Exported" not in facts and "Duration" not in facts
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert doc.core_properties.author == "KazRu-STT Pro"
    turns = [p.text for p in doc.paragraphs if p.text.startswith("[")]
    assert turns[0] == f"[0:00:00] Айгүл: {KAZAKH}"
    assert turns[1].startswith("[0:00:06] Сөйлеуші 2: сегодня") and turns[1].endswith("тағы да")
    assert len(turns) == 2  # one turn: both passages of speaker 2

    plain = docx.Document(io.BytesIO(export(sample(), "docx", lang="ru")))
    passages = [p.text for p in plain.paragraphs if p.text.startswith("[")]
    assert [p[:11] for p in passages] == ["[0:00:00] " + KAZAKH[:1], "[0:00:06] с"]


def test_pdf_for_a_kazakh_reader_is_a4_with_every_letter():
    """The PDF says what the DOCX says: Kazakh headers and speakers, A4, the upload's time
    in Almaty, a paragraph per turn, the unreadable passage's marker; its text can be
    searched and copied (every Kazakh letter is in the embedded font)."""
    from datetime import UTC, datetime

    import pypdf

    t = _with_unreadable()
    t.segments[0].text = "Сәлеметсіз бе: ә ғ қ ң ө ұ ү һ і Ә Ғ Қ Ң Ө Ұ Ү Һ І"
    created = datetime(2026, 3, 1, 19, 30, tzinfo=UTC)
    data = export(t, "pdf", lang="kk", created=created, timezone="Asia/Almaty", title="Іс.wav")
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = page.extract_text()
    assert "Іс.wav" in text and "Құрылған уақыты 02.03.2026 00:30 (Asia/Almaty, UTC+05:00)" in text
    assert "Сәлеметсіз бе: ә ғ қ ң ө ұ ү һ і Ә Ғ Қ Ң Ө Ұ Ү Һ І" in text
    assert "[түсініксіз 0:00:12–0:00:18]" in text
    assert reader.metadata.author == "KazRu-STT Pro"


def test_letter_paper_where_the_readers_locale_prints_on_it():
    import pypdf

    from kazru_stt.exporters.paper import paper_for_locale

    assert paper_for_locale("en-US,en;q=0.9") == "letter"
    assert paper_for_locale("es_MX") == "letter"
    assert paper_for_locale("en_US.UTF-8") == "letter"  # LANG, for the command line
    for header in ("kk-KZ,kk;q=0.9", "ru", "ru,en-US;q=0.8", "en-GB", "", None, "*", "C.UTF-8"):
        assert paper_for_locale(header) == "a4", header
    doc = docx.Document(io.BytesIO(export(sample(), "docx", paper="letter")))
    section = doc.sections[0]
    assert (round(section.page_width.inches, 2), round(section.page_height.inches, 2)) == (8.5, 11)
    page = pypdf.PdfReader(io.BytesIO(export(sample(), "pdf", paper="letter"))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_a_time_zone_must_exist():
    from pydantic import ValidationError

    from kazru_stt.config import Settings

    assert Settings(timezone="Asia/Aqtobe").timezone == "Asia/Aqtobe"
    with pytest.raises(ValidationError, match="IANA"):
        Settings(timezone="Almaty")


def test_empty_transcript_exports_cleanly():
    empty = Transcript(duration=30.0)
    for fmt in FORMATS:
        assert isinstance(export(empty, fmt), bytes)
    assert export(empty, "txt") == b""
    assert json.loads(export(empty, "json"))["segments"] == []


def test_json_round_trip():
    t = sample(True)
    again = Transcript.from_dict(json.loads(export(t, "json")))
    assert again.to_dict() == t.to_dict()


def test_control_characters_never_break_an_export():
    t = sample(True)
    t.segments[0].text = "бір\x00екі\x07 үш\x1b"
    t.speakers[0].name = "Ай\x0bгүл"
    for fmt in FORMATS:
        data = export(t, fmt, title="meet\x01ing\x1f.wav")
        assert data
    doc = docx.Document(io.BytesIO(export(t, "docx", title="meet\x01ing.wav")))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "meeting.wav"
    assert any("бірекі үш" in x and "Айгүл:" in x for x in texts)


def _with_unreadable() -> Transcript:
    t = sample(speakers=True)
    lost = Segment(2, 12.0, 18.0, "", "ru", speaker="SPEAKER_1", low_confidence=True)
    t.segments.append(lost)
    return t


@pytest.mark.parametrize(
    "lang, word", [("ru", "неразборчиво"), ("kk", "түсініксіз"), ("en", "inaudible")]
)
def test_an_unreadable_passage_is_marked_in_every_document(lang, word):
    marker = f"[{word} 0:00:12–0:00:18]"
    t = _with_unreadable()
    for fmt in ("txt", "srt", "vtt"):
        assert marker in export(t, fmt, lang=lang).decode(), fmt
    doc = docx.Document(io.BytesIO(export(t, "docx", lang=lang)))
    assert any(marker in p.text for p in doc.paragraphs)
    # Machine-readable JSON keeps the passage as it is; markers can be left out.
    assert json.loads(export(t, "json", lang=lang))["segments"][2]["text"] == ""
    assert word not in export(t, "txt", lang=lang, inaudible_markers=False).decode()
    assert t.segments[2].text == ""  # the transcript itself is untouched


def test_markers_default_to_the_transcripts_language():
    t = _with_unreadable()
    assert t.language == "ru"  # most of its speech
    assert "[неразборчиво" in export(t, "txt").decode()
    for seg in t.segments:
        seg.language = "tr"
    assert "[inaudible" in export(t, "txt").decode()
