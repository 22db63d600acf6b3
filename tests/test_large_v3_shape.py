"""A checkpoint of large-v3-turbo's shape end to end: 128 mel bins, 100 language tokens
(`<|yue|>` among them, every later special token one id further), 4 decoder layers. Built
tiny with random weights (speed and shape, not its words, are what is tested), imported as
`kazru model import` does, then used on a code-switched eval recording with automatic
language, batched, with word times, and as the Kazakh passages' model beside the bundled
one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kazru_stt.config import Settings
from kazru_stt.engines.whisper import WhisperEngine, get_engine
from kazru_stt.pipeline import TranscribeOptions, transcribe_file
from kazru_stt.services.model_registry import import_checkpoint
from tests.conftest import words_inside
from tests.tiny_whisper import tiny_checkpoint


@pytest.fixture(scope="module")
def turbo_shaped(tmp_path_factory, engine) -> Path:
    return tiny_checkpoint(
        tmp_path_factory.mktemp("hf-tiny-turbo"),
        Path(engine.config.model_dir),
        v3=True,
        encoder_layers=2,
        decoder_layers=4,
    )


@pytest.fixture(scope="module")
def turbo(turbo_shaped, tmp_path_factory, model_cache):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"), model_cache_dir=model_cache, device="cpu"
    )
    entry = import_checkpoint(settings, turbo_shaped, "tiny-turbo")
    assert (
        json.loads((Path(entry.path) / "preprocessor_config.json").read_text())["feature_size"]
        == 128
    )
    return get_engine(entry.path, model_cache, device="cpu", batch_size=4, name="tiny-turbo")


def test_its_detector_knows_100_languages(turbo, eval_dir):
    from kazru_stt.media import load_audio

    assert turbo.model.model.n_mels == 128
    assert turbo.model.feature_extractor.mel_filters.shape[0] == 128
    probs = turbo.detect_language(load_audio(eval_dir / "ru" / "riva_sample.wav"))
    assert len(probs) == 100 and "yue" in probs and "kk" in probs
    assert abs(sum(probs.values()) - 1) < 0.01


def test_a_code_switched_recording_automatic_batched_with_word_times(turbo, eval_dir):
    path = eval_dir / "mixed_kk_ru.wav"
    t = transcribe_file(path, TranscribeOptions(), turbo)
    assert t.model == "tiny-turbo"
    assert t.segments and abs(t.duration - 9.54) < 0.1
    assert {s.language for s in t.segments} <= {"kk", "ru"}
    assert words_inside(t)
    assert all(0 <= s.start <= s.end <= t.duration + 0.05 for s in t.segments)


def test_as_the_kazakh_passages_model_beside_the_bundled_one(engine, turbo, eval_dir, monkeypatch):
    decoded: list[tuple[str, str, int]] = []
    real = WhisperEngine.transcribe_clips

    def watched(self, audio, clips, language, **kw):
        decoded.append((self.model_name, language, len(clips)))
        return real(self, audio, clips, language, **kw)

    monkeypatch.setattr(WhisperEngine, "transcribe_clips", watched)
    path = eval_dir / "mixed_kk_ru.wav"
    plain = transcribe_file(path, TranscribeOptions(), engine)
    decoded.clear()
    routed = transcribe_file(path, TranscribeOptions(), engine, language_engines={"kk": turbo})
    # The default model still chooses each passage's language; the Kazakh ones were decoded
    # by the turbo-shaped model (its random weights write nothing credible, so the default's
    # text stays, as it does for any language model that cannot read a passage).
    assert [s.language for s in routed.segments] == [s.language for s in plain.segments]
    assert any(s.language == "kk" for s in routed.segments)
    assert any(name == "tiny-turbo" and lang == "kk" and n for name, lang, n in decoded)
    assert all(name != "tiny-turbo" or lang == "kk" for name, lang, _n in decoded)
    assert [s.text for s in routed.segments] == [s.text for s in plain.segments]
    assert words_inside(routed)
