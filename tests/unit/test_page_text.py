"""The transcript page shows a passage's words one by one (each plays from its time); read
together they must be the passage's text as stored, character for character."""

from __future__ import annotations

from kazru_stt.web.view import word_gaps


def test_words_read_as_the_text():
    assert word_gaps("Волго-волго", ["Волго", "-волго"]) == (["", ""], "")
    assert word_gaps("Да, конечно.", ["Да,", "конечно."]) == (["", " "], "")
    assert word_gaps(" Сот  ашық!", ["Сот", "ашық"]) == ([" ", "  "], "!")
    # Words the text no longer holds in order (it was corrected): a space between each.
    assert word_gaps("Новый текст", ["старый", "текст"]) == (["", " "], "")
    assert word_gaps("", []) == ([], "")
    for text, words in (("Волго-волго", ["Волго", "-волго"]), (" Сот  ашық!", ["Сот", "ашық"])):
        gaps, tail = word_gaps(text, words)
        assert "".join(g + w for g, w in zip(gaps, words, strict=True)) + tail == text
