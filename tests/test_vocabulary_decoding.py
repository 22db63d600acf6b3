"""A vocabulary through the whole local engine (make_transcriber → LocalPipeline → Whisper's
hint): a brand name the bundled model misspells comes out as listed, the words around it are
kept, and word times stay inside their passages (faster-whisper #853 reports hotwords
breaking them)."""

from __future__ import annotations

from kazru_stt.config import Settings
from kazru_stt.domain.vocabulary import hint_of
from kazru_stt.pipeline import TranscribeOptions
from kazru_stt.services.engines import make_transcriber
from tests.conftest import words_inside


def test_a_listed_name_is_spelled_as_listed_and_nothing_else_is_lost(
    tmp_path, model_cache, eval_dir
):
    transcribe = make_transcriber(
        Settings(data_dir=tmp_path, model_cache_dir=model_cache, device="cpu")
    )
    clip = eval_dir / "ru" / "tinkoff_sample_1.mp3"  # "Тинькофф Инвестиции выплачивает…"
    plain = transcribe(clip, TranscribeOptions(), None)
    hinted = transcribe(clip, TranscribeOptions(hint=hint_of(["Тинькофф", "Египет"])), None)
    assert "Тинькофф" not in plain.text  # the bundled model writes it as it hears it
    words = hinted.text.split()
    assert words[0].rstrip(",.;:") == "Тинькофф"  # spelled as listed (punctuation aside)
    assert "иностранным" in hinted.text  # the sentence's end is still there
    assert len(words) >= len(plain.text.split()) - 1
    assert words_inside(hinted) and words_inside(plain)
    assert all(0 <= s.start < s.end <= hinted.duration + 0.05 for s in hinted.segments)
